"""Sending domains: add, list, show, remove, the records to publish, and their verification.

A domain is ``pending`` until its records are checked, then ``verified`` or ``failed``. The
records follow ``smtp.host`` (the SPF mechanism), so a domain whose records changed since its
last check is ``pending`` again until ``verify`` runs. Campaign checks should ask
``Domain.status`` (or :func:`find_domain`), not the stored column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from lettr_cli.addressing.domains import domain_name, selector_name, spf_host
from lettr_cli.domains.keys import DkimKey, generate_key_pair
from lettr_cli.domains.lookup import DEFAULT_TIMEOUT, txt_lookup
from lettr_cli.domains.records import DnsRecord, expected_records
from lettr_cli.domains.verify import check_records
from lettr_cli.errors import NotFound, ResourceAlreadyExists, UnconfiguredDomain, ValidationError
from lettr_cli.references import refuse_if_used
from lettr_cli.store.tables import DomainRow
from lettr_cli.store.types import new_id, utcnow
from lettr_cli.workspace import Workspace

DEFAULT_SELECTOR = "lettr"
DomainStatus = Literal["verified", "pending", "failed"]
RECHECK = "changed since the last check (smtp.host or the key): run lettr domain verify again"


@dataclass(frozen=True)
class Domain:
    """A sending domain as commands show it (CONTRACT "Objects": Domain)."""

    id: str
    domain: str
    selector: str | None
    dkim: bool
    spf_include: str | None
    status: DomainStatus
    records: list[DnsRecord]
    created_at: datetime
    checked_at: datetime | None
    verified_at: datetime | None
    updated_at: datetime | None = None

    @property
    def failing(self) -> list[DnsRecord]:
        return [record for record in self.records if record.status != "valid"]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "domain": self.domain,
            "selector": self.selector,
            "dkim": self.dkim,
            "spf_include": self.spf_include,
            "status": self.status,
            "records": [record.to_json() for record in self.records],
            "created_at": self.created_at,
            "checked_at": self.checked_at,
            "verified_at": self.verified_at,
        }


def add_domain(
    workspace: Workspace,
    name: str,
    *,
    selector: str | None = None,
    dkim: bool = True,
    spf_include: str | None = None,
) -> Domain:
    """Add a sending domain, with a new RSA-2048 DKIM key unless ``dkim`` is False.

    Refuses a domain already added (``resource_already_exists``), and a domain whose SPF record
    could not name the relay: neither ``spf_include`` nor ``smtp.host`` is set.
    """
    domain = domain_name(name)
    if not dkim and selector is not None:
        raise ValidationError.field(
            "selector", "--selector names a DKIM key; a --no-dkim domain has none"
        )
    chosen_selector = (
        selector_name(DEFAULT_SELECTOR if selector is None else selector) if dkim else None
    )
    include = spf_host(spf_include) if spf_include is not None else None
    smtp_host = workspace.settings().text("smtp.host")
    if include is None and not smtp_host:
        raise ValidationError.field(
            "spf_include",
            "lettr cannot tell which relay the SPF record must authorise: pass --spf-include "
            "HOST (your relay's SPF host) or set smtp.host first",
            reason="spf_relay_unknown",
        )
    with workspace.store.read() as session:
        if _row(session, domain) is not None:
            raise _exists(domain)
    pair = generate_key_pair() if dkim else None  # about 0.1 s: not inside the write lock
    row = DomainRow(
        id=new_id(),
        name=domain,
        selector=chosen_selector,
        dkim=dkim,
        private_key=pair.private_pem if pair else None,
        public_key=pair.public_key if pair else None,
        spf_include=include,
    )
    try:
        with workspace.store.write() as session:
            if _row(session, domain) is not None:
                raise _exists(domain)
            session.add(row)
    except IntegrityError:
        raise _exists(domain) from None
    return _view(row, smtp_host)


def list_domains(workspace: Workspace, *, limit: int = 0) -> tuple[list[Domain], int]:
    """Domains by name, at most ``limit`` (0: all), and how many there are in all."""
    smtp_host = workspace.settings().text("smtp.host")
    with workspace.store.read() as session:
        total = session.exec(select(func.count()).select_from(DomainRow)).one()
        query = select(DomainRow).order_by(col(DomainRow.name))
        if limit:
            query = query.limit(limit)
        rows = list(session.exec(query))
    return [_view(row, smtp_host) for row in rows], int(total)


def published_records(workspace: Workspace) -> dict[str, list[str]]:
    """The TXT records `lettr domain records` prints for every domain in the store, by
    (fully qualified) name: what `lettr dns serve` answers with."""
    served: dict[str, list[str]] = {}
    for domain in list_domains(workspace)[0]:
        for record in domain.records:
            if record.value is not None:
                served.setdefault(record.name, []).append(record.value)
    return served


def find_domain(workspace: Workspace, name: str) -> Domain:
    """The domain called ``name`` (any case, Unicode or ASCII form); ``not_found`` otherwise."""
    smtp_host = workspace.settings().text("smtp.host")
    with workspace.store.read() as session:
        return _view(_existing(session, name), smtp_host)


def removable_domain(workspace: Workspace, name: str) -> Domain:
    """The domain called ``name``, unless a draft or scheduled campaign sends from it."""
    smtp_host = workspace.settings().text("smtp.host")
    with workspace.store.read() as session:
        row = _existing(session, name)
        refuse_if_used(session, "domain", row.name, domain=row.name)
        return _view(row, smtp_host)


def remove_domain(workspace: Workspace, name: str) -> str:
    """Remove the domain and its DKIM key for good; returns its id."""
    with workspace.store.write() as session:
        row = _existing(session, name)
        refuse_if_used(session, "domain", row.name, domain=row.name)
        session.delete(row)
        return row.id


def verify_domain(
    workspace: Workspace,
    name: str,
    *,
    nameserver: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Domain:
    """Look the records up in DNS, store what was found, and return the domain.

    The domain becomes ``verified`` when every record is valid, else ``failed``; ``verified_at``
    is when it last became verified, and is cleared by a failed check. When DNS cannot be asked
    (``DnsUnavailable``, a timeout) nothing is stored. No transaction is open during lookups.
    """
    row, smtp_host, results = _look_up(workspace, name, nameserver, timeout)
    passed = all_valid(results)
    now = utcnow()
    with workspace.store.write() as session:
        current = session.get(DomainRow, row.id)
        if current is None or current.public_key != row.public_key:
            raise NotFound(f"the domain {row.name} was removed or replaced during the check")
        if passed and current.status != "verified":
            current.verified_at = now
        elif not passed:
            current.verified_at = None
        current.status = "verified" if passed else "failed"
        current.last_check = [record.to_json() for record in results]
        current.checked_at = now
        current.updated_at = now
        session.add(current)
    return _view(current, smtp_host)


def check_domain(
    workspace: Workspace,
    name: str,
    *,
    nameserver: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[DnsRecord]:
    """Look the records up in DNS now and return each with what was found; stores nothing.

    What :func:`verify_domain` finds, without recording it (``lettr doctor``). Raises
    ``DnsUnavailable`` when DNS cannot be asked.
    """
    _, _, results = _look_up(workspace, name, nameserver, timeout)
    return results


def all_valid(records: list[DnsRecord]) -> bool:
    """Whether every record is valid: what makes a domain verified."""
    return all(record.status == "valid" for record in records)


def describe_failing(records: list[DnsRecord]) -> str:
    """Each record that is not valid, its status and why (``SPF example.com: missing (...)``)."""
    return "; ".join(
        f"{record.type} {record.name}: {record.status}"
        + (f" ({record.detail})" if record.detail else "")
        for record in records
        if record.status != "valid"
    )


def not_verified(domain: Domain) -> UnconfiguredDomain:
    """The refusal for a domain that is not verified, naming each failing record and why."""
    failing = ", ".join(f"{r.type} {r.status}" for r in domain.records if r.status != "valid")
    return UnconfiguredDomain(
        f"{domain.domain} is not verified: {describe_failing(domain.records)}",
        reason="sender_domain_unverified",
        details={"domain": domain.domain, "failing": failing},
    )


def sender_refusal(workspace: Workspace, from_email: str) -> UnconfiguredDomain | None:
    """Why mail from ``from_email`` may not go out: its domain is not a sending domain of the
    store, or is not verified (naming each failing record); None when it may."""
    name = from_email.rpartition("@")[2]
    try:
        domain = find_domain(workspace, name)
    except (NotFound, ValidationError):
        return UnconfiguredDomain(
            f"{name} is not a sending domain: lettr domain add {name}, then publish its records "
            "and verify it",
            reason="sender_domain_unknown",
            details={"domain": name},
        )
    return None if domain.status == "verified" else not_verified(domain)


def require_verified_sender(workspace: Workspace, from_email: str) -> None:
    """Raise ``unconfigured_domain`` unless mail from ``from_email`` may go out."""
    refusal = sender_refusal(workspace, from_email)
    if refusal is not None:
        raise refusal


def signing_key(workspace: Workspace, name: str) -> DkimKey | None:
    """The key to sign mail from ``name`` with; None for ``--no-dkim`` domains (the relay signs)."""
    with workspace.store.read() as session:
        return _key(_existing(session, name))


def _key(row: DomainRow) -> DkimKey | None:
    if not row.dkim or not row.selector or not row.private_key:
        return None
    return DkimKey(domain=row.name, selector=row.selector, private_pem=row.private_key)


def _look_up(
    workspace: Workspace, name: str, nameserver: str | None, timeout: float
) -> tuple[DomainRow, str | None, list[DnsRecord]]:
    """The domain's row, ``smtp.host``, and its records as DNS holds them now (no transaction is
    open during the lookups)."""
    smtp_host = workspace.settings().text("smtp.host")
    lookup = txt_lookup(nameserver, timeout=timeout)
    with workspace.store.read() as session:
        row = _existing(session, name)
    return row, smtp_host, check_records(_expected(row, smtp_host), lookup)


def _expected(row: DomainRow, smtp_host: str | None) -> list[DnsRecord]:
    return expected_records(
        row.name,
        selector=row.selector,
        public_key=row.public_key,
        spf_include=row.spf_include,
        smtp_host=smtp_host,
    )


def _view(row: DomainRow, smtp_host: str | None) -> Domain:
    checked = {(r["type"], r["name"], r["value"]): r for r in row.last_check or []}
    records: list[DnsRecord] = []
    changed = False
    for expected in _expected(row, smtp_host):
        found = checked.get((expected.type, expected.name, expected.value))
        shown = expected
        if found is not None:
            shown = expected.checked(found["status"], found["detail"])
        elif row.last_check is not None:
            changed = True
            if expected.value is not None:
                shown = expected.checked("missing", RECHECK)
        records.append(shown)
    status: DomainStatus = "verified" if row.status == "verified" else "failed"
    if row.last_check is None or changed:
        status = "pending"
    return Domain(
        id=row.id,
        domain=row.name,
        selector=row.selector,
        dkim=row.dkim,
        spf_include=row.spf_include,
        status=status,
        records=records,
        created_at=row.created_at,
        checked_at=row.checked_at,
        verified_at=row.verified_at if status == "verified" else None,
        updated_at=row.updated_at,
    )


def _row(session: Session, domain: str) -> DomainRow | None:
    return session.exec(select(DomainRow).where(col(DomainRow.name) == domain)).first()


def _existing(session: Session, name: str) -> DomainRow:
    domain = domain_name(name)
    row = _row(session, domain)
    if row is None:
        raise NotFound(f"no sending domain {domain}; lettr domain list shows them")
    return row


def _exists(domain: str) -> ResourceAlreadyExists:
    return ResourceAlreadyExists(f"the domain {domain} is already added")


def sign_as_sender(workspace: Workspace, from_email: str, message: bytes) -> bytes:
    """``message`` DKIM-signed when the sender's domain is added with a key; else unchanged."""
    from lettr_cli.domains.dkim import sign_message

    domain = domain_name(from_email.rpartition("@")[2], "from_email")
    with workspace.store.read() as session:
        row = _row(session, domain)
    key = None if row is None else _key(row)
    return message if key is None else sign_message(message, key)
