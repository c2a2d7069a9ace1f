"""Memberships of many contacts in many lists or topics at once, with Lettr's counts (reference
§18: every contact × every group; pairs already in place, or already absent, are counted apart).
All or nothing: an unknown id refuses the whole request and nothing is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from lettr_cli.audience import groups
from lettr_cli.audience.groups import GroupKind
from lettr_cli.errors import ValidationError
from lettr_cli.store.tables import Contact

MAX_CONTACTS = 1000
MAX_GROUPS = 50


@dataclass(frozen=True)
class Pairs:
    changed: int  # joined, or left
    unchanged: int  # already a member, or not one
    total: int


def _ids(field: str, given: Sequence[str], limit: int) -> list[str]:
    ids = list(dict.fromkeys(given))
    if not ids or len(given) > limit:
        raise ValidationError.field(field, f"The {field} field must have 1 to {limit} items.")
    return ids


def _unknown(field: str, missing: Sequence[str]) -> ValidationError:
    return ValidationError.field(
        field, f"The selected {field} are invalid: {', '.join(missing[:10])}"
    )


def _groups_by_id(session: Session, kind: GroupKind, ids: Sequence[str]) -> dict[str, groups.Group]:
    return {g.id: g for g in session.exec(groups.by_ids(kind, ids))}


def _chosen(
    session: Session,
    kind: GroupKind,
    contact_ids: Sequence[str],
    group_ids: Sequence[str],
    group_field: str,
) -> tuple[list[Contact], list[groups.Group]]:
    wanted_contacts = _ids("contact_ids", contact_ids, MAX_CONTACTS)
    wanted_groups = _ids(group_field, group_ids, MAX_GROUPS)
    found = {
        c.id: c for c in session.exec(select(Contact).where(col(Contact.id).in_(wanted_contacts)))
    }
    missing = [i for i in wanted_contacts if i not in found]
    if missing:
        raise _unknown("contact_ids", missing)
    held = _groups_by_id(session, kind, wanted_groups)
    absent = [i for i in wanted_groups if i not in held]
    if absent:
        raise _unknown(group_field, absent)
    return [found[i] for i in wanted_contacts], [held[i] for i in wanted_groups]


def join_all(
    session: Session,
    kind: GroupKind,
    contact_ids: Sequence[str],
    group_ids: Sequence[str],
    group_field: str,
) -> Pairs:
    """Every contact into every group; the activity log records each new membership."""
    contacts, chosen = _chosen(session, kind, contact_ids, group_ids, group_field)
    added = sum(
        groups.join(session, kind, group, contact, log=True)
        for contact in contacts
        for group in chosen
    )
    total = len(contacts) * len(chosen)
    return Pairs(added, total - added, total)


def leave_all(
    session: Session,
    kind: GroupKind,
    contact_ids: Sequence[str],
    group_ids: Sequence[str],
    group_field: str,
) -> Pairs:
    """Every contact out of every group; pairs that are not memberships are ignored."""
    contacts, chosen = _chosen(session, kind, contact_ids, group_ids, group_field)
    removed = sum(
        groups.leave(session, kind, group, contact) for contact in contacts for group in chosen
    )
    total = len(contacts) * len(chosen)
    return Pairs(removed, total - removed, total)


def delete_groups(session: Session, kind: GroupKind, group_ids: Sequence[str], field: str) -> int:
    """Delete every group named by id, or none (an unknown id, or one in use, refuses all)."""
    wanted = _ids(field, group_ids, MAX_GROUPS)
    held = _groups_by_id(session, kind, wanted)
    absent = [i for i in wanted if i not in held]
    if absent:
        raise _unknown(field, absent)
    for group_id in wanted:
        groups.delete(session, kind, held[group_id].name)
    return len(wanted)
