"""Names that reach DNS: sending domains, DKIM selectors, SPF hosts and nameservers.

Domains are named case-insensitively: every form a user types (``Example.COM.``,
``bücher.example``) is normalised with IDNA (UTS #46) to the lower-case ASCII form that DNS and
the DKIM ``d=`` tag use (``xn--bcher-kva.example``).
"""

from __future__ import annotations

import ipaddress
import re

import idna

from lettr_cli.errors import ValidationError

_LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# SPF include targets are often service names with underscores (_spf.example.net).
_SERVICE_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
DEFAULT_DNS_PORT = 53


def _to_ascii(raw: str) -> str:
    text = raw.strip().rstrip(".")
    if not text:
        raise ValueError("it is empty")
    if text.isascii():
        return text.lower()
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(str(exc)) from None


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def domain_name(raw: str, field: str = "domain") -> str:
    """The canonical (lower-case, ASCII) form of a sending domain; refuses anything else."""
    try:
        name = _to_ascii(raw)
    except ValueError as exc:
        raise ValidationError.field(field, f"'{raw}' is not a domain name: {exc}") from None
    labels = name.split(".")
    if (
        len(labels) < 2
        or len(name) > 253
        or _is_ip_address(name)
        or not all(_LDH_LABEL.match(label) for label in labels)
    ):
        raise ValidationError.field(
            field, f"'{raw}' is not a domain name (such as example.com or news.example.com)"
        )
    return name


def selector_name(raw: str) -> str:
    """A DKIM selector: one or more letter-digit-hyphen labels (RFC 6376 §3.1), lower case."""
    name = raw.strip().lower()
    labels = name.split(".")
    if not name or len(name) > 63 or not all(_LDH_LABEL.match(label) for label in labels):
        raise ValidationError.field(
            "selector",
            f"'{raw}' is not a DKIM selector: use letters, digits and hyphens (such as lettr)",
        )
    return name


def spf_host(raw: str) -> str:
    """The host named by ``--spf-include`` (a relay's SPF record, such as _spf.example.net)."""
    try:
        name = _to_ascii(raw)
    except ValueError as exc:
        raise ValidationError.field("spf_include", f"'{raw}' is not a host name: {exc}") from None
    labels = name.split(".")
    if (
        len(labels) < 2
        or len(name) > 253
        or _is_ip_address(name)
        or not all(_SERVICE_LABEL.match(label) for label in labels)
    ):
        raise ValidationError.field(
            "spf_include", f"'{raw}' is not a host name (such as _spf.example.net)"
        )
    return name


def nameserver_address(raw: str) -> tuple[str, int]:
    """``HOST[:PORT]`` as given to ``--nameserver``: ``127.0.0.1:5353``, ``[::1]:53``, ``::1``."""
    text = raw.strip()
    host, port_text = text, ""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise _bad_nameserver(raw)
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise _bad_nameserver(raw)
    port = DEFAULT_DNS_PORT
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise _bad_nameserver(raw)
        port = int(port_text)
    return host, port


def _bad_nameserver(raw: str) -> ValidationError:
    return ValidationError.field(
        "nameserver",
        f"'{raw}' is not HOST[:PORT] (such as 127.0.0.1:5353 or [::1]:53); ports are 1–65535",
    )
