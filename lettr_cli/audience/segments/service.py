"""Segments: create, edit, show, list, delete and preview (reference §12).

A segment's conditions are given as text (``--where``) or as a JSON document (``--conditions``),
checked against the store when saved or previewed, and stored with lists and topics by id.
Counts are live (every status counted) and go through :mod:`resolve`, like every audience.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from lettr_cli.audience import groups
from lettr_cli.audience.in_use import refuse_if_used
from lettr_cli.audience.segments import resolve
from lettr_cli.audience.segments.checks import check_conditions, display_groups
from lettr_cli.audience.segments.documents import DocumentSource, parse_document
from lettr_cli.audience.segments.model import Groups, from_stored, groups_json, stored
from lettr_cli.audience.segments.parser import TextSource, parse, to_text
from lettr_cli.errors import ResourceAlreadyExists, ValidationError
from lettr_cli.store.tables import ContactList, Segment
from lettr_cli.store.types import utcnow

MAX_NAME = 255


@dataclass(frozen=True)
class Definition:
    """Conditions as the operator gave them: a ``--where`` text or a JSON document's text."""

    where: str | None = None
    document: str | None = None
    document_name: str = "conditions"

    @classmethod
    def given(cls, where: str | None, conditions_file: str | None) -> Definition | None:
        """From the command line: at most one of the two; ``-`` reads the document from stdin."""
        if where is not None and conditions_file is not None:
            raise ValidationError.field("conditions", "give --where or --conditions, not both")
        if conditions_file is None:
            return cls(where=where) if where is not None else None
        if conditions_file == "-":
            return cls(document=sys.stdin.read(), document_name="stdin")
        try:
            text = Path(conditions_file).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError.field(
                "conditions", f"cannot read {conditions_file}: {exc}"
            ) from None
        return cls(document=text, document_name=conditions_file)

    def conditions(self, session: Session) -> Groups:
        """The checked groups; a refusal points at the offending part."""
        if self.where is not None:
            return check_conditions(session, parse(self.where), TextSource(self.where))
        assert self.document is not None
        raw = parse_document(self.document, self.document_name)
        return check_conditions(session, raw, DocumentSource(self.document_name))


def required(definition: Definition | None) -> Definition:
    if definition is None:
        raise ValidationError.field(
            "where", "give the conditions with --where EXPR or --conditions FILE.json"
        )
    return definition


def check_name(name: str) -> str:
    text = name.strip()
    if not text or len(text) > MAX_NAME or not text.isprintable():
        raise ValidationError.field("name", f"a segment name is 1–{MAX_NAME} printable characters")
    return text


def _list_id(session: Session, list_name: str | None) -> str | None:
    return groups.find(session, groups.LISTS, list_name).id if list_name is not None else None


def _refuse_taken(session: Session, name: str) -> None:
    if session.exec(select(Segment).where(Segment.name == name)).first():
        raise ResourceAlreadyExists(f"a segment named '{name}' already exists")


def create_segment(
    session: Session, name: str, definition: Definition, *, list_name: str | None = None
) -> Segment:
    """Save a new segment; its conditions are checked and stored with lists and topics by id."""
    name = check_name(name)
    _refuse_taken(session, name)
    segment = Segment(
        name=name,
        list_id=_list_id(session, list_name),
        conditions=stored(definition.conditions(session)),
    )
    session.add(segment)
    session.flush()
    return segment


def edit_segment(
    session: Session,
    name: str,
    *,
    new_name: str | None = None,
    definition: Definition | None = None,
    list_name: str | None = None,
    no_list: bool = False,
) -> Segment:
    """Change a segment's name, conditions or list scope; what is not given stays."""
    if list_name is not None and no_list:
        raise ValidationError.field("list", "give --list or --no-list, not both")
    if new_name is None and definition is None and list_name is None and not no_list:
        raise ValidationError.field(
            "name", "nothing to change: give --name, --where, --conditions, --list or --no-list"
        )
    segment = resolve.find_segment(session, name)
    if new_name is not None:
        new_name = check_name(new_name)
        if new_name != segment.name:
            _refuse_taken(session, new_name)
        segment.name = new_name
    if definition is not None:
        segment.conditions = stored(definition.conditions(session))
    if list_name is not None or no_list:
        segment.list_id = _list_id(session, list_name)
    segment.updated_at = utcnow()
    session.add(segment)
    session.flush()
    return segment


def deletable_segment(session: Session, name: str) -> Segment:
    """The segment called ``name``, unless a draft or scheduled campaign's audience uses it."""
    segment = resolve.find_segment(session, name)
    refuse_if_used(session, "segment", name, segment_id=segment.id)
    return segment


def delete_segment(session: Session, name: str) -> str:
    """Delete a segment; contacts, lists and topics are untouched."""
    segment = deletable_segment(session, name)
    session.delete(segment)
    return segment.id


def list_segments(session: Session) -> list[Segment]:
    return list(session.exec(select(Segment).order_by(col(Segment.name))))


def segment_json(session: Session, segment: Segment, *, detail: bool = False) -> dict[str, Any]:
    """The Segment object; ``detail`` adds ``where`` (text, current names) and ``sample``."""
    conditions = from_stored(segment.conditions)
    scope = session.get(ContactList, segment.list_id) if segment.list_id else None
    clause = resolve.segment_clause(session, segment)
    body: dict[str, Any] = {
        "id": segment.id,
        "name": segment.name,
        "list_id": segment.list_id,
        "list_name": scope.name if scope else None,
        "condition_groups": groups_json(conditions),
        "contacts_count": resolve.count(session, clause),
    }
    if detail:
        body["where"] = where_text(session, segment)
        body["sample"] = resolve.sample(session, clause)
    return body


def where_text(session: Session, segment: Segment) -> str:
    """The segment's conditions as text, with the current names of its lists and topics."""
    return to_text(display_groups(session, from_stored(segment.conditions)))


def preview(
    session: Session, definition: Definition, *, list_name: str | None = None
) -> dict[str, Any]:
    """``{count, sample}`` of the conditions, without saving anything."""
    clause = resolve.audience_clause(
        session, definition.conditions(session), _list_id(session, list_name)
    )
    return {"count": resolve.count(session, clause), "sample": resolve.sample(session, clause)}
