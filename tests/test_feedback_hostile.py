"""`lettr feedback import` with hostile messages beside valid reports: each message is read on
its own, one that cannot be read is listed as unmatched with its reason, the rest are applied."""

from __future__ import annotations

import mailbox

import pytest

from lettr_cli.tracking.feedback_sources import MAX_DEPTH, MAX_MESSAGE_BYTES, MAX_NESTING_PARTS
from tests import test_feedback
from tests.test_feedback import (  # the report builders of the feedback tests
    Setup,
    contact,
    exim,
    feedback,
    postfix,
    stats,
    summary,
    write,
)

setup = test_feedback.setup  # their fixture: a campaign sent to four contacts


def nested(depth: int, name: str) -> bytes:
    """A message of ``depth`` multiparts, each inside the one before."""
    head = (
        f"From: mailer@example.net\nSubject: {name}\nMessage-ID: <{name}@example.net>\n"
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n"
    )
    opening = "".join(
        f"--b{n}\nContent-Type: multipart/mixed; boundary=b{n + 1}\n\n" for n in range(1, depth)
    )
    closing = "".join(f"\n--b{n}--\n" for n in range(depth, 0, -1))
    return (head + opening + f"--b{depth}\nContent-Type: text/plain\n\nhello\n" + closing).encode()


def oversized() -> bytes:
    head = "From: mailer@example.net\nSubject: big\nMessage-ID: <big@example.net>\n\n"
    return head.encode() + b"x" * 76 + (b"\n" + b"y" * 76) * (MAX_MESSAGE_BYTES // 77 + 10)


def hostile() -> dict[str, bytes]:
    return {
        "deep": nested(2000, "deep"),
        "over-the-cap": nested(MAX_DEPTH + 1, "over"),
        "big": oversized(),
        "empty": b"",
        "binary": b"\x00\x01\x02 not mail",
    }


REASONS = {
    "deep": f"more than {MAX_NESTING_PARTS} multipart or message parts",
    "over-the-cap": f"nested more than {MAX_DEPTH} deep",
    "big": f"larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB",
    "empty": "is empty",
    "binary": "is binary",
}


def check(lettr, setup: Setup, body: dict[str, object], sources: dict[str, str]) -> None:
    assert body["messages"] == len(sources) + 2
    assert (body["bounces"], body["complaints"]) == (2, 0)
    unmatched = body["unmatched"]
    assert isinstance(unmatched, list)
    reasons = {item["source"]: item["reason"] for item in unmatched}
    assert sorted(reasons) == sorted(sources.values())
    for name, source in sources.items():
        assert REASONS[name] in reasons[source], (name, reasons[source])
    assert stats(lettr, setup)["bounces"] == 2
    assert contact(lettr, "ann@example.org")["status"] == "bounced"
    assert contact(lettr, "bob@example.org")["status"] == "bounced"


def test_hostile_messages_in_a_maildir_are_listed_and_the_reports_beside_them_applied(
    lettr, setup: Setup
) -> None:
    folder = setup.tmp / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    box.add(postfix(setup, "ann@example.org"))
    keys = {name: box.add(data) for name, data in hostile().items()}
    box.add(postfix(setup, "bob@example.org"))
    box.close()
    body = feedback(lettr, folder)
    check(lettr, setup, body, {name: f"{folder}/{key}" for name, key in keys.items()})
    # Imported again, every message is known: nothing counts twice.
    again = feedback(lettr, folder)
    assert again == summary(messages=7, duplicates=7)


def test_hostile_messages_in_an_mbox_are_listed_and_the_reports_beside_them_applied(
    lettr, setup: Setup
) -> None:
    path = setup.tmp / "bounces.mbox"
    box = mailbox.mbox(path)
    box.add(postfix(setup, "ann@example.org"))
    for data in hostile().values():
        box.add(data)
    box.add(postfix(setup, "bob@example.org"))
    box.close()
    body = feedback(lettr, path)
    names = list(hostile())
    check(lettr, setup, body, {name: f"{path}#{n}" for n, name in enumerate(names, start=2)})


def test_a_lone_file_too_deep_or_too_large_is_listed_not_refused(lettr, setup: Setup) -> None:
    deep = write(setup, "deep.eml", nested(2000, "deep"))
    big = write(setup, "big.eml", oversized())
    good = write(setup, "good.eml", postfix(setup, "ann@example.org"))
    body = feedback(lettr, deep, big, good)
    assert (body["messages"], body["bounces"]) == (3, 1)
    reasons = {item["source"]: item["reason"] for item in body["unmatched"]}
    assert REASONS["deep"] in reasons[str(deep)]
    assert REASONS["big"] in reasons[str(big)]


@pytest.mark.parametrize("charset", ["idna", "utf-8'en'", "x-no-such-charset"])
def test_a_bounce_in_a_charset_python_cannot_decode_with_is_still_read(
    lettr, setup: Setup, charset: str
) -> None:
    """A plain bounce's text in 8 bits under a charset that does not decode (idna refuses
    the 'replace' error handler): read as UTF-8, beside a DSN in the same Maildir."""
    data = exim(setup, "bob@example.org", reply="550 5.1.1 Benutzer unbekannt – für")
    head, _, rest = data.partition(b"\nDate:")
    data = head + f"\nContent-Type: text/plain; charset={charset}".encode() + b"\nDate:" + rest
    folder = setup.tmp / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    box.add(data)
    box.add(postfix(setup, "ann@example.org"))
    box.close()
    body = feedback(lettr, folder)
    assert (body["messages"], body["bounces"], body["unmatched"]) == (2, 2, [])
    assert contact(lettr, "bob@example.org")["status"] == "bounced"


@pytest.mark.parametrize(("depth", "bounces"), [(MAX_DEPTH, 1), (MAX_DEPTH + 1, 0)])
def test_the_depth_cap_counts_every_level_of_a_report(
    lettr, setup: Setup, depth: int, bounces: int
) -> None:
    """A DSN (level 1), its message/rfc822 part (2) and the returned message in it (3, with
    the multiparts and the text part inside it): read up to the cap, listed beyond it."""
    original = nested(depth - 3, "original").decode()
    data = postfix(setup, "ann@example.org", original=original)
    body = feedback(lettr, write(setup, "wrapped.eml", data))
    assert body["bounces"] == bounces, body
    assert len(body["unmatched"]) == 1 - bounces


@pytest.mark.parametrize(
    "status",
    [
        "9.99999999999999999999.1",
        "5.1234.1",
        "5.1.1000",
        "6.1.1",
        "3.1.1",
        "5.1",
        "5..1",
        "5.1.1.1",
        "five.one.one",
        "5.\u0661.1",  # an Arabic-Indic digit is not an RFC 3463 digit
    ],
)
def test_a_status_that_is_not_an_rfc_3463_code_is_unmatched(
    lettr, setup: Setup, status: str
) -> None:
    data = postfix(setup, "ann@example.org", status=status, reply="550 5.1.1 User unknown")
    body = feedback(lettr, write(setup, "odd.eml", data))
    assert (body["bounces"], body["complaints"]) == (0, 0)
    [item] = body["unmatched"]
    assert "not an RFC 3463 status code" in item["reason"]
    assert item["recipient"] == "ann@example.org"
    assert stats(lettr, setup)["bounces"] == 0
    assert contact(lettr, "ann@example.org")["status"] == "subscribed"


@pytest.mark.parametrize("status", ["5.1.1", "5.001.999", "4.4.7 (delivery time expired)"])
def test_valid_rfc_3463_codes_are_still_read(lettr, setup: Setup, status: str) -> None:
    data = postfix(setup, "ann@example.org", status=status)
    assert feedback(lettr, write(setup, "fine.eml", data))["bounces"] == 1
