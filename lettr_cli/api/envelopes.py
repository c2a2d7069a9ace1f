"""Lettr's JSON envelopes: ``{"message", "data"}`` on success, ``{"message", "error_code"}``
(and ``errors`` on 422) on failure, and the HTTP status of each error code (issue 16)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from starlette.responses import Response

from lettr_cli.api.wording import api_message
from lettr_cli.errors import LettrError

STATUS_OF: Final[dict[str, int]] = {
    "validation_error": 422,
    "campaign_not_sendable": 422,
    "campaign_has_pending_schedule": 422,
    "campaign_not_scheduled": 422,
    "unconfigured_domain": 422,
    "campaign_not_editable": 422,
    "confirmation_required": 422,
    "not_found": 404,
    "resource_already_exists": 409,
    "resource_in_use": 409,
    "quota_exceeded": 429,
    "rate_limit_exceeded": 429,
    "transmission_failed": 502,
    "store_unavailable": 503,
    "store_too_new": 500,
}
SERVER_ERROR: Final = "An unexpected error occurred. Please try again later."
VALIDATION_FAILED: Final = "Validation failed."


def _default(value: Any) -> Any:
    if isinstance(value, datetime):  # UTC to the second, as the CLI's JSON (CONTRACT "Times")
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="seconds")
    raise TypeError(f"{type(value).__name__} is not JSON")


class Json(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=_default).encode("utf-8")


def ok(message: str, data: Any, status: int = 200) -> Response:
    return Json({"message": message, "data": data}, status_code=status)


def no_content() -> Response:
    return Response(status_code=204)


def failure(status: int, message: str, code: str | None, **extra: Any) -> Response:
    body: dict[str, Any] = {"message": message}
    if code is not None:
        body["error_code"] = code
    body.update(extra)
    return Json(body, status_code=status)


def refused(error: LettrError) -> Response:
    """A service's refusal as Lettr answers it: 422 validation failures carry ``errors``; a
    refusal the command line words with its flags is worded with Lettr's fields instead."""
    status = STATUS_OF.get(error.code, 500)
    worded = api_message(error.reason, error.details)
    message = error.message if worded is None else worded
    if error.code == "validation_error":
        errors = error.errors or {"request": [error.message]}
        if worded is not None:
            errors = {field: [worded] for field in errors}
        return failure(status, VALIDATION_FAILED, error.code, errors=errors)
    headers = {"Retry-After": "1"} if error.code == "store_unavailable" else None
    response = failure(status, message, error.code)
    if headers:
        response.headers.update(headers)
    return response


def invalid(field: str, message: str) -> Response:
    return failure(422, VALIDATION_FAILED, "validation_error", errors={field: [message]})
