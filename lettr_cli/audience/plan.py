"""The plan's contact limit (reference §22): every contact counts, whatever its status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from lettr_cli.settings import Settings
from lettr_cli.store.core_tables import connection_of, contacts

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Usage:
    contacts: int
    limit: int | None
    tier: str

    @property
    def over(self) -> bool:
        return self.limit is not None and self.contacts > self.limit

    def describe(self) -> str:
        if self.limit is None:
            return f"{self.contacts} contacts (plan {self.tier}: no limit)"
        text = f"{self.contacts} of {self.limit} contacts allowed by plan {self.tier}"
        if self.over:
            text += "; campaigns cannot be sent until you upgrade (plan.tier) or delete contacts"
        return text


def usage(reader: Connection | Session, settings: Settings) -> Usage:
    total = connection_of(reader).execute(select(func.count()).select_from(contacts)).scalar_one()
    return Usage(contacts=int(total), limit=settings.contact_limit, tier=str(settings["plan.tier"]))
