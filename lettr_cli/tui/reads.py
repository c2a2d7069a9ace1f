"""What the wizard's steps show, read from the services: the verified domains and templates to
pick from, the lists and segments with their subscribed counts, the live estimate, the subject's
findings, the operator's zone and a time's echo, the message for the first recipient. Each
function that opens the store runs on a worker thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import select

from lettr_cli.campaigns.prefill import Prefill
from lettr_cli.errors import LettrError
from lettr_cli.workspace import Workspace


@dataclass(frozen=True)
class Offer:
    """A choice with its subscribed, de-duplicated count."""

    id: str
    name: str
    subscribed: int


@dataclass(frozen=True)
class Options:
    """What Compose and Audience offer."""

    domains: list[str]
    templates: list[str]
    lists: list[Offer]
    segments: list[Offer]


def options(workspace: Workspace) -> Options:
    from lettr_cli.audience.counts import subscribed_per_list, subscribed_per_segment
    from lettr_cli.campaigns.templates import all_templates
    from lettr_cli.domains.service import list_domains
    from lettr_cli.store.tables import ContactList, Segment

    domains, _ = list_domains(workspace)
    with workspace.store.read() as session:
        templates = [t.name for t in all_templates(session)]
        list_names = dict(session.exec(select(ContactList.id, ContactList.name)).all())
        segment_names = dict(session.exec(select(Segment.id, Segment.name)).all())
        per_list = subscribed_per_list(session)
        per_segment = subscribed_per_segment(session)
    return Options(
        domains=[d.domain for d in domains if d.status == "verified"],
        templates=sorted(templates),
        lists=sorted(
            (Offer(i, list_names[i], n) for i, n in per_list.items()), key=lambda o: o.name
        ),
        segments=sorted(
            (Offer(i, segment_names[i], n) for i, n in per_segment.items()), key=lambda o: o.name
        ),
    )


def offer(workspace: Workspace, prompt: str) -> Prefill:
    """What a new draft about ``prompt`` starts from (``campaign create --prompt``)."""
    from lettr_cli.campaigns.prefill import prefill

    with workspace.store.read() as session:
        return prefill(session, prompt)


def estimate(
    workspace: Workspace, everyone: bool, list_ids: Sequence[str], segment_ids: Sequence[str]
) -> int:
    from lettr_cli.campaigns.audience import estimate_for

    with workspace.store.read() as session:
        return estimate_for(session, everyone=everyone, list_ids=list_ids, segment_ids=segment_ids)


def subject_findings(subject: str) -> list[str]:
    """The content check's findings about a subject, as lines."""
    from lettr_cli.campaigns.check import Findings, check_subject

    found = Findings()
    check_subject(subject, found)
    return [f["message"] for f in (*found.errors, *found.warnings)]


def zone_of(workspace: Workspace) -> str:
    """The operator's zone: config ``timezone``, else the system's."""
    from lettr_cli.campaigns.times import operator_zone

    return operator_zone(None, workspace.settings().text("timezone"))


def echo_time(text: str, zone: str) -> tuple[bool, str]:
    """A ``--at`` value read in ``zone``: (True, the time in the zone and in UTC), or (False,
    why it cannot be used)."""
    from lettr_cli.campaigns.times import describe, parse_at

    try:
        parsed = parse_at(text, zone)
    except LettrError as error:
        return False, error.message
    note = f"; {parsed.note}" if parsed.note else ""
    return True, describe(parsed.at, zone) + note


def report_lines(workspace: Workspace, campaign_id: str) -> list[str]:
    """The counters and rates of `campaign report`, one per line, for a campaign that left
    draft."""
    from lettr_cli.analytics.stats import RATES, report

    with workspace.store.read() as session:
        body = report(session, campaign_id)
    stats = body["stats"]
    counters = [f"{key.replace('_', ' ')} {n}" for key, n in stats.items() if "machine" not in key]
    rates = [
        f"{rate.label} "
        + ("-" if body["rates"][rate.name] is None else f"{body['rates'][rate.name] * 100:.1f}%")
        for rate in RATES
    ]
    return ["Report: " + ", ".join(counters), "Rates: " + ", ".join(rates)]


def first_message(workspace: Workspace, campaign_id: str) -> str:
    """The message as the first recipient would get it, as text (sample data without one)."""
    from lettr_cli.campaigns.audience import first_recipient
    from lettr_cli.campaigns.campaigns import find_campaign
    from lettr_cli.campaigns.rendering import preview

    settings = workspace.settings()
    try:
        with workspace.store.write() as session:
            campaign = find_campaign(session, campaign_id)
            contact = first_recipient(session, campaign)
            shown = preview(session, campaign, settings, None if contact is None else contact.email)
            header = f"To: {shown.to}\nSubject: {shown.rendered.subject}\n\n"
            return header + shown.rendered.text
    except LettrError as error:
        return f"(no preview: {error.message})"
