"""bench/track.py's store and request files: ``set_up_store`` makes a fresh store through the
commands a user types (properties, a list, ``contact import``, a verified domain, a campaign
with a merge tag and three tracked links, flat or with its greeting in an ``{% if %}``), and
``prepare_and_sign``, the child role ``_prepare`` that bench/track.py starts, prepares the
campaign's outbox as ``campaign send`` does and writes one request file per step (the ``MIX`` of
opens, clicks and one-click unsubscribes, their URLs signed with the store's own key).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path

from send_measure import lettr_env  # the environment of a timed lettr, as bench/send.py's
from track_steps import free_port, lettr_command

MIX = (("o", 70), ("c", 25), ("u", 5))
HTML = """<!DOCTYPE html>
<html><head><style>p { font-family: Helvetica, Arial, sans-serif; }</style></head><body>
<h1>Hello {{ first_name }}</h1>
<p>This week: <a href="https://example.com/offers?utm_source=newsletter">the offers</a>,
<a href="https://example.com/blog/long-read">a long read</a> and
<a href="https://example.org/events">events near you</a>.</p>
<p>{{ unsubscribe_link }}</p>
</body></html>
"""


def run_lettr(home: Path, *args: str) -> str:
    done = subprocess.run(
        [*lettr_command(), *args], env=lettr_env(home), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"lettr {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


# ``--template conditional``: the same message with its greeting in an ``{% if %}``. Such a
# campaign has no message skeleton (``content.skeleton``), so the server renders a clicked row's
# message again to find its links instead of filling the skeleton's with the row's tokens.
TEMPLATES = {
    "flat": HTML,
    "conditional": HTML.replace(
        "<h1>Hello {{ first_name }}</h1>",
        "<h1>Hello {% if first_name %}{{ first_name }}{% else %}you{% endif %}</h1>",
    ),
}


def set_up_store(home: Path, recipients: int, template: str = "flat") -> str:
    """A fresh store with N contacts and a campaign to them; returns the campaign's id."""
    from lettr_cli.domains.responder import DnsResponder

    home.mkdir(parents=True)
    audience = home.parent / "audience.csv"
    rng = random.Random(42)
    with audience.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["email", "first_name"])
        for i in range(recipients):
            writer.writerow([f"user{i}@example.org", rng.choice(["Ann", "Bob", "Chloé", "Ömer"])])
    run_lettr(home, "config", "set", "plan.tier", "enterprise")
    run_lettr(home, "config", "set", "smtp.security", "none")
    run_lettr(home, "config", "set", "smtp.host", "127.0.0.1")
    run_lettr(home, "property", "create", "first_name", "--fallback", "there")
    run_lettr(home, "list", "create", "Customers")
    run_lettr(home, "contact", "import", str(audience), "--list", "Customers")
    run_lettr(home, "domain", "add", "example.com", "--no-dkim")
    records = json.loads(run_lettr(home, "domain", "records", "example.com", "--json"))
    with DnsResponder() as dns:  # as tests/conftest.py's verified_domain does
        for record in records:
            dns.publish(record["name"], record["value"])
        run_lettr(home, "domain", "verify", "example.com", "--nameserver", dns.nameserver)
    page = home.parent / "campaign.html"
    page.write_text(TEMPLATES[template], encoding="utf-8")
    created = json.loads(
        run_lettr(
            home,
            "campaign",
            "create",
            "Autumn news",
            "--subject",
            "News for {{ first_name }}",
            "--from-email",
            "news@example.com",
            "--html",
            str(page),
            "--json",
        )
    )
    campaign = str(created["id"])
    run_lettr(home, "campaign", "audience", campaign, "--list", "Customers")
    return campaign


def prepare_and_sign(db: str, campaign_id: str, folder: str, steps: int, lines: int) -> None:
    """(child) Start the campaign as `campaign send` does (its relay check answered by an
    aiosmtpd on loopback), prepare its outbox, and write one request file per step."""
    from aiosmtpd.controller import Controller

    from lettr_cli.campaigns.rendering import composer_for
    from lettr_cli.content.compose import Links
    from lettr_cli.delivery import outbox
    from lettr_cli.delivery.control import start_send
    from lettr_cli.delivery.preparing import prepare_campaign
    from lettr_cli.signing import keys
    from lettr_cli.signing.tokens import Purpose
    from lettr_cli.store.tables import Campaign
    from lettr_cli.workspace import Workspace

    home = Path(os.environ["LETTR_HOME"])

    class Accept:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 OK"

    relay = Controller(Accept(), hostname="127.0.0.1", port=free_port())
    relay.start()
    try:
        run_lettr(home, "config", "set", "smtp.port", str(relay.port))
        ws = Workspace.open(Path(db), home=home, environ=dict(os.environ))
        handle = asyncio.run(start_send(ws, campaign_id, detach=False)).handle
    finally:
        relay.stop()
    assert handle is not None
    with ws.store.connect("IMMEDIATE") as conn, conn.begin():
        status, _ = prepare_campaign(ws, conn, handle)
    with ws.store.write() as session:  # the store's first key is made on first use
        signer = keys.signer(session)
    with ws.store.read() as session:
        ids = [
            int(i)
            for i in session.connection()
            .execute(
                outbox.outbox.select()
                .with_only_columns(outbox.outbox.c.id)
                .where(outbox.outbox.c.campaign_id == campaign_id)
            )
            .scalars()
        ]
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        composer = composer_for(session, campaign, ws.settings())
    sample = composer.render(
        "a@example.org", {}, Links(base_url="http://x", token_for=lambda p: "t")
    )
    links = len(sample.links)
    rng = random.Random(7)
    pool = ids[:]
    rng.shuffle(pool)  # each unsubscribe names a row no other request unsubscribes
    kinds = [kind for kind, share in MIX for _ in range(share)]
    for step in range(steps):
        with open(Path(folder) / f"requests-{step}.txt", "w", encoding="ascii") as out:
            for _ in range(lines):
                kind = rng.choice(kinds)
                if kind == "o":
                    out.write(f"o /o/{signer.for_row(Purpose.OPEN, rng.choice(ids))}.gif\n")
                elif kind == "c":
                    token = signer.for_row(Purpose.CLICK, rng.choice(ids))
                    out.write(f"c /c/{token}/{rng.randint(1, links)}\n")
                else:
                    out.write(f"u /u/{signer.for_row(Purpose.UNSUBSCRIBE, pool.pop())}\n")
    ws.close()
    json.dump({"status": status, "rows": len(ids), "links": links}, sys.stdout)
