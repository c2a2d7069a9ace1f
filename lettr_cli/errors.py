"""The error family every service raises, the one table of its codes, and the exit codes the CLI
maps them to.

Services raise a ``LettrError`` subclass; only the CLI entry point turns one into a message on
stderr and an exit code (CONTRACT "Errors and exit codes"). ``ERROR_CODES`` is CONTRACT's code
table, in its order; every subclass takes its ``code`` from it, and tests/test_error_codes.py
fails on a code raised anywhere that is not in it.
"""

from __future__ import annotations

from typing import Final

# CONTRACT "Errors and exit codes": the only error codes lettr reports (its table says when).
ERROR_CODES: Final[tuple[str, ...]] = (
    "validation_error",
    "not_found",
    "resource_already_exists",
    "resource_in_use",
    "campaign_not_editable",
    "campaign_not_sendable",
    "campaign_has_pending_schedule",
    "campaign_not_scheduled",
    "unconfigured_domain",
    "quota_exceeded",
    "rate_limit_exceeded",
    "transmission_failed",
    "confirmation_required",
    "store_too_new",
    "store_unavailable",
)


def _code(code: str) -> str:
    """``code``, refused at import time unless it is in ``ERROR_CODES``."""
    if code not in ERROR_CODES:
        raise AssertionError(f"{code!r} is not in CONTRACT's error code table (ERROR_CODES)")
    return code


EXIT_OK = 0
EXIT_FAILURE = 1  # a refusal or failure of ours (any LettrError)
EXIT_USAGE = 2  # only what the argument parser itself rejects
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class LettrError(Exception):
    """A refusal or failure with a stable machine-readable ``code``.

    Abstract: raise a subclass, whose ``code`` is one of ``ERROR_CODES``. ``errors`` maps a field
    name to its messages and is only set for validation failures.
    """

    code = "error"  # never reported: only subclasses are raised

    def __init__(
        self,
        message: str,
        *,
        errors: dict[str, list[str]] | None = None,
        reason: str | None = None,
        details: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        # ``message`` is the command line's wording (it may name a flag); ``reason`` and
        # ``details`` say the same for a face that words it its own way (the HTTP API).
        self.reason = reason
        self.details = details or {}

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"message": self.message, "error_code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


class ValidationError(LettrError):
    code = _code("validation_error")

    @classmethod
    def field(
        cls, field: str, message: str, *, reason: str | None = None, **details: str
    ) -> ValidationError:
        """A validation failure of one named field (a config key, an option, a column)."""
        return cls(message, errors={field: [message]}, reason=reason, details=details)


class NotFound(LettrError):
    code = _code("not_found")


class ResourceAlreadyExists(LettrError):
    code = _code("resource_already_exists")


class ResourceInUse(LettrError):
    code = _code("resource_in_use")


class CampaignNotEditable(LettrError):
    code = _code("campaign_not_editable")


class CampaignNotSendable(LettrError):
    code = _code("campaign_not_sendable")


class CampaignHasPendingSchedule(LettrError):
    code = _code("campaign_has_pending_schedule")


class CampaignNotScheduled(LettrError):
    code = _code("campaign_not_scheduled")


class UnconfiguredDomain(LettrError):
    code = _code("unconfigured_domain")


class QuotaExceeded(LettrError):
    code = _code("quota_exceeded")


class RateLimitExceeded(LettrError):
    code = _code("rate_limit_exceeded")


class TransmissionFailed(LettrError):
    code = _code("transmission_failed")


class ConfirmationRequired(LettrError):
    code = _code("confirmation_required")


class StoreTooNew(LettrError):
    code = _code("store_too_new")


class StoreUnavailable(LettrError):
    """The store cannot be opened or written: not a SQLite store, unreadable, read-only, a full
    disk. The message says what to do; the transaction that met it was rolled back."""

    code = _code("store_unavailable")
