"""Sending, scheduling and doctor as services any face can call (issue 14, items 3 and 4).

Each service is awaited from inside a running event loop, as the Textual wizard and the HTTP API
will (``asyncio.run`` below the faces would raise "asyncio.run() cannot be called from a running
event loop" there), against a real SQLite store and an aiosmtpd relay on loopback.

The write that starts a send or a schedule no longer checks the campaign a second time: it
only sees that the campaign is as its checks saw it. A campaign edited in between is never acted
on with what was checked before the edit; the pieces are interleaved by hand, or by a relay that
edits the campaign while it answers the relay check.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lettr_cli.campaigns.campaigns import CampaignFields, edit_campaign, find_campaign
from lettr_cli.campaigns.readiness import CampaignChanged
from lettr_cli.campaigns.scheduling import (
    check_due,
    check_schedule,
    promote_checked,
    promote_due,
    schedule,
    schedule_checked,
    unschedule,
)
from lettr_cli.campaigns.templates import update_template
from lettr_cli.delivery.control import check_send, start_checked, start_send
from lettr_cli.doctor import Check, run_checks
from lettr_cli.errors import LettrError
from lettr_cli.workspace import Workspace
from tests.smtp_relay import Relay, free_port
from tests.test_campaigns import html_file
from tests.test_schedule import AT, AT_UTC, new_campaign, ready, row, store  # noqa: F401


def in_loop(work: Callable[[], Any]) -> Any:
    """Await ``work()`` inside a running event loop, as a face would."""

    async def face() -> Any:
        asyncio.get_running_loop()  # a loop is running here: asyncio.run would refuse
        return await work()

    return asyncio.run(face())


def edit(ws: Workspace, ref: str, **changes: Any) -> None:
    with ws.store.write() as session:
        edit_campaign(session, ref, CampaignFields(**changes))


@pytest.fixture
def editing_relay(lettr: Any, ready: str) -> Iterator[Callable[[Callable[[], None]], None]]:  # noqa: F811
    """Point lettr at a relay that, the first time a client says QUIT (the end of lettr's relay
    check), runs the given edit before it answers: the campaign changes between its checks and
    the write lock."""
    relays: list[Relay] = []

    def start(edit: Callable[[], None]) -> None:
        relay = Relay()
        relay.at("quit", edit)
        relays.append(relay.start())
        assert lettr("config", "set", "smtp.port", str(relay.port)).exit_code == 0

    yield start
    for relay in relays:
        relay.stop()


# -- async-safe services ----

PACKAGE = Path(__file__).resolve().parent.parent / "lettr_cli"
OWN_THREAD = {("sink.py", "thread_main")}  # running_sink's loop runs on a thread of its own
FACES = {"cli", "tui", "api"}  # the parts that talk to people may start a loop


class LoopStarts(ast.NodeVisitor):
    """Each ``asyncio.run`` or ``run_until_complete`` call, with the function it is in."""

    def __init__(self) -> None:
        self.functions: list[str] = []
        self.calls: list[tuple[str, int]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        on_asyncio = isinstance(func, ast.Attribute) and (
            isinstance(func.value, ast.Name) and func.value.id == "asyncio"
        )
        if isinstance(func, ast.Attribute) and (
            func.attr == "run_until_complete" or (func.attr == "run" and on_asyncio)
        ):
            self.calls.append((self.functions[-1] if self.functions else "", node.lineno))
        self.generic_visit(node)


def test_no_service_calls_asyncio_run() -> None:
    """Only the faces (cli, tui, api) start an event loop with ``asyncio.run``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE)
        if where.parts[0] in FACES:
            continue
        starts = LoopStarts()
        starts.visit(ast.parse(path.read_text(encoding="utf-8")))
        found += [
            f"{where}:{line} in {function}"
            for function, line in starts.calls
            if (str(where), function) not in OWN_THREAD
        ]
    assert found == []


def test_a_send_starts_from_inside_a_running_event_loop(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
) -> None:
    started = in_loop(lambda: start_send(store, ready, detach=True))
    assert started.handle is None
    assert row(isolated_home, ready)["status"] == "preparing"


def test_a_send_with_its_lease_starts_from_inside_a_running_event_loop(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
) -> None:
    started = in_loop(lambda: start_send(store, ready, detach=False))
    assert started.handle is not None and started.handle.campaign_id == ready
    assert row(isolated_home, ready)["status"] == "preparing"


def test_a_relay_refusal_from_inside_a_running_event_loop_changes_nothing(
    lettr: Any,
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
) -> None:
    lettr("config", "set", "smtp.port", str(free_port()))
    before = row(isolated_home, ready)
    with pytest.raises(LettrError) as sent:
        in_loop(lambda: start_send(store, ready, detach=True))
    assert sent.value.code == "transmission_failed"
    with pytest.raises(LettrError) as scheduled:
        in_loop(lambda: schedule(store, ready, AT, None))
    assert scheduled.value.code == "transmission_failed"
    assert row(isolated_home, ready) == before


def test_a_campaign_is_scheduled_from_inside_a_running_event_loop(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
) -> None:
    campaign, parsed = in_loop(lambda: schedule(store, ready, AT, None))
    assert campaign.status == "scheduled"
    assert parsed.at.isoformat() == AT_UTC
    assert row(isolated_home, ready)["status"] == "scheduled"


def test_doctor_runs_from_inside_a_running_event_loop(
    lettr: Any, smtp_server: Any, isolated_home: Path
) -> None:
    for key, value in (
        ("smtp.host", smtp_server.host),
        ("smtp.port", str(smtp_server.port)),
        ("smtp.security", "none"),
    ):
        assert lettr("config", "set", key, value).exit_code == 0

    async def collect() -> list[Check]:
        checks = run_checks(isolated_home / "lettr.db", home=isolated_home, environ={})
        return [check async for check in checks]

    done = {check.check: check for check in in_loop(collect)}
    assert list(done) == ["store", "config", "relay", "domains", "tracking"]
    assert done["relay"].ok, done["relay"].detail
    assert done["relay"].detail.startswith(f"127.0.0.1:{smtp_server.port} none")
    assert not done["domains"].ok  # no sending domain yet: no DNS asked


def test_doctor_from_inside_a_running_event_loop_reports_a_closed_relay(
    lettr: Any, isolated_home: Path
) -> None:
    lettr("config", "set", "smtp.host", "127.0.0.1")
    lettr("config", "set", "smtp.port", str(free_port()))

    async def relay_check() -> Check:
        checks = run_checks(isolated_home / "lettr.db", home=isolated_home, environ={})
        found = [check async for check in checks if check.check == "relay"]
        return found[0]

    relay = in_loop(relay_check)
    assert not relay.ok and "cannot connect" in relay.detail


# -- short write locks: the write acts only on what was checked ---------------------------------


def test_a_send_edited_after_its_checks_is_refused_and_left_as_edited(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
) -> None:
    checked = check_send(store, ready)
    edit(store, ready, subject="Edited after the checks")
    with pytest.raises(CampaignChanged) as changed:
        start_checked(store, checked, None, detach=True)
    assert changed.value.code == "campaign_not_sendable"
    assert "changed while it was being checked" in changed.value.message
    stored = row(isolated_home, ready)
    assert (stored["status"], stored["subject"]) == ("draft", "Edited after the checks")
    started = start_checked(store, check_send(store, ready), None, detach=True)
    assert (started.campaign.status, started.campaign.subject) == (
        "preparing",
        "Edited after the checks",
    )


def test_a_send_whose_campaign_was_scheduled_after_its_checks_is_refused(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
) -> None:
    checked = check_send(store, ready)
    schedule_checked(store, check_schedule(store, ready, AT, None), None)
    with pytest.raises(CampaignChanged):
        start_checked(store, checked, None, detach=True)
    assert row(isolated_home, ready)["status"] == "scheduled"
    with pytest.raises(LettrError) as again:
        check_send(store, ready)
    assert again.value.code == "campaign_has_pending_schedule"


def test_a_send_whose_linked_template_changed_after_its_checks_is_refused(
    lettr: Any,
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    tmp_path: Path,
    isolated_home: Path,
) -> None:
    page = html_file(tmp_path, "<p>v1 {{ unsubscribe_link }}</p>", "v1.html")
    assert lettr("template", "create", "News", "--html", page).exit_code == 0
    linked = new_campaign(lettr, tmp_path, "Linked", "--template", "News")
    checked = check_send(store, linked)
    with store.store.write() as session:
        update_template(session, "News", "<p>v2 {{ unsubscribe_link }}</p>", None)
    with pytest.raises(CampaignChanged):
        start_checked(store, checked, None, detach=True)
    assert row(isolated_home, linked)["status"] == "draft"
    started = start_checked(store, check_send(store, linked), None, detach=True)
    assert started.campaign.template_version == 2


def test_a_schedule_edited_after_its_checks_is_refused(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
) -> None:
    checked = check_schedule(store, ready, AT, None)
    edit(store, ready, subject="Edited after the checks")
    with pytest.raises(CampaignChanged) as changed:
        schedule_checked(store, checked, None)
    assert "it was not scheduled" in changed.value.message
    stored = row(isolated_home, ready)
    assert (stored["status"], stored["scheduled_at"]) == ("draft", None)


def test_a_campaign_edited_during_the_relay_check_is_sent_as_checked_again(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
    editing_relay: Callable[[Callable[[], None]], None],
) -> None:
    editing_relay(lambda: edit(store, ready, subject="Edited during the relay check"))
    started = in_loop(lambda: start_send(store, ready, detach=True))
    stored = row(isolated_home, ready)
    assert started.campaign.subject == stored["subject"] == "Edited during the relay check"
    assert stored["status"] == "preparing"


def test_a_campaign_made_unsendable_during_the_relay_check_is_refused_as_edited(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
    editing_relay: Callable[[Callable[[], None]], None],
) -> None:
    editing_relay(lambda: edit(store, ready, from_email="news@elsewhere.example"))
    with pytest.raises(LettrError) as refused:
        in_loop(lambda: start_send(store, ready, detach=True))
    assert refused.value.code == "unconfigured_domain"
    stored = row(isolated_home, ready)
    assert (stored["status"], stored["from_email"]) == ("draft", "news@elsewhere.example")


def test_a_schedule_edited_during_the_relay_check_is_checked_again(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
    editing_relay: Callable[[Callable[[], None]], None],
) -> None:
    editing_relay(lambda: edit(store, ready, from_email="news@elsewhere.example"))
    with pytest.raises(LettrError) as refused:
        in_loop(lambda: schedule(store, ready, AT, None))
    assert refused.value.code == "unconfigured_domain"
    with store.store.read() as session:
        assert find_campaign(session, ready).status == "draft"


DUE = datetime(2099, 12, 1, 8, 0, tzinfo=UTC)  # AT in UTC


def test_a_due_campaign_unscheduled_after_its_checks_is_left_alone(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
) -> None:
    schedule_checked(store, check_schedule(store, ready, AT, None), None)
    checked = check_due(store, ready, DUE)
    assert checked is not None and checked.reason is None
    unschedule(store, ready)
    assert promote_checked(store, checked) is None
    assert row(isolated_home, ready)["status"] == "draft"
    assert promote_due(store, DUE) == []


def test_a_due_campaign_rescheduled_after_its_checks_is_left_alone(
    ready: str,  # noqa: F811
    store: Workspace,  # noqa: F811
    isolated_home: Path,
) -> None:
    schedule_checked(store, check_schedule(store, ready, AT, None), None)
    checked = check_due(store, ready, DUE)
    assert checked is not None
    schedule_checked(store, check_schedule(store, ready, "2099-12-02T09:00", None), None)
    assert promote_checked(store, checked) is None
    stored = row(isolated_home, ready)
    assert stored["status"] == "scheduled"
    assert stored["scheduled_at"] == datetime(2099, 12, 2, 8, 0, tzinfo=UTC)
