"""Refusing to delete a list, topic, property or segment that segments or campaigns still use:
the segments are the audience's to find, the campaigns are ``lettr_cli.references``'s."""

from __future__ import annotations

from sqlmodel import Session

from lettr_cli import references
from lettr_cli.audience.segments.usage import segments_using

_SEGMENT_KEYS = {"list_id", "topic_id", "property_name"}


def refuse_if_used(session: Session, noun: str, name: str, **reference: str) -> None:
    """Raise ``resource_in_use`` naming the segments and campaigns that use the thing."""
    segments = segments_using(session, **{k: v for k, v in reference.items() if k in _SEGMENT_KEYS})
    references.refuse_if_used(session, noun, name, segments=segments, **reference)
