"""Which column of an import file is the email, the status, or which property, and of what type.

Headers are matched after normalising them (CONTRACT "Naming and matching": lower case, runs of
other characters become ``_``); ``--map COLUMN=FIELD`` names a column's target outright. A column
that matches nothing is ignored with a warning, or, with ``--create-properties``, becomes a new
property whose type is inferred from every value in the column. Messages quote headers in part
(at most 200 characters of a header, or of a list of them), however long the file's are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from lettr_cli.audience.excerpts import clipped
from lettr_cli.audience.formulas import unguard
from lettr_cli.audience.properties import InvalidValue, check_name, coerce
from lettr_cli.errors import NotFound, ValidationError

EMAIL = "email"
STATUS = "status"
IGNORE = "-"
EMAIL_ALIASES = ("email", "email_address", "e_mail", "e_mail_address")
# Columns that `contact export` writes besides properties; an import reads them as information.
EXPORT_ONLY = ("lists", "topics", "created_at", "updated_at")
_OTHER = re.compile(r"[^a-z0-9]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LEADING_ZERO = re.compile(r"[+-]?0\d")
_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no"})


def normalise_header(header: str) -> str:
    """``First Name`` → ``first_name``."""
    return _OTHER.sub("_", header.lower()).strip("_")


@dataclass(frozen=True)
class PropertyColumn:
    index: int
    header: str  # as written in the file
    name: str
    type: str  # "" until inferred, for a property this import creates
    new: bool = False


@dataclass
class ColumnPlan:
    """Where each value of a record goes."""

    width: int  # cells in the header
    email: int
    status: int | None
    properties: list[PropertyColumn]
    warnings: list[str] = field(default_factory=list)

    @property
    def to_infer(self) -> list[PropertyColumn]:
        return [c for c in self.properties if not c.type]

    def with_types(self, types: Mapping[str, str]) -> ColumnPlan:
        columns = [
            c if c.type else PropertyColumn(c.index, c.header, c.name, types[c.name], new=True)
            for c in self.properties
        ]
        return ColumnPlan(self.width, self.email, self.status, columns, self.warnings)


def plan_columns(
    header: Sequence[str],
    maps: Sequence[str],
    definitions: Mapping[str, str],
    *,
    create_properties: bool,
) -> ColumnPlan:
    """Decide each column's target; refuses the file when the email column cannot be found.

    ``definitions`` maps property names to types. A ``--map`` to an unknown property is
    ``not_found`` (unless ``create_properties``); one naming no column is ``validation_error``.
    """
    normalised = [normalise_header(h) for h in header]
    mapped = _mapped_targets(header, normalised, maps, definitions, create_properties)
    targets = {index: mapped.get(index, name) for index, name in enumerate(normalised)}
    email = _find_email(header, targets, mapped)
    plan = ColumnPlan(len(header), email, None, [])
    taken: dict[str, int] = {EMAIL: email}
    unmatched: list[str] = []
    exported: list[str] = []
    for index, given in targets.items():
        if index == email or given == IGNORE:
            continue
        shown = (
            f"'{clipped(header[index])}'" if header[index].strip() else f"{index + 1} (no header)"
        )
        target = EMAIL if given in EMAIL_ALIASES and index not in mapped else given
        if target in taken:
            plan.warnings.append(
                f"column {shown} is ignored: column '{clipped(header[taken[target]])}' "
                f"gives {clipped(target)}"
            )
            continue
        taken[target] = index
        if target == STATUS:
            plan.status = index
        elif target in definitions:
            plan.properties.append(
                PropertyColumn(index, header[index], target, definitions[target])
            )
        elif target in EXPORT_ONLY and index not in mapped:
            exported.append(shown)
        elif create_properties and (problem := _name_problem(target)) is None:
            plan.properties.append(PropertyColumn(index, header[index], target, "", new=True))
        elif create_properties:
            plan.warnings.append(f"column {shown} is ignored: {problem}")
        else:
            unmatched.append(shown)
    if exported:
        plan.warnings.append(
            f"{_columns(exported)} {'is' if len(exported) == 1 else 'are'} not imported: lists "
            "and topics come from --list and "
            "--topic, and lettr keeps its own timestamps"
        )
    if unmatched:
        plan.warnings.append(
            f"{_columns(unmatched)} {'match' if len(unmatched) > 1 else 'matches'} no property "
            f"and {'are' if len(unmatched) > 1 else 'is'} ignored; create the properties first "
            "(`lettr property create NAME`), map columns with --map COLUMN=FIELD, or pass "
            "--create-properties"
        )
    return plan


def _columns(shown: list[str]) -> str:
    """``column 'a'`` or ``columns 'a', 'b'``."""
    return f"column {shown[0]}" if len(shown) == 1 else f"columns {clipped(', '.join(shown))}"


def _listed(header: Sequence[str]) -> str:
    """The file's columns, as a refusal lists them."""
    return clipped(", ".join(header)) or "(none)"


def _mapped_targets(
    header: Sequence[str],
    normalised: Sequence[str],
    maps: Sequence[str],
    definitions: Mapping[str, str],
    create_properties: bool,
) -> dict[int, str]:
    targets: dict[int, str] = {}
    for item in maps:
        column, sep, target = item.partition("=")
        target = target.strip()
        if not sep or not column.strip() or not target:
            raise ValidationError.field(
                "map",
                f"'{clipped(item)}' is not of the form COLUMN=FIELD (FIELD: email, status, "
                "a property, or - to ignore the column)",
            )
        index = _find_column(header, normalised, column)
        if index is None:
            raise ValidationError.field(
                "map",
                f"--map {clipped(item)}: the file has no column '{clipped(column)}'; "
                f"its columns: {_listed(header)}",
            )
        if target not in (EMAIL, STATUS, IGNORE) and target not in definitions:
            if not create_properties:
                raise NotFound(
                    f"--map {clipped(item)}: no property named '{clipped(target)}'; create it "
                    f"with `lettr property create {clipped(target)}`, or pass --create-properties"
                )
            check_name(target)
        targets[index] = target
    return targets


def _find_column(header: Sequence[str], normalised: Sequence[str], column: str) -> int | None:
    if column in header:
        return header.index(column)
    wanted = normalise_header(column)
    return normalised.index(wanted) if wanted and wanted in normalised else None


def _find_email(
    header: Sequence[str], targets: Mapping[int, str], mapped: Mapping[int, str]
) -> int:
    chosen = [index for index, target in mapped.items() if target == EMAIL]
    if len(chosen) > 1:
        raise ValidationError.field("map", "--map names more than one email column")
    if chosen:
        return chosen[0]
    for alias in EMAIL_ALIASES:
        found = [index for index, target in targets.items() if target == alias]
        if found:
            return found[0]
    raise ValidationError.field(
        "email",
        "the file has no email column (a header named email, or --map COLUMN=email); "
        f"its columns: {_listed(header)}",
    )


def _name_problem(name: str) -> str | None:
    try:
        check_name(name)
    except ValidationError as exc:
        return exc.message
    return None


class TypeGuess:
    """The type of a new property: boolean, number or date when every value is one, else string.

    A number is never inferred from values with a leading ``0`` or ``+`` (postcodes, phone
    numbers; DESIGN "Decisions"); a boolean only from the words true, false, yes and no.
    """

    def __init__(self) -> None:
        self.candidates = {"boolean", "number", "date"}
        self.seen = False

    def see(self, cell: str) -> None:
        text = unguard(cell).strip()
        if not text or not self.candidates:
            self.seen = self.seen or bool(text)
            return
        self.seen = True
        if "boolean" in self.candidates and text.lower() not in _BOOLEAN_WORDS:
            self.candidates.discard("boolean")
        if "number" in self.candidates and not _is_number(text):
            self.candidates.discard("number")
        if "date" in self.candidates and not _is_date(text):
            self.candidates.discard("date")

    @property
    def type(self) -> str:
        if self.seen:
            for kind in ("boolean", "number", "date"):
                if kind in self.candidates:
                    return kind
        return "string"


def _is_number(text: str) -> bool:
    if text.startswith("+") or _LEADING_ZERO.match(text):
        return False
    try:
        coerce("number", text)
    except InvalidValue:
        return False
    return True


def _is_date(text: str) -> bool:
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def infer_types(
    columns: Sequence[PropertyColumn], records: Iterable[tuple[int, list[str]]]
) -> dict[str, str]:
    """The inferred type of each column, from every record."""
    guesses = {c.name: TypeGuess() for c in columns}
    for _line, cells in records:
        for column in columns:
            if column.index < len(cells):
                guesses[column.name].see(cells[column.index])
    return {name: guess.type for name, guess in guesses.items()}
