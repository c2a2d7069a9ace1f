"""The store's tracking secrets: made on first use, rotated by adding a key."""

from __future__ import annotations

import secrets

from sqlalchemy import func
from sqlmodel import Session, select

from lettr_cli.signing.tokens import Signer
from lettr_cli.store.tables import TrackingKey


def signer(session: Session) -> Signer:
    """A signer over every key in the store, making the first key if there is none.

    Call it inside a write session the first time (it may insert the key).
    """
    keys = {row.kid: bytes.fromhex(row.secret) for row in session.exec(select(TrackingKey))}
    if not keys:
        rotate(session)
        return signer(session)
    return Signer(keys)


def rotate(session: Session) -> int:
    """Add a new key; new tokens use it, old tokens keep verifying. Returns its key id."""
    newest = session.exec(select(func.max(TrackingKey.kid))).one()
    kid = int(newest or 0) + 1
    session.add(TrackingKey(kid=kid, secret=secrets.token_hex(32)))
    session.flush()
    return kid
