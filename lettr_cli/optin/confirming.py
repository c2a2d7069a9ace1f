"""The confirmation link, as the tracking server follows it (issue 19).

A link confirms only while its token verifies (signed with the store's tracking keys, purpose
``confirm``), has not expired, and its contact is still ``unverified`` with its confirmation
state kept. Confirming is one short ``IMMEDIATE`` transaction: the ledger moves the contact to
``subscribed`` (with its activity entry) and the confirmation state goes, so the link cannot be
used twice. The redirect URL is the operator's, read from the store: never from the request.
No web imports here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select

from lettr_cli import ledger
from lettr_cli.signing.tokens import Purpose, Token
from lettr_cli.store.engine import Store
from lettr_cli.store.tables import Confirmation, Contact, table_of

confirmations = table_of(Confirmation)
SOURCE = "confirmation link"


@dataclass(frozen=True)
class Pending:
    """A contact waiting for its confirmation, as the confirm page shows it."""

    contact_id: str
    email: str
    redirect_url: str


def contact_of(token: Token | None, now: datetime) -> str | None:
    """The contact a verified token names, while it has not expired; else None."""
    if token is None or token.purpose is not Purpose.CONFIRM:
        return None
    named = token.confirmation
    if named is None or now > named[1]:
        return None
    return named[0]


def pending(store: Store, contact_id: str) -> Pending | None:
    """The contact while it waits for confirmation; None once confirmed, changed or gone."""
    with store.read() as session:
        found = session.exec(
            select(Contact.email, Contact.status, Confirmation.redirect_url)
            .join(Confirmation, sa.true())
            .where(Contact.id == contact_id, Confirmation.contact_id == contact_id)
        ).first()
    if found is None or found[1] != ledger.UNVERIFIED:
        return None
    return Pending(contact_id, found[0], found[2])


def confirm(store: Store, contact_id: str, now: datetime) -> str | None:
    """Confirm the contact: the redirect URL once the change is committed, or None when the
    contact is not waiting for confirmation (already confirmed, changed by hand, deleted).
    A store that stays locked raises SQLAlchemy's ``OperationalError``."""
    with store.connect("IMMEDIATE") as conn, conn.begin():
        redirect = conn.execute(
            sa.select(confirmations.c.redirect_url).where(confirmations.c.contact_id == contact_id)
        ).scalar()
        if redirect is None:
            return None
        if not ledger.confirm_opt_in(conn, contact_id, now, source=SOURCE):
            return None
        conn.execute(confirmations.delete().where(confirmations.c.contact_id == contact_id))
    return str(redirect)
