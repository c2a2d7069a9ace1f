"""Preference-centre choices honoured by later campaigns (issue 19): a campaign that targets a
topic leaves out a contact who opted out of it, also when its rows were queued before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sending_helpers import new_campaign, outbox_rows
from tests.tracking_helpers import BROWSER, Links, sent_campaign, serving

ANN = "ann@example.com"
BOB = "bob@example.org"


@pytest.fixture
def sent(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> tuple[str, dict[str, Links]]:
    """Offers (public, opt-out: Ann and Bob are attached on import); a first campaign sent."""
    lettr("topic", "create", "Offers", "--visibility", "public", "--default", "opt-out")
    lettr("segment", "create", "Offered", "--where", "topics equals Offers")
    return sent_campaign(lettr, tmp_path, smtp_server, verified_domain)


def opt_out_of_offers(lettr: Any, home: Path, path: str) -> None:
    """Ann unticks Offers on her preference page, through real HTTP."""
    from lettr_cli.tracking.app import create_app
    from lettr_cli.workspace import Workspace

    (offers,) = [t["id"] for t in lettr("topic", "list", "--json").json()]
    workspace = Workspace.open(home / "lettr.db", home=home, environ={})
    try:
        with serving(create_app(workspace)) as base:
            answer = httpx.post(
                base + path, data={"shown": offers}, headers={"User-Agent": BROWSER}
            )
    finally:
        workspace.close()
    assert answer.status_code == 200, answer.text
    names = [t["name"] for t in lettr("contact", "show", ANN, "--json").json()["topics"]]
    assert names == []


def to_segment(lettr: Any, tmp_path: Path, name: str) -> str:
    campaign = new_campaign(lettr, tmp_path, name)
    assert lettr("campaign", "audience", name, "--segment", "Offered").exit_code == 0
    return campaign


def test_a_later_campaign_to_the_topic_leaves_out_who_opted_out(
    lettr, sent, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent
    opt_out_of_offers(lettr, isolated_home, links[ANN].preferences)
    later = to_segment(lettr, tmp_path, "Later")

    result = lettr("campaign", "send", later, "--yes", "--json")

    assert result.exit_code == 0, result.stderr
    assert {email: row[0] for email, row in outbox_rows(isolated_home, later).items()} == {
        BOB: "sent"
    }


def test_rows_queued_before_the_opt_out_are_skipped_for_a_topic_campaign_only(
    lettr, sent, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent
    by_topic = to_segment(lettr, tmp_path, "ByTopic")
    by_list = new_campaign(lettr, tmp_path, "ByList")
    lettr("config", "set", "sending.paused", "true")
    for campaign in (by_topic, by_list):
        assert lettr("campaign", "send", campaign, "--yes").exit_code == 0
        assert {row[0] for row in outbox_rows(isolated_home, campaign).values()} == {"queued"}

    opt_out_of_offers(lettr, isolated_home, links[ANN].preferences)
    lettr("config", "set", "sending.paused", "false")
    assert lettr("daemon", "tick").exit_code == 0

    topic_rows = outbox_rows(isolated_home, by_topic)
    assert topic_rows[ANN] == (
        "skipped",
        "the contact is no longer in the campaign's audience (a topic opt-out)",
    )
    assert topic_rows[BOB][0] == "sent"
    # A campaign to a list is resolved once: the topic choice does not concern it.
    assert {email: row[0] for email, row in outbox_rows(isolated_home, by_list).items()} == {
        ANN: "sent",
        BOB: "sent",
    }
    shown = lettr("campaign", "show", by_topic, "--json").json()
    assert shown["status"] == "sent"
    assert shown["outbox"]["skipped"] == 1 and shown["outbox"]["sent"] == 1


def test_memberships_looked_up_per_contact_select_the_same_contacts(
    lettr, isolated_home: Path
) -> None:
    """The claim-time check builds list and topic conditions as per-contact lookups; they must
    select exactly what the segment selects when a campaign is prepared."""
    from sqlmodel import select

    from lettr_cli.audience.segments.resolve import find_segment, segment_clause
    from lettr_cli.store.tables import Contact
    from lettr_cli.workspace import Workspace

    lettr("list", "create", "A")
    lettr("topic", "create", "T")
    for n, (in_list, in_topic) in enumerate([(1, 1), (1, 0), (0, 1), (0, 0)]):
        args = ["contact", "add", f"c{n}@example.com"]
        args += ["--list", "A"] if in_list else []
        args += ["--topic", "T"] if in_topic else []
        assert lettr(*args).exit_code == 0
    wheres = {
        "s1": ["--where", "topics equals T"],
        "s2": ["--where", "topics not_equals T"],
        "s3": ["--where", "(topics equals T or lists equals A)"],
        "s4": ["--where", "topics not_equals T", "--list", "A"],
        "s5": ["--where", "lists not_equals A and topics equals T"],
    }
    for name, args in wheres.items():
        assert lettr("segment", "create", name, *args).exit_code == 0
    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    try:
        with workspace.store.read() as session:
            for name in wheres:
                segment = find_segment(session, name)
                chosen = [
                    set(session.exec(select(Contact.email).where(clause)))
                    for clause in (
                        segment_clause(session, segment),
                        segment_clause(session, segment, per_contact=True),
                    )
                ]
                assert chosen[0] == chosen[1] and chosen[0], name
    finally:
        workspace.close()
