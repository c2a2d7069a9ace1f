"""Turning the records of an import file into contact rows, or into row errors (no store here).

A row is refused, with its line number, for a missing or invalid address or any value its column
cannot hold; every other row goes on. Empty cells mean "no value": nothing set, nothing changed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from lettr_cli.addressing.addresses import InvalidAddress
from lettr_cli.addressing.bulk_addresses import AddressChecker
from lettr_cli.audience.contacts import STATUSES, folded_values
from lettr_cli.audience.excerpts import clipped
from lettr_cli.audience.formulas import unguard
from lettr_cli.audience.import_columns import ColumnPlan
from lettr_cli.audience.properties import MAX_VALUE, InvalidValue, coerce

MISSING_EMAIL = "missing_email"
INVALID_EMAIL = "invalid_email"
INVALID_VALUE = "invalid_property_value"  # also an unknown status, or a row longer than the header


@dataclass(frozen=True)
class RowError:
    line: int
    email: str
    error_code: str
    error: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ContactRow(NamedTuple):
    line: int
    email: str  # as given (trimmed)
    key: str  # identity: casefold of the normalised address
    status: str | None  # None: the file gives none
    properties: str  # JSON: the typed values of the non-empty cells
    properties_folded: str  # JSON: casefolded copies of the string values


_STATUSES = frozenset(STATUSES)
_dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")).encode


def documents(properties: dict[str, Any], *, only_strings: bool | None = None) -> tuple[str, str]:
    """The JSON texts of ``properties`` and of ``folded_values(properties)``.

    ``only_strings`` says, when the caller knows, whether every value is a ``str``.
    """
    text = _dumps(properties)
    if only_strings is None:
        only_strings = all(type(value) is str for value in properties.values())
    if only_strings:
        # Casefolding changes neither property names nor JSON's own characters and escapes,
        # so this is the JSON of the casefolded values, for one encoding instead of two.
        return text, text.casefold()
    return text, _dumps(folded_values(properties))


class RowBuilder:
    """Checks records against a column plan; remembers domains across records (imports)."""

    def __init__(self, plan: ColumnPlan) -> None:
        assert not plan.to_infer, "types are inferred before rows are built"
        self.plan = plan
        self.addresses = AddressChecker()
        self._email_and_key = self.addresses.email_and_key
        self.columns = [(c.index, c.name, c.type, c.header) for c in plan.properties]

    def build(self, line: int, cells: list[str]) -> ContactRow | RowError:
        plan = self.plan
        given = len(cells)
        if given < plan.width:
            cells = cells + [""] * (plan.width - given)
        raw_email = cells[plan.email]
        if raw_email[:1] == "'":
            raw_email = unguard(raw_email)
        raw_email = raw_email.strip()
        if not raw_email:
            return RowError(line, "", MISSING_EMAIL, "the row has no email address")
        try:
            email, key = self._email_and_key(raw_email)
        except InvalidAddress as exc:
            return RowError(
                line,
                clipped(raw_email),
                INVALID_EMAIL,
                f"invalid email address: {clipped(str(exc))}",
            )
        problems: list[str] = []
        if given > plan.width and any(c.strip() for c in cells[plan.width :]):
            problems.append(
                f"the row has {given} cells but the header {plan.width} "
                "(a value with an unquoted delimiter?)"
            )
        status = None
        if plan.status is not None:
            written = cells[plan.status].strip()
            status = written.lower() or None
            if status is not None and status not in _STATUSES:
                problems.append(f"status '{clipped(written)}' is not one of {', '.join(STATUSES)}")
        properties, only_strings = self._values(cells, problems)
        if problems:
            return RowError(line, email, INVALID_VALUE, "; ".join(problems))
        text, folded = documents(properties, only_strings=only_strings)
        return ContactRow(line, email, key, status, text, folded)

    def _values(self, cells: list[str], problems: list[str]) -> tuple[dict[str, Any], bool]:
        """The typed values of the non-empty cells, and whether all are strings."""
        properties: dict[str, Any] = {}
        only_strings = True
        for index, name, kind, header in self.columns:
            raw = cells[index]
            if raw[:1] == "'":
                raw = unguard(raw)
            if not raw or raw.isspace():
                continue
            if kind == "string" and len(raw) <= MAX_VALUE:
                properties[name] = raw  # what coerce gives a string, without the call
                continue
            try:
                value = properties[name] = coerce(kind, raw)
            except InvalidValue as exc:
                problems.append(f"column '{clipped(header)}' ({kind}): {exc}")
                continue
            only_strings = only_strings and type(value) is str
        return properties, only_strings
