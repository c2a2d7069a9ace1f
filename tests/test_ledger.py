"""The ledger (issue 14, item 2): the one writer of campaign counters, events, contact opt-outs
and suppressions. Service-level tests on a real SQLite store; and the feedback import's writes
are conditional in SQL, so a report never overwrites what a run (or another report) recorded
meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from lettr_cli import ledger
from lettr_cli.signing.keys import signer as store_signer
from lettr_cli.store.tables import Campaign, Contact, OutboxRow, Suppression
from lettr_cli.tracking import feedback as fb
from lettr_cli.tracking.feedback_import import ImportSummary, _record
from lettr_cli.workspace import Workspace

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


@dataclass
class World:
    ws: Workspace
    campaign_id: str
    contact_id: str
    row_id: int

    def counters(self) -> dict[str, int]:
        with self.ws.store.read() as session:
            campaign = session.get(Campaign, self.campaign_id)
            assert campaign is not None
            return {name: int(getattr(campaign, name)) for name in ledger.COUNTERS}

    def status(self) -> str | None:
        with self.ws.store.read() as session:
            contact = session.get(Contact, self.contact_id)
            return None if contact is None else contact.status

    def activity(self) -> list[tuple[str, str]]:
        with self.ws.store.connect() as conn:
            rows = conn.execute(
                sa.select(ledger.activity.c.kind, ledger.activity.c.detail)
                .where(ledger.activity.c.contact_id == self.contact_id)
                .order_by(ledger.activity.c.id)
            )
            return [(str(kind), str(detail)) for kind, detail in rows]

    def events(self) -> list[tuple[str, int | None]]:
        with self.ws.store.connect() as conn:
            rows = conn.execute(
                sa.select(ledger.events.c.event_type, ledger.events.c.outbox_id).order_by(
                    ledger.events.c.id
                )
            )
            return [(str(kind), row_id) for kind, row_id in rows]


@pytest.fixture
def world(isolated_home: Path) -> Iterator[World]:
    """A sent campaign with one outbox row (status ``sent``) for one subscribed contact."""
    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    with ws.store.write() as session:
        campaign = Campaign(name="Spring", status="sent")
        contact = Contact(email="ann@example.org", email_key="ann@example.org")
        session.add_all([campaign, contact])
        session.flush()
        row = OutboxRow(
            campaign_id=campaign.id, contact_id=contact.id, email=contact.email, status="sent"
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        found = World(ws, campaign.id, contact.id, row.id)
    yield found
    ws.close()


def write(world: World) -> Iterator[sa.Connection]:
    with world.ws.store.connect("IMMEDIATE") as conn, conn.begin():
        yield conn


# -- counters ---------------------------------------------------------------------------------


def test_counters_add_up_in_one_statement_and_the_rest_stay(world: World) -> None:
    for conn in write(world):
        ledger.add_counters(conn, world.campaign_id, {"deliveries": 2, "sent_count": 2}, NOW)
        ledger.add_counters(
            conn, world.campaign_id, {"unsubscribes": 1, "list_unsubscribes": 1}, NOW
        )
        ledger.add_counters(conn, world.campaign_id, {"opens": 0}, NOW)  # nothing to add
    counters = world.counters()
    assert {k: v for k, v in counters.items() if v} == {
        "deliveries": 2, "sent_count": 2, "unsubscribes": 1, "list_unsubscribes": 1
    }  # fmt: skip


def test_an_unknown_counter_is_a_programming_error_and_writes_nothing(world: World) -> None:
    for conn in write(world):
        with pytest.raises(ValueError, match="status"):
            ledger.add_counters(conn, world.campaign_id, {"opens": 1, "status": 1}, NOW)
    assert not any(world.counters().values())


def test_the_counters_are_the_campaign_stats_and_its_counter_columns() -> None:
    columns = set(Campaign.model_fields)
    assert set(ledger.COUNTERS) <= columns
    assert set(ledger.STAT_KEYS) < set(ledger.COUNTERS)


# -- events -----------------------------------------------------------------------------------


def test_events_are_written_in_one_batch_with_what_each_carries(world: World) -> None:
    row = {"outbox_id": world.row_id, "contact_id": world.contact_id, "email": "ann@example.org"}
    for conn in write(world):
        ledger.record_events(conn, world.campaign_id, [row, row], "delivery", NOW)
        ledger.record_events(
            conn,
            world.campaign_id,
            [{**row, "user_agent": "x" * 2000, "machine": True}],
            "open",
            NOW,
        )
        ledger.record_events(conn, world.campaign_id, [], "click", NOW)
    assert world.events() == [("delivery", world.row_id)] * 2 + [("open", world.row_id)]
    with world.ws.store.connect() as conn:
        agent, machine = conn.execute(
            sa.select(ledger.events.c.user_agent, ledger.events.c.machine).where(
                ledger.events.c.event_type == "open"
            )
        ).one()
    assert (len(agent), machine) == (ledger.USER_AGENT_LIMIT, True)


def test_an_event_once_is_written_once_per_row(world: World) -> None:
    row = {"outbox_id": world.row_id, "email": "ann@example.org", "bounce_class": "10"}
    for conn in write(world):
        assert ledger.record_event_once(conn, world.campaign_id, row, "bounce", NOW)
        assert not ledger.record_event_once(conn, world.campaign_id, row, "bounce", NOW)
        assert ledger.record_event_once(conn, world.campaign_id, row, "spam_complaint", NOW)
    assert world.events() == [("bounce", world.row_id), ("spam_complaint", world.row_id)]


# -- opt-outs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        ("subscribed", "unsubscribed", True),
        ("unverified", "unsubscribed", False),
        ("bounced", "unsubscribed", False),
        ("subscribed", "bounced", True),
        ("unverified", "bounced", True),
        ("unsubscribed", "bounced", False),
        ("complained", "bounced", False),
        ("bounced", "complained", True),
        ("unsubscribed", "complained", True),
        ("complained", "complained", False),
    ],
)
def test_an_opt_out_replaces_only_what_it_may(
    world: World, old: str, new: str, changes: bool
) -> None:
    with world.ws.store.write() as session:
        contact = session.get(Contact, world.contact_id)
        assert contact is not None
        contact.status = old
        session.add(contact)
    for conn in write(world):
        assert ledger.opt_out(conn, world.contact_id, new, NOW, note="why") is changes
    assert world.status() == (new if changes else old)
    expected = [ledger.status_event(old, new)] if changes else []
    assert world.activity() == [
        (kind, f"{detail} (why)") for kind, detail in filter(None, expected)
    ]


def test_an_opt_out_of_a_deleted_contact_is_kept_as_a_suppression(world: World) -> None:
    with world.ws.store.write() as session:
        session.delete(session.get(Contact, world.contact_id))
        session.add(Suppression(email_key="bob@example.org", status="bounced"))
    for conn in write(world):
        assert not ledger.opt_out(conn, world.contact_id, "unsubscribed", NOW)  # no email
        assert not ledger.opt_out(
            conn, world.contact_id, "unsubscribed", NOW, email="Ann@Example.org"
        )
        assert not ledger.suppress_address(conn, "bob@example.org", "unsubscribed", NOW)
    with world.ws.store.read() as session:
        assert ledger.suppression_of(session, "ann@example.org") is not None
        kept = ledger.suppression_of(session, "bob@example.org")
        assert kept is not None and kept.status == "bounced"  # an entry is kept as it is


def test_the_session_side_changes_status_keeps_and_lifts_suppressions(world: World) -> None:
    with world.ws.store.write() as session:
        contact = session.get(Contact, world.contact_id)
        assert contact is not None
        ledger.change_status(session, contact, "complained")
        ledger.change_status(session, contact, "complained")  # no change, no entry
        ledger.keep_opt_out(session, contact)
        session.add(contact)
    assert world.status() == "complained"
    assert world.activity() == [("unsubscribed", "status subscribed → complained")]
    with world.ws.store.write() as session:
        entry = ledger.suppression_of(session, "ann@example.org")
        assert entry is not None and entry.status == "complained"
        assert ledger.lift_suppression(session, "ann@example.org")
    with world.ws.store.write() as session:
        assert not ledger.lift_suppression(session, "ann@example.org")
    with world.ws.store.read() as session:
        assert ledger.suppression_of(session, "ann@example.org") is None


# -- feedback: conditional writes (issue 14, item 5) --------------------------------------------


def report(world: World, kind: str, n: int, bounce_class: str | None = None) -> fb.Feedback:
    """A report matched by its headers: the original's Feedback-ID and the recipient."""
    return fb.Feedback(
        kind=kind,
        key=f"message-id:<report-{n}@example.net>",
        source=f"report-{n}.eml",
        recipient="ann@example.org",
        bounce_class=bounce_class,
        reason="550 5.1.1 no such user",
        original={"feedback-id": f"{world.campaign_id}:campaign:lettr"},
    )


def record(world: World, found: fb.Feedback, summary: ImportSummary) -> None:
    with world.ws.store.write() as session:
        signer = store_signer(session)
    for conn in write(world):
        _record(conn, signer, found, summary)


def test_a_bounce_report_after_the_run_recorded_one_counts_nothing(world: World) -> None:
    # The run bounced the row (its event and counter) after the report was matched to it.
    row = {"outbox_id": world.row_id, "contact_id": world.contact_id, "email": "ann@example.org"}
    for conn in write(world):
        ledger.record_events(conn, world.campaign_id, [row], "bounce", NOW)
        ledger.add_counters(conn, world.campaign_id, {"bounces": 1}, NOW)
    summary = ImportSummary()
    record(world, report(world, fb.BOUNCE, 1, bounce_class="10"), summary)
    assert (summary.bounces, summary.ignored) == (0, 1)
    assert world.counters()["bounces"] == 1
    assert world.events() == [("bounce", world.row_id)]
    assert world.status() == "subscribed"  # the report that did not count changes nothing


def test_feedback_counts_each_row_once_and_never_downgrades_a_contact(world: World) -> None:
    summary = ImportSummary()
    record(world, report(world, fb.COMPLAINT, 1), summary)
    record(world, report(world, fb.COMPLAINT, 2), summary)  # another report, same row
    record(world, report(world, fb.BOUNCE, 3, bounce_class="10"), summary)
    assert (summary.complaints, summary.bounces, summary.ignored) == (1, 1, 1)
    counters = world.counters()
    assert (counters["spam_complaints"], counters["bounces"]) == (1, 1)
    assert world.status() == "complained"  # the hard bounce does not replace a complaint
    assert world.activity() == [("unsubscribed", "status subscribed → complained")]
    # The row itself is left as the run left it: a delivery stays counted.
    with world.ws.store.read() as session:
        found = session.get(OutboxRow, world.row_id)
        assert found is not None and found.status == "sent"
