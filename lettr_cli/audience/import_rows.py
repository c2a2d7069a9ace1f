"""Turning the records of an import file into contact rows, or into row errors (no store here).

A row is refused, with its line number, for a missing or invalid address or any value its column
cannot hold; every other row goes on. Empty cells mean "no value": nothing set, nothing changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lettr_cli.audience.addresses import InvalidAddress
from lettr_cli.audience.bulk_addresses import AddressChecker
from lettr_cli.audience.contacts import STATUSES
from lettr_cli.audience.formulas import unguard
from lettr_cli.audience.import_columns import ColumnPlan
from lettr_cli.audience.properties import InvalidValue, coerce

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


@dataclass(frozen=True)
class ContactRow:
    line: int
    email: str  # as given (trimmed)
    key: str  # identity: casefold of the normalised address
    status: str | None  # None: the file gives none
    properties: dict[str, Any]  # typed values of the non-empty cells


class RowBuilder:
    """Checks records against a column plan; remembers domains across records (imports)."""

    def __init__(self, plan: ColumnPlan) -> None:
        assert not plan.to_infer, "types are inferred before rows are built"
        self.plan = plan
        self.addresses = AddressChecker()

    def build(self, line: int, cells: list[str]) -> ContactRow | RowError:
        plan = self.plan
        raw_email = unguard(_cell(cells, plan.email)).strip()
        if not raw_email:
            return RowError(line, "", MISSING_EMAIL, "the row has no email address")
        try:
            address = self.addresses.check(raw_email)
        except InvalidAddress as exc:
            return RowError(line, raw_email, INVALID_EMAIL, f"invalid email address: {exc}")
        problems: list[str] = []
        if len(cells) > plan.width and any(c.strip() for c in cells[plan.width :]):
            problems.append(
                f"the row has {len(cells)} cells but the header {plan.width} "
                "(a value with an unquoted delimiter?)"
            )
        status = None
        if plan.status is not None:
            given = _cell(cells, plan.status).strip()
            status = given.lower() or None
            if status is not None and status not in STATUSES:
                problems.append(f"status '{given}' is not one of {', '.join(STATUSES)}")
        properties: dict[str, Any] = {}
        for column in plan.properties:
            raw = unguard(_cell(cells, column.index))
            if not raw.strip():
                continue
            try:
                properties[column.name] = coerce(column.type, raw)
            except InvalidValue as exc:
                problems.append(f"column '{column.header}' ({column.type}): {exc}")
        if problems:
            return RowError(line, address.email, INVALID_VALUE, "; ".join(problems))
        return ContactRow(line, address.email, address.key, status, properties)


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""
