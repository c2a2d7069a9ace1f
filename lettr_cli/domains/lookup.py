"""TXT lookups with dnspython, against one named nameserver or the system's resolver.

A lookup either returns the TXT records found (none when the name does not exist or holds no TXT)
or raises ``DnsUnavailable``: a nameserver that does not answer in time, or answers with an error,
says nothing about the records, so it must not be read as "missing".
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from lettr_cli.addressing.domains import nameserver_address
from lettr_cli.errors import UnconfiguredDomain

DEFAULT_TIMEOUT = 5.0
TxtLookup = Callable[[str], list[str]]


class DnsUnavailable(UnconfiguredDomain):
    """The records could not be looked up (timeout, refused, SERVFAIL, no resolver)."""


def txt_lookup(nameserver: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> TxtLookup:
    """A function from a name to its TXT records (each record's strings joined).

    ``nameserver`` is ``HOST[:PORT]``; None uses the system's resolver configuration. Each lookup
    gives up after ``timeout`` seconds.
    """
    where = nameserver or "the system resolver"
    if nameserver is None:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise DnsUnavailable(
                "no DNS resolver is configured on this system; name one with --nameserver",
                reason="no_resolver",
            ) from None
    else:
        host, port = nameserver_address(nameserver)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [_address_of(host, nameserver)]
        resolver.port = port
    resolver.timeout = timeout
    resolver.lifetime = timeout
    resolver.retry_servfail = False

    def lookup(name: str) -> list[str]:
        qname = dns.name.from_text(name.rstrip(".") + ".")
        try:
            answer = resolver.resolve(
                qname, dns.rdatatype.TXT, raise_on_no_answer=False, search=False
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.Timeout:
            raise DnsUnavailable(
                f"the nameserver ({where}) did not answer within {timeout:g} s "
                f"when asked for TXT {name}; nothing was changed"
            ) from None
        except dns.resolver.NoNameservers as exc:
            raise DnsUnavailable(
                f"the nameserver ({where}) could not answer for TXT {name}: {exc}; "
                "nothing was changed"
            ) from None
        except dns.exception.DNSException as exc:
            raise DnsUnavailable(
                f"looking up TXT {name} at {where} failed: {exc}; nothing was changed"
            ) from None
        if answer.rrset is None:
            return []
        return [
            b"".join(rdata.strings).decode("utf-8", "replace")
            for rdata in answer.rrset
            if rdata.rdtype == dns.rdatatype.TXT
        ]

    return lookup


def _address_of(host: str, given: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        # A host name for the nameserver (localhost) is resolved by the system, not by DNS
        # queries of ours.
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise DnsUnavailable(f"cannot find the nameserver {given}: {exc.strerror}") from None
    return str(infos[0][4][0])
