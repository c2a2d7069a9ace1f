"""Internationalised addresses (RFC 6531) and the SMTP timeouts (DESIGN "Sending engine").

A relay that offers SMTPUTF8 gets the message with the ``SMTPUTF8`` MAIL parameter; one that
does not makes the row `failed` at once with the reason, never `in_doubt`, never an injection.
No wait on the relay outlives `smtp.timeout` (`smtp.data_timeout` for the final dot): a server
that stops answering ends the send instead of hanging it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from tests.send_cases import (
    LIVENESS,
    audience_campaign,
    finish,
    outbox_states,
    spawn,
    stop,
)
from tests.sending_helpers import outbox_rows
from tests.smtp_relay import Relay

UTF8 = "andré@example.com"
PLAIN = ["reader1@example.org", "reader2@example.org"]


@contextmanager
def relay_with(lettr: Any, **options: Any) -> Iterator[Relay]:
    """Another relay, ``Relay(**options)``, that lettr sends to while it runs."""
    with Relay(**options) as relay:
        lettr("config", "set", "smtp.port", str(relay.port))
        yield relay


def send(home: Path, ref: str) -> Any:
    """`campaign send` in a process of its own, so that a hang fails the test (after a
    generous bound) instead of stopping the suite; returns the campaign's JSON."""
    process = spawn(home, "campaign", "send", ref, "--yes", "--json")
    try:
        code, stdout, stderr = finish(process, timeout=LIVENESS)
    finally:
        stop(process)
    assert code == 0, stderr
    return json.loads(stdout)


@pytest.mark.parametrize("concurrency", ["1", "4"])
def test_a_relay_with_smtputf8_gets_the_internationalised_address(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path, concurrency: str
) -> None:
    ref = audience_campaign(lettr, tmp_path, [*PLAIN, UTF8])
    with relay_with(lettr, smtputf8=True) as offering:
        lettr("config", "set", "sending.concurrency", concurrency)

        body = send(isolated_home, ref)

    assert body["status"] == "sent"
    assert body["outbox"]["sent"] == 3 and body["outbox"]["in_doubt"] == 0
    assert offering.delivered_to() == sorted([*PLAIN, UTF8])
    by_recipient = {
        rcpts[0]: options
        for (_, rcpts, _), options in zip(offering.messages, offering.envelopes, strict=True)
    }
    assert by_recipient[UTF8] == (["SMTPUTF8"], True)
    # The header names the address as UTF-8 (RFC 6532), never as an encoded word.
    data = next(data for _, rcpts, data in offering.messages if rcpts == [UTF8])
    assert f"\r\nTo: {UTF8}\r\n".encode() in data
    assert message_from_bytes(data, policy=policy.default)["To"] == UTF8
    # Plain addresses go out as before, without the parameter.
    assert all(by_recipient[address] == ([], False) for address in PLAIN)


def test_a_relay_without_smtputf8_fails_the_row_at_once(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    ref = audience_campaign(lettr, tmp_path, [*PLAIN, UTF8])
    lettr("config", "set", "sending.max_attempts", "5")
    lettr("config", "set", "sending.retry_base_seconds", "3600")
    assert not relay.smtputf8

    body = send(isolated_home, ref)

    assert body["status"] == "sent"
    assert relay.delivered_to() == sorted(PLAIN)
    status, reply = outbox_rows(isolated_home, ref)[UTF8]
    assert status == "failed"
    assert reply is not None and "SMTPUTF8" in reply
    assert body["outbox"]["in_doubt"] == 0 and body["outbox"]["failed"] == 1
    # Nothing reached the relay for it: no injection, no bounce.
    assert body["stats"]["injections"] == len(PLAIN)
    assert body["stats"]["bounces"] == 0


@pytest.fixture
def stalled_send(
    lettr: Any, relay: Relay, tmp_path: Path, isolated_home: Path, request: Any
) -> tuple[str, str]:
    stage, address = request.param
    ref = audience_campaign(lettr, tmp_path, [*PLAIN, "stuck@example.org"])
    lettr("config", "set", "smtp.timeout", "1")
    lettr("config", "set", "smtp.data_timeout", "2")
    lettr("config", "set", "sending.max_attempts", "1")
    lettr("config", "set", "sending.concurrency", "1")
    relay.stall(stage, address=address)  # stops answering there
    return ref, stage


@pytest.mark.parametrize(
    "stalled_send",
    [("rcpt", "stuck@example.org"), ("data", "stuck@example.org")],
    ids=["at-rcpt", "at-final-dot"],
    indirect=True,
)
def test_a_relay_that_stops_answering_never_hangs_the_send(
    stalled_send: tuple[str, str], isolated_home: Path
) -> None:
    ref, stage = stalled_send
    process = spawn(isolated_home, "campaign", "send", ref, "--yes", "--json")
    try:
        code, _, stderr = finish(process, timeout=LIVENESS)
    finally:
        stop(process)
    assert code == 0, stderr
    status, reply = outbox_rows(isolated_home, ref)["stuck@example.org"]
    # Before the 354 the row failed (its one attempt); after the final dot it is in doubt.
    assert status == ("failed" if stage == "rcpt" else "in_doubt"), reply
    assert outbox_states(isolated_home, ref)["sent"] == len(PLAIN)
