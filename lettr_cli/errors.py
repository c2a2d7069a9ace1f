"""The error family every service raises, and the exit codes the CLI maps them to.

Services raise a ``LettrError`` subclass; only the CLI entry point turns one into a message on
stderr and an exit code (CONTRACT "Errors and exit codes").
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # a refusal or failure of ours (any LettrError)
EXIT_USAGE = 2  # only what the argument parser itself rejects
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class LettrError(Exception):
    """A refusal or failure with a stable machine-readable ``code``.

    ``errors`` maps a field name to its messages and is only set for validation failures.
    """

    code = "error"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"message": self.message, "error_code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


class ValidationError(LettrError):
    code = "validation_error"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationError:
        """A validation failure of one named field (a config key, an option, a column)."""
        return cls(message, errors={field: [message]})


class NotFound(LettrError):
    code = "not_found"


class ResourceAlreadyExists(LettrError):
    code = "resource_already_exists"


class ResourceInUse(LettrError):
    code = "resource_in_use"


class CampaignNotEditable(LettrError):
    code = "campaign_not_editable"


class CampaignNotSendable(LettrError):
    code = "campaign_not_sendable"


class CampaignHasPendingSchedule(LettrError):
    code = "campaign_has_pending_schedule"


class CampaignNotScheduled(LettrError):
    code = "campaign_not_scheduled"


class UnconfiguredDomain(LettrError):
    code = "unconfigured_domain"


class QuotaExceeded(LettrError):
    code = "quota_exceeded"


class RateLimitExceeded(LettrError):
    code = "rate_limit_exceeded"


class TransmissionFailed(LettrError):
    code = "transmission_failed"


class ConfirmationRequired(LettrError):
    code = "confirmation_required"


class StoreTooNew(LettrError):
    code = "store_too_new"


class StoreUnavailable(LettrError):
    """The store cannot be opened or written: not a SQLite store, unreadable, read-only, a full
    disk. The message says what to do; the transaction that met it was rolled back."""

    code = "store_unavailable"


ERROR_CODES: tuple[str, ...] = tuple(cls.code for cls in LettrError.__subclasses__())
