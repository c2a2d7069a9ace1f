"""The DNS records a sending domain needs, as ``lettr domain records`` prints them.

- DKIM: TXT at ``{selector}._domainkey.{domain}`` = ``v=DKIM1; k=rsa; p=<public key>`` (none for
  ``--no-dkim`` domains, whose relay signs).
- SPF: TXT at the domain = ``v=spf1 <mechanism> ~all``. The mechanism authorises the relay:
  ``include:HOST`` for ``--spf-include HOST``, else ``ip4:``/``ip6:`` when ``smtp.host`` is an
  address and ``a:`` when it is a host name. It follows ``smtp.host``, so changing the relay
  changes the record to publish (and a verified domain needs verifying again). With neither,
  there is nothing to authorise: the record has no value and cannot be valid.
- DMARC: TXT at ``_dmarc.{domain}`` = ``v=DMARC1; p=none`` (monitoring; tighten it later).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Literal

RecordType = Literal["DKIM", "SPF", "DMARC"]
RecordStatus = Literal["valid", "missing", "invalid"]

DMARC_VALUE = "v=DMARC1; p=none"
NOT_CHECKED = "not checked yet: publish the record, then run lettr domain verify"
NO_RELAY = (
    "no relay to authorise: set smtp.host (lettr config set smtp.host HOST) "
    "or add the domain again with --spf-include HOST"
)


@dataclass(frozen=True)
class DnsRecord:
    """One record to publish, with what the last check found (``detail`` says why not valid)."""

    type: RecordType
    name: str
    value: str | None
    status: RecordStatus = "missing"
    detail: str | None = NOT_CHECKED

    def checked(self, status: RecordStatus, detail: str | None = None) -> DnsRecord:
        return replace(self, status=status, detail=detail)

    def to_json(self) -> dict[str, str | None]:
        return {
            "type": self.type,
            "dns_type": "TXT",
            "name": self.name,
            "value": self.value,
            "status": self.status,
            "detail": self.detail,
        }


def dkim_record_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def dkim_value(public_key: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_key}"


def spf_mechanism(spf_include: str | None, smtp_host: str | None) -> str | None:
    """The SPF mechanism that authorises the relay; None when nothing names the relay."""
    if spf_include:
        return f"include:{spf_include}"
    if not smtp_host:
        return None
    try:
        address = ipaddress.ip_address(smtp_host.strip("[]"))
    except ValueError:
        return f"a:{smtp_host}"
    return f"ip{address.version}:{address.compressed}"


def spf_value(mechanism: str) -> str:
    return f"v=spf1 {mechanism} ~all"


def expected_records(
    domain: str,
    *,
    selector: str | None,
    public_key: str | None,
    spf_include: str | None,
    smtp_host: str | None,
) -> list[DnsRecord]:
    """The records to publish for ``domain``, each not yet checked."""
    records: list[DnsRecord] = []
    if selector and public_key:
        records.append(
            DnsRecord("DKIM", dkim_record_name(selector, domain), dkim_value(public_key))
        )
    mechanism = spf_mechanism(spf_include, smtp_host)
    if mechanism is None:
        records.append(DnsRecord("SPF", domain, None, "invalid", NO_RELAY))
    else:
        records.append(DnsRecord("SPF", domain, spf_value(mechanism)))
    records.append(DnsRecord("DMARC", f"_dmarc.{domain}", DMARC_VALUE))
    return records
