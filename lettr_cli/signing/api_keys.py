"""Keys of the HTTP API: made once (``lttr_`` + 64 hex), stored only as a SHA-256, each with a
name and scopes; looked up on every request, so a key made or revoked while the server runs
counts at once."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlmodel import Session, col, select

from lettr_cli.errors import NotFound, ResourceAlreadyExists, ValidationError
from lettr_cli.store.tables import ApiKey
from lettr_cli.store.types import utcnow

# Lettr's scopes: reading and changing campaigns, the audience and sending domains.
SCOPES: Final[tuple[str, ...]] = (
    "campaigns:read",
    "campaigns:write",
    "audience:read",
    "audience:write",
    "domains:read",
    "domains:write",
)
PREFIX: Final[str] = "lttr_"
_NAME_LIMIT = 100


@dataclass(frozen=True)
class NewKey:
    row: ApiKey
    key: str  # shown once, never stored


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_scopes(raw: Sequence[str]) -> list[str]:
    """The scopes named (comma-separated items allowed), in SCOPES order; unknown ones refused."""
    named = {item.strip() for text in raw for item in text.split(",") if item.strip()}
    unknown = sorted(named - set(SCOPES))
    if unknown:
        raise ValidationError.field(
            "scopes", f"unknown scope {', '.join(unknown)}; use {', '.join(SCOPES)}"
        )
    if not named:
        raise ValidationError.field("scopes", f"give at least one of {', '.join(SCOPES)}")
    return [scope for scope in SCOPES if scope in named]


def _check_name(name: str) -> str:
    text = name.strip()
    if not text or len(text) > _NAME_LIMIT or not text.isprintable():
        raise ValidationError.field(
            "name", f"an API key's name is 1 to {_NAME_LIMIT} printable characters"
        )
    return text


def active(session: Session) -> list[ApiKey]:
    query = select(ApiKey).where(col(ApiKey.revoked_at).is_(None))
    return list(session.exec(query.order_by(col(ApiKey.created_at), col(ApiKey.name))))


def all_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.name))))


def create_key(session: Session, name: str, scopes: Sequence[str]) -> NewKey:
    """A new key; its name is unique among the keys not revoked."""
    text = _check_name(name)
    chosen = check_scopes(scopes)
    if any(row.name == text for row in active(session)):
        raise ResourceAlreadyExists(f"An API key named '{text}' already exists.")
    key = PREFIX + secrets.token_hex(32)
    row = ApiKey(name=text, key_hash=key_hash(key), scopes=",".join(chosen))
    session.add(row)
    session.flush()
    return NewKey(row, key)


def revoke_key(session: Session, ref: str) -> ApiKey:
    """Revoke the key not yet revoked with this id or name; it stops working at once."""
    found = [row for row in active(session) if ref in (row.id, row.name)]
    if not found:
        raise NotFound(f"No API key '{ref}' (not revoked) was found.")
    row = found[0]
    row.revoked_at = utcnow()
    session.add(row)
    session.flush()
    return row


def authenticate(session: Session, presented: str) -> ApiKey | None:
    """The live key ``presented`` is, or None."""
    if not presented.startswith(PREFIX):
        return None
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == key_hash(presented))).first()
    if row is None or row.revoked_at is not None:
        return None
    return row


def scopes_of(row: ApiKey) -> list[str]:
    return [scope for scope in row.scopes.split(",") if scope]


def key_json(row: ApiKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "scopes": scopes_of(row),
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }
