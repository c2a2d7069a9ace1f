"""`lettr campaign`: write campaigns and follow them (reference §1–§7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from lettr_cli.cli import analytics as analytics_commands
from lettr_cli.cli import campaign_list, campaign_preview
from lettr_cli.cli import resend as resend_commands
from lettr_cli.cli import schedule as schedule_commands
from lettr_cli.cli import sending as sending_commands
from lettr_cli.cli.campaign_utm import (
    UtmCampaign,
    UtmFlag,
    UtmMedium,
    UtmSource,
    utm_choice,
    utm_text,
)
from lettr_cli.cli.command import JsonFlag, LettrTyper, YesFlag
from lettr_cli.cli.inputs import read_text
from lettr_cli.cli.output import (
    confirm_checked,
    emit_deleted,
    emit_json,
    emit_line,
    say,
    show_table,
)
from lettr_cli.cli.runtime import workspace

if TYPE_CHECKING:
    from lettr_cli.campaigns.campaigns import CampaignFields

app = LettrTyper(help="Write, review and send campaigns.")

Ref = Annotated[
    str, typer.Argument(help="The campaign's id, name, or an id prefix (6+ characters).")
]
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
    rows.append(["audience", _audience_text(audience)])
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


def _audience_text(audience: dict[str, Any]) -> str:
    if audience["all"]:
        return "all subscribed contacts"
    parts = [f"list {n}" for n in audience["lists"]] + [
        f"segment {n}" for n in audience["segments"]
    ]
    if audience.get("where"):
        parts.append(f"contacts where {audience['where']}")
    return ", ".join(parts) or "(none chosen yet)"


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
    ref: Ref,
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
    ref: Ref,
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
    ref: Ref,
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
def delete(ctx: typer.Context, ref: Ref, yes: YesFlag = False, as_json: JsonFlag = False) -> None:
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


@app.command("check")
def check(ctx: typer.Context, ref: Ref, as_json: JsonFlag = False) -> None:
    """Look for problems in the content: errors stop a send (exit 1), warnings advise (exit 0)."""
    from lettr_cli.campaigns.campaigns import find_campaign
    from lettr_cli.campaigns.check import check_campaign
    from lettr_cli.errors import ValidationError

    ws = workspace(ctx)
    with ws.store.write() as session:
        found = check_campaign(session, find_campaign(session, ref), ws.settings())
    if as_json:
        emit_json(found.to_json())
    else:
        rows = [["error", f["code"], f["message"]] for f in found.errors]
        rows += [["warning", f["code"], f["message"]] for f in found.warnings]
        if rows:
            show_table(["level", "code", "message"], rows)
        else:
            say("No findings.")
    if found.errors:
        raise ValidationError(
            f"the content check found {len(found.errors)} error(s)",
            errors={"content": [f["message"] for f in found.errors]},
        )


@app.command("test")
def send_test(
    ctx: typer.Context,
    ref: Ref,
    to: Annotated[
        list[str], typer.Option("--to", help="Send a test to this address (repeatable).")
    ],
    as_email: Annotated[
        str | None, typer.Option("--as", help="Render for this contact (default: sample data).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Send real test messages ([Test] subject, never tracked or counted)."""
    import asyncio

    from lettr_cli.campaigns.test_sends import send_tests
    from lettr_cli.errors import TransmissionFailed

    result = asyncio.run(send_tests(workspace(ctx), ref, to, as_email))
    if as_json:
        emit_json(result.to_json())
    else:
        for address in result.sent:
            say(f"sent to {address}")
    if result.refused:
        refusals = "; ".join(f"{r['email']}: {r['reply']}" for r in result.refused)
        raise TransmissionFailed(f"the relay refused {len(result.refused)} test(s): {refusals}")


@app.command("audience")
def audience(
    ctx: typer.Context,
    ref: Ref,
    everyone: Annotated[bool, typer.Option("--all", help="Every subscribed contact.")] = False,
    lists: Annotated[list[str] | None, typer.Option("--list", help="Members of this list.")] = None,
    segments: Annotated[
        list[str] | None, typer.Option("--segment", help="Members of this segment.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Choose who gets a draft: replaces its audience and prints the estimate."""
    from lettr_cli.campaigns.audience import audience_json, estimate, set_audience
    from lettr_cli.campaigns.campaigns import find_campaign

    with workspace(ctx).store.write() as session:
        campaign = set_audience(
            session,
            find_campaign(session, ref),
            everyone=everyone,
            lists=lists or (),
            segments=segments or (),
        )
        body = {
            **audience_json(session, campaign),
            "estimated_recipients": estimate(session, campaign),
        }
    if as_json:
        emit_json(body)
    else:
        emit_line(f"Audience: {_audience_text(body)}")
        emit_line(
            f"Estimated recipients (subscribed, de-duplicated): {body['estimated_recipients']}"
        )


@app.command("review")
def review(ctx: typer.Context, ref: Ref, as_json: JsonFlag = False) -> None:
    """The Review step: what would go out, to how many, and anything that would stop it."""
    import asyncio

    from lettr_cli.delivery.review import review as review_campaign

    summary = asyncio.run(review_campaign(workspace(ctx), ref))
    if as_json:
        emit_json(summary.to_json())
    else:
        sender = f"{summary.from_name or ''} <{summary.from_email or '?'}>".strip()
        show_table(["", ""], [
            ["Subject", summary.subject], ["From", sender], ["Reply-To", summary.reply_to],
            ["Audience", _audience_text(summary.audience)],
            ["Recipients", f"about {summary.estimated_recipients} (subscribed, de-duplicated)"],
            ["Schedule", summary.scheduled_at or "not scheduled (send now)"],
        ])  # fmt: skip
        for item in summary.errors():
            say(f"✗ [{item['code']}] {item['message']}")
        for item in summary.warnings:
            say(f"! [{item['code']}] {item['message']}")
        if summary.sendable:
            say("Ready to send.")
    if summary.refusals:
        raise summary.refusals[0]


app.command("send")(sending_commands.send)
app.command("schedule")(schedule_commands.schedule)
app.command("unschedule")(schedule_commands.unschedule)
app.command("approve")(sending_commands.approve)
app.command("reject")(sending_commands.reject)
app.command("retry")(sending_commands.retry)
app.command("report")(analytics_commands.report)
app.command("events")(analytics_commands.events)
app.command("compare")(analytics_commands.compare)
