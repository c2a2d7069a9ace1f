"""The draft the wizard edits, through the services the CLI calls: create on the first edit,
then edit field by field (a bad field does not stop the others being saved), set the audience,
and read back what a step shows. Every method runs on a worker thread (it uses the store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lettr_cli.campaigns.campaigns import CampaignFields, create_campaign, edit_campaign
from lettr_cli.errors import LettrError, ValidationError
from lettr_cli.workspace import Workspace

# The Compose inputs a draft saves, by the CampaignFields name they set.
TEXT_FIELDS = ("name", "subject", "from_name", "reply_to", "preview_text")


@dataclass
class Choices:
    """What the Audience step offers: (id, name, subscribed count) of each list and segment."""

    lists: list[tuple[str, str, int]] = field(default_factory=list)
    segments: list[tuple[str, str, int]] = field(default_factory=list)


def read_html(path: str) -> str:
    """The HTML file a path names, read as the CLI's ``--html`` reads it."""
    target = Path(path).expanduser()
    try:
        return target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationError.field("html_content", f"cannot read '{path}': {error}") from None


class Draft:
    """One campaign, new (``campaign_id`` None until the first save) or reopened."""

    def __init__(self, workspace: Workspace, campaign_id: str | None = None) -> None:
        self.workspace = workspace
        self.campaign_id = campaign_id

    @classmethod
    def open(cls, workspace: Workspace, ref: str | None) -> Draft:
        if ref is None:
            return cls(workspace)
        from lettr_cli.campaigns.campaigns import find_campaign

        with workspace.store.read() as session:
            return cls(workspace, find_campaign(session, ref).id)

    def body(self) -> dict[str, Any] | None:
        """The campaign as ``campaign show --json --detail`` has it; None before the first save."""
        if self.campaign_id is None:
            return None
        from lettr_cli.campaigns.campaigns import find_campaign
        from lettr_cli.delivery.objects import campaign_json

        with self.workspace.store.read() as session:
            return campaign_json(session, find_campaign(session, self.campaign_id), detail=True)

    def _ensure(self) -> str:
        if self.campaign_id is None:
            settings = self.workspace.settings()
            with self.workspace.store.write() as session:
                campaign = create_campaign(
                    session,
                    CampaignFields(),
                    track_opens=settings.flag("tracking.opens"),
                    track_clicks=settings.flag("tracking.clicks"),
                )
                self.campaign_id = campaign.id
        return self.campaign_id

    def save(self, values: dict[str, str]) -> dict[str, str]:
        """Save each field in its own transaction; the refusals, by field, of those not saved.
        ``html_path`` reads a file into the HTML content; ``template`` links a template."""
        ref = self._ensure()
        refused: dict[str, str] = {}
        for key, value in values.items():
            try:
                chosen = _fields(key, value)
                with self.workspace.store.write() as session:
                    edit_campaign(session, ref, chosen)
            except LettrError as error:
                refused[key] = error.message
        return refused

    def save_audience(self, everyone: bool, lists: list[str], segments: list[str]) -> str | None:
        """Replace the audience (names of lists and segments); the refusal, if any."""
        from lettr_cli.campaigns.audience import set_audience
        from lettr_cli.campaigns.campaigns import find_campaign

        ref = self._ensure()
        try:
            with self.workspace.store.write() as session:
                campaign = find_campaign(session, ref)
                set_audience(session, campaign, everyone=everyone, lists=lists, segments=segments)
        except LettrError as error:
            return error.message
        return None


def _fields(key: str, value: str) -> CampaignFields:
    if key == "html_path":
        return CampaignFields(html=read_html(value))
    if key == "template":
        return CampaignFields(template=value)
    if key == "from_email":
        return CampaignFields(from_email=value)
    if key in TEXT_FIELDS:
        chosen = CampaignFields()
        setattr(chosen, key, value)
        return chosen
    raise ValidationError.field(key, f"unknown field '{key}'")
