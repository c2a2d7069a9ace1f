"""Everything the demo builds before it sends: a temporary store (enterprise tier) pointed at the
sink, the audience, a sender domain verified the real way, a template and a campaign.

The store lives only in the folder it is given, with that folder as its home and no
environment variables: the user's own store, ``$LETTR_HOME`` and ``LETTR_*`` settings are
never read or touched. Progress is reported through ``step`` (one line per thing done).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lettr_cli.audience.importer import Progress
from lettr_cli.campaigns.audience import estimate, set_audience
from lettr_cli.campaigns.campaigns import CampaignFields, create_campaign
from lettr_cli.campaigns.templates import create_template
from lettr_cli.demo import template_html
from lettr_cli.demo.audience import (
    SAMPLE_LIST,
    SEGMENT,
    SEGMENT_WHERE,
    DemoAudience,
    build_audience,
)
from lettr_cli.store.location import STORE_FILENAME
from lettr_cli.workspace import Workspace

Step = Callable[[str], None]

DOMAIN = "example.com"
FROM_EMAIL = f"news@{DOMAIN}"
FROM_NAME = "Example News"
TEMPLATE = "What is new"
CAMPAIGN = "lettr demo"
SUBJECT = "{{ first_name }}, here is what is new at Example"
PREVIEW_TEXT = "A campaign sent by lettr demo to a local SMTP sink."
POSTAL_ADDRESS = "Example Inc., 1 Example Street, Springfield"


@dataclass(frozen=True)
class DemoSetup:
    workspace: Workspace
    audience: DemoAudience
    campaign_id: str
    recipients: int  # the campaign's audience estimate when it was created


def open_store(folder: Path) -> Workspace:
    """A new store in ``folder`` (its home too), on the enterprise tier: no contact limit."""
    workspace = Workspace.open(folder / STORE_FILENAME, home=folder, environ={})
    try:
        workspace.set_config("plan.tier", "enterprise")
        workspace.set_config("sender.postal_address", POSTAL_ADDRESS)
    except BaseException:
        workspace.close()
        raise
    return workspace


def point_at_relay(workspace: Workspace, host: str, port: int) -> None:
    """Send through the sink: plain SMTP on loopback, no TLS to offer, no AUTH."""
    workspace.set_config("smtp.host", host)
    workspace.set_config("smtp.port", str(port))
    workspace.set_config("smtp.security", "none")


def verify_sender_domain(workspace: Workspace, step: Step) -> None:
    """Add the sender domain (a new DKIM key), publish exactly the records lettr asks for on a
    DNS responder on loopback, and verify them through it: the path of `lettr domain verify
    --nameserver`, nothing skipped."""
    from lettr_cli.domains.responder import DnsResponder
    from lettr_cli.domains.service import add_domain, not_verified, verify_domain

    domain = add_domain(workspace, DOMAIN)
    with DnsResponder() as dns:
        for record in domain.records:
            if record.value is not None:
                dns.publish(record.name, record.value)
        checked = verify_domain(workspace, DOMAIN, nameserver=dns.nameserver)
        asked = len(dns.queries)
    if checked.status != "verified":
        raise not_verified(checked)
    kinds = ", ".join(record.type for record in checked.records)
    step(
        f"added the sender domain {DOMAIN} with a new DKIM key, published its records "
        f"({kinds}) on a DNS responder on loopback, and verified them there "
        f"({asked} queries): {checked.status}"
    )


def create_demo_campaign(workspace: Workspace) -> tuple[str, int]:
    """The bundled template, and a draft from it to the whole demo list."""
    settings = workspace.settings()
    with workspace.store.write() as session:
        create_template(session, TEMPLATE, template_html(), None)
        campaign = create_campaign(
            session,
            CampaignFields(
                name=CAMPAIGN,
                subject=SUBJECT,
                from_email=FROM_EMAIL,
                from_name=FROM_NAME,
                preview_text=PREVIEW_TEXT,
                template=TEMPLATE,
            ),
            track_opens=settings.flag("tracking.opens"),
            track_clicks=settings.flag("tracking.clicks"),
        )
        set_audience(session, campaign, everyone=False, lists=[SAMPLE_LIST])
        return campaign.id, estimate(session, campaign)


def add_audience(
    workspace: Workspace,
    recipients: int | None = None,
    *,
    step: Step | None = None,
    importing: Progress | None = None,
) -> DemoAudience:
    """The list, the contacts imported into it (``importing`` follows the import) and the
    segment over it; ``step`` gets :func:`audience_steps` at the end."""
    audience = build_audience(workspace, recipients, importing)
    if step is not None:
        for text in audience_steps(audience):
            step(text)
    return audience


def audience_steps(audience: DemoAudience) -> list[str]:
    """What :func:`add_audience` did, in words."""
    rows = audience.rows
    created = ", ".join(f"{name} ({kind})" for name, kind in audience.new_properties.items())
    generated = f", {rows.generated:,} generated as demo-…@example.org" if rows.generated else ""
    return [
        f"imported {audience.imported['created']:,} contacts into the list '{SAMPLE_LIST}' "
        f"({rows.sample_rows} from the bundled sample{generated}), creating the properties "
        f"{created}",
        f"created the segment '{SEGMENT}': {SEGMENT_WHERE}, {audience.segment_count:,} contacts",
    ]


def add_campaign(
    workspace: Workspace, *, relay_host: str, relay_port: int, step: Step | None = None
) -> tuple[str, int]:
    """Point the store at the relay (the sink), verify the sender domain, and write the
    campaign; returns its id and how many it goes to."""
    say = step or (lambda _text: None)
    point_at_relay(workspace, relay_host, relay_port)
    say(f"set smtp.host {relay_host}, smtp.port {relay_port}, smtp.security none (the sink)")
    verify_sender_domain(workspace, say)
    campaign_id, reach = create_demo_campaign(workspace)
    say(
        f"created the template '{TEMPLATE}' from the bundled HTML and the campaign "
        f"'{CAMPAIGN}' from it, from {FROM_EMAIL} to the list '{SAMPLE_LIST}' "
        f"({reach:,} subscribed contacts)"
    )
    return campaign_id, reach


def build_demo(
    workspace: Workspace,
    *,
    relay_host: str,
    relay_port: int,
    recipients: int | None = None,
    step: Step | None = None,
    importing: Progress | None = None,
) -> DemoSetup:
    """Everything before the send, in ``workspace`` (from :func:`open_store`), sending to the
    relay at ``relay_host``:``relay_port``."""
    audience = add_audience(workspace, recipients, step=step, importing=importing)
    campaign_id, reach = add_campaign(
        workspace, relay_host=relay_host, relay_port=relay_port, step=step
    )
    return DemoSetup(workspace, audience, campaign_id, reach)
