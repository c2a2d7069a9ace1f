"""Relay-level failures (DESIGN "Sending engine", the last line of the reply-class table): a
relay that refuses AUTH or the sender, is down, or throttles says nothing about the recipients.
`send` exits 1 with `transmission_failed` and the relay's reply; no row is failed or bounced, no
attempt is counted, no contact is touched; once the relay works again the campaign completes."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.send_cases import (
    audience_campaign,
    campaign_row,
    contact_states,
    error_of,
    outbox_count,
    outbox_states,
    query,
    soft_failures,
)
from tests.smtp_relay import Relay, free_port

EMAILS = [f"reader{n:02d}@example.org" for n in range(12)]


def _auth_refused(relay: Relay, lettr: Any) -> Iterator[dict[str, str]]:
    relay.auth = ("apikey", "s3cret")
    with relay:
        lettr("config", "set", "smtp.port", str(relay.port))
        lettr("config", "set", "smtp.username", "apikey")
        yield {"LETTR_SMTP_PASSWORD": "wrong-password"}
        # fixed: the right password
        yield {"LETTR_SMTP_PASSWORD": "s3cret"}


def _down(relay: Relay, lettr: Any) -> Iterator[dict[str, str]]:
    lettr("config", "set", "smtp.port", str(free_port()))
    yield {}
    with relay:
        lettr("config", "set", "smtp.port", str(relay.port))
        yield {}


def _busy_at_greeting(relay: Relay, lettr: Any) -> Iterator[dict[str, str]]:
    with Relay(greeting="421 4.7.0 try later") as refusing:
        lettr("config", "set", "smtp.port", str(refusing.port))
        yield {}
    with relay:
        lettr("config", "set", "smtp.port", str(relay.port))
        yield {}


# Each set-up is a generator: it yields the environment for a send while the relay is broken,
# then the environment once it is fixed, and cleans up when closed.
Broken = Callable[[Relay, Any], Generator[dict[str, str], None, None]]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize(
    ("broken", "reply"),
    [
        pytest.param(_auth_refused, "refused AUTH: 535", id="auth"),
        pytest.param(_down, "cannot connect", id="down"),
        pytest.param(_busy_at_greeting, "421 4.7.0 try later", id="421-at-greeting"),
    ],
)
def test_a_relay_refused_at_the_check_before_sending_leaves_a_draft(
    lettr,
    smtp_server,
    verified_domain,
    tmp_path: Path,
    isolated_home: Path,
    broken: Broken,
    reply: str,
) -> None:
    verified_domain()
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    contacts = contact_states(isolated_home)
    before = campaign_row(isolated_home, ref)
    handler = Relay()  # another relay than smtp_server, broken as ``broken`` says
    steps = broken(handler, lettr)
    try:
        env = next(steps)
        refused = lettr("campaign", "send", ref, "--yes", "--json", env=env)

        assert refused.exit_code == 1
        error = error_of(refused)
        assert error["error_code"] == "transmission_failed", error
        assert reply in error["message"]
        assert "wrong-password" not in refused.stderr
        assert campaign_row(isolated_home, ref) == before  # still a draft, nothing frozen
        assert outbox_count(isolated_home) == 0
        assert contact_states(isolated_home) == contacts
        assert handler.messages == [] and smtp_server.messages == []

        env = next(steps)
        sent = lettr("campaign", "send", ref, "--yes", "--json", env=env)

        assert sent.exit_code == 0, sent.stderr
        assert sent.json()["status"] == "sent"
        assert handler.delivered_to() == sorted(EMAILS)
    finally:
        steps.close()
    assert contact_states(isolated_home) == contacts


def _fails(stage: str, reply: str) -> Callable[[Relay], None]:
    def switch(handler: Relay) -> None:
        if stage == "mail":
            handler.mail_reply = reply
        elif stage == "rcpt":
            handler.rcpt_all = reply
        else:
            handler.data_all = reply

    return switch


MID_SEND = [
    pytest.param(0, "mail", "550 5.7.1 sender rejected", id="sender-refused"),
    pytest.param(4, "mail", "550 5.7.1 sender rejected", id="sender-refused-after-4"),
    pytest.param(4, "mail", "421 4.7.0 try later", id="421-to-mail-after-4"),
    pytest.param(4, "rcpt", "421 4.7.0 try later", id="421-to-rcpt-after-4"),
    pytest.param(4, "rcpt", "451 4.7.1 slow down", id="451-to-rcpt-after-4"),
    pytest.param(4, "rcpt", "454 4.7.0 temporary failure", id="454-to-rcpt-after-4"),
    pytest.param(4, "data", "451 4.7.1 try again later", id="451-to-data-after-4"),
]


@pytest.mark.parametrize(("after", "stage", "reply"), MID_SEND)
def test_a_relay_failing_mid_send_counts_nothing_against_anyone(
    lettr,
    relay: Relay,
    tmp_path: Path,
    isolated_home: Path,
    after: int,
    stage: str,
    reply: str,
) -> None:
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    contacts = contact_states(isolated_home)
    relay.after, relay.then = after, _fails(stage, reply)

    failed = lettr("campaign", "send", ref, "--yes", "--json")

    assert failed.exit_code == 1
    error = error_of(failed)
    assert error["error_code"] == "transmission_failed", error
    assert reply in error["message"]
    assert relay.then is None  # the relay did fail
    assert len(relay.messages) >= after
    body = failed.json()  # the campaign as it stands: it keeps its state
    assert body["status"] == "sending"
    _nothing_counted_against_anyone(isolated_home, ref, relay, contacts)
    assert body["stats"]["injections"] == len(relay.messages)

    # The daemon finds the relay still failing: exit 1, and still nothing counted.
    tick = lettr("daemon", "tick", "--json")
    assert tick.exit_code == 1
    error = error_of(tick)
    assert error["error_code"] == "transmission_failed", tick.stderr
    assert reply in error["message"]
    assert tick.json()["campaigns"][0]["status"] == "sending"
    plain = lettr("daemon", "tick")
    assert plain.exit_code == 1
    assert "Error [transmission_failed]: " in plain.stderr and reply in plain.stderr
    _nothing_counted_against_anyone(isolated_home, ref, relay, contacts)

    relay.heal()
    tick = lettr("daemon", "tick", "--json")

    assert tick.exit_code == 0, tick.stderr
    [run] = tick.json()["campaigns"]
    assert (run["status"], run["sent"], run["failed"], run["bounced"]) == ("sent", 12, 0, 0)
    received = relay.received()
    assert sorted(received) == sorted(EMAILS) and set(received.values()) == {1}
    assert outbox_states(isolated_home, ref) == {"sent": len(EMAILS)}
    shown = lettr("campaign", "show", ref, "--json").json()
    assert shown["stats"]["injections"] == shown["stats"]["deliveries"] == len(EMAILS)
    assert shown["stats"]["bounces"] == 0
    assert contact_states(isolated_home) == contacts
    assert soft_failures(isolated_home) == {}


def _nothing_counted_against_anyone(
    home: Path, ref: str, relay: Relay, contacts: dict[str, str]
) -> None:
    states = outbox_states(home, ref)
    assert set(states) <= {"sent", "queued"}, states
    assert states.get("sent", 0) == len(relay.messages)
    assert states.get("queued", 0) > 0
    # No attempt is counted for a relay failure.
    queued = query(
        home, "SELECT attempts FROM outbox WHERE campaign_id = ? AND status = 'queued'", ref
    )
    assert {attempts for (attempts,) in queued} == {0}
    assert campaign_row(home, ref)["status"] == "sending"
    assert contact_states(home) == contacts
    assert soft_failures(home) == {}
    bounces = query(home, "SELECT count(*) FROM events WHERE event_type = 'bounce'")
    assert bounces == [(0,)]
