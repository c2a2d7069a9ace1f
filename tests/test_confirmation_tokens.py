"""Confirmation tokens (issue 19): signed like the tracking tokens, purpose ``confirm``, naming
a contact and an expiry; and cut in the tracking server's access log like the others."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from lettr_cli.signing.tokens import Purpose, Signer
from lettr_cli.tracking.access_log import shown_path

KEYS = {1: b"k" * 32, 2: b"j" * 32}


def test_a_confirmation_token_names_its_contact_and_expiry() -> None:
    contact = str(uuid.uuid4())
    expires = datetime(2026, 12, 12, 9, 30, 15, tzinfo=UTC)
    token = Signer(KEYS).for_confirmation(contact, expires)
    assert token.startswith("k2.")
    found = Signer(KEYS).verify(token)
    assert found is not None and found.purpose is Purpose.CONFIRM
    assert found.confirmation == (contact, expires)
    with pytest.raises(ValueError, match="names no outbox row"):
        _ = found.row_id
    # Far expiries still fit the token's ident.
    late = Signer(KEYS).for_confirmation(contact, datetime(2100, 1, 1, tzinfo=UTC))
    assert Signer(KEYS).verify(late) is not None


def test_other_tokens_name_no_confirmation() -> None:
    signer = Signer(KEYS)
    row = signer.verify(signer.for_row(Purpose.UNSUBSCRIBE, 42))
    assert row is not None and row.confirmation is None
    # A confirm token whose ident is too short to name a contact names nothing.
    short = signer.verify(signer.sign(Purpose.CONFIRM, "abc"))
    assert short is not None and short.confirmation is None


def test_the_access_log_cuts_confirmation_tokens() -> None:
    token = Signer(KEYS).for_confirmation(str(uuid.uuid4()), datetime(2030, 1, 1, tzinfo=UTC))
    assert shown_path(f"/confirm/{token}") == f"/confirm/{token[:8]}…"
