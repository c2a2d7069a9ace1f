"""A campaign's UTM tagging (issue "Engagement"): turned on and off with `campaign create|edit
--utm/--no-utm`, each value overridable; stored on the campaign (``campaigns.utm``).

Stored: ``{"source", "medium", "campaign"}``, ``campaign`` null while it follows the campaign's
name (slugified when rendered, so a draft renamed before sending, or a duplicate, is tagged
with its own name). Content and tracking freeze when a campaign leaves draft, and so do these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lettr_cli.content.utm import DEFAULT_MEDIUM, DEFAULT_SOURCE, Utm, slugify
from lettr_cli.errors import ValidationError

if TYPE_CHECKING:
    from lettr_cli.store.tables import Campaign

MAX_VALUE = 255
KEYS = ("source", "medium", "campaign")


@dataclass(frozen=True)
class UtmChoice:
    """What `--utm`, `--no-utm` and `--utm-source/--utm-medium/--utm-campaign` ask for; None
    leaves a part as it is. A value given turns tagging on; an empty one restores its default."""

    enabled: bool | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None

    def overrides(self) -> dict[str, str]:
        values = {"source": self.source, "medium": self.medium, "campaign": self.campaign}
        return {key: value for key, value in values.items() if value is not None}

    def given(self) -> bool:
        return self.enabled is not None or bool(self.overrides())


def apply_utm(campaign: Campaign, choice: UtmChoice) -> None:
    """Set the campaign's tags from ``choice``; refuses contradictions and bad values with
    ``validation_error`` before changing anything."""
    overrides = choice.overrides()
    if choice.enabled is False:
        if overrides:
            flags = ", ".join(f"--utm-{key}" for key in overrides)
            raise ValidationError.field("utm", f"--no-utm turns tagging off; drop {flags}")
        campaign.utm = None
        return
    checked = {key: _value(key, value) for key, value in overrides.items()}
    if not choice.given():
        return
    stored: dict[str, str | None] = dict(
        campaign.utm or {"source": DEFAULT_SOURCE, "medium": DEFAULT_MEDIUM, "campaign": None}
    )
    defaults = {"source": DEFAULT_SOURCE, "medium": DEFAULT_MEDIUM, "campaign": None}
    for key, value in checked.items():
        stored[key] = value or defaults[key]
    campaign.utm = stored


def _value(key: str, value: str) -> str:
    value = value.strip()
    field = f"utm_{key}"
    if len(value) > MAX_VALUE:
        raise ValidationError.field(field, f"--utm-{key} is longer than {MAX_VALUE} characters")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ValidationError.field(field, f"--utm-{key} contains a control character")
    return value


def utm_of(campaign: Campaign | Any) -> Utm | None:
    """The tags the campaign's tracked links get now, or None when it does not tag them."""
    stored = campaign.utm
    if stored is None:
        return None
    name = stored.get("campaign") or slugify(campaign.name) or campaign.id
    return Utm(
        source=stored.get("source") or DEFAULT_SOURCE,
        medium=stored.get("medium") or DEFAULT_MEDIUM,
        campaign=name,
    )


def utm_json(campaign: Campaign | Any) -> dict[str, Any] | None:
    """The campaign object's ``utm``: the values in force, or null."""
    utm = utm_of(campaign)
    if utm is None:
        return None
    return {"source": utm.source, "medium": utm.medium, "campaign": utm.campaign}
