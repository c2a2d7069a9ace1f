"""The UTM options of `campaign create` and `campaign edit` (issue "Engagement")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from lettr_cli.campaigns.utm import UtmChoice

UtmFlag = Annotated[
    bool | None,
    typer.Option(
        "--utm/--no-utm",
        help="Tag tracked links with utm_source=lettr, utm_medium=email and utm_campaign=the "
        "campaign's name, slugified (links that carry utm_* already are left alone).",
    ),
]
UtmSource = Annotated[
    str | None,
    typer.Option("--utm-source", help="utm_source instead of lettr (implies --utm; '' resets)."),
]
UtmMedium = Annotated[
    str | None,
    typer.Option("--utm-medium", help="utm_medium instead of email (implies --utm; '' resets)."),
]
UtmCampaign = Annotated[
    str | None,
    typer.Option(
        "--utm-campaign", help="utm_campaign instead of the slugified name (implies --utm)."
    ),
]


def utm_choice(
    enabled: bool | None, source: str | None, medium: str | None, campaign: str | None
) -> UtmChoice | None:
    from lettr_cli.campaigns.utm import UtmChoice

    choice = UtmChoice(enabled=enabled, source=source, medium=medium, campaign=campaign)
    return choice if choice.given() else None


def utm_text(utm: dict[str, Any] | None) -> str:
    """The `campaign show` line of the tags, or "off"."""
    if utm is None:
        return "off"
    return f"source {utm['source']}, medium {utm['medium']}, campaign {utm['campaign']}"
