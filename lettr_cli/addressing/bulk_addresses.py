"""Checking many addresses at once (imports): the same verdicts as ``check_address``, faster.

email-validator costs tens of microseconds an address, most of it spent on the domain, and the
domains of an audience repeat. So once email-validator has accepted an address, its domain is
remembered; a later address on the same domain whose local part is plain ASCII (letters, digits,
``. _ + -`` in dot-atom form) is then accepted without calling it again. Everything else (a new
domain, international characters, quotes, anything unusual) goes to email-validator. A property
test holds this to giving exactly what ``check_address`` gives, address by address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lettr_cli.addressing.addresses import (
    MAX_LENGTH,
    Address,
    InvalidAddress,
    check_address,
    email_key,
)

# RFC 5321 via email-validator: at most 254 octets, in each form of the address it checks.
_MAX_OCTETS = 254
MAX_REMEMBERED = 100_000  # domains; then the memory starts again (a few MB at most)
_COMMON = re.compile(r"([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)@([A-Za-z0-9.-]+)")


@dataclass(frozen=True)
class _Domain:
    at_normalized: str  # "@" and the domain as email-validator normalises it (lower case, Unicode)
    tail: int  # 1 (the "@") + the longest of its forms (given, normalised, IDNA ASCII) in UTF-8


class AddressChecker:
    """``check`` is ``check_address`` with a memory of the domains email-validator accepted."""

    def __init__(self, remember: int = MAX_REMEMBERED) -> None:
        self._domains: dict[str, _Domain] = {}
        self._remember = remember

    @property
    def remembered(self) -> frozenset[str]:
        """The domains (as written) that later plain addresses are accepted on without a call."""
        return frozenset(self._domains)

    def check(self, raw: str) -> Address:
        """Validate one address; raises ``InvalidAddress`` with the reason."""
        email, key = self.email_and_key(raw)
        return Address(email=email, key=key)

    def email_and_key(self, raw: str) -> tuple[str, str]:
        """``check`` as a plain pair (the address as given, trimmed; its identity)."""
        email = raw.strip()
        common = _COMMON.fullmatch(email)
        if common is not None:
            local, domain = common.groups()
            known = self._domains.get(domain)
            if known is not None and len(local) + known.tail <= _MAX_OCTETS:
                return email, (local + known.at_normalized).casefold()
        if not email or len(email) > MAX_LENGTH:
            address = check_address(raw)  # refuses these, with its own message
            return address.email, address.key
        from email_validator import EmailNotValidError, validate_email

        try:
            valid = validate_email(email, check_deliverability=False)
        except EmailNotValidError as exc:
            raise InvalidAddress(str(exc)) from None
        if common is not None:
            if len(self._domains) >= self._remember:
                self._domains.clear()  # the domains that matter come back at once
            domain = common.group(2)
            octets = max(len(part.encode()) for part in (domain, valid.domain, valid.ascii_domain))
            self._domains[domain] = _Domain(at_normalized="@" + valid.domain, tail=1 + octets)
        return email, email_key(valid.normalized)
