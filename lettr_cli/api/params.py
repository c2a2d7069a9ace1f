"""Query parameters as Lettr reads them: whole numbers in a range, and ``page``/``per_page``
turned into a window and answered back as ``pagination``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lettr_cli.errors import ValidationError
from lettr_cli.store.paging import Page

MAX_PAGE = 10000


def whole(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValidationError.field(name, f"The {name} field must be an integer.") from None
    if not low <= value <= high:
        raise ValidationError.field(name, f"The {name} field must be between {low} and {high}.")
    return value


@dataclass(frozen=True)
class Window:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def window(query: Mapping[str, str], default_per_page: int = 20) -> Window:
    return Window(
        whole(query, "page", 1, 1, MAX_PAGE), whole(query, "per_page", default_per_page, 1, 100)
    )


def pagination(found: Page[Any], chosen: Window) -> dict[str, int]:
    """Lettr's ``{total, per_page, current_page, last_page}``; ``last_page`` is at least 1."""
    return {
        "total": found.total,
        "per_page": chosen.per_page,
        "current_page": chosen.page,
        "last_page": max(1, math.ceil(found.total / chosen.per_page)),
    }


def text(query: Mapping[str, str], name: str) -> str | None:
    raw = query.get(name)
    return None if raw is None or raw.strip() == "" else raw.strip()


def body_text(body: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """A string field of a JSON body (None when absent or null)."""
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationError.field(name, f"The {name} field is required.")
        return None
    if not isinstance(value, str):
        raise ValidationError.field(name, f"The {name} field must be a string.")
    if required and not value.strip():
        raise ValidationError.field(name, f"The {name} field is required.")
    return value
