"""Email addresses: checked with email-validator (syntax only, no DNS) and keyed by casefold."""

from __future__ import annotations

from dataclasses import dataclass

from lettr_cli.errors import ValidationError

MAX_LENGTH = 320


@dataclass(frozen=True)
class Address:
    email: str  # as given (trimmed): what is shown and stored
    key: str  # casefold of the normalised form: identity (CONTRACT "Naming and matching")


class InvalidAddress(ValueError):
    pass


def check_address(raw: str) -> Address:
    """Validate one address; raises ``InvalidAddress`` with the reason."""
    from email_validator import EmailNotValidError, validate_email

    email = raw.strip()
    if not email:
        raise InvalidAddress("the address is empty")
    if len(email) > MAX_LENGTH:
        raise InvalidAddress(f"the address is longer than {MAX_LENGTH} characters")
    try:
        valid = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    return Address(email=email, key=email_key(valid.normalized))


def parse_address(raw: str, field: str = "email") -> Address:
    """``check_address`` for one value given on the command line: refusals are validation errors."""
    try:
        return check_address(raw)
    except InvalidAddress as exc:
        raise ValidationError.field(
            field, f"invalid email address '{raw.strip()}': {exc}"
        ) from None


def email_key(email: str) -> str:
    """The identity of an already normalised address: ``str.casefold`` of it."""
    return email.strip().casefold()


def lookup_key(raw: str) -> str:
    """The key to look an address up by, as typed: normalised when it is a valid address, so
    that ``Ann@Bücher.example`` and ``ann@xn--bcher-kva.example`` find the same contact."""
    try:
        return check_address(raw).key
    except InvalidAddress:
        return email_key(raw)


def smtp_address(email: str) -> str:
    """The address as it goes to SMTP: ASCII (IDNA domain) where the local part allows it."""
    if email.isascii():
        return email  # stored addresses were checked on the way in; ASCII needs no conversion
    from email_validator import validate_email

    valid = validate_email(email, check_deliverability=False)
    return valid.ascii_email or valid.normalized
