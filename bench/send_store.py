"""The stores ``bench/send.py`` sends from, set up through the commands a user types: the
audience (``write_audience``), then properties, a list, ``contact import``, a verified
example.com and one campaign per message (``set_up_store``, a ``Store``). Also preparing timed
through the library on a copy of a store (``measure_preparing``, in a child process running
``prepare_on_copy``, ``send.py``'s ``_prepare`` role) and as read from the store between
``campaign send`` and ``campaign approve`` (``read_store_times``).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from send_measure import LETTR, SEND, lettr_env
from send_workloads import SUBJECT, Workload

FIRST = ["Ann", "Bob", "Chloé", "Dmitri", "Ömer", "Julia", "Kenji", "Sara", "Farid", "Nadia"]
LAST = ["Kim", "Jensen", "García", "Dubois", "Martín", "Andersen", "Fernández", "Okafor"]
CITIES = [
    ("Kraków", "PL"),
    ("Lyon", "FR"),
    ("Toronto", "CA"),
    ("Manchester", "GB"),
    ("Ciudad de México", "MX"),
]
PLANS = ["free", "starter", "pro", "business"]
PROPERTIES = ["first_name", "last_name", "city", "country", "plan"]


# -- the audience -----------------------------------------------------------------------------
def write_audience(path: Path, rows: int) -> None:
    """``rows`` contacts ``user{i}@example.org`` with names, cities and plans."""
    rng = random.Random(42)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["email", *PROPERTIES])
        for i in range(rows):
            city, country = rng.choice(CITIES)
            writer.writerow(
                [
                    f"user{i}@example.org",
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    city,
                    country,
                    rng.choice(PLANS),
                ]
            )


# -- a lettr store ----------------------------------------------------------------------------
@dataclass
class Store:
    label: str
    home: Path
    recipients: int
    campaigns: dict[str, str] = field(default_factory=dict)  # workload key -> campaign id
    env: dict[str, str] = field(default_factory=dict)
    prepare_seconds: float = 0.0  # through the library, on a copy (the 8 KB campaign)
    prepare_in_command: float | None = None  # from the store, between send and approve
    message_bytes: dict[str, int] = field(default_factory=dict)  # per workload
    longest_line: int = 0
    sends: int = 0  # copies sent from so far

    @property
    def campaign_id(self) -> str:
        """The 8 KB campaign: the one prepared, profiled and sent at 100,000."""
        return self.campaigns.get("medium") or next(iter(self.campaigns.values()))

    def sample(self, key: str) -> Path:
        return self.home.parent / f"{self.home.name}-{key}-message.eml"

    def lettr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*LETTR, *args], env=self.env, capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            raise SystemExit(f"lettr {' '.join(args)} failed:\n{done.stderr}")
        return done

    def json(self, *args: str) -> object:
        return json.loads(self.lettr(*args, "--json").stdout)


def set_up_store(
    label: str,
    folder: Path,
    audience: Path,
    recipients: int,
    *,
    dkim: bool,
    port: int,
    c: int | None,
    workloads: Sequence[Workload],
) -> Store:
    """A fresh store with the audience, a verified example.com and one campaign per workload
    ready to send. Settings beyond the relay's address are lettr's defaults, except
    ``plan.tier enterprise`` (no plan limit on 100,000 recipients), ``tracking.base_url`` (the
    links are tracked, as a user's are) and ``sending.concurrency`` when ``c`` is given."""
    from lettr_cli.domains.responder import DnsResponder

    home = folder / label.replace(" ", "-")
    store = Store(label, home, recipients, env=lettr_env(home))
    for key, value in {
        "smtp.host": "127.0.0.1",
        "smtp.port": str(port),
        "smtp.security": "none",
        "plan.tier": "enterprise",
        "tracking.base_url": "https://t.example.com",
        **({"sending.concurrency": str(c)} if c is not None else {}),
    }.items():
        store.lettr("config", "set", key, value)
    store.lettr("property", "create", "first_name", "--fallback", "there")
    for name in PROPERTIES[1:]:
        store.lettr("property", "create", name)
    store.lettr("list", "create", "Customers")
    summary = store.json("contact", "import", str(audience), "--list", "Customers")
    assert isinstance(summary, dict)
    if summary["created"] != recipients:
        raise SystemExit(f"the import created {summary['created']} contacts, not {recipients}")
    store.lettr("domain", "add", "example.com", *([] if dkim else ["--no-dkim"]))
    records = store.json("domain", "records", "example.com")
    assert isinstance(records, list)
    with DnsResponder() as dns:  # as tests/conftest.py's verified_domain does
        for record in records:
            dns.publish(record["name"], record["value"])
        store.lettr("domain", "verify", "example.com", "--nameserver", dns.nameserver)
    for workload in workloads:
        page = folder / f"campaign-{workload.key}.html"
        page.write_text(workload.html, encoding="utf-8")
        created = store.json(
            "campaign", "create", f"Autumn news ({workload.label})",
            "--subject", SUBJECT,
            "--from-email", "news@example.com",
            "--from-name", "Example News",
            "--preview-text", "Offers, a long read and events near you",
            "--html", str(page),
        )  # fmt: skip
        assert isinstance(created, dict)
        store.campaigns[workload.key] = campaign = str(created["id"])
        store.lettr("campaign", "audience", campaign, "--list", "Customers")
    return store


# -- preparing, timed on a copy ---------------------------------------------------------------
def measure_preparing(store: Store, folder: Path, key: str) -> None:
    """Time preparing ``key``'s campaign through the library on a copy of the store; keep one
    built message (``store.sample(key)``)."""
    copy = folder / f"{store.home.name}-prepare.db"
    store.lettr("store", "backup", str(copy), "--yes")
    env = lettr_env(folder / f"{store.home.name}-prepare-home")
    campaign = store.campaigns[key]
    done = subprocess.run(
        [sys.executable, str(SEND), "_prepare", str(copy), campaign, str(store.sample(key))],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"preparing on a copy failed:\n{done.stderr}")
    body = json.loads(done.stdout)
    if body["total"] != store.recipients:
        raise SystemExit(f"preparing resolved {body['total']} recipients: {body}")
    if campaign == store.campaign_id:
        store.prepare_seconds = body["seconds"]
        store.longest_line = body["longest_line"]
    store.message_bytes[key] = body["message_bytes"]
    copy.unlink()


def prepare_on_copy(db: str, campaign_id: str, sample: str) -> None:
    """(child) Start the campaign as `campaign send` does, time ``prepare_campaign`` in one
    write transaction, commit included; build the first row's message."""
    from lettr_cli.delivery import outbox
    from lettr_cli.delivery.control import start_send
    from lettr_cli.delivery.preparing import factory_spec, prepare_campaign
    from lettr_cli.workspace import Workspace

    home = Path(os.environ["LETTR_HOME"])
    ws = Workspace.open(Path(db), home=home, environ=dict(os.environ))
    handle = asyncio.run(start_send(ws, campaign_id, detach=False)).handle
    assert handle is not None
    started = time.perf_counter()
    with ws.store.connect("IMMEDIATE") as conn, conn.begin():
        status, _ = prepare_campaign(ws, conn, handle)
    seconds = time.perf_counter() - started
    with ws.store.connect() as conn, conn.begin():
        total = outbox.total(conn, campaign_id)
        row = conn.execute(
            outbox.outbox.select().where(outbox.outbox.c.campaign_id == campaign_id).limit(1)
        ).one()
        factory = factory_spec(ws, conn, campaign_id).factory()
        built = factory.build(row.id, row.email, row.merge_values)
    Path(sample).write_bytes(built.message)
    longest = max(len(line) for line in built.message.split(b"\r\n"))
    ws.close()
    json.dump(
        {
            "seconds": seconds,
            "status": status,
            "total": total,
            "message_bytes": len(built.message),
            "longest_line": longest,
        },
        sys.stdout,
    )


def read_store_times(db: Path, campaign: str) -> tuple[str, float | None]:
    """The campaign's status and, while its outbox is untouched since preparing, how long
    preparing took inside the command (outbox rows stamped as it began, the campaign as it
    ended)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(db)) as conn:
        status, ended = conn.execute(
            "SELECT status, updated_at FROM campaigns WHERE id = ?", (campaign,)
        ).fetchone()
        began, untouched = conn.execute(
            "SELECT min(updated_at), count(*) = sum(status = 'queued') FROM outbox "
            "WHERE campaign_id = ?",
            (campaign,),
        ).fetchone()
    if not untouched or began is None:
        return status, None
    seconds = (datetime.fromisoformat(ended) - datetime.fromisoformat(began)).total_seconds()
    return status, seconds
