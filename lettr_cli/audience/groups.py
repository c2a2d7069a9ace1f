"""Lists and topics: named groups of contacts with memberships (reference §10, §11).

Both are looked up by their exact name and hold memberships in a table of their own; the code
they share lives here, with what only topics have (default subscription, visibility) beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from lettr_cli.audience import activity
from lettr_cli.audience.in_use import refuse_if_used
from lettr_cli.errors import NotFound, ResourceAlreadyExists, ValidationError
from lettr_cli.store.tables import Contact, ContactList, ListMember, Topic, TopicMember
from lettr_cli.store.types import utcnow

Group = ContactList | Topic
MAX_NAME = 255
SUBSCRIPTION_DEFAULTS = ("opt_in", "opt_out")
VISIBILITIES = ("public", "private")


@dataclass(frozen=True)
class GroupKind:
    """What differs between lists and topics: tables, words, and activity kinds."""

    model: type[ContactList] | type[Topic]
    member: type[ListMember] | type[TopicMember]
    key_name: str  # the membership column naming the group
    noun: str
    joined: str
    left: str

    @property
    def member_key(self) -> Any:
        return getattr(self.member, self.key_name)

    def new_member(self, group_id: str, contact_id: str) -> ListMember | TopicMember:
        return self.member(**{self.key_name: group_id}, contact_id=contact_id, added_at=utcnow())


LISTS = GroupKind(
    ContactList, ListMember, "list_id", "list", activity.LIST_ADDED, activity.LIST_REMOVED
)
TOPICS = GroupKind(
    Topic, TopicMember, "topic_id", "topic", activity.TOPIC_OPTED_IN, activity.TOPIC_OPTED_OUT
)


def _select(kind: GroupKind) -> SelectOfScalar[Group]:
    return cast("SelectOfScalar[Group]", select(kind.model))


def by_ids(kind: GroupKind, ids: Sequence[str]) -> SelectOfScalar[Group]:
    """The groups of ``kind`` whose id is among ``ids``."""
    return _select(kind).where(col(kind.model.id).in_(ids))


def check_name(kind: GroupKind, name: str) -> str:
    text = name.strip()
    if not text or len(text) > MAX_NAME or any(ord(ch) < 32 for ch in text):
        raise ValidationError.field(
            "name", f"a {kind.noun} name is 1–{MAX_NAME} printable characters"
        )
    return text


def find(session: Session, kind: GroupKind, name: str) -> Group:
    group = session.exec(_select(kind).where(kind.model.name == name)).first()
    if group is None:
        raise NotFound(f"no {kind.noun} named '{name}'")
    return group


def find_all(session: Session, kind: GroupKind, names: Sequence[str]) -> list[Group]:
    """Every group named, in order; any unknown name is ``not_found`` naming all of them."""
    found = {g.name: g for g in session.exec(_select(kind).where(col(kind.model.name).in_(names)))}
    missing = [name for name in names if name not in found]
    if missing:
        raise NotFound(f"no {kind.noun} named {', '.join(repr(n) for n in missing)}")
    return [found[name] for name in dict.fromkeys(names)]


def create(session: Session, kind: GroupKind, name: str, **fields: Any) -> Group:
    name = check_name(kind, name)
    if session.exec(_select(kind).where(kind.model.name == name)).first():
        raise ResourceAlreadyExists(f"a {kind.noun} named '{name}' already exists")
    group = kind.model(name=name, created_at=utcnow(), **fields)
    session.add(group)
    session.flush()
    return group


def rename(session: Session, kind: GroupKind, name: str, new_name: str) -> Group:
    group = find(session, kind, name)
    new_name = check_name(kind, new_name)
    if new_name != name and session.exec(_select(kind).where(kind.model.name == new_name)).first():
        raise ResourceAlreadyExists(f"a {kind.noun} named '{new_name}' already exists")
    group.name = new_name
    session.add(group)
    return group


def deletable(session: Session, kind: GroupKind, name: str) -> Group:
    """The group called ``name``, unless something in use refers to it (``resource_in_use``)."""
    group = find(session, kind, name)
    if kind is LISTS:
        refuse_if_used(session, kind.noun, name, list_id=group.id)
    else:
        refuse_if_used(session, kind.noun, name, topic_id=group.id)
    return group


def delete(session: Session, kind: GroupKind, name: str) -> str:
    """Delete a group and its memberships; the contacts stay.

    Refused (``resource_in_use``) while a segment refers to it or, for a list, is scoped to it.
    """
    group = deletable(session, kind, name)
    session.delete(group)
    return group.id


def listing(session: Session, kind: GroupKind) -> list[Group]:
    return list(session.exec(_select(kind).order_by(col(kind.model.name))))


def counts(session: Session, kind: GroupKind) -> dict[str, int]:
    rows = session.exec(select(kind.member_key, func.count()).group_by(kind.member_key))
    return dict(rows.all())


def member_ids(session: Session, kind: GroupKind, contact_id: str) -> set[str]:
    rows = session.exec(select(kind.member_key).where(kind.member.contact_id == contact_id))
    return set(rows)


def join(
    session: Session,
    kind: GroupKind,
    group: Group,
    contact: Contact,
    *,
    log: bool,
    source: str | None = None,
) -> bool:
    """Add ``contact`` to ``group``; False when it was already a member. The activity entry
    names the group, and ``source`` when the change came from elsewhere than the operator."""
    if session.get(kind.member, (group.id, contact.id)) is not None:
        return False
    session.add(kind.new_member(group.id, contact.id))
    if log:
        activity.record(session, contact.id, kind.joined, _detail(group.name, source))
    return True


def leave(
    session: Session, kind: GroupKind, group: Group, contact: Contact, *, source: str | None = None
) -> bool:
    """Remove ``contact`` from ``group``; False when it was not a member."""
    member = session.get(kind.member, (group.id, contact.id))
    if member is None:
        return False
    session.delete(member)
    activity.record(session, contact.id, kind.left, _detail(group.name, source))
    return True


def _detail(name: str, source: str | None) -> str:
    return name if source is None else f"{name} ({source})"


def to_json(kind: GroupKind, group: Group, contacts_count: int) -> dict[str, Any]:
    body: dict[str, Any] = {"id": group.id, "name": group.name}
    if isinstance(group, Topic):
        body |= {
            "description": group.description,
            "default_subscription": group.default_subscription,
            "visibility": group.visibility,
        }
    body["contacts_count"] = contacts_count
    return body


def opt_out_topics(session: Session) -> list[Topic]:
    """Topics whose default is ``opt_out``: attached to every new contact (DESIGN "Decisions")."""
    return list(session.exec(select(Topic).where(Topic.default_subscription == "opt_out")))


def topic_fields(*, default: str, visibility: str, description: str | None) -> dict[str, Any]:
    """Checked fields of a new topic; ``default`` is ``opt-in`` or ``opt-out``."""
    subscription = default.strip().lower().replace("-", "_")
    if subscription not in SUBSCRIPTION_DEFAULTS:
        raise ValidationError.field("default_subscription", f"'{default}' is not opt-in or opt-out")
    return {
        "default_subscription": subscription,
        "visibility": _check_visibility(visibility),
        "description": _check_description(description),
    }


def update_topic(
    session: Session, name: str, *, description: str | None, visibility: str | None
) -> Topic:
    topic = find(session, TOPICS, name)
    assert isinstance(topic, Topic)
    if description is not None:
        topic.description = _check_description(description)
    if visibility is not None:
        topic.visibility = _check_visibility(visibility)
    session.add(topic)
    return topic


def _check_visibility(visibility: str) -> str:
    value = visibility.strip().lower()
    if value not in VISIBILITIES:
        raise ValidationError.field("visibility", f"'{visibility}' is not public or private")
    return value


def _check_description(description: str | None) -> str | None:
    if description is not None and len(description) > 1000:
        raise ValidationError.field("description", "a description is at most 1000 characters")
    return description or None
