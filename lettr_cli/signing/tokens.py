"""Signed tracking tokens (DESIGN "Tracking, feedback, analytics").

A token names one outbox row for one purpose, or (purpose ``test``) a campaign only, or
(purpose ``confirm``, double opt-in) a contact and the time the link expires, and is
signed with HMAC-SHA256 under a key id, so that rotating the secret keeps old links working:
``<purpose><kid>.<ident>.<signature>``, URL-safe and short (about 30 characters for a row).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

SIGNATURE_BYTES = 12  # 96 bits: forging one token takes 2**96 guesses
# Matched with fullmatch: ``$`` would also match before a trailing newline (``token%0A``).
_TOKEN = re.compile(r"([a-z])([0-9]{1,6})\.([0-9a-z]{1,40})\.([A-Za-z0-9_-]{16})")


class Purpose(StrEnum):
    OPEN = "o"
    CLICK = "c"
    UNSUBSCRIBE = "u"
    VIEW = "v"
    PREFERENCES = "p"  # the preference centre of the row's contact
    TEST = "t"  # previews and test sends: names a campaign, records nothing
    BOUNCE = "b"  # the envelope sender: a bounce finds its outbox row
    CONFIRM = "k"  # a double opt-in confirmation: names a contact and an expiry


@dataclass(frozen=True)
class Token:
    purpose: Purpose
    ident: str  # an outbox row id (base 36), a campaign id (32 hex) for TEST, or for CONFIRM
    # a contact id (32 hex) and the expiry (seconds since the epoch, base 36)

    @property
    def row_id(self) -> int:
        if self.purpose in (Purpose.TEST, Purpose.CONFIRM):
            raise ValueError(f"a {self.purpose.name.lower()} token names no outbox row")
        return int(self.ident, 36)

    @property
    def confirmation(self) -> tuple[str, datetime] | None:
        """A CONFIRM token's contact id and expiry; None for any other token."""
        if self.purpose is not Purpose.CONFIRM or len(self.ident) <= 32:
            return None
        contact, expiry = self.ident[:32], self.ident[32:]
        if not all(ch in "0123456789abcdef" for ch in contact):
            return None
        try:
            return str(uuid.UUID(hex=contact)), datetime.fromtimestamp(int(expiry, 36), UTC)
        except (ValueError, OverflowError, OSError):
            return None


def row_ident(row_id: int) -> str:
    if row_id < 0:
        raise ValueError("row ids are positive")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        row_id, rest = divmod(row_id, 36)
        text = digits[rest] + text
        if row_id == 0:
            return text


def campaign_ident(campaign_id: str) -> str:
    return campaign_id.replace("-", "").lower()


def confirmation_ident(contact_id: str, expires_at: datetime) -> str:
    """A contact id (32 hex) and an expiry to the second (base 36): 38 or 39 characters."""
    return campaign_ident(contact_id) + row_ident(int(expires_at.timestamp()))


class Signer:
    """Signs with the newest key; verifies with any key it holds."""

    def __init__(self, keys: Mapping[int, bytes]) -> None:
        if not keys:
            raise ValueError("a signer needs at least one key")
        self.keys = dict(keys)
        self.current = max(self.keys)

    def sign(self, purpose: Purpose, ident: str) -> str:
        head = f"{purpose.value}{self.current}.{ident}"
        return f"{head}.{self._mac(self.keys[self.current], head)}"

    def for_row(self, purpose: Purpose, row_id: int) -> str:
        return self.sign(purpose, row_ident(row_id))

    def for_test(self, campaign_id: str) -> str:
        return self.sign(Purpose.TEST, campaign_ident(campaign_id))

    def for_confirmation(self, contact_id: str, expires_at: datetime) -> str:
        return self.sign(Purpose.CONFIRM, confirmation_ident(contact_id, expires_at))

    def verify(self, token: str) -> Token | None:
        """The token's purpose and ident, or None if it is malformed, altered or forged."""
        found = _TOKEN.fullmatch(token)
        if found is None:
            return None
        letter, kid, ident, signature = found.groups()
        key = self.keys.get(int(kid))
        if key is None:
            return None
        expected = self._mac(key, f"{letter}{kid}.{ident}")
        if not hmac.compare_digest(expected, signature):
            return None
        try:
            return Token(Purpose(letter), ident)
        except ValueError:
            return None

    @staticmethod
    def _mac(key: bytes, text: str) -> str:
        digest = hmac.new(key, text.encode("ascii"), hashlib.sha256).digest()[:SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(digest).decode("ascii")
