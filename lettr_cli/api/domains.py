"""Lettr's sending-domain endpoints as its SDK calls them: list, get, create, delete and verify,
by domain name (Lettr's key for a domain) under ``/domains``. Each calls the domain services;
verify asks the nameserver ``lettr serve --nameserver`` named, else the system's resolver.

``status`` is Lettr's approval status: ``approved`` for a verified domain (it can send), else
``pending`` ("Pending Review"); Lettr's ``blocked`` is a decision of its staff that lettr has no
counterpart of. Why a domain is not approved is in the per-record statuses and ``dns``; the CLI
keeps its own ``verified``/``pending``/``failed``. Per-record statuses are the CLI's (``valid``,
``missing``, ``invalid``), and ``not_applicable`` for what lettr does not use (Lettr's bounce
CNAME; DKIM of a domain whose relay signs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from starlette.responses import Response

from lettr_cli.api.endpoints import Call, route
from lettr_cli.api.envelopes import no_content, ok
from lettr_cli.api.openapi import Doc, strings
from lettr_cli.api.params import body_text
from lettr_cli.api.schemas import array, ref, whole
from lettr_cli.api.wording import record_detail
from lettr_cli.domains.dkim import SIGNED_HEADERS
from lettr_cli.domains.records import DnsRecord
from lettr_cli.domains.service import (
    Domain,
    add_domain,
    find_domain,
    list_domains,
    remove_domain,
    verify_domain,
)
from lettr_cli.errors import NotFound, ValidationError

T = TypeVar("T")
READ: Final = "domains:read"
WRITE: Final = "domains:write"
APPROVAL: Final = {"verified": "approved", "pending": "pending", "failed": "pending"}
LABELS: Final = {"approved": "Approved", "pending": "Pending Review"}
NOT_APPLICABLE: Final = "not_applicable"
_KINDS: Final = ("dkim", "cname", "dmarc", "spf")


def _find(name: str, look: Callable[[str], T]) -> T:
    """``look(name)``; a name that is not one of our domains is Lettr's 404."""
    try:
        return look(name)
    except (NotFound, ValidationError):
        raise NotFound("Domain not found.") from None


def _record(domain: Domain, kind: str) -> DnsRecord | None:
    return next((r for r in domain.records if r.type.lower() == kind and r.value), None)


def _why(record: DnsRecord) -> str:
    return record_detail(record.detail) or record.status


def _statuses(domain: Domain) -> dict[str, str]:
    found = {kind: _record(domain, kind) for kind in _KINDS}
    return {
        f"{kind}_status": NOT_APPLICABLE if record is None else record.status
        for kind, record in found.items()
    }


def _dns(domain: Domain) -> dict[str, str | None]:
    """Lettr's ``dns``: each record to publish, and why it is not valid (None when it is)."""
    shown: dict[str, str | None] = {}
    for kind in _KINDS:
        record = _record(domain, kind)
        shown[f"{kind}_record"] = None if record is None else record.value
        failing = record is not None and record.status != "valid"
        shown[f"{kind}_error"] = _why(record) if failing and record else None
    return shown


def domain_json(domain: Domain) -> dict[str, Any]:
    """A domain as the API shows it: the CLI's Domain object with Lettr's fields added."""
    dkim = _record(domain, "dkim")
    return {
        **domain.to_json(),
        "records": [
            {**record.to_json(), "detail": record_detail(record.detail)}
            for record in domain.records
        ],
        "status": APPROVAL[domain.status],
        "status_label": LABELS[APPROVAL[domain.status]],
        "can_send": domain.status == "verified",
        **_statuses(domain),
        "is_primary_domain": False,
        "tracking_domain": None,
        "dns": _dns(domain),
        "dns_provider": None,
        "dkim": None
        if dkim is None or dkim.value is None
        else {
            "public": dkim.value.rpartition("p=")[2],
            "selector": domain.selector,
            "headers": ":".join(name.decode() for name in SIGNED_HEADERS),
            "signing_domain": domain.domain,
        },
        "updated_at": domain.updated_at,
    }


def _check(record: DnsRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    valid = record.status == "valid"
    return {
        "is_valid": valid,
        "status": record.status,
        "record": record.value,
        "error": None if valid else _why(record),
    }


def verification_json(domain: Domain) -> dict[str, Any]:
    """Lettr's DomainVerification, with the domain's ``status``, ``can_send`` and records."""
    return {
        **domain_json(domain),
        "ownership_verified": None,
        "spf": _check(_record(domain, "spf")),
        "dmarc": _check(_record(domain, "dmarc")),
    }


def listing(call: Call) -> Response:
    found, _ = list_domains(call.workspace)
    return ok("Domains retrieved successfully.", {"domains": [domain_json(d) for d in found]})


def get_one(call: Call) -> Response:
    found = _find(call.path["domain"], lambda name: find_domain(call.workspace, name))
    return ok("Domain retrieved successfully.", domain_json(found))


def create(call: Call) -> Response:
    name = body_text(call.body, "domain", required=True)
    assert name is not None
    made = add_domain(call.workspace, name, spf_include=body_text(call.body, "spf_include"))
    return ok("Domain created successfully.", domain_json(made), status=201)


def delete(call: Call) -> Response:
    _find(call.path["domain"], lambda name: remove_domain(call.workspace, name))
    return no_content()


def verify(call: Call) -> Response:
    found = _find(call.path["domain"], lambda name: find_domain(call.workspace, name))
    checked = verify_domain(call.workspace, found.domain, nameserver=call.nameserver)
    return ok("Domain verification completed.", verification_json(checked))


ROUTES = [
    route(
        "/domains",
        "GET",
        READ,
        listing,
        doc=Doc("List sending domains", data=whole({"domains": array(ref("Domain"))})),
    ),
    route(
        "/domains",
        "POST",
        WRITE,
        create,
        doc=Doc(
            "Add a sending domain",
            body=strings("domain", "spf_include", required=("domain",)),
            success=201,
            data=ref("Domain"),
        ),
    ),
    route(
        "/domains/{domain}",
        "GET",
        READ,
        get_one,
        doc=Doc("Get a sending domain", data=ref("Domain")),
    ),
    route(
        "/domains/{domain}",
        "DELETE",
        WRITE,
        delete,
        doc=Doc("Delete a sending domain", success=204),
    ),
    route(
        "/domains/{domain}/verify",
        "POST",
        WRITE,
        verify,
        doc=Doc("Verify a sending domain's DNS records", data=ref("DomainVerification")),
    ),
]
