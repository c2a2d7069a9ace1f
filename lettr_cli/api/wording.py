"""How the API words a service's refusal whose command-line message names a flag or a command
(``needs --force``, ``pass --spf-include``): by the error's ``reason`` and ``details``, naming
Lettr's fields. A refusal with no reason here keeps the service's message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

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


def api_message(reason: str | None, details: Mapping[str, str]) -> str | None:
    """The API's wording of a refusal, or None to keep the service's message."""
    words = WORDING.get(reason or "")
    return None if words is None else words(details)
