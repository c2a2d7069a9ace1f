"""`smtp.security tls` and `starttls`: a real send over TLS to an aiosmtpd relay whose certificate
a local CA (trustme) signed. lettr verifies the relay's certificate with OpenSSL's default trust
store, so `lettr campaign send` runs in a fresh process with SSL_CERT_FILE naming the CA; without
it the same relay is refused (`transmission_failed`), which shows the certificate is checked."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.conftest import run_process
from tests.sending_helpers import make_campaign
from tests.smtp_relay import Relay

EMAILS = [f"reader{n}@example.org" for n in range(5)]


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_bundle(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "local-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(params=["tls", "starttls"])
def tls_relay(request: pytest.FixtureRequest, ca: trustme.CA) -> Iterator[tuple[str, Relay]]:
    """A relay on loopback with a certificate for 127.0.0.1 signed by ``ca``: implicit TLS
    (``tls``) or STARTTLS required before MAIL (``starttls``)."""
    security = request.param
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    relay = Relay(tls=context) if security == "tls" else Relay(starttls=context)
    with relay:
        yield security, relay


def _send(campaign: str, env: dict[str, str]) -> Any:
    return run_process(["campaign", "send", campaign, "--yes", "--json"], env=env)


def test_a_send_over_tls_and_starttls_reaches_the_relay(
    lettr: Any,
    verified_domain: Any,
    tls_relay: tuple[str, Relay],
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
    assert relay.messages == []

    trusted = _send(campaign, {"SSL_CERT_FILE": str(ca_bundle)})
    assert trusted.returncode == 0, trusted.stderr
    body = json.loads(trusted.stdout)
    assert body["status"] == "sent"
    assert body["outbox"]["sent"] == len(EMAILS)
    assert body["stats"]["deliveries"] == len(EMAILS)
    messages = relay.arrived()
    assert sorted(rcpt for _, rcpts, _ in messages for rcpt in rcpts) == sorted(EMAILS)
    assert all(message["Subject"] == "Hello there" for _, _, message in messages)
    assert len(relay.tls_versions) == len(EMAILS)
    assert all(version and version.startswith("TLS") for version in relay.tls_versions)
