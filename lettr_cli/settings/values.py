"""How a configuration value is read from text: numbers in ranges, booleans, choices, one-line
phrases, host names, domains, URLs, addresses and time zones. Each reader returns the value or
raises ``Invalid`` with the reason."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

Value = str | int | float | bool | None

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class Invalid(ValueError):
    """A raw value that does not fit its key; the message says what would."""


def _integer(low: int | None = None, high: int | None = None) -> Callable[[str], Value]:
    def parse(raw: str) -> Value:
        try:
            number = int(raw.strip())
        except ValueError:
            raise Invalid(f"'{raw}' is not a whole number") from None
        _check_range(number, low, high)
        return number

    return parse


def _number(low: float | None = None) -> Callable[[str], Value]:
    def parse(raw: str) -> Value:
        try:
            number = float(raw.strip())
        except ValueError:
            raise Invalid(f"'{raw}' is not a number") from None
        if not math.isfinite(number):
            raise Invalid(f"'{raw}' is not a finite number")
        _check_range(number, low, None)
        return int(number) if number.is_integer() else number

    return parse


def _check_range(number: float, low: float | None, high: float | None) -> None:
    if low is not None and high is not None and not low <= number <= high:
        raise Invalid(f"{number:g} is outside {low:g}–{high:g}")
    if low is not None and number < low:
        raise Invalid(f"{number:g} is below the minimum of {low:g}")


def _boolean(raw: str) -> Value:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise Invalid(f"'{raw}' is not a boolean (true/false, 1/0, yes/no)")


def _choice(*choices: str) -> Callable[[str], Value]:
    def parse(raw: str) -> Value:
        word = raw.strip().lower()
        if word not in choices:
            raise Invalid(f"'{raw}' is not one of: {', '.join(choices)}")
        return word

    return parse


def _text(raw: str) -> Value:
    if any((ord(ch) < 32 and ch != "\n") or ord(ch) == 127 for ch in raw):
        raise Invalid("control characters are not allowed")
    return raw.strip()


def _single_line(raw: str) -> Value:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise Invalid("control characters (CR, LF, tabs...) are not allowed")
    return raw.strip() or None


PHRASE_LIMIT = 300


def _phrase(raw: str) -> Value:
    """One line of text a recipient reads: not empty, no control characters."""
    text = _single_line(raw)
    if text is None:
        raise Invalid("this text cannot be empty")
    if len(str(text)) > PHRASE_LIMIT:
        raise Invalid(f"at most {PHRASE_LIMIT} characters")
    return text


def _hostname(raw: str) -> Value:
    host = raw.strip().rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        # An ASCII name is its own IDNA form (the label check below is the codec's check), and
        # skipping the codec spares every command that reads smtp.host its import.
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Invalid(f"'{raw}' is not a valid host name") from None
    if len(ascii_host) > 253 or not all(_HOST_LABEL.match(p) for p in ascii_host.split(".")):
        raise Invalid(f"'{raw}' is not a valid host name")
    return host


def _domain(raw: str) -> Value:
    host = _hostname(raw)
    if not isinstance(host, str) or "." not in host or _is_ip(host):
        raise Invalid(f"'{raw}' is not a domain name")
    return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    if host.lower() in {"localhost", "localhost.localdomain"} or host.lower().endswith(
        ".localhost"
    ):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _base_url(raw: str) -> Value:
    text = raw.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise Invalid(f"'{raw}' is not an http(s) URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise Invalid("the base URL takes no query, fragment or credentials")
    try:
        _ = parts.port
    except ValueError:
        raise Invalid(f"'{raw}' has an invalid port") from None
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise Invalid("http is allowed only for loopback hosts; use https")
    return text


def _address(raw: str) -> Value:
    text = raw.strip()
    if not text:
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(str(exc)) from None


def find_zone(name: str) -> ZoneInfo | None:
    """The IANA zone called ``name``; None when there is none (a folder such as ``Europe``,
    a path or an empty name is none)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _timezone(raw: str) -> Value:
    name = raw.strip()
    if find_zone(name) is None:
        raise Invalid(f"'{raw}' is not an IANA time zone (such as Europe/Paris)")
    return name


def system_timezone() -> str:
    """The machine's IANA zone name, UTC when it cannot be told."""
    try:
        import tzlocal

        return tzlocal.get_localzone_name() or "UTC"
    except Exception:  # tzlocal raises several kinds on odd systems; UTC is a safe reading
        return "UTC"
