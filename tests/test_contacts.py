"""`lettr contact`: identity, all-or-nothing adds, edits with their activity log, opt-outs."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("each_engine")


def kinds(lettr: Any, email: str) -> list[str]:
    return [a["kind"] for a in lettr("contact", "show", email, "--json").json()["activity"]]


def emails(lettr: Any, *args: str) -> list[str]:
    return [c["email"] for c in lettr("contact", "list", *args, "--json").json()]


def test_add_one_gives_the_contact_object(lettr) -> None:
    lettr("property", "create", "first_name")
    lettr("list", "create", "VIP")
    result = lettr(
        "contact", "add", "Ann@Example.com", "--list", "VIP", "--prop", "first_name=Ann", "--json"
    )
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert set(body) == {
        "id",
        "email",
        "status",
        "properties",
        "lists",
        "topics",
        "created_at",
        "updated_at",
    }
    assert body["email"] == "Ann@Example.com"  # stored as first given
    assert body["status"] == "subscribed"
    assert body["properties"] == {"first_name": "Ann"}
    assert [g["name"] for g in body["lists"]] == ["VIP"]
    assert body["created_at"].endswith("+00:00")


def test_add_several_gives_an_array(lettr) -> None:
    result = lettr(
        "contact", "add", "a@example.com", "b@example.org", "--status", "unverified", "--json"
    )
    assert [c["status"] for c in result.json()] == ["unverified", "unverified"]


def test_add_is_all_or_nothing(lettr) -> None:
    lettr("contact", "add", "ann@example.com")
    result = lettr("contact", "add", "new@example.com", "ANN@EXAMPLE.COM", "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "resource_already_exists"
    assert "ann@example.com" in result.error()["message"]
    assert emails(lettr) == ["ann@example.com"]


@pytest.mark.parametrize(
    "args",
    [
        ["good@example.com", "not-an-address"],
        ["good@example.com", "ann@example.com\r\nBcc: x@example.com"],
        ["good@example.com", "--prop", "ghost=1"],
        ["good@example.com", "--list", "No such list"],
        ["good@example.com", "--topic", "No such topic"],
        ["good@example.com", "--status", "happy"],
        ["good@example.com", "--prop", "age=old"],
        ["good@example.com", "--prop", "age"],
    ],
)
def test_bad_input_adds_nothing(lettr, args: list[str]) -> None:
    lettr("property", "create", "age", "--type", "number")
    result = lettr("contact", "add", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(("Error [validation_error]", "Error [not_found]"))
    assert "Traceback" not in result.stderr
    assert emails(lettr) == []


def test_identity_is_case_insensitive_with_non_ascii_addresses(lettr) -> None:
    lettr("contact", "add", "Zoë.Ünal@Bücher.example")
    assert lettr("contact", "show", "zoë.ünal@bücher.example", "--json").json()["email"] == (
        "Zoë.Ünal@Bücher.example"
    )
    assert lettr("contact", "add", "ZOË.ÜNAL@BÜCHER.EXAMPLE").exit_code == 1
    # The domain in its ASCII (IDNA) form is the same address.
    assert lettr("contact", "show", "zoë.ünal@xn--bcher-kva.example").exit_code == 0
    lettr("contact", "add", "Straße@example.com")
    assert lettr("contact", "add", "STRASSE@example.com").exit_code == 1  # casefold, not lower
    edited = lettr("contact", "edit", "STRASSE@EXAMPLE.COM", "--status", "unsubscribed", "--json")
    assert edited.json()["email"] == "Straße@example.com"


def test_list_filters_search_and_limit(lettr) -> None:
    lettr("property", "create", "first_name")
    lettr("list", "create", "VIP")
    lettr("topic", "create", "News")
    lettr("contact", "add", "ann@example.com", "--prop", "first_name=Ánn", "--list", "VIP")
    lettr("contact", "add", "bob@example.org", "--topic", "News")
    lettr("contact", "add", "cy@example.net", "--status", "unsubscribed")
    assert emails(lettr, "--list", "VIP") == ["ann@example.com"]
    assert emails(lettr, "--topic", "News") == ["bob@example.org"]
    assert emails(lettr, "--status", "unsubscribed") == ["cy@example.net"]
    assert emails(lettr, "--search", "EXAMPLE.ORG") == ["bob@example.org"]
    assert emails(lettr, "--search", "ánn") == ["ann@example.com"]  # by name, casefolded
    assert emails(lettr, "--search", "%") == []  # LIKE wildcards are plain text
    assert lettr("contact", "list", "--status", "nope").exit_code == 1
    assert lettr("contact", "list", "--list", "nope").stderr.startswith("Error [not_found]")
    cut = lettr("contact", "list", "--limit", "2", "--json")
    assert len(cut.json()) == 2
    assert "2 of 3 shown" in cut.stderr
    assert len(lettr("contact", "list", "--limit", "0", "--json").json()) == 3


def test_list_in_words_shows_the_plan_limit(lettr) -> None:
    lettr("contact", "add", "ann@example.com")
    result = lettr("contact", "list")
    assert "ann@example.com" in result.stdout
    assert "1 of 500 contacts allowed by plan free" in result.stderr
    lettr("config", "set", "plan.tier", "enterprise")
    assert "plan enterprise: no limit" in lettr("contact", "list").stderr


def test_edit_logs_every_kind_of_change(lettr) -> None:
    lettr("property", "create", "first_name")
    lettr("property", "create", "city")
    lettr("list", "create", "VIP")
    lettr("topic", "create", "News")
    lettr("contact", "add", "ann@example.com", "--prop", "first_name=Ann", "--prop", "city=Oslo")
    result = lettr(
        "contact",
        "edit",
        "ann@example.com",
        "--prop",
        "first_name=Anne",
        "--unset",
        "city",
        "--add-list",
        "VIP",
        "--add-topic",
        "News",
        "--email",
        "anne@example.com",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["email"] == "anne@example.com"
    assert body["properties"] == {"first_name": "Anne"}
    lettr(
        "contact",
        "edit",
        "anne@example.com",
        "--remove-list",
        "VIP",
        "--remove-topic",
        "News",
        "--status",
        "unsubscribed",
        "--prop",
        "city=Bergen",
    )
    lettr("contact", "edit", "anne@example.com", "--status", "subscribed")
    assert kinds(lettr, "anne@example.com") == [
        "created",
        "property_set",
        "property_set",
        "email_changed",
        "property_changed",
        "property_cleared",
        "list_added",
        "topic_opted_in",
        "unsubscribed",
        "property_set",
        "list_removed",
        "topic_opted_out",
        "subscribed",
    ]


def test_edit_is_all_or_nothing(lettr) -> None:
    lettr("property", "create", "first_name")
    lettr("contact", "add", "ann@example.com", "--prop", "first_name=Ann")
    lettr("contact", "add", "bob@example.com")
    before = lettr("contact", "show", "ann@example.com", "--json").json()
    for args in (
        ["--prop", "first_name=Anne", "--add-list", "nope"],
        ["--prop", "first_name=Anne", "--email", "bob@example.com"],
        ["--prop", "first_name=Anne", "--email", "broken"],
        ["--prop", "first_name=Anne", "--unset", "ghost"],
        ["--status", "unknown"],
    ):
        result = lettr("contact", "edit", "ann@example.com", *args)
        assert result.exit_code == 1, args
    assert lettr("contact", "show", "ann@example.com", "--json").json() == before


def test_bounced_and_complained_need_force_to_resubscribe(lettr) -> None:
    for status in ("bounced", "complained"):
        email = f"{status}@example.com"
        lettr("contact", "add", email, "--status", status)
        refused = lettr("contact", "edit", email, "--status", "subscribed", "--json")
        assert refused.exit_code == 1
        assert "--force" in refused.error()["message"]
        forced = lettr("contact", "edit", email, "--status", "subscribed", "--force", "--json")
        assert forced.json()["status"] == "subscribed"


def test_an_unsubscribed_contact_deleted_and_added_again_stays_unsubscribed(lettr) -> None:
    lettr("contact", "add", "ann@example.com")
    lettr("contact", "edit", "ann@example.com", "--status", "unsubscribed")
    ann_id = lettr("contact", "show", "ann@example.com", "--json").json()["id"]
    assert lettr("contact", "delete", "ann@example.com", "--yes", "--json").json() == {
        "deleted": [ann_id]
    }
    again = lettr("contact", "add", "ANN@example.com", "--json")
    assert again.json()["status"] == "unsubscribed"
    assert "opt_out_kept" in again.stderr
    refused = lettr("contact", "edit", "ann@example.com", "--status", "subscribed")
    assert refused.exit_code == 1
    lifted = lettr(
        "contact", "edit", "ann@example.com", "--status", "subscribed", "--force", "--json"
    )
    assert lifted.json()["status"] == "subscribed"


def test_delete_needs_every_contact_and_confirmation(lettr) -> None:
    lettr("contact", "add", "ann@example.com", "bob@example.com")
    assert lettr("contact", "delete", "ann@example.com").stderr.startswith(
        "Error [confirmation_required]"
    )
    missing = lettr("contact", "delete", "ann@example.com", "ghost@example.com", "--yes")
    assert missing.exit_code == 1
    assert emails(lettr) == ["ann@example.com", "bob@example.com"]


def test_forget_erases_the_contact_and_its_opt_out(lettr) -> None:
    lettr("contact", "add", "ann@example.com", "--status", "complained")
    ann_id = lettr("contact", "show", "ann@example.com", "--json").json()["id"]
    assert lettr("contact", "forget", "ann@example.com").exit_code == 1  # needs --yes
    assert lettr("contact", "forget", "Ann@example.com", "--yes", "--json").json() == {
        "deleted": [ann_id]
    }
    assert lettr("contact", "add", "ann@example.com", "--json").json()["status"] == "subscribed"
    assert lettr("contact", "show", "nobody@example.com").stderr.startswith("Error [not_found]")


def test_forget_after_delete_removes_the_suppression(lettr) -> None:
    lettr("contact", "add", "ann@example.com", "--status", "unsubscribed")
    lettr("contact", "delete", "ann@example.com", "--yes")
    assert lettr("contact", "forget", "ann@example.com", "--yes", "--json").json() == {
        "deleted": []
    }
    assert lettr("contact", "add", "ann@example.com", "--json").json()["status"] == "subscribed"
    assert lettr("contact", "forget", "never@example.com", "--yes").exit_code == 1


def test_show_in_words_has_the_activity(lettr) -> None:
    lettr("contact", "add", "ann@example.com")
    out = lettr("contact", "show", "ann@example.com").stdout
    assert "ann@example.com" in out and "created" in out and "added by hand" in out
