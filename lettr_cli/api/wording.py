"""How the API words a service's refusal whose command-line message names a flag or a command
(``needs --force``, ``pass --spf-include``): by the error's ``reason`` and ``details``, naming
Lettr's fields. A refusal with no reason here keeps the service's message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from lettr_cli.domains.records import NO_RELAY, NOT_CHECKED
from lettr_cli.domains.service import RECHECK
from lettr_cli.domains.verify import STALE_KEY

Words = Callable[[Mapping[str, str]], str]

FIELD_NAMES: Final = {"audience": "audience (lists or segments)"}


def _incomplete(details: Mapping[str, str]) -> str:
    fields = [FIELD_NAMES.get(name, name) for name in details.get("fields", "").split(", ")]
    return f"The campaign cannot be sent yet; missing: {', '.join(fields)}."


WORDING: Final[dict[str, Words]] = {
    "resubscribe_needs_force": lambda d: (
        f"The contact {d['email']} is {d['status']} and cannot be re-subscribed through the API."
    ),
    "opted_out_before": lambda d: (
        f"The email {d['email']} opted out ({d['status']}) and cannot be subscribed again "
        "through the API, so no confirmation email is sent."
    ),
    "campaign_incomplete": _incomplete,
    "spf_relay_unknown": lambda _d: (
        "The spf_include field is required: this server has no SMTP relay for the SPF record "
        "to authorise."
    ),
    "unknown_property": lambda d: (
        f"The property {d['name']} does not exist; create it first (POST /audience/properties)."
    ),
    "no_relay": lambda _d: (
        "This server has no SMTP relay configured, so it cannot send the confirmation email."
    ),
    "no_resolver": lambda _d: (
        "The domain cannot be verified: this server has no DNS resolver configured."
    ),
    "sender_domain_unknown": lambda d: (
        f"The from_email domain {d['domain']} is not a sending domain of this account."
    ),
    "sender_domain_unverified": lambda d: (
        f"The from_email domain {d['domain']} is not verified ({d['failing']})."
    ),
}


# What the domain services say of a DNS record (``records[].detail``), in the API's words.
RECORD_WORDING: Final = {
    NOT_CHECKED: "Not checked yet: publish the record, then verify the domain.",
    RECHECK: "Changed since the last check (the SMTP relay or the key): verify the domain again.",
    NO_RELAY: "No relay to authorise: add the domain with spf_include, or configure the "
    "server's SMTP relay.",
    STALE_KEY: "p= holds a different key from this domain's (a stale key?); publish the "
    "dkim_record value.",
}


def record_detail(detail: str | None) -> str | None:
    """A record's ``detail`` as the API shows it."""
    return None if detail is None else RECORD_WORDING.get(detail, detail)


def api_message(reason: str | None, details: Mapping[str, str]) -> str | None:
    """The API's wording of a refusal, or None to keep the service's message."""
    words = WORDING.get(reason or "")
    return None if words is None else words(details)
