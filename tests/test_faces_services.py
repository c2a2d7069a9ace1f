# ruff: noqa: F811 (the fixtures imported from tests.test_schedule are parameters here)
"""The services a face builds on, called as Python functions (issue 14, item 3): the prompt
prefill, the review summary, what a run's result means, progress and ETA, and the store-polled
watch. A real SQLite store, an aiosmtpd relay on loopback, real runs of the sending engine; the
async services are awaited inside a running event loop, as the Textual wizard and the HTTP API
will. The CLI's words for the same things are the services' words (its tests hold them)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from lettr_cli.campaigns.campaigns import CampaignFields, create_campaign, find_campaign
from lettr_cli.campaigns.prefill import Prefill, prefill
from lettr_cli.delivery.control import start_send
from lettr_cli.delivery.engine import CampaignRun
from lettr_cli.delivery.observer import RunResult, Snapshot
from lettr_cli.delivery.progress import describe, eta_seconds, eta_text, progress_of, state_line
from lettr_cli.delivery.review import review, summarize
from lettr_cli.delivery.run_outcome import (
    FAILED,
    IN_REVIEW,
    LEASE_LOST,
    PAUSED,
    RELAY_FAILED,
    RETRIES_WAITING,
    STOPPED,
    Left,
    describe_result,
    in_doubt_advice,
)
from lettr_cli.delivery.watch import WATCHED_UNTIL, Watched, watch
from lettr_cli.delivery.writer import Tally
from lettr_cli.errors import EXIT_FAILURE, EXIT_SIGINT, EXIT_SIGTERM, TransmissionFailed
from lettr_cli.workspace import Workspace
from tests.smtp_relay import Relay, free_port
from tests.test_faces_async import in_loop
from tests.test_schedule import ready, store  # noqa: F401

# -- the prompt prefill -------------------------------------------------------------------------


def _earlier(ws: Workspace, name: str, subject: str, sender: str, **more: str) -> str:
    with ws.store.write() as session:
        fields = CampaignFields(name=name, subject=subject, from_email=sender, **more)
        return create_campaign(session, fields, track_opens=True, track_clicks=True).id


def test_no_prompt_offers_nothing(store: Workspace) -> None:
    _earlier(store, "Spring shoe sale", "Shoes", "shoes@example.com")
    with store.store.read() as session:
        assert prefill(session, None) == Prefill()
        assert prefill(session, "") == Prefill()
    given = CampaignFields(name="Mine", subject=None)
    assert Prefill().fill(given) == given


def test_the_closest_earlier_campaign_lends_its_sender(store: Workspace) -> None:
    shoes = _earlier(store, "Spring shoe sale", "Shoes for spring: 30% off", "shoes@example.com",
                     from_name="Shoe shop", preview_text="Sneakers, boots")  # fmt: skip
    _earlier(store, "Monthly newsletter", "What happened in May", "news@example.com",
             reply_to="editor@example.com", preview_text="Our stories")  # fmt: skip

    with store.store.read() as session:
        offered = prefill(session, "autumn shoe sale with boots discounts")

    assert offered.name == "autumn shoe sale with boots discounts"
    assert offered.subject == "Autumn shoe sale boots discounts"
    assert offered.match is not None
    assert (offered.match.campaign_id, offered.match.name) == (shoes, "Spring shoe sale")
    assert 0 < offered.match.score <= 1
    # The match's sender, an empty string where it had none (so a face shows an empty field).
    assert (offered.from_email, offered.from_name, offered.reply_to) == (
        "shoes@example.com", "Shoe shop", "")  # fmt: skip
    # Given values win; unset ones are filled; an empty name takes the offered one.
    filled = offered.fill(CampaignFields(name="", from_email="me@example.net", html="<p>x</p>"))
    assert filled.name == "autumn shoe sale with boots discounts"
    assert filled.subject == "Autumn shoe sale boots discounts"
    assert (filled.from_email, filled.from_name, filled.reply_to) == (
        "me@example.net", "Shoe shop", "")  # fmt: skip
    assert filled.html == "<p>x</p>"


def test_without_a_close_campaign_only_name_and_subject_are_offered(
    store: Workspace,
) -> None:
    _earlier(store, "Webinar invite", "Join our product webinar", "events@example.org")
    with store.store.read() as session:
        offered = prefill(session, "Winter boots clearance")
    assert (offered.name, offered.subject) == ("Winter boots clearance", "Winter boots clearance")
    assert offered.match is None
    assert offered.from_email is offered.from_name is offered.reply_to is None
    filled = offered.fill(CampaignFields())
    assert filled.from_email is None and filled.name == "Winter boots clearance"


# -- the review summary -------------------------------------------------------------------------


def test_review_of_a_ready_campaign(lettr, ready: str, store: Workspace) -> None:
    summary = in_loop(lambda: review(store, ready))

    assert summary.sendable and summary.refusals == [] and summary.errors() == []
    assert summary.campaign_id == ready and summary.name == "Spring"
    assert (summary.status, summary.subject, summary.from_email) == (
        "draft", "Spring letter", "news@example.com")  # fmt: skip
    assert summary.audience == {"all": False, "lists": ["VIP"], "segments": []}
    assert summary.estimated_recipients == 2
    assert summary.scheduled_at is None
    # The CLI prints the same summary.
    assert lettr("campaign", "review", ready, "--json").json() == summary.to_json()


def test_review_lists_every_refusal_the_relays_last(
    lettr,
    ready: str,
    store: Workspace,
) -> None:
    lettr("campaign", "edit", ready, "--from-email", "news@example.org")
    lettr("config", "set", "smtp.port", str(free_port()))

    summary = in_loop(lambda: review(store, ready))

    assert not summary.sendable
    codes = [e["code"] for e in summary.errors()]
    assert codes == ["unconfigured_domain", "transmission_failed"]
    assert isinstance(summary.refusals[-1], TransmissionFailed)
    # Without the relay's verdict (a face that asks the relay itself, or later).
    alone = summarize(store, ready)
    assert [e["code"] for e in alone.errors()] == ["unconfigured_domain"]
    assert alone.estimated_recipients == 2


def test_review_of_a_bare_draft(store: Workspace) -> None:
    with store.store.write() as session:
        fields = CampaignFields(name="Bare")
        bare = create_campaign(session, fields, track_opens=True, track_clicks=True).id
    summary = summarize(store, bare)
    assert summary.errors()[0]["code"] == "campaign_not_sendable"
    assert "still needs" in summary.errors()[0]["message"]
    assert summary.estimated_recipients == 0


# -- what a run's result means ------------------------------------------------------------------


class Collecting:
    """An observer that keeps what a run reports."""

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []
        self.states: list[str] = []

    def progress(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)

    def state(self, campaign_id: str, name: str, status: str, detail: str) -> None:
        self.states.append(status)


def _run(ws: Workspace, ref: str, observer: Collecting | None = None) -> RunResult:
    async def send_now() -> RunResult:
        started = await start_send(ws, ref, detach=False)
        assert started.handle is not None
        return await CampaignRun(ws, started.handle, observer=observer).drive()

    result = in_loop(send_now)
    assert isinstance(result, RunResult)
    return result


@pytest.fixture
def scripted(lettr: Any, ready: str) -> Iterator[Relay]:
    with Relay() as relay:
        assert lettr("config", "set", "smtp.port", str(relay.port)).exit_code == 0
        yield relay


def test_a_sent_run_needs_no_words(ready: str, store: Workspace) -> None:
    seen = Collecting()
    result = _run(store, ready, seen)

    outcome = describe_result(result)

    assert (outcome.kind, outcome.lines, outcome.error, outcome.exit_code) == ("sent", [], None, 0)
    # Progress from the engine's own snapshots: all done, nothing left to estimate.
    last = progress_of(seen.snapshots[-1])
    assert (last.done, last.total, last.sent, last.eta_seconds, last.eta) == (2, 2, 2, None, "-")
    assert seen.states[-1] == "sent"


def test_messages_in_doubt_get_the_retry_command(
    ready: str,
    store: Workspace,
    scripted: Relay,
) -> None:
    scripted.drop_at_data.add("b@example.com")
    result = _run(store, ready)
    assert (result.status, result.in_doubt) == ("sent", 1)

    outcome = describe_result(result)

    assert outcome.kind == "sent" and outcome.message is None and outcome.exit_code == 0
    assert outcome.advice == (
        f"1 message is in doubt (the relay may have them): `lettr campaign show {ready}` lists "
        f"them; `lettr campaign retry {ready} --in-doubt` sends them again."
    )
    assert outcome.lines == [outcome.advice]


def test_a_relay_that_fails_midway_is_a_transmission_failure(
    ready: str,
    store: Workspace,
    scripted: Relay,
) -> None:
    scripted.mail_reply = "421 4.7.0 Try again later"
    result = _run(store, ready)
    assert result.relay_failure is not None

    outcome = describe_result(result)

    assert outcome.kind == RELAY_FAILED and outcome.exit_code == EXIT_FAILURE
    assert isinstance(outcome.error, TransmissionFailed)
    assert outcome.message == outcome.error.message
    assert outcome.message.startswith(result.relay_failure)
    assert outcome.message.endswith(
        "Nothing was marked failed; the campaign resumes with `lettr daemon tick` once the "
        "relay works."
    )


def test_a_paused_run(lettr, ready: str, store: Workspace) -> None:
    lettr("config", "set", "sending.paused", "true")
    result = _run(store, ready)

    outcome = describe_result(result)

    assert outcome.kind == PAUSED and outcome.exit_code == 0
    assert outcome.lines == [
        "Paused: sending.paused or the PAUSE file is set; nothing new was claimed."
    ]


def _result(**fields: Any) -> RunResult:
    return RunResult(campaign_id="0123456789abcdef", name="Sale", **fields)


def test_results_that_wait_for_someone() -> None:
    review_ = describe_result(_result(status="in_review", failure_reason="over 5,000 recipients"))
    assert review_.kind == IN_REVIEW and review_.exit_code == 0
    assert review_.message == (
        "Parked in review: over 5,000 recipients. `lettr campaign approve 01234567` sends it; "
        "`lettr campaign reject` stops it."
    )
    lost = describe_result(_result(status="sending", lease_lost=True))
    assert lost.kind == LEASE_LOST
    assert lost.message == "Another process took over this campaign's lease; it goes on sending it."
    due = datetime(2026, 5, 1, 9, 30, 15, 123, tzinfo=UTC)
    retries = describe_result(_result(status="sending", retry_at=due, in_doubt=2))
    assert retries.kind == RETRIES_WAITING
    assert retries.message == (
        "Only scheduled retries remain: the next is due at 2026-05-01T09:30:15+00:00; "
        "`lettr daemon tick` finishes them."
    )
    assert retries.advice == in_doubt_advice("0123456789abcdef", 2, "sending")
    assert retries.advice is not None
    assert retries.advice.startswith("2 messages are in doubt")
    assert "once the campaign is sent, `lettr campaign retry" in retries.advice
    failed = describe_result(_result(status="failed", failure_reason="empty audience"))
    assert failed.kind == FAILED and failed.exit_code == EXIT_FAILURE
    assert failed.error is not None and failed.error.code == "campaign_not_sendable"
    assert failed.message == "the campaign failed: empty audience"


def test_a_stopped_run_is_described_from_the_store() -> None:
    result = _result(status="sending", interrupted=True, in_doubt=5)
    with pytest.raises(ValueError):
        describe_result(result, signalled=EXIT_SIGINT)
    outbox = {"queued": 3, "claimed": 1, "in_doubt": 1, "sent": 2}
    queued = describe_result(result, signalled=EXIT_SIGTERM, left=Left("c1", "sending", outbox))
    assert (queued.kind, queued.exit_code, queued.error) == (STOPPED, EXIT_SIGTERM, None)
    assert queued.lines == [
        "Stopped: 4 rows are still queued; `lettr daemon tick` finishes the send.",
        in_doubt_advice("c1", 1, "sending"),
    ]
    done = describe_result(result, signalled=EXIT_SIGINT, left=Left("c1", "sent", {"sent": 9}))
    assert done.lines == ["Stopped: nothing was left to send; the campaign is sent."]
    assert done.exit_code == EXIT_SIGINT
    early = describe_result(result, signalled=EXIT_SIGINT, left=Left("c1", "preparing", {}))
    assert early.lines == [
        "Stopped while the campaign was preparing; `lettr daemon tick` goes on from there."
    ]


# -- progress and ETA ---------------------------------------------------------------------------


def _snapshot(total: int, elapsed: float, baseline: int = 0, **tally: int) -> Snapshot:
    return Snapshot("c1", "Sale", total, Tally(**tally), elapsed, baseline)


def test_rate_and_time_left() -> None:
    midway = _snapshot(1000, 10.0, sent=300, failed=5, bounced=5, skipped=10, retrying=4)
    figures = progress_of(midway)
    assert (figures.done, figures.sent, figures.failed, figures.retrying) == (320, 300, 10, 4)
    assert figures.rate == 30.0
    assert figures.eta_seconds == eta_seconds(midway) == 22  # 680 left at 30/s
    assert figures.eta == "0m22s"
    assert describe(midway) == (
        "Sale: 300/1000 sent, 30/s, 10 failed, 4 retries waiting, 10 skipped, 0 in doubt, ETA 0m22s"
    )
    # A watcher that joined midway measures only what was sent since.
    joined = _snapshot(1000, 10.0, baseline=280, sent=300)
    assert progress_of(joined).rate == 2.0 and eta_text(eta_seconds(joined)) == "5m50s"
    # Nothing measured yet, or nothing left: no estimate.
    assert eta_seconds(_snapshot(10, 0.0)) is None
    assert eta_seconds(_snapshot(10, 5.0, sent=10)) is None
    assert eta_seconds(_snapshot(0, 5.0)) is None


def test_state_lines() -> None:
    assert state_line("Sale", "sending", "") == "Sale: prepared; sending"
    assert state_line("Sale", "failed", "no recipients") == "Sale: failed: no recipients"
    assert state_line("Sale", "odd", "") == "Sale: odd"


# -- the store-polled watch ---------------------------------------------------------------------


def _watch_all(ws: Workspace, ref: str, interval: float = 0.01, **kw: Any) -> list[Watched]:
    async def collect() -> list[Watched]:
        return [polled async for polled in watch(ws, ref, interval, **kw)]

    result = in_loop(collect)
    assert isinstance(result, list)
    return result


def test_watching_a_draft_or_a_sent_campaign_is_one_poll(
    ready: str,
    store: Workspace,
) -> None:
    (draft,) = _watch_all(store, ready)
    assert (draft.status, draft.changed, draft.final) == ("draft", True, True)
    _run(store, ready)
    ticks = iter([100.0, 104.0])
    (sent,) = _watch_all(store, ready, clock=lambda: next(ticks))
    assert (sent.status, sent.failure_reason, sent.final) == ("sent", "", True)
    snap = sent.snapshot
    assert (snap.campaign_id, snap.name, snap.total, snap.tally.sent) == (ready, "Spring", 2, 2)
    assert (snap.elapsed, snap.baseline, snap.rate) == (4.0, 2, 0.0)


def test_a_watch_follows_a_run_in_the_same_event_loop(
    lettr,
    ready: str,
    store: Workspace,
) -> None:
    """The engine sends while the watch polls, both on one loop: the relay holds every message
    until the watch has seen the campaign sending with nothing sent, so the two interleave."""
    lettr("contact", "add", *(f"r{n}@example.com" for n in range(10)), "--list", "VIP")
    relay = Relay().start()
    gate = relay.stall("data", beyond=0)  # no final dot is answered until the gate opens
    lettr("config", "set", "smtp.port", str(relay.port))

    async def both() -> tuple[RunResult, list[Watched]]:
        started = await start_send(store, ready, detach=False)
        assert started.handle is not None
        run = asyncio.create_task(CampaignRun(store, started.handle).drive())
        seen = []
        async for polled in watch(store, ready, 0.01):
            seen.append(polled)
            if polled.status == "sending":
                gate.release.set()
        return await run, seen

    try:
        result, seen = in_loop(both)
    finally:
        gate.release.set()
        relay.stop()

    assert result.status == "sent"
    midway = [p for p in seen if p.status == "sending" and p.snapshot.tally.sent == 0]
    assert midway and not midway[0].final
    assert seen[-1].final and seen[-1].status == "sent"
    assert all(not polled.final for polled in seen[:-1])
    assert seen[-1].snapshot.tally.sent == seen[-1].snapshot.total == 12
    statuses = [polled.status for polled in seen]
    assert [p.changed for p in seen] == [
        n == 0 or statuses[n] != statuses[n - 1] for n in range(len(seen))
    ]
    sent_counts = [polled.snapshot.tally.sent for polled in seen]
    assert sent_counts == sorted(sent_counts)
    assert set(statuses) <= {"preparing", "sending", "sent"}
    assert "sent" in WATCHED_UNTIL and "sending" not in WATCHED_UNTIL


def test_the_watch_ends_on_a_review(store: Workspace, ready: str) -> None:
    with store.store.write() as session:
        campaign = find_campaign(session, ready)
        campaign.status = "in_review"
        campaign.failure_reason = "over 5,000 recipients"
        session.add(campaign)
    (parked,) = _watch_all(store, ready)
    assert (parked.status, parked.failure_reason, parked.final) == (
        "in_review", "over 5,000 recipients", True)  # fmt: skip
