"""Tracking tokens: signed, purpose-bound, short, and still valid after a key rotation."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lettr_cli.signing import keys
from lettr_cli.signing.tokens import Purpose, Signer, Token
from lettr_cli.workspace import Workspace


@given(row=st.integers(min_value=0, max_value=2**63), purpose=st.sampled_from(
    [Purpose.OPEN, Purpose.CLICK, Purpose.UNSUBSCRIBE, Purpose.VIEW]))  # fmt: skip
def test_row_tokens_verify_to_their_row_and_purpose(row: int, purpose: Purpose) -> None:
    signer = Signer({1: b"k" * 32})
    token = signer.for_row(purpose, row)
    assert len(token) <= 40
    found = signer.verify(token)
    assert found is not None and found.purpose is purpose and found.row_id == row


def test_altered_or_forged_tokens_do_not_verify() -> None:
    signer = Signer({1: b"k" * 32})
    token = signer.for_row(Purpose.UNSUBSCRIBE, 42)
    purpose, rest = token[0], token[1:]
    head, ident, signature = rest.split(".")
    assert signer.verify(token) == Token(Purpose.UNSUBSCRIBE, "16")
    assert signer.verify(f"o{head}.{ident}.{signature}") is None  # another purpose
    assert signer.verify(f"{purpose}{head}.17.{signature}") is None  # another row
    assert signer.verify(f"{purpose}9.{ident}.{signature}") is None  # unknown key id
    assert signer.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert signer.verify(Signer({1: b"x" * 32}).for_row(Purpose.UNSUBSCRIBE, 42)) is None
    for junk in (
        "",
        "u1",
        "u1..",
        "../../etc/passwd",
        "u1.16." + "A" * 100,
        "Z1.16.AAAAAAAAAAAAAAAA",
    ):
        assert signer.verify(junk) is None


def test_a_token_with_anything_before_or_after_it_does_not_verify() -> None:
    signer = Signer({1: b"k" * 32})
    token = signer.for_row(Purpose.UNSUBSCRIBE, 42)
    assert signer.verify(token) is not None
    for tail in ("\n", "\r\n", "\n\n", " ", "\x00", "x", ".gif"):
        assert signer.verify(token + tail) is None, repr(tail)
        assert signer.verify(tail + token) is None, repr(tail)


def test_test_tokens_name_a_campaign_and_no_row() -> None:
    signer = Signer({1: b"k" * 32})
    found = signer.verify(signer.for_test("3b37f176-61a0-4c12-b253-8f77784831c7"))
    assert found == Token(Purpose.TEST, "3b37f17661a04c12b2538f77784831c7")
    with pytest.raises(ValueError):
        _ = found.row_id


def test_keys_are_made_once_and_rotation_keeps_old_tokens(isolated_home: Path) -> None:
    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    with ws.store.write() as session:
        first = keys.signer(session)
        old_token = first.for_row(Purpose.OPEN, 7)
    with ws.store.write() as session:
        assert keys.signer(session).keys == first.keys  # not made again
        assert keys.rotate(session) == 2
    with ws.store.read() as session:
        rotated = keys.signer(session)
    assert rotated.current == 2
    assert rotated.verify(old_token) == Token(Purpose.OPEN, "7")
    assert rotated.for_row(Purpose.OPEN, 7).startswith("o2.")
    ws.close()
