"""The plan's contact limit (reference §22): every contact counts, whatever its status."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from lettr_cli.settings import Settings
from lettr_cli.store.tables import Contact


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


def usage(session: Session, settings: Settings) -> Usage:
    total = session.exec(select(func.count()).select_from(Contact)).one()
    return Usage(contacts=int(total), limit=settings.contact_limit, tier=str(settings["plan.tier"]))
