"""Destructive commands resolve and check their target and inputs first, then ask
(CONTRACT "Errors and exit codes"): without a terminal and without --yes, a missing or refused
target gives its own error, never ``confirmation_required``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.test_campaigns import html_file, set_status

Setup = Callable[[Any, Path, Path], list[str]]


def _missing(*args: str) -> Setup:
    return lambda lettr, home, tmp: list(args)


def _sent_campaign(lettr: Any, home: Path, tmp: Path) -> str:
    body = lettr("campaign", "create", "Gone out", "--json").json()
    set_status(home, body["id"], "sent")
    return str(body["id"])


def _delete_sent(lettr: Any, home: Path, tmp: Path) -> list[str]:
    return ["campaign", "delete", _sent_campaign(lettr, home, tmp)]


def _reject_draft(lettr: Any, home: Path, tmp: Path) -> list[str]:
    lettr("campaign", "create", "Plain draft")
    return ["campaign", "reject", "Plain draft", "--reason", "no"]


def _reject_without_reason(lettr: Any, home: Path, tmp: Path) -> list[str]:
    body = lettr("campaign", "create", "In review", "--json").json()
    set_status(home, body["id"], "in_review")
    return ["campaign", "reject", body["id"], "--reason", "  "]


def _retry_draft(lettr: Any, home: Path, tmp: Path) -> list[str]:
    lettr("campaign", "create", "Plain draft")
    return ["campaign", "retry", "Plain draft", "--in-doubt"]


def _retry_nothing_in_doubt(lettr: Any, home: Path, tmp: Path) -> list[str]:
    return ["campaign", "retry", _sent_campaign(lettr, home, tmp), "--in-doubt"]


def _send_empty_draft(lettr: Any, home: Path, tmp: Path) -> list[str]:
    lettr("campaign", "create", "Empty")
    return ["campaign", "send", "Empty"]


def _send_sent(lettr: Any, home: Path, tmp: Path) -> list[str]:
    return ["campaign", "send", _sent_campaign(lettr, home, tmp)]


def _list_in_use(lettr: Any, home: Path, tmp: Path) -> list[str]:
    lettr("list", "create", "Customers")
    lettr("campaign", "create", "Uses it")
    lettr("campaign", "audience", "Uses it", "--list", "Customers")
    return ["list", "delete", "Customers"]


def _template_in_use(lettr: Any, home: Path, tmp: Path) -> list[str]:
    lettr("template", "create", "News", "--html", html_file(tmp))
    lettr("campaign", "create", "Uses it", "--template", "News")
    return ["template", "delete", "News"]


def _domain_in_use(lettr: Any, home: Path, tmp: Path) -> list[str]:
    assert lettr("domain", "add", "example.com", "--spf-include", "_spf.relay.test").exit_code == 0
    lettr("campaign", "create", "Uses it", "--from-email", "news@example.com")
    return ["domain", "remove", "example.com"]


def _remove_missing_member(lettr: Any, home: Path, tmp: Path) -> list[str]:
    lettr("list", "create", "Customers")
    return ["list", "remove", "Customers", "nobody@example.com"]


def _backup_onto_the_store(lettr: Any, home: Path, tmp: Path) -> list[str]:
    lettr("init")
    return ["store", "backup", str(home / "lettr.db")]


def _import_missing_file(lettr: Any, home: Path, tmp: Path) -> list[str]:
    return ["contact", "import", str(tmp / "nope.csv"), "--on-duplicate", "update"]


def _import_unknown_list(lettr: Any, home: Path, tmp: Path) -> list[str]:
    (tmp / "c.csv").write_text("email\nann@example.com\n", encoding="utf-8")
    return ["contact", "import", str(tmp / "c.csv"), "--on-duplicate", "update", "--list", "Nope"]


def _import_bad_map(lettr: Any, home: Path, tmp: Path) -> list[str]:
    (tmp / "c.csv").write_text("email\nann@example.com\n", encoding="utf-8")
    return ["contact", "import", str(tmp / "c.csv"), "--on-duplicate", "update", "--map", "x"]


def _export_unknown_list(lettr: Any, home: Path, tmp: Path) -> list[str]:
    (tmp / "out.csv").write_text("old", encoding="utf-8")
    return ["contact", "export", str(tmp / "out.csv"), "--list", "Nope"]


CASES: list[tuple[str, Setup, str]] = [
    ("campaign delete", _missing("campaign", "delete", "No such thing"), "not_found"),
    ("campaign delete sent", _delete_sent, "campaign_not_editable"),
    ("campaign send", _missing("campaign", "send", "No such thing"), "not_found"),
    ("campaign send empty", _send_empty_draft, "campaign_not_sendable"),
    ("campaign send sent", _send_sent, "campaign_not_sendable"),
    ("campaign reject", _missing("campaign", "reject", "Nope", "--reason", "x"), "not_found"),
    ("campaign reject draft", _reject_draft, "campaign_not_sendable"),
    ("campaign reject no reason", _reject_without_reason, "validation_error"),
    ("campaign retry", _missing("campaign", "retry", "Nope", "--in-doubt"), "not_found"),
    ("campaign retry draft", _retry_draft, "campaign_not_sendable"),
    ("campaign retry no rows", _retry_nothing_in_doubt, "validation_error"),
    ("contact delete", _missing("contact", "delete", "nobody@example.com"), "not_found"),
    ("contact forget", _missing("contact", "forget", "nobody@example.com"), "not_found"),
    ("list delete", _missing("list", "delete", "Nope"), "not_found"),
    ("list delete in use", _list_in_use, "resource_in_use"),
    ("list remove", _missing("list", "remove", "Nope", "a@example.com"), "not_found"),
    ("list remove member", _remove_missing_member, "not_found"),
    ("topic delete", _missing("topic", "delete", "Nope"), "not_found"),
    ("property delete", _missing("property", "delete", "nope"), "not_found"),
    ("segment delete", _missing("segment", "delete", "Nope"), "not_found"),
    ("template delete", _missing("template", "delete", "Nope"), "not_found"),
    ("template delete in use", _template_in_use, "resource_in_use"),
    ("domain remove", _missing("domain", "remove", "nope.example.com"), "not_found"),
    ("domain remove in use", _domain_in_use, "resource_in_use"),
    ("store backup onto the store", _backup_onto_the_store, "validation_error"),
    ("contact import missing file", _import_missing_file, "validation_error"),
    ("contact import unknown list", _import_unknown_list, "not_found"),
    ("contact import bad map", _import_bad_map, "validation_error"),
    ("contact export unknown list", _export_unknown_list, "not_found"),
]


@pytest.mark.parametrize(("setup", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_refused_target_is_refused_before_anything_is_asked(
    lettr, isolated_home: Path, tmp_path: Path, setup: Setup, code: str
) -> None:
    args = setup(lettr, isolated_home, tmp_path)
    result = lettr(*args, "--json")
    assert result.exit_code == 1, result.stdout
    assert result.error()["error_code"] == code, result.stderr


def test_every_destructive_command_is_covered() -> None:
    from tests.test_cli import all_commands

    with_yes = set()
    for path in all_commands():
        import typer

        from lettr_cli.cli.main import app

        command: Any = typer.main.get_command(app)
        for name in path:
            command = command.commands[name]
        if any("--yes" in getattr(p, "opts", ()) for p in command.params):
            with_yes.add(" ".join(path))
    covered = {" ".join(case[0].split()[:2]) for case in CASES}
    assert with_yes <= covered, with_yes - covered


def test_a_checked_target_still_needs_confirmation(lettr) -> None:
    lettr("list", "create", "Customers")
    result = lettr("list", "delete", "Customers", "--json")
    assert result.error()["error_code"] == "confirmation_required"
    assert "Customers" in result.error()["message"]
    assert lettr("list", "show", "Customers").exit_code == 0
