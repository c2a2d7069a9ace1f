"""`lettr wizard`: a whole campaign from a blank wizard to sent against the test relay, driven
through Textual's pilot at 80x24; the refusals Review shows; the same campaign as the CLI's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Select, SelectionList, Static, TabbedContent

from lettr_cli.campaigns.campaigns import list_campaigns
from lettr_cli.tui.app import WizardApp
from tests.smtp_relay import Relay
from tests.wizard_helpers import HTML, audience, open_workspace, shown, type_in, until

EMAILS = ["ann@example.org", "bob@example.org", "cy@example.org"]


def _status(home: Path, lettr: Any, ref: str) -> str:
    return str(lettr("campaign", "show", ref, "--json").json()["status"])


async def _compose(pilot: Any, html: Path) -> None:
    app = pilot.app
    await type_in(pilot, "#name", "Spring sale")
    await type_in(pilot, "#subject", "Hello {{ first_name }}")
    await type_in(pilot, "#from_local", "news")
    app.query_one("#from_domain", Select).value = "example.com"
    await type_in(pilot, "#from_name", "The Shop")
    await type_in(pilot, "#html_path", str(html))
    await pilot.press("enter")


async def _audience(pilot: Any) -> None:
    await pilot.press("f2")
    assert pilot.app.find("#steps", TabbedContent).active == "audience"
    lists = pilot.app.query_one("#lists", SelectionList)
    lists.select(lists.get_option_at_index(0).value)
    await until(pilot, lambda: "About 3 recipients" in shown(pilot, "#estimate"))


@pytest.mark.slow
def test_a_blank_wizard_to_sent(lettr, relay: Relay, tmp_path: Path, isolated_home: Path) -> None:
    audience(lettr, tmp_path, EMAILS)
    html = tmp_path / "sale.html"
    html.write_text(HTML, encoding="utf-8")
    app = WizardApp(open_workspace(isolated_home))

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            assert app.focused is not None and app.focused.id == "name"
            assert app.query_one("#name").value == ""  # type: ignore[attr-defined]
            await _compose(pilot, html)
            await _audience(pilot)
            await pilot.press("f4")
            assert app.find("#steps", TabbedContent).active == "review"
            await until(pilot, lambda: "Ready to send." in shown(pilot, "#refusals"))
            assert "About 3 recipients" in shown(pilot, "#summary")
            assert "Subject: Hello there" in shown(pilot, "#first-message")
            await pilot.press("f9")
            await until(
                pilot,
                lambda: "about 3 recipients now" in str(app.screen.query_one("#question").render()),
            )
            await pilot.press("ctrl+y")
            await until(pilot, lambda: "Spring sale: sent" in shown(pilot, "#progress"))
            await until(pilot, lambda: "Report:" in shown(pilot, "#refusals"))
            assert "Open rate" in shown(pilot, "#refusals") or "Rates:" in shown(pilot, "#refusals")
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    assert app.return_value == 0
    assert relay.delivered_to() == sorted(EMAILS)
    assert _status(isolated_home, lettr, "Spring sale") == "sent"


def _draft(lettr: Any, tmp_path: Path, *extra: str) -> None:
    created = lettr("campaign", "create", "Draft", "--subject", "Hello", *extra)
    assert created.exit_code == 0, created.stderr
    assert lettr("campaign", "audience", "Draft", "--list", "Customers").exit_code == 0


def _unverified(lettr: Any, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(HTML, encoding="utf-8")
    _draft(lettr, tmp_path, "--from-email", "news@example.org", "--html", str(page))


def _no_content(lettr: Any, tmp_path: Path) -> None:
    _draft(lettr, tmp_path, "--from-email", "news@example.com")


def _over_plan(lettr: Any, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(HTML, encoding="utf-8")
    _draft(lettr, tmp_path, "--from-email", "news@example.com", "--html", str(page))
    assert lettr("contact", "add", *(f"c{i}@example.net" for i in range(499))).exit_code == 0


def _bad_merge_tag(lettr: Any, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>{{ nope }}</p>", encoding="utf-8")
    _draft(lettr, tmp_path, "--from-email", "news@example.com", "--html", str(page))


@pytest.mark.parametrize(
    ("setup", "code", "words"),
    [
        (_unverified, "unconfigured_domain", "example.org is not a sending domain"),
        (_no_content, "campaign_not_sendable", "still needs content"),
        (_over_plan, "quota_exceeded", "500"),
        (_bad_merge_tag, "validation_error", "unknown merge tag {{ nope }}"),
    ],
    ids=["unverified domain", "missing content", "plan limit", "error findings"],
)
def test_review_shows_each_refusal_and_send_is_refused(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path, setup: Any, code: str, words: str
) -> None:
    audience(lettr, tmp_path, EMAILS[:2])
    setup(lettr, tmp_path)
    app = WizardApp(open_workspace(isolated_home), "Draft")

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            await pilot.press("f4")
            await until(pilot, lambda: "Refused" in shown(pilot, "#refusals"))
            refusals = shown(pilot, "#refusals")
            assert f"Refused ({code})" in refusals
            assert words in " ".join(refusals.split())
            await pilot.press("f9")
            await pilot.pause(0.2)
            assert len(app.screen_stack) == 1  # no confirmation: nothing to confirm
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    assert relay.delivered_to() == []
    assert _status(isolated_home, lettr, "Draft") == "draft"


DROPPED = ("id", "created_at", "sent_at", "scheduled_at")


@pytest.mark.slow
def test_the_wizard_and_the_cli_make_the_same_campaign(
    lettr, verified_domain: Any, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    audience(lettr, tmp_path, EMAILS)
    html = tmp_path / "sale.html"
    html.write_text(HTML, encoding="utf-8")
    app = WizardApp(open_workspace(isolated_home))

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            await _compose(pilot, html)
            await _audience(pilot)
            await until(pilot, lambda: app.find("#audience-error", Static) is not None)
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    other = {"LETTR_HOME": str(tmp_path / "other")}
    assert lettr("list", "create", "Customers", env=other).exit_code == 0
    made = lettr("campaign", "create", "Spring sale", "--subject", "Hello {{ first_name }}",
                 "--from-email", "news@example.com", "--from-name", "The Shop",
                 "--html", str(html), env=other)  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert (
        lettr("campaign", "audience", "Spring sale", "--list", "Customers", env=other).exit_code
        == 0
    )

    def show(env: dict[str, str] | None) -> dict[str, Any]:
        body = lettr("campaign", "show", "Spring sale", "--json", env=env).json()
        return {k: v for k, v in body.items() if k not in DROPPED}

    assert show(None) == show(other)


def test_step_names_in_full_at_80_columns_and_no_printable_binding(
    tmp_path: Path, isolated_home: Path
) -> None:
    from textual.keys import key_to_character
    from textual.widgets import Input, Tab

    app = WizardApp(open_workspace(isolated_home))

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            tabs = list(app.query(Tab))
            assert [str(t.label) for t in tabs] == ["1 Compose", "2 Audience", "3 Schedule",
                                                    "4 Review"]  # fmt: skip
            for tab in tabs:
                assert tab.region.right <= 80 and tab.region.width >= len(str(tab.label))
            assert isinstance(app.focused, Input)
            taken = [
                key
                for key, active in app.active_bindings.items()
                if active.node is not app.focused and (key_to_character(key) or "\t").isprintable()
            ]
            assert taken == []
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    assert app.return_value == 0
    with open_workspace(isolated_home).store.read() as session:
        assert list_campaigns(session, None) == []  # a blank wizard saves nothing


def test_without_a_terminal_the_wizard_exits_1_with_a_message(lettr) -> None:
    from tests.conftest import run_process

    done = run_process(["wizard"])
    assert done.returncode == 1
    assert "needs a terminal" in done.stderr
    assert "Traceback" not in done.stderr
    result = lettr("wizard")
    assert result.exit_code == 1 and "needs a terminal" in result.stderr
