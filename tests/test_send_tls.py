"""`smtp.security tls` and `starttls`: a real send over TLS to an aiosmtpd relay whose certificate
a local CA (trustme) signed. lettr verifies the relay's certificate with OpenSSL's default trust
store, so `lettr campaign send` runs in a fresh process with SSL_CERT_FILE naming the CA; without
it the same relay is refused (`transmission_failed`), which shows the certificate is checked."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller

from tests.conftest import run_process
from tests.sending_helpers import arrived, make_campaign

EMAILS = [f"reader{n}@example.org" for n in range(5)]


class TlsRecordingHandler:
    """Keeps each message with the TLS version its connection used (None: plain text)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.tls_versions: list[str | None] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        ssl_object = server.transport.get_extra_info("ssl_object")
        self.tls_versions.append(None if ssl_object is None else ssl_object.version())
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 2.0.0 Message accepted"


@dataclass
class TlsRelay:
    host: str
    port: int
    handler: TlsRecordingHandler


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_bundle(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "local-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["tls", "starttls"])
def tls_relay(request: pytest.FixtureRequest, ca: trustme.CA) -> Iterator[tuple[str, TlsRelay]]:
    """An aiosmtpd relay on loopback with a certificate for 127.0.0.1 signed by ``ca``:
    implicit TLS (``tls``) or STARTTLS required before MAIL (``starttls``)."""
    security = request.param
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    handler = TlsRecordingHandler()
    port = _free_port()
    if security == "tls":
        controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=context)
    else:
        controller = Controller(
            handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
        )
    controller.start()
    try:
        yield security, TlsRelay("127.0.0.1", port, handler)
    finally:
        controller.stop()


def _send(campaign: str, env: dict[str, str]) -> Any:
    return run_process(["campaign", "send", campaign, "--yes", "--json"], env=env)


def test_a_send_over_tls_and_starttls_reaches_the_relay(
    lettr: Any,
    verified_domain: Any,
    tls_relay: tuple[str, TlsRelay],
    ca_bundle: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    security, relay = tls_relay
    verified_domain()
    lettr("config", "set", "smtp.host", relay.host)
    lettr("config", "set", "smtp.port", str(relay.port))
    assert lettr("config", "set", "smtp.security", security).exit_code == 0
    campaign = make_campaign(lettr, tmp_path, EMAILS)
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)  # run_process copies os.environ: only the CA

    untrusted = _send(campaign, {})
    assert untrusted.returncode == 1, untrusted.stderr
    refusal = json.loads(untrusted.stderr)
    assert refusal["error_code"] == "transmission_failed"
    assert "CERTIFICATE_VERIFY_FAILED" in refusal["message"]
    assert relay.handler.messages == []

    trusted = _send(campaign, {"SSL_CERT_FILE": str(ca_bundle)})
    assert trusted.returncode == 0, trusted.stderr
    body = json.loads(trusted.stdout)
    assert body["status"] == "sent"
    assert body["outbox"]["sent"] == len(EMAILS)
    assert body["stats"]["deliveries"] == len(EMAILS)
    messages = arrived(relay)
    assert sorted(rcpt for _, rcpts, _ in messages for rcpt in rcpts) == sorted(EMAILS)
    assert all(message["Subject"] == "Hello there" for _, _, message in messages)
    assert len(relay.handler.tls_versions) == len(EMAILS)
    assert all(version and version.startswith("TLS") for version in relay.handler.tls_versions)
