"""`lettr contact import`: existing contacts, opt-outs, memberships and identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_helpers import contacts_by_email, json_error, store_state, write_csv

pytestmark = pytest.mark.usefixtures("each_engine")


def contacts(lettr) -> dict[str, dict]:
    result = lettr("contact", "list", "--limit", "0", "--json")
    assert result.exit_code == 0, result.stderr
    return contacts_by_email(result.json())


def show(lettr, email: str) -> dict:
    result = lettr("contact", "show", email, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def kinds(contact: dict) -> list[str]:
    return [event["kind"] for event in contact["activity"]]


def setup_existing(lettr) -> None:
    for name, kind in (("first_name", "string"), ("score", "number")):
        assert lettr("property", "create", name, "--type", kind).exit_code == 0
    assert lettr("list", "create", "Customers").exit_code == 0
    assert lettr("topic", "create", "News").exit_code == 0
    for args in (
        ["ann@example.org", "--prop", "first_name=Ann", "--prop", "score=1"],
        ["bob@example.org", "--prop", "score=2", "--status", "unsubscribed"],
        ["dan@example.org", "--prop", "score=4"],
        ["eve@example.org", "--prop", "score=5", "--list", "Customers", "--topic", "News"],
    ):
        assert lettr("contact", "add", *args).exit_code == 0


UPDATE_ROWS = [
    ["email", "first_name", "score", "status"],
    ["ANN@example.org", "", "5", ""],  # changes score; the empty name changes nothing
    ["bob@example.org", "Bob", "3", "subscribed"],  # would re-subscribe: skipped whole
    ["carol@example.org", "Carol", "", ""],  # new
    ["dan@example.org", "", "4", "bounced"],  # leaves subscribed: allowed
    ["eve@example.org", "", "5", "subscribed"],  # nothing changes
]


def test_update_mode_needs_yes_without_a_terminal(
    lettr, isolated_home: Path, tmp_path: Path
) -> None:
    setup_existing(lettr)
    before = store_state(isolated_home / "lettr.db")
    path = write_csv(tmp_path / "in.csv", UPDATE_ROWS)
    result = lettr("contact", "import", str(path), "--on-duplicate", "update", "--json")
    assert result.exit_code == 1
    assert json_error(result.stderr)["error_code"] == "confirmation_required"
    stdin = lettr("contact", "import", "-", "--on-duplicate", "update", input=path.read_text())
    assert stdin.exit_code == 1
    assert "pass --yes" in stdin.stderr
    assert store_state(isolated_home / "lettr.db") == before


def test_update_mode_overwrites_what_the_file_gives_and_logs_it(lettr, tmp_path: Path) -> None:
    setup_existing(lettr)
    eve_before = show(lettr, "eve@example.org")
    path = write_csv(tmp_path / "in.csv", UPDATE_ROWS)
    args = ("contact", "import", str(path), "--on-duplicate", "update", "--yes", "--json")
    result = lettr(*args, "--list", "Customers", "--topic", "News")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {
        "created": 1,  # carol
        "updated": 2,  # ann (score, list, topic) and dan (status, list, topic)
        "skipped": 2,  # eve (nothing to change) and bob (would re-subscribe)
        "invalid": 0,
        "added_to_groups": 0,
        "skipped_by_reason": {
            "existing": 1,
            "duplicate_in_file": 0,
            "opt_out_kept": 1,
            "empty_row": 0,
        },
        "errors": [],
    }
    ann, bob, dan, eve = (show(lettr, f"{n}@example.org") for n in ("ann", "bob", "dan", "eve"))
    assert ann["properties"] == {"first_name": "Ann", "score": 5}
    assert ann["status"] == "subscribed"
    assert kinds(ann)[-3:] == ["property_changed", "list_added", "topic_opted_in"]
    assert ann["activity"][-3]["detail"] == "score: 1 → 5"
    assert bob["status"] == "unsubscribed" and bob["properties"] == {"score": 2}
    assert [g["name"] for g in bob["lists"]] == []
    assert dan["status"] == "bounced"
    assert "status_changed" not in kinds(dan) and "unsubscribed" in kinds(dan)
    assert eve == eve_before  # nothing to change: not even updated_at
    carol = show(lettr, "carol@example.org")
    assert carol["properties"] == {"first_name": "Carol"}
    assert carol["activity"] == []  # the bulk path logs no creation or memberships


def test_an_unchanged_contact_counts_as_existing_in_update_mode(lettr, tmp_path: Path) -> None:
    setup_existing(lettr)
    before = show(lettr, "eve@example.org")
    path = write_csv(tmp_path / "in.csv", [["email", "score"], ["eve@example.org", "5"]])
    result = lettr("contact", "import", str(path), "--on-duplicate", "update", "--yes", "--json")
    assert result.json()["skipped_by_reason"]["existing"] == 1
    assert result.json()["updated"] == 0
    assert show(lettr, "eve@example.org") == before  # updated_at too


def test_update_mode_may_unsubscribe_but_never_resubscribe(lettr, tmp_path: Path) -> None:
    setup_existing(lettr)
    path = write_csv(
        tmp_path / "in.csv",
        [
            ["email", "status"],
            ["ann@example.org", "unsubscribed"],
            ["bob@example.org", "Subscribed"],
        ],
    )
    result = lettr("contact", "import", str(path), "--on-duplicate", "update", "--yes", "--json")
    body = result.json()
    assert (body["updated"], body["skipped_by_reason"]["opt_out_kept"]) == (1, 1)
    stored = contacts(lettr)
    assert stored["ann@example.org"]["status"] == "unsubscribed"
    assert stored["bob@example.org"]["status"] == "unsubscribed"
    assert kinds(show(lettr, "ann@example.org"))[-1] == "unsubscribed"


def test_skip_mode_leaves_existing_contacts_untouched(lettr, tmp_path: Path) -> None:
    setup_existing(lettr)
    before = show(lettr, "ann@example.org")
    path = write_csv(
        tmp_path / "in.csv", [["email", "score", "status"], ["ann@example.org", "9", "bounced"]]
    )
    result = lettr("contact", "import", str(path), "--json")
    assert result.json()["skipped_by_reason"]["existing"] == 1
    assert result.json()["added_to_groups"] == 0
    assert show(lettr, "ann@example.org") == before


SKIP_ROWS = [
    ["email", "first_name", "score", "status"],
    ["ANN@example.org", "Annie", "9", "bounced"],  # joins both; nothing else changes
    ["bob@example.org", "Bob", "7", "subscribed"],  # unsubscribed: joins the list only
    ["eve@example.org", "", "", ""],  # a member of both already: skipped
    ["frank@example.org", "Frank", "", ""],  # new
]


def test_skip_mode_adds_existing_contacts_to_the_list_and_topic(lettr, tmp_path: Path) -> None:
    setup_existing(lettr)
    ann_before, bob_before = show(lettr, "ann@example.org"), show(lettr, "bob@example.org")
    eve_before = show(lettr, "eve@example.org")
    path = write_csv(tmp_path / "in.csv", SKIP_ROWS)
    args = ("contact", "import", str(path), "--list", "Customers", "--topic", "News")
    result = lettr(*args, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {
        "created": 1,
        "updated": 0,
        "skipped": 1,
        "invalid": 0,
        "added_to_groups": 2,
        "skipped_by_reason": {
            "existing": 1,
            "duplicate_in_file": 0,
            "opt_out_kept": 0,
            "empty_row": 0,
        },
        "errors": [],
    }
    assert "bob@example.org" not in result.stderr
    assert "1 existing contact is not subscribed: not opted in to News" in result.stderr
    ann, bob = show(lettr, "ann@example.org"), show(lettr, "bob@example.org")
    for after, before in ((ann, ann_before), (bob, bob_before)):
        assert (after["properties"], after["status"]) == (before["properties"], before["status"])
        assert [g["name"] for g in after["lists"]] == ["Customers"]
    assert [g["name"] for g in ann["topics"]] == ["News"]
    assert bob["topics"] == []  # an import never opts in someone who opted out
    assert bob["status"] == "unsubscribed"
    assert kinds(ann)[-2:] == ["list_added", "topic_opted_in"]
    assert kinds(bob)[-1] == "list_added"
    assert show(lettr, "eve@example.org") == eve_before
    counts = {g["name"]: g["contacts_count"] for g in lettr("list", "list", "--json").json()}
    assert counts == {"Customers": 4}
    again = lettr(*args)  # nothing left to add: all four skipped as existing
    assert again.stdout.splitlines() == [
        f"Imported {path}: 0 created, 0 updated, 4 skipped, 0 invalid",
        "  existing 4, duplicate in the file 0, opt-out kept 0",
    ]


def test_the_summary_in_words_counts_contacts_added_to_groups(lettr, tmp_path: Path) -> None:
    setup_existing(lettr)
    path = write_csv(tmp_path / "in.csv", SKIP_ROWS)
    result = lettr("contact", "import", str(path), "--list", "Customers")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        f"Imported {path}: 1 created, 0 updated, 1 skipped, 0 invalid",
        "  2 existing contacts added to lists or topics",
        "  existing 1, duplicate in the file 0, opt-out kept 0",
    ]


def test_update_mode_never_opts_an_unsubscribed_contact_in_to_a_topic(
    lettr, tmp_path: Path
) -> None:
    setup_existing(lettr)
    path = write_csv(tmp_path / "in.csv", [["email", "score"], ["bob@example.org", "3"]])
    args = ("contact", "import", str(path), "--on-duplicate", "update", "--yes", "--json")
    result = lettr(*args, "--list", "Customers", "--topic", "News")
    assert result.json()["updated"] == 1
    bob = show(lettr, "bob@example.org")
    assert (bob["status"], bob["properties"]) == ("unsubscribed", {"score": 3})
    assert [g["name"] for g in bob["lists"]] == ["Customers"]
    assert bob["topics"] == []


def test_empty_rows_are_counted_as_skipped(lettr, tmp_path: Path) -> None:
    assert lettr("property", "create", "score", "--type", "number").exit_code == 0
    path = tmp_path / "in.csv"
    text = "email,score\n\na@example.org,1\n,\n , \nb@example.org,2\n\n"
    path.write_text(text, encoding="utf-8", newline="")
    body = lettr("contact", "import", str(path), "--json").json()
    assert (body["created"], body["skipped"], body["invalid"]) == (2, 4, 0)
    assert body["skipped_by_reason"]["empty_row"] == 4
    assert len(contacts(lettr)) == 2
    words = lettr("contact", "import", str(path))
    assert "  4 empty rows skipped" in words.stdout.splitlines()


def test_an_opted_out_contact_deleted_and_imported_again_stays_opted_out(
    lettr, tmp_path: Path
) -> None:
    assert lettr("contact", "add", "Gone@Example.org", "--status", "unsubscribed").exit_code == 0
    assert lettr("contact", "add", "bounced@example.org", "--status", "bounced").exit_code == 0
    deleted = lettr("contact", "delete", "gone@example.org", "bounced@example.org", "--yes")
    assert deleted.exit_code == 0
    path = write_csv(
        tmp_path / "in.csv",
        [
            ["email", "status"],
            ["gone@example.org", "subscribed"],
            ["BOUNCED@example.org", ""],
            ["fresh@example.org", ""],
        ],
    )
    result = lettr("contact", "import", str(path), "--json")
    body = result.json()
    assert body["created"] == 3
    assert body["skipped"] == 0
    assert body["skipped_by_reason"]["opt_out_kept"] == 2
    stored = contacts(lettr)
    assert stored["gone@example.org"]["status"] == "unsubscribed"
    assert stored["BOUNCED@example.org"]["status"] == "bounced"
    assert stored["fresh@example.org"]["status"] == "subscribed"
    gone = show(lettr, "gone@example.org")
    assert [(a["kind"], a["detail"]) for a in gone["activity"]] == [
        ("status_changed", "opt-out kept on import: unsubscribed")
    ]
    # Only `contact edit --status subscribed --force` lifts it.
    assert lettr("contact", "edit", "gone@example.org", "--status", "subscribed").exit_code == 1


def test_lists_topics_and_opt_out_topics_attach_to_new_contacts(lettr, tmp_path: Path) -> None:
    assert lettr("list", "create", "Café clients").exit_code == 0
    assert lettr("topic", "create", "Product news").exit_code == 0
    assert lettr("topic", "create", "Offers", "--default", "opt-out").exit_code == 0
    assert lettr("topic", "create", "Quiet").exit_code == 0
    path = write_csv(tmp_path / "in.csv", [["email"], ["a@example.org"], ["b@example.org"]])
    result = lettr(
        "contact", "import", str(path), "--list", "Café clients", "--topic", "Product news"
    )
    assert result.exit_code == 0, result.stderr
    for contact in contacts(lettr).values():
        assert [g["name"] for g in contact["lists"]] == ["Café clients"]
        assert [g["name"] for g in contact["topics"]] == ["Offers", "Product news"]
    counts = {t["name"]: t["contacts_count"] for t in lettr("topic", "list", "--json").json()}
    assert counts == {"Offers": 2, "Product news": 2, "Quiet": 0}


def test_identity_is_case_insensitive_with_non_ascii_addresses(lettr, tmp_path: Path) -> None:
    assert lettr("property", "create", "first_name").exit_code == 0
    assert lettr("contact", "add", "Ünïcødé@Bücher.example.org").exit_code == 0
    path = write_csv(
        tmp_path / "in.csv",
        [
            ["email", "first_name"],
            ["ÜNÏCØDÉ@BÜCHER.EXAMPLE.ORG", "Dup"],  # exists already
            ["Straße@example.org", "Ömer"],
            ["STRASSE@EXAMPLE.ORG", "Other"],  # casefold("Straße") == "strasse": the same one
            ["émile@xn--bcher-kva.example.org", "Émile"],  # the IDNA form of bücher
        ],
    )
    body = lettr("contact", "import", str(path), "--json").json()
    assert body["created"] == 2
    assert body["skipped_by_reason"] == {
        "existing": 1,
        "duplicate_in_file": 1,
        "opt_out_kept": 0,
        "empty_row": 0,
    }
    assert show(lettr, "straße@EXAMPLE.org")["properties"] == {"first_name": "Ömer"}
    assert show(lettr, "strasse@example.org")["email"] == "Straße@example.org"
    assert show(lettr, "ÉMILE@bücher.example.org")["email"] == "émile@xn--bcher-kva.example.org"
    found = lettr("contact", "list", "--search", "ömer", "--json").json()
    assert [c["email"] for c in found] == ["Straße@example.org"]
    again = write_csv(tmp_path / "again.csv", [["email"], ["Émile@Bücher.Example.Org"]])
    assert lettr("contact", "import", str(again), "--json").json()["skipped"] == 1
