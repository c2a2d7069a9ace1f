"""Exact-id lookups: the one way a face that names rows by id (the HTTP API, the wizard) finds
them. Names and id prefixes are for people and stay with each part's ``find_*``."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, SQLModel

from lettr_cli.errors import NotFound

M = TypeVar("M", bound=SQLModel)


def by_id(session: Session, model: type[M], ident: str, noun: str) -> M:
    """The ``model`` row whose id is exactly ``ident``, else ``not_found``."""
    found = session.get(model, ident)
    if found is None:
        raise NotFound(f"no {noun} with the id '{ident}'")
    return found
