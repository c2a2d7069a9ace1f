"""`lettr demo` and the data it ships with: a real send of a real campaign to the sink."""

from __future__ import annotations

import asyncio
import csv
import email
import io
import re
import stat
from collections import Counter
from email import policy
from pathlib import Path

import dkim
import pytest

from lettr_cli.audience.contacts import ContactFilter, list_contacts
from lettr_cli.audience.properties import all_properties
from lettr_cli.delivery.observer import Quiet
from lettr_cli.demo import sample_audience_text, template_html
from lettr_cli.demo.audience import audience_rows, sample_recipients
from lettr_cli.demo.build import DOMAIN, build_demo, open_store
from lettr_cli.demo.send import outcome, send_campaign
from lettr_cli.domains.service import find_domain
from lettr_cli.errors import ValidationError
from lettr_cli.sink import running_sink
from tests.conftest import REPO, run_process

SAMPLE_SUBSCRIBED = 302


def sample_rows() -> list[dict[str, str]]:
    with (REPO / "sample_audience.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def subscribed_sample() -> list[str]:
    return [row["email"] for row in sample_rows() if row["status"] == "subscribed"]


def delivered_to(folder: Path) -> Counter[str]:
    """How many files in the Maildir each recipient has."""
    found: Counter[str] = Counter()
    for path in (folder / "new").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        found[str(message["Delivered-To"])] += 1
    return found


# -- the bundled data ----------------------------------------------------------------------------


def test_the_bundled_audience_is_the_sample_audience() -> None:
    assert sample_audience_text() == (REPO / "sample_audience.csv").read_text(encoding="utf-8")


def test_sample_audience_is_realistic() -> None:
    rows = sample_rows()
    assert len(rows) >= 300
    for column in (
        "email",
        "first_name",
        "last_name",
        "city",
        "country",
        "plan",
        "signup_date",
        "timezone",
        "status",
    ):
        assert all(row[column] for row in rows), column
    statuses = {row["status"] for row in rows}
    assert {"subscribed", "unsubscribed", "bounced"} <= statuses
    assert len({row["email"].casefold() for row in rows}) == len(rows)
    assert all(
        row["email"].split("@")[1] in {"example.com", "example.org", "example.net"} for row in rows
    )
    assert sample_recipients() == len(subscribed_sample()) == SAMPLE_SUBSCRIBED


def test_the_bundled_template_uses_merge_tags_and_a_tracked_link() -> None:
    html = template_html()
    assert "{{ first_name }}" in html and "{{ webversion_link }}" in html
    assert 'href="https://example.com/' in html


@pytest.mark.parametrize("wanted", [1, 5, SAMPLE_SUBSCRIBED, 303, 600, 10_000])
def test_the_demo_audience_has_exactly_the_recipients_asked_for(wanted: int) -> None:
    rows = audience_rows(wanted)
    parsed = list(csv.DictReader(io.StringIO(rows.text)))
    assert sum(row["status"] == "subscribed" for row in parsed) == wanted == rows.recipients
    assert rows.generated == max(0, wanted - SAMPLE_SUBSCRIBED)
    generated = [row for row in parsed if row["email"].startswith("demo-")]
    assert len(generated) == rows.generated
    if generated:
        assert generated[0]["email"] == "demo-0001@example.org"
        assert all(row["first_name"] and row["plan"] for row in generated)
    assert audience_rows(wanted) == rows  # deterministic
    assert list(parsed[0]) == rows.columns


def test_the_default_demo_audience_is_the_whole_sample() -> None:
    rows = audience_rows()
    assert rows.text == sample_audience_text()
    assert rows.recipients == SAMPLE_SUBSCRIBED and rows.generated == 0


@pytest.mark.parametrize("wanted", [0, -1, 100_001])
def test_the_demo_audience_refuses_silly_sizes(wanted: int) -> None:
    with pytest.raises(ValidationError):
        audience_rows(wanted)


# -- the demo, in process ------------------------------------------------------------------------


def test_the_demo_builds_through_the_services_and_sends_signed_mail(tmp_path: Path) -> None:
    steps: list[str] = []
    with running_sink(tmp_path / "mail") as sink:
        workspace = open_store(tmp_path / "store")
        try:
            setup = build_demo(
                workspace,
                relay_host=sink.host,
                relay_port=sink.port,
                recipients=20,
                step=steps.append,
            )
            assert setup.audience.imported["invalid"] == 0
            assert setup.audience.segment_count > 0
            assert find_domain(workspace, DOMAIN).status == "verified"
            public_key = find_domain(workspace, DOMAIN).records[0].value
            asyncio.run(_send(workspace, setup.campaign_id))
            body = outcome(workspace, setup.campaign_id)
            with workspace.store.read() as session:
                contacts, _ = list_contacts(
                    session, ContactFilter(list_name="Sample audience"), None
                )
                kinds = {name: p.type for name, p in all_properties(session).items()}
        finally:
            workspace.close()
    assert any("verified them there" in step for step in steps)
    assert kinds["signup_date"] == "date" and kinds["first_name"] == "string"
    assert Counter(c.status for c in contacts)["subscribed"] == 20
    assert body["status"] == "sent" and body["template"]["name"] == "What is new"
    assert body["outbox"]["sent"] == body["total_recipients"] == 20
    assert body["stats"]["deliveries"] == 20
    assert delivered_to(tmp_path / "mail") == Counter(subscribed_sample()[:20])
    # Every message is DKIM-signed by the key whose record the responder served.
    record = f"{public_key}".encode()
    for path in (tmp_path / "mail" / "new").iterdir():
        data = path.read_bytes().replace(b"\n", b"\r\n")
        assert b"d=example.com" in data and b"Hello " in data
        assert dkim.verify(data, dnsfunc=lambda name, timeout=5: record)


async def _send(workspace, campaign_id: str) -> None:
    result = await send_campaign(workspace, campaign_id, observer=Quiet(), stop=asyncio.Event())
    assert result.status == "sent"


# -- `lettr demo` as a user runs it --------------------------------------------------------------


def maildir_named(stdout: str) -> Path:
    found = re.search(r"Messages: (\d+) kept in the Maildir (.+) \(not removed\)", stdout)
    assert found, stdout
    return Path(found.group(2))


@pytest.mark.slow
def test_lettr_demo_sends_to_every_recipient_once_and_says_where_the_mail_is(
    tmp_path: Path, isolated_home: Path
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = run_process(["demo"], env={"TMPDIR": str(scratch)}, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"sent; {SAMPLE_SUBSCRIBED} sent, 0 failed, 0 bounced" in out
    assert f"of {SAMPLE_SUBSCRIBED} recipients" in out
    assert f"{SAMPLE_SUBSCRIBED} injections, {SAMPLE_SUBSCRIBED} deliveries" in out
    # The line after the send has no engagement yet: opens and clicks are in the report only.
    [stats] = [line for line in out.splitlines() if line.startswith("Stats: ")]
    assert not re.search(r"opens|clicks|unsubscribes", stats), stats
    folder = maildir_named(out)
    assert folder.parent == scratch and folder.name.startswith("lettr-demo-mail-")
    assert delivered_to(folder) == Counter(subscribed_sample())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # Progress and steps are on stderr; the verify step went through the loopback DNS.
    assert "verified them there" in result.stderr
    assert "signup_date (date)" in result.stderr
    assert "lettr demo: sent" in result.stderr
    # Then a third of the recipients open it and a fifteenth click, by real HTTP requests to
    # the tracking server after the machine-open window: the report counts people, not machines.
    opened = -(-SAMPLE_SUBSCRIBED // 3)
    clicked = -(-SAMPLE_SUBSCRIBED // 15)
    assert f"{opened} opened, {clicked} clicked, through http://127.0.0.1:" in result.stderr
    report = out.split("Demo store: ")[0]
    for counter, value in (("opens", opened), ("unique_opens", opened), ("clicks", clicked)):
        assert re.search(rf"^{counter}\s+{value}\s*$", report, re.M), counter
    assert "Machine opens (proxies and scanners, not in opens): 0" in report
    assert "Open rate" in report and "x: time from" in report
    # The user's own store is not touched, and the temporary one is gone; the mail stays.
    assert not (isolated_home / "lettr.db").exists()
    demo_db = Path(out.split("Demo store: ")[1].split(" ")[0])
    assert demo_db.parent.parent == scratch and not demo_db.parent.exists()
    assert [p.name for p in scratch.iterdir()] == [folder.name]


@pytest.mark.slow
def test_lettr_demo_goes_beyond_the_free_tier_and_ignores_the_users_settings(
    tmp_path: Path, isolated_home: Path
) -> None:
    isolated_home.mkdir(parents=True)
    (isolated_home / "PAUSE").write_text("")  # the user's brake is not the demo's
    env = {
        "LETTR_PLAN_TIER": "free",
        "LETTR_SMTP_HOST": "relay.example.net",
        "LETTR_SENDING_PAUSED": "true",
        "LETTR_DB": str(tmp_path / "mine.db"),
    }
    folder = tmp_path / "mail"
    result = run_process(["demo", "--recipients", "600", "--maildir", str(folder)], env=env)
    assert result.returncode == 0, result.stderr
    assert "sent; 600 sent, 0 failed" in result.stdout
    assert maildir_named(result.stdout) == folder
    expected = subscribed_sample() + [f"demo-{n:04d}@example.org" for n in range(1, 299)]
    assert delivered_to(folder) == Counter(expected)
    assert "298 generated" in result.stderr
    assert not (tmp_path / "mine.db").exists()
