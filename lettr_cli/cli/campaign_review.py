"""`lettr campaign check`, `test`, `audience` and `review`: what an operator runs before a
send. ``campaign.py`` registers them with the group's other commands, in the order help lists
them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lettr_cli.cli.command import JsonFlag
from lettr_cli.cli.inputs import CampaignRef
from lettr_cli.cli.output import emit_json, emit_line, say, show_table
from lettr_cli.cli.runtime import workspace


def audience_text(audience: dict[str, Any]) -> str:
    """A campaign's audience in words (``campaign show``, ``audience``, ``review``)."""
    if audience["all"]:
        return "all subscribed contacts"
    parts = [f"list {n}" for n in audience["lists"]] + [
        f"segment {n}" for n in audience["segments"]
    ]
    if audience.get("where"):
        parts.append(f"contacts where {audience['where']}")
    return ", ".join(parts) or "(none chosen yet)"


def check(ctx: typer.Context, ref: CampaignRef, as_json: JsonFlag = False) -> None:
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


def send_test(
    ctx: typer.Context,
    ref: CampaignRef,
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


def audience(
    ctx: typer.Context,
    ref: CampaignRef,
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
        emit_line(f"Audience: {audience_text(body)}")
        emit_line(
            f"Estimated recipients (subscribed, de-duplicated): {body['estimated_recipients']}"
        )


def review(ctx: typer.Context, ref: CampaignRef, as_json: JsonFlag = False) -> None:
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
            ["Audience", audience_text(summary.audience)],
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
