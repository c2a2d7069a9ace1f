"""The values of engagement conditions: a campaign (kept by id), a number of days.

A campaign is named as everywhere (CONTRACT "Naming"): by exact id, then exact name, then an
id prefix of at least 6 characters; the condition keeps the id, so renaming the campaign
changes nothing, and the text form shows its current name.
"""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from lettr_cli.audience.excerpts import clipped
from lettr_cli.audience.properties import InvalidValue
from lettr_cli.audience.segments.model import CAMPAIGN, ENGAGEMENT_FIELDS, Groups
from lettr_cli.store.tables import Campaign

MIN_PREFIX = 6
MAX_DAYS = 36_500
_DURATION = re.compile(r"(\d{1,6})\s*([dw])", re.IGNORECASE)


def is_engagement(name: str) -> bool:
    return name in ENGAGEMENT_FIELDS


def engagement_value(session: Session, kind: str, raw: str) -> str:
    """The canonical value of a campaign field (its id) or a recency field (``Nd``)."""
    return campaign_id(session, raw) if kind == CAMPAIGN else f"{days(raw)}d"


def campaign_id(session: Session, raw: str) -> str:
    """The id of the campaign ``raw`` names; refused when none or several match."""
    ref = raw.strip()
    found = session.get(Campaign, ref)
    if found is not None:
        return found.id
    named = list(session.exec(select(Campaign.id).where(Campaign.name == ref)))
    if not named and len(ref) >= MIN_PREFIX:
        prefix = select(Campaign.id).where(col(Campaign.id).startswith(ref.lower()))
        named = list(session.exec(prefix))
    if not named:
        raise InvalidValue(f"there is no campaign named '{clipped(raw)}' (nor with that id)")
    if len(named) > 1:
        raise InvalidValue(
            f"'{clipped(raw)}' names {len(named)} campaigns; give one of their ids: "
            + ", ".join(sorted(named)[:10])
        )
    return named[0]


def days(raw: str) -> int:
    """A duration written ``90d`` (days) or ``12w`` (weeks), as days (1 to 100 years)."""
    match = _DURATION.fullmatch(raw.strip())
    if match is None:
        raise InvalidValue(f"'{clipped(raw)}' is not a duration; write days as 90d or weeks as 12w")
    count = int(match.group(1)) * (7 if match.group(2).lower() == "w" else 1)
    if not 1 <= count <= MAX_DAYS:
        raise InvalidValue(f"'{clipped(raw)}' is out of range: 1d to {MAX_DAYS}d")
    return count


def campaign_names(session: Session, groups: Groups) -> dict[str, str]:
    """The current name of each campaign the conditions name, or its id where the name is
    shared with another campaign (so that the text form reads back as the same campaign)."""
    ids = {c.value for group in groups for c in group if c.operator in ("is", "is_not")}
    ids.discard(None)
    if not ids:
        return {}
    rows = session.exec(select(Campaign.id, Campaign.name).where(col(Campaign.id).in_(ids))).all()
    names = {row[0]: row[1] for row in rows}
    shared = session.exec(
        select(Campaign.name).where(col(Campaign.name).in_(set(names.values())))
    ).all()
    taken = {name for name in shared if list(shared).count(name) > 1}
    return {
        i: (i if name in taken or name.strip() != name or not name else name)
        for i, name in names.items()
    }
