"""A recipient's own choice of topics (the preference centre, issue 19): only the public topics
(reference §11: public topics are meant for preference centres; private ones are internal tags
and never shown), each with whether the contact is opted in.

The choices are written through the topics' own join and leave, so each change is logged in
the contact's activity like an operator's, with its source (``preference_centre``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from lettr_cli.audience import groups
from lettr_cli.errors import ValidationError
from lettr_cli.store.tables import Contact, Topic, TopicMember

PUBLIC = "public"
SUBSCRIBED = "subscribed"
PREFERENCE_CENTRE = "preference_centre"  # the source of a change made by the recipient


@dataclass(frozen=True)
class TopicChoice:
    """One public topic as the recipient sees it."""

    id: str
    name: str
    description: str | None
    opted_in: bool


@dataclass(frozen=True)
class Change:
    """One topic the recipient joined (``opted_in``) or left."""

    topic_id: str
    name: str
    opted_in: bool


def public_topics(session: Session) -> list[Topic]:
    return list(
        session.exec(select(Topic).where(Topic.visibility == PUBLIC).order_by(col(Topic.name)))
    )


def choices_of(session: Session, contact_id: str) -> list[TopicChoice]:
    """The public topics, by name, each with the contact's current choice."""
    member = set(
        session.exec(select(TopicMember.topic_id).where(TopicMember.contact_id == contact_id))
    )
    return [
        TopicChoice(topic.id, topic.name, topic.description, topic.id in member)
        for topic in public_topics(session)
    ]


def save_choices(
    session: Session,
    contact: Contact,
    shown: Sequence[str],
    opted_in: Collection[str],
    *,
    source: str = PREFERENCE_CENTRE,
) -> list[Change]:
    """Apply the recipient's choices: of the topics ``shown`` (ids), those in ``opted_in`` are
    joined, the others left. Every id must name a public topic, else ``validation_error`` and
    nothing changes (a topic made private or deleted since the page was shown is not the
    recipient's to change). Returns the changes made, in topic-name order."""
    if contact.status != SUBSCRIBED:
        raise ValidationError.field(
            "status", f"{contact.email} is {contact.status}: it receives no email to choose from"
        )
    public = {topic.id: topic for topic in public_topics(session)}
    unknown = sorted((set(shown) | set(opted_in)) - set(public))
    if unknown:
        raise ValidationError.field(
            "topics", "the page is out of date: a topic on it is no longer offered; reload it"
        )
    if not set(opted_in) <= set(shown):
        raise ValidationError.field("topics", "a topic was chosen that the page did not show")
    changes: list[Change] = []
    for topic in sorted((public[i] for i in set(shown)), key=lambda t: t.name):
        if topic.id in opted_in:
            if groups.join(session, groups.TOPICS, topic, contact, log=True, source=source):
                changes.append(Change(topic.id, topic.name, True))
        elif groups.leave(session, groups.TOPICS, topic, contact, source=source):
            changes.append(Change(topic.id, topic.name, False))
    return changes
