"""`lettr doctor`: is this installation able to send? One check at a time, each a yes or no.

The checks, in order:

- ``store``: SQLite's ``quick_check`` of the store file, with its path and schema version. A store
  that cannot be opened at all (damaged, written by a newer lettr, unreadable) still gets this
  line, with SQLite's words; the other checks then say they were not made, because the
  configuration they need lives in the store. On PostgreSQL: the server answers, its version,
  and the store's schema version is the one this lettr writes (the URL shown without password).
- ``config``: every configured value (stored or ``LETTR_*``) fits its key. Doctor reads the
  configuration leniently so that one bad value does not hide the other checks; other commands
  refuse it.
- ``relay``: connect with the configured TLS mode and AUTH, then leave (``check_relay``).
- ``domain NAME``, one per sending domain: its DNS records as they are now. Nothing is recorded
  (``lettr domain verify`` records); a domain whose records are right but that is not verified in
  the store fails too, because campaigns from it are refused until it is. With no domain at all,
  one ``domains`` line fails: nothing can be sent.
- ``tracking``: ``tracking.base_url`` is https, or http on a loopback host.

Doctor changes nothing in the store (beyond creating and migrating it, as every command does).
``run_checks`` is an async iterator, safe inside any running event loop: the relay is awaited and
the store's and DNS's blocking work runs on worker threads; the CLI runs it with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError

from lettr_cli.domains.lookup import DEFAULT_TIMEOUT
from lettr_cli.errors import LettrError
from lettr_cli.settings import KEYS, PASSWORD_ENV, Settings, is_loopback_host
from lettr_cli.store.location import StoreLocation
from lettr_cli.workspace import Workspace

NO_RELAY = "no relay configured: lettr config set smtp.host HOST"
NO_DOMAINS = "no sending domains yet: lettr domain add DOMAIN (nothing can be sent without one)"


@dataclass(frozen=True)
class Check:
    """One line of ``lettr doctor``: what was checked, whether it passed, and the particulars."""

    check: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, str | bool]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}


async def run_checks(
    db: StoreLocation,
    *,
    home: Path,
    environ: Mapping[str, str],
    nameserver: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> AsyncIterator[Check]:
    """Every check, each as soon as it is made (the relay and DNS may take seconds each).

    ``nameserver`` (``HOST[:PORT]``) and ``timeout`` are for the domains' DNS lookups, as in
    ``lettr domain verify``. A malformed ``nameserver`` is refused (``validation_error``) before
    any check is made.
    """
    if nameserver is not None:
        from lettr_cli.addressing.domains import nameserver_address

        nameserver_address(nameserver)
    try:
        workspace = await asyncio.to_thread(
            Workspace.open, db, home=home, environ=environ, strict=False
        )
    except (LettrError, DBAPIError, OSError) as exc:
        yield await asyncio.to_thread(_unopened_store, db, _words(exc))
        for check in _not_checked(_UNREAD):
            yield check
        return
    try:
        yield await asyncio.to_thread(_guarded, "store", lambda: _store(workspace))
        try:
            settings = await asyncio.to_thread(workspace.settings)
        except (LettrError, DBAPIError) as exc:
            for check in _not_checked(f"{_UNREAD}: {_words(exc)}"):
                yield check
            return
        yield _config(settings)
        try:
            yield await _relay(workspace, settings)
        except (LettrError, DBAPIError) as exc:
            yield Check("relay", False, _words(exc))
        async for check in _domains(workspace, nameserver, timeout):
            yield check
        yield _tracking(settings)
    finally:
        workspace.close()


# -- store ---------------------------------------------------------------------------------------
def _store(workspace: Workspace) -> Check:
    store = workspace.store
    where = f"{store.where}, schema version {workspace.schema_version}"
    if store.on_server:
        from lettr_cli.store.migrations import SCHEMA_VERSION

        server = store.server_version()
        if workspace.schema_version != SCHEMA_VERSION:
            return Check(
                "store",
                False,
                f"{where}: this lettr writes schema version {SCHEMA_VERSION}; {server}",
            )
        return Check("store", True, f"{where}, {server} answers")
    problems = store.integrity_problems()
    if problems:
        return Check("store", False, f"{where}: quick_check found: {'; '.join(problems)}")
    return Check("store", True, f"{where}, quick_check ok")


def _unopened_store(db: StoreLocation, why: str) -> Check:
    """The store line when the store cannot be opened: why, and what SQLite's check finds."""
    from lettr_cli.store.engine import Store

    detail = why if str(db) in why else f"cannot open the store {db}: {why}"
    if not isinstance(db, Path):
        return Check("store", False, detail)
    try:
        store = Store(db)
    except OSError:
        return Check("store", False, detail)
    try:
        problems = store.integrity_problems()
    finally:
        store.close()
    news = [problem for problem in problems if problem not in detail]
    if not problems:
        detail = f"{detail.rstrip('.')}; quick_check ok"
    elif news:
        detail = f"{detail.rstrip('.')}; quick_check found: {'; '.join(news)}"
    return Check("store", False, detail)


_UNREAD = "not checked: the configuration is kept in the store, which cannot be read"


def _not_checked(reason: str) -> Iterator[Check]:
    for name in ("config", "relay", "domains", "tracking"):
        yield Check(name, False, reason)


# -- configuration -------------------------------------------------------------------------------
def _config(settings: Settings) -> Check:
    if settings.problems:
        reasons = "; ".join(problem.message for problem in settings.problems)
        them = "it" if len(settings.problems) == 1 else "them"
        return Check("config", False, f"{reasons} (every other command refuses to run with {them})")
    sources = [setting.source for setting in settings.all()]
    return Check(
        "config",
        True,
        f"every value fits its key ({sources.count('store')} stored, "
        f"{sources.count('env')} from the environment)",
    )


def _invalid(settings: Settings, *names: str) -> str | None:
    problems = [p.message for p in settings.problems if p.key in names]
    return "; ".join(problems) or None


# -- relay ---------------------------------------------------------------------------------------
async def _relay(workspace: Workspace, settings: Settings) -> Check:
    from lettr_cli.campaigns.readiness import check_relay

    invalid = _invalid(settings, *(name for name in KEYS if name.startswith("smtp.")))
    if invalid:
        return Check("relay", False, f"not tried: {invalid}")
    host = settings.text("smtp.host")
    if not host:
        return Check("relay", False, NO_RELAY)
    username = settings.text("smtp.username")
    shown_host = f"[{host}]" if ":" in host else host
    where = f"{shown_host}:{settings.integer('smtp.port')} {settings['smtp.security']}"
    auth = f"AUTH as {username}" if username else "no AUTH (smtp.username is not set)"
    refusal = await check_relay(workspace)
    if refusal is None:
        return Check("relay", True, f"{where}, {auth}")
    hint = f" ({PASSWORD_ENV} is not set)" if username and not settings.smtp_password else ""
    return Check("relay", False, f"{where}, {auth}{hint}: {refusal.message}")


# -- sending domains -----------------------------------------------------------------------------
async def _domains(
    workspace: Workspace, nameserver: str | None, timeout: float
) -> AsyncIterator[Check]:
    from lettr_cli.domains.lookup import DnsUnavailable
    from lettr_cli.domains.service import (
        all_valid,
        check_domain,
        describe_failing,
        list_domains,
    )

    try:
        domains, _ = await asyncio.to_thread(list_domains, workspace)
    except (LettrError, DBAPIError) as exc:
        yield Check("domains", False, f"cannot list the sending domains: {_words(exc)}")
        return
    if not domains:
        yield Check("domains", False, NO_DOMAINS)
        return
    unanswered: str | None = None  # the domain whose lookup DNS did not answer
    for domain in domains:
        name = f"domain {domain.domain}"
        if unanswered is not None:
            # An unreachable nameserver would time out once per domain: wait for it once.
            yield Check(name, False, f"not checked: DNS could not be asked for {unanswered}")
            continue
        try:
            records = await asyncio.to_thread(
                check_domain, workspace, domain.domain, nameserver=nameserver, timeout=timeout
            )
        except DnsUnavailable as exc:
            unanswered = domain.domain
            yield Check(name, False, exc.message)
            continue
        except (LettrError, DBAPIError) as exc:
            yield Check(name, False, _words(exc))
            continue
        found = ", ".join(record.type for record in records)
        verify = f"lettr domain verify {domain.domain}"
        if not all_valid(records):
            still = (
                f" (still verified in the store until {verify})"
                if domain.status == "verified"
                else ""
            )
            yield Check(name, False, describe_failing(records) + still)
        elif domain.status != "verified":
            yield Check(
                name,
                False,
                f"{found} valid in DNS, but the domain is {domain.status} in the store and "
                f"campaigns from it are refused: {verify}",
            )
        else:
            yield Check(name, True, f"{found} valid; verified")


# -- tracking ------------------------------------------------------------------------------------
def _tracking(settings: Settings) -> Check:
    for problem in settings.problems:
        if problem.key == "tracking.base_url":
            return Check("tracking", False, f"{problem.raw}: {problem.message}")
    url = str(settings["tracking.base_url"])
    host = urlsplit(url).hostname or ""
    if is_loopback_host(host):
        return Check(
            "tracking",
            True,
            f"{url} (loopback: its links open only on this machine; recipients need an https URL)",
        )
    return Check("tracking", True, url)


# -- helpers -------------------------------------------------------------------------------------
def _guarded(name: str, make: Callable[[], Check]) -> Check:
    """The check ``make`` makes; a refusal or a store that cannot be read fails it, in words."""
    try:
        return make()
    except (LettrError, DBAPIError) as exc:
        return Check(name, False, _words(exc))


def _words(exc: BaseException) -> str:
    """What went wrong, in the words of lettr, SQLite or the system (no SQL, no traceback)."""
    if isinstance(exc, LettrError):
        return exc.message
    if isinstance(exc, DBAPIError):
        return str(exc.orig)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)
