"""Which segments use a list, a topic, a property or a campaign, so that deleting one can be
refused.

Lists, topics and properties import this module; it imports no other audience module, so
there is no import cycle.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from lettr_cli.audience.segments.model import CAMPAIGN_FIELDS, Condition, from_stored
from lettr_cli.store.tables import Segment


def segments_using(
    session: Session,
    *,
    list_id: str | None = None,
    topic_id: str | None = None,
    property_name: str | None = None,
    campaign_id: str | None = None,
) -> list[str]:
    """Names of the segments whose conditions (or list scope) refer to the thing given."""
    names: list[str] = []
    for segment in session.exec(select(Segment).order_by(col(Segment.name))):
        conditions = [c for group in from_stored(segment.conditions) for c in group]
        if (
            (list_id is not None and segment.list_id == list_id)
            or any(c.field == "lists" and c.value == list_id for c in conditions if list_id)
            or any(c.field == "topics" and c.value == topic_id for c in conditions if topic_id)
            or any(c.field == property_name for c in conditions if property_name)
            or any(_names_campaign(c, campaign_id) for c in conditions if campaign_id)
        ):
            names.append(segment.name)
    return names


def _names_campaign(condition: Condition, campaign_id: str | None) -> bool:
    return (
        condition.field in CAMPAIGN_FIELDS
        and condition.operator in ("is", "is_not")
        and condition.value == campaign_id
    )
