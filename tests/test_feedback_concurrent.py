"""Feedback imported beside another import on PostgreSQL, where imports take row locks and no
store-wide lock (issue 17): one report imported twice at once counts once (its key is inserted
first; the second import waits for the first's commit and finds it), and two reports about one
row at once make one bounce (the row is locked before its once-per-row event is checked)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from lettr_cli.signing.keys import signer as store_signer
from lettr_cli.store.location import parse_location
from lettr_cli.tracking import feedback as fb
from lettr_cli.tracking.feedback_import import ImportSummary, _recorded, import_feedback
from lettr_cli.tracking.feedback_sources import read_sources
from lettr_cli.workspace import Workspace
from tests.sending_helpers import make_campaign
from tests.store_access import until_one_waits_for_a_lock
from tests.test_feedback import EMAILS, Sent, Setup, events, exim, postfix, stats, write


@pytest.fixture
def setup(
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    lettr: Any,
    smtp_server: Any,
    verified_domain: Any,
    tmp_path: Path,
    isolated_home: Path,
) -> Setup:
    """test_feedback's sent campaign, on PostgreSQL."""
    monkeypatch.setenv("LETTR_DB", pg_url)
    verified_domain()
    campaign = make_campaign(lettr, tmp_path, EMAILS)
    assert lettr("campaign", "send", campaign, "--yes").exit_code == 0
    sent = {}
    for sender, rcpts, data in smtp_server.messages:
        raw = data.decode("utf-8").replace("\r\n", "\n")
        sent[rcpts[0]] = Sent(sender, f"Return-Path: <{sender}>\n{raw}")
    return Setup(campaign, sent, isolated_home, tmp_path)


def _import_while_another_is_open(first: Path, second: Path, url: str) -> tuple[Any, Any]:
    """``first`` recorded in a transaction left open while ``second`` is imported: the second
    import must wait for a row lock; once the first commits it finishes."""
    workspace = Workspace.open(parse_location(url), home=Path("."), environ={})
    store = workspace.store
    try:
        with store.write() as session:
            signer = store_signer(session)
        [incoming] = read_sources([first])
        later: dict[str, ImportSummary] = {}
        done = threading.Event()

        def import_second() -> None:
            try:
                later["summary"] = import_feedback(store, [second])
            finally:
                done.set()

        with store.connect("ROWS") as conn, conn.begin():
            earlier = _recorded(conn, signer, fb.classify_message(incoming))
            thread = threading.Thread(target=import_second)
            thread.start()
            until_one_waits_for_a_lock(url, done)
            assert not done.is_set(), "the second import did not wait for the first"
        thread.join(timeout=60)
        return earlier.to_json(), later["summary"].to_json()
    finally:
        workspace.close()


def test_one_report_imported_twice_at_once_counts_once(
    lettr: Any, setup: Setup, pg_url: str
) -> None:
    path = write(setup, "postfix.eml", postfix(setup, "ann@example.org"))
    earlier, later = _import_while_another_is_open(path, path, pg_url)
    assert (earlier["bounces"], earlier["duplicates"]) == (1, 0)
    assert (later["bounces"], later["duplicates"]) == (0, 1)
    assert stats(lettr, setup)["bounces"] == 1
    assert len(events(setup, "bounce")) == 1


def test_two_reports_about_one_row_at_once_make_one_bounce(
    lettr: Any, setup: Setup, pg_url: str
) -> None:
    first = write(setup, "a.eml", postfix(setup, "ann@example.org"))
    again = write(setup, "b.eml", exim(setup, "ann@example.org"))
    earlier, later = _import_while_another_is_open(first, again, pg_url)
    assert earlier["bounces"] == 1
    assert (later["bounces"], later["duplicates"]) == (0, 0)  # ignored: the row has its bounce
    assert stats(lettr, setup)["bounces"] == 1
    assert len(events(setup, "bounce")) == 1
