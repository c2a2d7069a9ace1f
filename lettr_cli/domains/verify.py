"""Judging what DNS holds against the records lettr asked for.

- DKIM: exactly one TXT record at the selector's name, an RSA key record whose ``p=`` is the key
  lettr keeps for the domain.
- SPF: exactly one ``v=spf1`` record at the domain holding the mechanism ``records`` printed, with
  no qualifier or ``+``. The check is textual (CONTRACT "Objects"): includes are not followed and
  networks are not evaluated.
- DMARC: exactly one ``v=DMARC1`` record at ``_dmarc.{domain}`` with a policy
  (``p=none|quarantine|reject``).
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from lettr_cli.domains.lookup import TxtLookup
from lettr_cli.domains.records import DnsRecord

POLICIES = ("none", "quarantine", "reject")
STALE_KEY = (
    "p= holds a different key from lettr's for this domain (a stale key?); "
    "publish the value lettr domain records prints"
)
_DMARC = re.compile(r"^\s*v\s*=\s*DMARC1\s*(;|$)", re.IGNORECASE)
_SPF = re.compile(r"^\s*v=spf1(\s|$)", re.IGNORECASE)


def check_records(records: list[DnsRecord], lookup: TxtLookup) -> list[DnsRecord]:
    """Each record with the status DNS gives it; a record with no value stays as it is.

    Raises ``DnsUnavailable`` (from ``lookup``) when DNS cannot be asked.
    """
    judges = {"DKIM": judge_dkim, "SPF": judge_spf, "DMARC": judge_dmarc}
    return [
        judges[record.type](record, lookup(record.name)) if record.value else record
        for record in records
    ]


def judge_dkim(record: DnsRecord, found: list[str]) -> DnsRecord:  # noqa: PLR0911 (one return per rule)
    assert record.value is not None
    if not found:
        return record.checked("missing", f"no TXT record at {record.name}")
    if len(found) > 1:
        return record.checked(
            "invalid", f"{len(found)} TXT records at {record.name}; publish exactly one"
        )
    tags = _tags(found[0])
    if tags is None or "p" not in tags:
        return record.checked("invalid", "not a DKIM key record (no p= tag)")
    if tags.get("v", "DKIM1") != "DKIM1":
        return record.checked("invalid", f"v={tags['v']}: a DKIM key record says v=DKIM1")
    if tags.get("k", "rsa").lower() != "rsa":
        return record.checked("invalid", f"k={tags['k']}: lettr signs with an RSA key (k=rsa)")
    if "h" in tags and "sha256" not in tags["h"].lower().replace(" ", "").split(":"):
        return record.checked("invalid", f"h={tags['h']} does not allow sha256")
    published = re.sub(r"\s+", "", tags["p"])
    if not published:
        return record.checked("invalid", "p= is empty: the record revokes the key")
    expected = _tags(record.value)
    assert expected is not None
    if not same_public_key(published, expected["p"]):
        return record.checked(
            "invalid",
            STALE_KEY,
        )
    return record.checked("valid")


def judge_spf(record: DnsRecord, found: list[str]) -> DnsRecord:
    assert record.value is not None
    mechanism = record.value.split()[1].lower()
    spf = [value for value in found if _SPF.match(value)]
    if not spf:
        others = f" ({len(found)} other TXT records there)" if found else ""
        return record.checked("missing", f"no SPF record (v=spf1) at {record.name}{others}")
    if len(spf) > 1:
        return record.checked(
            "invalid",
            f"{len(spf)} SPF records at {record.name}: receivers treat more than one as an "
            "error (RFC 7208 §4.5); merge them into one",
        )
    terms = [term.lower() for term in spf[0].split()[1:]]
    if mechanism not in terms and f"+{mechanism}" not in terms:
        return record.checked(
            "invalid",
            f"the SPF record does not contain {mechanism} "
            "(the check is textual: includes and networks are not evaluated)",
        )
    return record.checked("valid")


def judge_dmarc(record: DnsRecord, found: list[str]) -> DnsRecord:
    dmarc = [value for value in found if _DMARC.match(value)]
    if not dmarc:
        return record.checked("missing", f"no DMARC record (v=DMARC1) at {record.name}")
    if len(dmarc) > 1:
        return record.checked(
            "invalid",
            f"{len(dmarc)} DMARC records at {record.name}: receivers ignore them all "
            "(RFC 7489 §6.6.3); keep one",
        )
    tags = _tags(dmarc[0]) or {}
    policy = tags.get("p")
    if policy is None:
        return record.checked(
            "invalid", "the DMARC record has no policy (p=none, quarantine or reject)"
        )
    if policy.lower() not in POLICIES:
        return record.checked(
            "invalid", f"p={policy} is not a DMARC policy (none, quarantine or reject)"
        )
    return record.checked("valid")


def same_public_key(published: str, expected: str) -> bool:
    """Whether two base64 ``p=`` values hold the same RSA key (SPKI or bare RSAPublicKey)."""
    if published == expected:
        return True
    try:
        candidate = load_der_public_key(base64.b64decode(published, validate=True))
        ours = load_der_public_key(base64.b64decode(expected, validate=True))
    except (binascii.Error, ValueError):
        return False
    if not isinstance(candidate, rsa.RSAPublicKey) or not isinstance(ours, rsa.RSAPublicKey):
        return False
    return candidate.public_numbers() == ours.public_numbers()


def _tags(value: str) -> dict[str, str] | None:
    """A tag=value list (RFC 6376 §3.2); None when some part is not ``tag=value``."""
    tags: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        name, equals, tag_value = part.partition("=")
        if not equals:
            return None
        tags.setdefault(name.strip().lower(), tag_value.strip())
    return tags
