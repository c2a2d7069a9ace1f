"""Pages of a listing for every face: the rows of one window (limit, offset) in a stable order,
and how many rows there are in all.

The per-kind page functions (``campaigns.lookups``, ``audience.lookups``) give the order; it ends
with a unique column, so that paging through a listing neither skips nor repeats a row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from lettr_cli.errors import ValidationError

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Page(Generic[T]):
    """``rows``: at most ``limit`` rows (all when None) after skipping ``offset``; ``total``:
    every row of the listing, the window aside."""

    rows: list[T]
    total: int
    limit: int | None
    offset: int

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same window, each row converted."""
        return Page([convert(row) for row in self.rows], self.total, self.limit, self.offset)


def check_window(limit: int | None, offset: int) -> None:
    """A limit is None (every row) or ≥ 0 (0: no row, only the total); an offset is ≥ 0."""
    if limit is not None and limit < 0:
        raise ValidationError.field("limit", f"a limit is 0 or more, not {limit}")
    if offset < 0:
        raise ValidationError.field("offset", f"an offset is 0 or more, not {offset}")


def page(
    session: Session,
    query: SelectOfScalar[T],
    *,
    order_by: Sequence[Any],
    limit: int | None = None,
    offset: int = 0,
) -> Page[T]:
    """One window of ``query`` in the order ``order_by`` (ending with a unique column), and the
    number of rows ``query`` matches in all."""
    check_window(limit, offset)
    if not order_by:
        raise ValueError("a page needs an order")
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    total = int(session.exec(counted).one())
    window = query.order_by(None).order_by(*order_by).offset(offset)
    if limit is not None:
        window = window.limit(limit)
    rows = list(session.exec(window)) if limit != 0 else []
    return Page(rows, total, limit, offset)
