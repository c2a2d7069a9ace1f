"""`lettr feedback import`: DSNs, complaints and auto-replies about messages that a real send
delivered to the test SMTP server, in the shapes Postfix, Exim, Gmail and a feedback loop use."""

from __future__ import annotations

import mailbox
import uuid
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import pytest

from tests.sending_helpers import make_campaign, outbox_rows
from tests.store_access import store_connect

pytestmark = pytest.mark.usefixtures("each_engine")

SAMPLES = Path(__file__).parent / "fixtures" / "feedback"
EMAILS = ["ann@example.org", "bob@example.org", "cat@example.org", "dan@example.org"]


@dataclass(frozen=True)
class Sent:
    envelope: str  # the envelope sender, with its token
    raw: str  # the message as the server received it (LF line ends)

    @property
    def headers(self) -> str:
        """The original's headers as the sender's provider keeps them: without the
        Return-Path that the receiving server adds (so without the token)."""
        head = self.raw.split("\n\n", 1)[0]
        return head.split("\n", 1)[1]


@dataclass
class Setup:
    campaign: str
    sent: dict[str, Sent]
    home: Path
    tmp: Path


@pytest.fixture
def setup(lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path) -> Setup:
    verified_domain()
    campaign = make_campaign(lettr, tmp_path, EMAILS)
    result = lettr("campaign", "send", campaign, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    sent = {}
    for sender, rcpts, data in smtp_server.messages:
        raw = data.decode("utf-8").replace("\r\n", "\n")
        sent[rcpts[0]] = Sent(sender, f"Return-Path: <{sender}>\n{raw}")
    assert sorted(sent) == sorted(EMAILS)
    return Setup(campaign, sent, isolated_home, tmp_path)


def sample(name: str, **values: str) -> bytes:
    values.setdefault("message_id", f"{uuid.uuid4().hex}@mx.example.net")
    text = Template((SAMPLES / name).read_text(encoding="utf-8")).substitute(values)
    return text.encode("utf-8")


def postfix(s: Setup, rcpt: str, status: str = "5.1.1", reply: str = "", **extra: str) -> bytes:
    reply = reply or f"550 {status} <{rcpt}>: Recipient address rejected: User unknown"
    values = {"envelope": s.sent[rcpt].envelope, "recipient": rcpt, "status": status}
    values |= {"reply": reply, "action": "failed", "original": s.sent[rcpt].raw}
    return sample("postfix_dsn.eml", **(values | extra))


def gmail(s: Setup, rcpt: str, to: str, status: str = "5.7.1", **extra: str) -> bytes:
    reply = f"550 {status} Message rejected by policy"
    values = {"to": to, "recipient": rcpt, "status": status, "reply": reply}
    values |= {"original_id": "x@example.com", "original_headers": s.sent[rcpt].headers}
    return sample("gmail_dsn.eml", **(values | extra))


def exim(s: Setup, rcpt: str, reply: str = "552 5.2.2 Mailbox full") -> bytes:
    values = {"envelope": s.sent[rcpt].envelope, "recipient": rcpt, "reply": reply}
    return sample("exim_failed.eml", original=s.sent[rcpt].raw, **values)


def arf(s: Setup, rcpt: str, headers_only: bool = False) -> bytes:
    sent = s.sent[rcpt]
    kind, original = (
        ("text/rfc822-headers", sent.headers) if headers_only else ("message/rfc822", sent.raw)
    )
    return sample(
        "arf_abuse.eml",
        envelope=sent.envelope,
        recipient=rcpt,
        original_type=kind,
        original=original,
    )


def auto_reply(s: Setup, rcpt: str) -> bytes:
    return sample("auto_reply.eml", envelope=s.sent[rcpt].envelope, recipient=rcpt)


def write(s: Setup, name: str, data: bytes) -> Path:
    path = s.tmp / name
    path.write_bytes(data)
    return path


def feedback(lettr: Any, *paths: Path) -> dict[str, Any]:
    result = lettr("feedback", "import", *map(str, paths), "--json")
    assert result.exit_code == 0, result.stderr
    body: dict[str, Any] = result.json()
    return body


def stats(lettr: Any, s: Setup) -> dict[str, int]:
    result: dict[str, int] = lettr("campaign", "show", s.campaign, "--json").json()["stats"]
    return result


def contact(lettr: Any, email: str) -> dict[str, Any]:
    result: dict[str, Any] = lettr("contact", "show", email, "--json").json()
    return result


def events(s: Setup, event_type: str) -> list[tuple[str, str | None, str | None]]:
    with store_connect(s.home) as conn:
        rows = conn.execute(
            "SELECT email, bounce_class, reason FROM events WHERE event_type = ? ORDER BY id",
            (event_type,),
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def recorded_keys(s: Setup) -> int:
    with store_connect(s.home) as conn:
        return int(conn.execute("SELECT count(*) FROM feedback_messages").fetchone()[0])


def summary(messages: int = 1, **counts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"messages": messages, "bounces": 0, "complaints": 0}
    base |= {"auto_replies": 0, "duplicates": 0, "unmatched": []}
    return base | counts


def test_a_postfix_hard_bounce_after_delivery_keeps_the_delivery_and_bounces_the_contact(
    lettr, setup: Setup
) -> None:
    path = write(setup, "postfix.eml", postfix(setup, "ann@example.org"))
    assert feedback(lettr, path) == summary(bounces=1)
    counters = stats(lettr, setup)
    assert (counters["deliveries"], counters["bounces"], counters["injections"]) == (4, 1, 4)
    assert outbox_rows(setup.home, setup.campaign)["ann@example.org"][0] == "sent"
    reason = "5.1.1; smtp; 550 5.1.1 <ann@example.org>: Recipient address rejected: User unknown"
    assert events(setup, "bounce") == [("ann@example.org", "10", reason)]
    ann = contact(lettr, "ann@example.org")
    assert ann["status"] == "bounced"
    assert ann["activity"][-1]["detail"] == "status subscribed → bounced"
    assert contact(lettr, "bob@example.org")["status"] == "subscribed"


def test_a_gmail_block_without_a_token_is_matched_through_the_original_headers(
    lettr, setup: Setup
) -> None:
    path = write(setup, "gmail.eml", gmail(setup, "bob@example.org", to="bounces@example.com"))
    assert feedback(lettr, path) == summary(bounces=1)
    assert events(setup, "bounce") == [
        ("bob@example.org", "50", "5.7.1; smtp; 550 5.7.1 Message rejected by policy")
    ]
    assert stats(lettr, setup)["bounces"] == 1
    assert contact(lettr, "bob@example.org")["status"] == "subscribed"  # a block: unchanged


def test_an_exim_mailbox_full_is_a_soft_bounce_that_leaves_the_contact(lettr, setup: Setup) -> None:
    path = write(setup, "exim.eml", exim(setup, "cat@example.org"))
    assert feedback(lettr, path) == summary(bounces=1)
    assert events(setup, "bounce") == [("cat@example.org", "22", "552 5.2.2 Mailbox full")]
    assert stats(lettr, setup)["bounces"] == 1
    assert contact(lettr, "cat@example.org")["status"] == "subscribed"


def test_other_permanent_and_unclassified_failures_get_their_classes(lettr, setup: Setup) -> None:
    other = postfix(
        setup, "ann@example.org", status="5.3.0", reply="554 5.3.0 Other mail system problem"
    )
    blank = postfix(setup, "bob@example.org", status="", reply="unknown trouble")
    body = feedback(lettr, write(setup, "a.eml", other), write(setup, "b.eml", blank))
    assert body == summary(messages=2, bounces=2)
    assert [(e, c) for e, c, _ in events(setup, "bounce")] == [
        ("ann@example.org", "30"),
        ("bob@example.org", "1"),
    ]
    assert contact(lettr, "ann@example.org")["status"] == "subscribed"


def test_an_arf_complaint_counts_and_marks_the_contact_complained(lettr, setup: Setup) -> None:
    first = write(setup, "arf.eml", arf(setup, "dan@example.org"))
    second = write(setup, "arf2.eml", arf(setup, "cat@example.org", headers_only=True))
    assert feedback(lettr, first, second) == summary(messages=2, complaints=2)
    assert stats(lettr, setup)["spam_complaints"] == 2
    assert [e for e, _, _ in events(setup, "spam_complaint")] == [
        "dan@example.org",
        "cat@example.org",
    ]
    dan = contact(lettr, "dan@example.org")
    assert dan["status"] == "complained"
    assert dan["activity"][-1]["detail"] == "status subscribed → complained"


def test_an_auto_reply_is_counted_and_ignored(lettr, setup: Setup) -> None:
    path = write(setup, "away.eml", auto_reply(setup, "ann@example.org"))
    assert feedback(lettr, path) == summary(auto_replies=1)
    counters = stats(lettr, setup)
    assert (counters["bounces"], counters["spam_complaints"]) == (0, 0)
    assert events(setup, "bounce") == []
    assert contact(lettr, "ann@example.org")["status"] == "subscribed"


def test_the_same_file_imported_twice_counts_once(lettr, setup: Setup) -> None:
    path = write(setup, "postfix.eml", postfix(setup, "ann@example.org"))
    assert feedback(lettr, path)["bounces"] == 1
    assert feedback(lettr, path) == summary(duplicates=1)
    assert stats(lettr, setup)["bounces"] == 1
    assert len(events(setup, "bounce")) == 1


def test_a_report_without_message_id_is_known_by_its_bytes(lettr, setup: Setup) -> None:
    data = postfix(setup, "ann@example.org").replace(b"Message-Id: <", b"X-Old-Id: <", 1)
    path = write(setup, "postfix.eml", data)
    assert feedback(lettr, path)["bounces"] == 1
    assert feedback(lettr, path) == summary(duplicates=1)


def test_a_second_report_about_a_bounced_row_adds_no_second_bounce(lettr, setup: Setup) -> None:
    first = write(setup, "a.eml", postfix(setup, "ann@example.org"))
    again = write(setup, "b.eml", exim(setup, "ann@example.org"))
    body = feedback(lettr, first, again)
    assert body == summary(messages=2, bounces=1)
    assert stats(lettr, setup)["bounces"] == 1


def test_a_growing_mbox_imported_again_counts_only_the_new_messages(lettr, setup: Setup) -> None:
    path = setup.tmp / "bounces.mbox"
    box = mailbox.mbox(path)
    box.add(postfix(setup, "ann@example.org"))
    box.add(auto_reply(setup, "bob@example.org"))
    box.flush()
    assert feedback(lettr, path) == summary(messages=2, bounces=1, auto_replies=1)
    box.add(arf(setup, "cat@example.org"))
    box.add(exim(setup, "dan@example.org"))
    box.close()
    assert feedback(lettr, path) == summary(messages=4, bounces=1, complaints=1, duplicates=2)
    counters = stats(lettr, setup)
    assert (counters["bounces"], counters["spam_complaints"]) == (2, 1)


def test_a_maildir_is_read(lettr, setup: Setup) -> None:
    folder = setup.tmp / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    box.add(postfix(setup, "ann@example.org"))
    box.add(gmail(setup, "bob@example.org", to=setup.sent["bob@example.org"].envelope))
    box.close()
    assert feedback(lettr, folder) == summary(messages=2, bounces=2)
    assert stats(lettr, setup)["bounces"] == 2


def forged(envelope: str) -> str:
    """The envelope sender with another row's id under the same signature."""
    local, domain = envelope.split("@")
    head, ident, signature = local.split(".")
    other = "zz" if ident != "zz" else "zy"
    return f"{head}.{other}.{signature}@{domain}"


def test_a_forged_token_falls_back_to_the_headers_and_never_matches_wrongly(
    lettr, setup: Setup
) -> None:
    ann = setup.sent["ann@example.org"]
    # A token of bob's row, forged onto a report about ann: the headers decide.
    stolen = setup.sent["bob@example.org"].envelope
    tampered = forged(stolen)
    data = postfix(setup, "ann@example.org", envelope=tampered)
    data = data.replace(
        f"Return-Path: <{ann.envelope}>".encode(), f"Return-Path: <{tampered}>".encode()
    )
    assert feedback(lettr, write(setup, "forged.eml", data)) == summary(bounces=1)
    assert [e for e, _, _ in events(setup, "bounce")] == ["ann@example.org"]
    assert contact(lettr, "bob@example.org")["status"] == "subscribed"


def test_a_forged_token_without_usable_headers_is_unmatched(lettr, setup: Setup) -> None:
    tampered = forged(setup.sent["cat@example.org"].envelope)
    data = gmail(setup, "cat@example.org", to=tampered, original_headers="Subject: Hello")
    body = feedback(lettr, write(setup, "forged.eml", data))
    assert body["bounces"] == 0
    [item] = body["unmatched"]
    assert item["source"].endswith("forged.eml")
    assert item["kind"] == "bounce"
    assert "no valid envelope token" in item["reason"]
    assert stats(lettr, setup)["bounces"] == 0
    assert events(setup, "bounce") == []


def test_a_report_naming_a_recipient_of_another_campaign_is_unmatched(lettr, setup: Setup) -> None:
    data = gmail(setup, "ann@example.org", to="bounces@example.com", recipient="zed@example.org")
    body = feedback(lettr, write(setup, "other.eml", data))
    [item] = body["unmatched"]
    assert item["reason"] == "the report's recipient and the original To differ"
    assert stats(lettr, setup)["bounces"] == 0


def test_a_delay_warning_is_not_a_bounce(lettr, setup: Setup) -> None:
    data = postfix(setup, "ann@example.org", status="4.4.1", action="delayed")
    body = feedback(lettr, write(setup, "delay.eml", data))
    assert body == summary()
    assert stats(lettr, setup)["bounces"] == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"just some notes\nnothing more\n", "not an email message"),
        ("empty.eml", b"", "is empty"),
        ("folder", None, "not a Maildir"),
        ("missing.eml", "missing", "no such file"),
    ],
)
def test_malformed_input_is_refused_with_nothing_recorded(
    lettr, setup: Setup, name: str, content: bytes | str | None, message: str
) -> None:
    good = write(setup, "good.eml", postfix(setup, "ann@example.org"))
    bad = setup.tmp / name
    if content is None:
        bad.mkdir()
    elif isinstance(content, bytes):
        bad.write_bytes(content)
    result = lettr("feedback", "import", str(good), str(bad), "--json")
    assert result.exit_code == 1
    error = result.error()
    assert error["error_code"] == "validation_error"
    assert str(bad) in error["message"] and message in error["message"]
    assert result.stdout == ""
    assert recorded_keys(setup) == 0
    assert stats(lettr, setup)["bounces"] == 0
    assert contact(lettr, "ann@example.org")["status"] == "subscribed"


def test_plain_output_lists_each_category_and_the_unmatched(lettr, setup: Setup) -> None:
    good = write(setup, "good.eml", postfix(setup, "ann@example.org"))
    other = write(setup, "hello.eml", b"From: someone@example.net\nSubject: hi\n\nhello\n")
    result = lettr("feedback", "import", str(good), str(other))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Messages: 2",
        "Bounces: 1",
        "Complaints: 0",
        "Auto-replies: 0",
        "Duplicates: 0",
        "Unmatched: 1",
        f"  {other}: not a delivery report, complaint or auto-reply",
    ]
    assert "2 of 2 messages" in result.stderr


def test_an_old_store_upgrades_and_imports(lettr, tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "v7.db"
    shutil.copyfile(Path(__file__).parent / "fixtures" / "store_v7.db", db)
    db.chmod(0o600)
    away = tmp_path / "away.eml"
    away.write_bytes(
        b"From: bob@example.org\nTo: news@example.com\nSubject: Auto: away\n"
        b"Message-ID: <away@example.org>\n\nback Monday\n"
    )
    result = lettr("--db", str(db), "feedback", "import", str(away), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == summary(auto_replies=1)


def test_the_envelope_token_alone_finds_the_row(lettr, setup: Setup) -> None:
    envelope = setup.sent["dan@example.org"].envelope
    data = gmail(setup, "dan@example.org", to=envelope, original_headers="Subject: Hello there")
    assert feedback(lettr, write(setup, "token.eml", data)) == summary(bounces=1)
    assert [e for e, _, _ in events(setup, "bounce")] == ["dan@example.org"]
