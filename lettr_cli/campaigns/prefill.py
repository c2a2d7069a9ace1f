"""What a new draft starts from when the operator says what it is about (``campaign create
--prompt``, the wizard's first step): a name and a subject from the prompt, and the sender of the
closest earlier campaign (ranked by ``prompt.suggest``). Plain data; the face says what it used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlmodel import Session

from lettr_cli.campaigns.campaigns import list_campaigns
from lettr_cli.campaigns.prompt import suggest

if TYPE_CHECKING:
    from lettr_cli.campaigns.campaigns import CampaignFields

SENDER_FIELDS = ("from_email", "from_name", "reply_to")


@dataclass(frozen=True)
class Match:
    """The earlier campaign the sender is copied from, and how close it was (0 to 1)."""

    campaign_id: str
    name: str
    score: float


@dataclass(frozen=True)
class Prefill:
    """Values offered for a new draft; ``None`` offers nothing for that field. The sender fields
    are offered only with a ``match`` (an empty string where the match had none)."""

    name: str | None = None
    subject: str | None = None
    from_email: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    match: Match | None = None

    def fill(self, chosen: CampaignFields) -> CampaignFields:
        """``chosen`` with the offered values where the operator gave none (given values win):
        the name where it is empty, the subject and the sender fields where they are unset."""
        filled = replace(chosen)
        if not filled.name and self.name is not None:
            filled.name = self.name
        for field in ("subject", *SENDER_FIELDS):
            offered = getattr(self, field)
            if getattr(filled, field) is None and offered is not None:
                setattr(filled, field, offered)
        return filled


def prefill(session: Session, prompt: str | None) -> Prefill:
    """What a new draft about ``prompt`` starts from; nothing without a prompt (or an empty
    one). The earlier campaigns of every status are candidates."""
    if not prompt:
        return Prefill()
    idea = suggest(prompt, list_campaigns(session, None))
    if idea.match is None:
        return Prefill(name=idea.name, subject=idea.subject)
    found = idea.match
    return Prefill(
        name=idea.name,
        subject=idea.subject,
        from_email=found.from_email or "",
        from_name=found.from_name or "",
        reply_to=found.reply_to or "",
        match=Match(found.id, found.name, idea.score),
    )
