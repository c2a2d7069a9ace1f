"""`lettr campaign`: write campaigns and follow them (reference §1–§7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from lettr_cli.cli import analytics as analytics_commands
from lettr_cli.cli import campaign_list, campaign_preview, campaign_review
from lettr_cli.cli import resend as resend_commands
from lettr_cli.cli import schedule as schedule_commands
from lettr_cli.cli import sending as sending_commands
from lettr_cli.cli.campaign_review import audience_text
from lettr_cli.cli.campaign_utm import (
    UtmCampaign,
    UtmFlag,
    UtmMedium,
    UtmSource,
    utm_choice,
    utm_text,
)
from lettr_cli.cli.command import JsonFlag, LettrTyper, YesFlag
from lettr_cli.cli.inputs import CampaignRef, read_text
from lettr_cli.cli.output import (
    confirm_checked,
    emit_deleted,
    emit_json,
    say,
    show_table,
)
from lettr_cli.cli.runtime import workspace

if TYPE_CHECKING:
    from lettr_cli.campaigns.campaigns import CampaignFields

app = LettrTyper(help="Write, review and send campaigns.")

Subject = Annotated[str | None, typer.Option("--subject", help="The subject line.")]
FromEmail = Annotated[
    str | None, typer.Option("--from-email", help="The sender's address (on a verified domain).")
]
FromName = Annotated[str | None, typer.Option("--from-name", help="The sender's name.")]
ReplyTo = Annotated[str | None, typer.Option("--reply-to", help="Where replies go.")]
PreviewText = Annotated[
    str | None, typer.Option("--preview-text", help="The preview line shown after the subject.")
]
HtmlFile = Annotated[str | None, typer.Option("--html", help="The HTML file (- for stdin).")]
TemplateName = Annotated[
    str | None, typer.Option("--template", help="Follow this template's active version.")
]
TextFile = Annotated[
    str | None, typer.Option("--text", help="A plain-text part (default: derived from the HTML).")
]
NoOpens = Annotated[bool, typer.Option("--no-track-opens", help="Do not track opens.")]
NoClicks = Annotated[bool, typer.Option("--no-track-clicks", help="Do not track clicks.")]


def _fields(
    name: str | None,
    subject: str | None,
    from_email: str | None,
    from_name: str | None,
    reply_to: str | None,
    preview_text: str | None,
    html: str | None,
    template: str | None,
    text: str | None,
    no_opens: bool,
    no_clicks: bool,
) -> CampaignFields:
    from lettr_cli.campaigns.campaigns import CampaignFields

    return CampaignFields(
        name=name,
        subject=subject,
        from_email=from_email,
        from_name=from_name,
        reply_to=reply_to,
        preview_text=preview_text,
        html=None if html is None else read_text(html, "html_content"),
        text=None if text is None else read_text(text, "text_content"),
        template=template,
        track_opens=False if no_opens else None,
        track_clicks=False if no_clicks else None,
    )


def _print(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(body)
        return
    rows: list[list[object]] = [
        [key, body[key]]
        for key in ("id", "name", "status", "subject", "from_email", "from_name", "reply_to",
                    "preview_text", "scheduled_at", "sent_at", "total_recipients")
    ]  # fmt: skip
    template = body["template"]
    rows.append(["template", f"{template['name']} v{template['version']}" if template else ""])
    audience = body["audience"]
    rows.append(["audience", audience_text(audience)])
    rows.append(["tracking", f"opens {'on' if body['track_opens'] else 'off'}, "
                             f"clicks {'on' if body['track_clicks'] else 'off'}"])  # fmt: skip
    rows.append(["utm", utm_text(body["utm"])])
    if body["failure_reason"]:
        rows.append(["failure_reason", body["failure_reason"]])
    rows.append(["outbox", ", ".join(f"{n} {state}" for state, n in body["outbox"].items() if n)])
    rows.append(["stats", ", ".join(f"{key} {n}" for key, n in body["stats"].items())])
    if body.get("in_doubt_recipients"):
        rows.append(["in_doubt", ", ".join(body["in_doubt_recipients"])])
    show_table(["field", "value"], rows)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="A name for the campaign.")] = None,
    prompt: Annotated[
        str | None,
        typer.Option(
            "--prompt", help="Say what it is about; lettr starts from the closest earlier one."
        ),
    ] = None,
    subject: Subject = None,
    from_email: FromEmail = None,
    from_name: FromName = None,
    reply_to: ReplyTo = None,
    preview_text: PreviewText = None,
    html: HtmlFile = None,
    template: TemplateName = None,
    text: TextFile = None,
    no_track_opens: NoOpens = False,
    no_track_clicks: NoClicks = False,
    utm: UtmFlag = None,
    utm_source: UtmSource = None,
    utm_medium: UtmMedium = None,
    utm_campaign: UtmCampaign = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a draft campaign."""
    from lettr_cli.campaigns.campaigns import create_campaign
    from lettr_cli.campaigns.prefill import prefill
    from lettr_cli.delivery.objects import campaign_json

    chosen = _fields(name, subject, from_email, from_name, reply_to, preview_text, html, template,
                     text, no_track_opens, no_track_clicks)  # fmt: skip
    chosen.utm = utm_choice(utm, utm_source, utm_medium, utm_campaign)
    ws = workspace(ctx)
    settings = ws.settings()
    with ws.store.write() as session:
        offered = prefill(session, prompt)
        if chosen.subject is None and offered.subject is not None:
            say(f"Subject offered from the prompt: {offered.subject}")
        if offered.match is not None:
            say(f"Closest earlier campaign: '{offered.match.name}' (score {offered.match.score}); "
                "its sender is used where you gave none")  # fmt: skip
        chosen = offered.fill(chosen)
        campaign = create_campaign(
            session,
            chosen,
            track_opens=settings.flag("tracking.opens"),
            track_clicks=settings.flag("tracking.clicks"),
        )
        body = campaign_json(session, campaign)
    _print(body, as_json)


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: CampaignRef,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    subject: Subject = None,
    from_email: FromEmail = None,
    from_name: FromName = None,
    reply_to: ReplyTo = None,
    preview_text: PreviewText = None,
    html: HtmlFile = None,
    template: TemplateName = None,
    text: TextFile = None,
    no_track_opens: NoOpens = False,
    no_track_clicks: NoClicks = False,
    utm: UtmFlag = None,
    utm_source: UtmSource = None,
    utm_medium: UtmMedium = None,
    utm_campaign: UtmCampaign = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a draft: its content, sender or tracking."""
    from lettr_cli.campaigns.campaigns import edit_campaign
    from lettr_cli.delivery.objects import campaign_json

    chosen = _fields(name, subject, from_email, from_name, reply_to, preview_text, html, template,
                     text, no_track_opens, no_track_clicks)  # fmt: skip
    chosen.utm = utm_choice(utm, utm_source, utm_medium, utm_campaign)
    with workspace(ctx).store.write() as session:
        body = campaign_json(session, edit_campaign(session, ref, chosen))
    _print(body, as_json)


@app.command("show")
def show(
    ctx: typer.Context,
    ref: CampaignRef,
    watch: Annotated[
        bool, typer.Option("--watch", help="Follow a send from another terminal until it ends.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show a campaign with its content and counters."""
    # Read through SQLAlchemy Core, without the ORM: it starts quicker (issue 18).
    from lettr_cli.campaigns.campaign_rows import find_campaign_row
    from lettr_cli.delivery.campaign_body import campaign_body

    ws = workspace(ctx)
    if watch:
        from lettr_cli.cli.live import watch_campaign

        with ws.store.connect() as conn, conn.begin():
            campaign_id = find_campaign_row(conn, ref).id
        watch_campaign(ws, campaign_id)
    with ws.store.connect() as conn, conn.begin():
        body = campaign_body(conn, find_campaign_row(conn, ref), detail=True)
    _print(body, as_json)


app.command("list")(campaign_list.list_all)
app.command("resend")(resend_commands.resend)


@app.command("duplicate")
def duplicate(
    ctx: typer.Context,
    ref: CampaignRef,
    name: Annotated[str | None, typer.Option("--name", help="The copy's name.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Copy any campaign into a new draft."""
    from lettr_cli.campaigns.campaigns import duplicate_campaign
    from lettr_cli.delivery.objects import campaign_json

    with workspace(ctx).store.write() as session:
        body = campaign_json(session, duplicate_campaign(session, ref, name))
    _print(body, as_json)


@app.command("delete")
def delete(
    ctx: typer.Context, ref: CampaignRef, yes: YesFlag = False, as_json: JsonFlag = False
) -> None:
    """Delete a draft or failed campaign."""
    from lettr_cli.campaigns.campaigns import deletable_campaign, delete_campaign

    ws = workspace(ctx)
    found = confirm_checked(
        ws,
        lambda session: deletable_campaign(session, ref),
        lambda campaign: f"Delete the campaign '{campaign.name}'?",
        yes=yes,
    )
    with ws.store.write() as session:
        deleted = delete_campaign(session, found.id)
    emit_deleted([deleted], [found.name], as_json=as_json, noun="campaign")


app.command("preview")(campaign_preview.preview)


app.command("check")(campaign_review.check)
app.command("test")(campaign_review.send_test)
app.command("audience")(campaign_review.audience)
app.command("review")(campaign_review.review)
app.command("send")(sending_commands.send)
app.command("schedule")(schedule_commands.schedule)
app.command("unschedule")(schedule_commands.unschedule)
app.command("approve")(sending_commands.approve)
app.command("reject")(sending_commands.reject)
app.command("retry")(sending_commands.retry)
app.command("report")(analytics_commands.report)
app.command("events")(analytics_commands.events)
app.command("compare")(analytics_commands.compare)
