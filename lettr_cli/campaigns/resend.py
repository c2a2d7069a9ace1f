"""Resend to non-openers: a new draft, duplicated from a sent campaign, for those who received
it and did not open it (README "Engagement").

The draft's audience is the conditions ``received X and not opened X`` (X by id), kept in its
audience (``campaigns.audience``) and evaluated when the resend is prepared, so whoever opens
the original before then is left out. The draft then follows the normal lifecycle: check,
review, send or schedule; ``--after`` schedules it that long after the original was sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from lettr_cli.audience.properties import InvalidValue
from lettr_cli.audience.segments.engagement_values import days
from lettr_cli.audience.segments.model import Condition, stored
from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.campaigns import (
    CampaignFields,
    duplicate_campaign,
    edit_campaign,
    find_campaign,
)
from lettr_cli.errors import CampaignNotSendable, ValidationError
from lettr_cli.store.tables import Campaign
from lettr_cli.store.types import utcnow

AUDIENCES = ("non-openers",)
RESEND_OF = "resend_of"  # the audience key naming the original


def non_openers(campaign_id: str) -> dict[str, object]:
    """The stored conditions "received X and not opened X"."""
    return stored(
        (
            (Condition("received", "is", campaign_id),),
            (Condition("opened", "is_not", campaign_id),),
        )
    )


def resend_time(original: Campaign, after: str, *, now: datetime | None = None) -> datetime:
    """When ``--after`` (``3d``, ``1w``) puts the resend: that long after the original was sent;
    refused when that moment has passed."""
    try:
        delay = timedelta(days=days(after))
    except InvalidValue as exc:
        raise ValidationError.field("after", str(exc)) from None
    assert original.sent_at is not None
    at = original.sent_at + delay
    if at <= (now or utcnow()):
        raise ValidationError.field(
            "after",
            f"{after} after '{original.name}' was sent ({original.sent_at.isoformat()}) has "
            "passed; send the resend now, or give a longer --after",
        )
    return at


def resend_campaign(
    session: Session,
    ref: str,
    *,
    to: str,
    subject: str | None = None,
    after: str | None = None,
    now: datetime | None = None,
) -> tuple[Campaign, datetime | None]:
    """A new draft from the sent campaign ``ref`` for its non-openers, with ``subject`` if
    given, and the time ``after`` asks it to be scheduled for (the caller schedules it, so
    that the relay is checked outside this transaction). Refused (``campaign_not_sendable``)
    when the campaign is not sent; nothing is written when anything is refused."""
    if to not in AUDIENCES:
        raise ValidationError.field(
            "to", f"'{to}' is not an audience to resend to; use non-openers"
        )
    original = find_campaign(session, ref)
    if original.status != lifecycle.SENT:
        raise CampaignNotSendable(
            f"'{original.name}' is {original.status}; only a sent campaign can be resent "
            "to its non-openers"
        )
    at = resend_time(original, after, now=now) if after is not None else None
    copy = duplicate_campaign(session, original.id, f"{original.name} (resend)")
    if subject is not None:
        edit_campaign(session, copy.id, CampaignFields(subject=subject))
    copy.audience = {
        "all": False,
        "lists": [],
        "segments": [],
        "conditions": non_openers(original.id),
        RESEND_OF: original.id,
    }
    session.add(copy)
    session.flush()
    return copy, at
