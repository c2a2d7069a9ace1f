"""`lettr campaign check`: specific findings, errors exit 1, warnings exit 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def make(lettr: Any, tmp_path: Path, html: str, subject: str = "Our spring letter") -> str:
    page = tmp_path / f"c{abs(hash(html))}.html"
    page.write_text(html, encoding="utf-8")
    body = lettr(
        "campaign",
        "create",
        "C",
        "--subject",
        subject,
        "--from-email",
        "news@example.com",
        "--html",
        str(page),
        "--json",
    ).json()
    return str(body["id"])


def codes(result: Any, level: str) -> list[str]:
    return [f["code"] for f in result.json()[level]]


def test_a_clean_campaign_has_only_the_footer_note(lettr, tmp_path: Path) -> None:
    lettr("config", "set", "sender.postal_address", "1 Example Street")
    ref = make(
        lettr,
        tmp_path,
        "<p>Hello, this is our spring letter with plenty of real words "
        "in it.</p><a href='https://example.com/more'>Read more</a>",
    )
    result = lettr("campaign", "check", ref, "--json")
    assert result.exit_code == 0
    assert result.json() == {
        "errors": [],
        "warnings": [
            {
                "code": "no_unsubscribe_link",
                "message": "the content has no {{ unsubscribe_link }}; lettr adds a footer "
                "with one",
            }
        ],
    }


def test_subject_findings(lettr, tmp_path: Path) -> None:
    ref = make(
        lettr,
        tmp_path,
        "<p>{{ unsubscribe_link }}</p>",
        subject="FREE MONEY!!! ACT NOW, THIS IS URGENT and a rather long subject line",
    )
    result = lettr("campaign", "check", ref, "--json")
    assert result.exit_code == 0
    found = codes(result, "warnings")
    for code in (
        "subject_long",
        "subject_punctuation",
        "subject_capitals",
        "subject_capitals_share",
        "spam_phrase",
        "no_postal_address",
    ):
        assert code in found, code
    messages = " ".join(f["message"] for f in result.json()["warnings"])
    assert "FREE, MONEY, THIS, URGENT" in messages
    assert "'act now'" in messages and "'free money'" in messages and "'urgent'" in messages


def test_body_findings(lettr, tmp_path: Path) -> None:
    html = (
        "<a href='www.example.com/x'>no scheme</a>"
        "<a href='https://evil.example.net/login'>www.example.com</a>"
        "<a href='https://news.example.com/a'>example.com</a>"
    )
    result = lettr("campaign", "check", make(lettr, tmp_path, html), "--json")
    warnings = result.json()["warnings"]
    assert [w["code"] for w in warnings if w["code"].startswith(("link", "image"))] == [
        "link_without_scheme",
        "link_text_mismatch",
    ]
    assert "shows www.example.com but the link goes to evil.example.net" in str(warnings)
    images = make(lettr, tmp_path, "<img src='https://example.com/banner.png'><p>Sale!</p>")
    assert "image_only" in codes(lettr("campaign", "check", images, "--json"), "warnings")


def test_errors_exit_1(lettr, tmp_path: Path) -> None:
    ref = make(lettr, tmp_path, "<p>{{ first_nmae }}</p>", subject="Hi {{ first_nmae }}")
    result = lettr("campaign", "check", ref, "--json")
    assert result.exit_code == 1
    assert codes(result, "errors") == ["unknown_merge_tag", "unknown_merge_tag"]
    long = make(lettr, tmp_path, "<p>x</p>", subject="{{ 'x' * 999 }}")
    assert codes(lettr("campaign", "check", long, "--json"), "errors") == ["subject_too_long"]
    assert result.error()["error_code"] == "validation_error"
    words = lettr("campaign", "check", ref)
    assert "unknown merge tag {{ first_nmae }} in html_content" in words.stdout
    assert words.stderr.startswith("Error [validation_error]: the content check found 2 error(s)")


def test_missing_parts_are_errors(lettr) -> None:
    ref = lettr("campaign", "create", "Empty", "--json").json()["id"]
    result = lettr("campaign", "check", ref, "--json")
    assert result.exit_code == 1
    assert codes(result, "errors") == [
        "subject_missing",
        "from_email_missing",
        "html_content_missing",
    ]


def test_a_runaway_template_is_an_error_within_seconds(lettr, tmp_path: Path) -> None:
    ref = make(
        lettr,
        tmp_path,
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    )
    result = lettr("campaign", "check", ref, "--json")
    assert result.exit_code == 1
    assert codes(result, "errors") == ["html_content_invalid"]
    assert "longer than" in result.json()["errors"][0]["message"]


BROKEN = {
    "syntax": "{% if %}",
    "unknown tag": "{% frob %}",
    "sandbox refusal": "{{ 'x' * 10**9 }}",
    "undefined": "{{ city.nope.deeper }}",
    "forbidden": "{{ ''.__class__.__mro__ }}",
}
FIELDS = {"subject": "the subject", "html_content": "the HTML", "text_content": "the text part"}


@pytest.mark.parametrize("kind", BROKEN)
@pytest.mark.parametrize("field", FIELDS)
def test_a_template_error_names_its_field(lettr, tmp_path: Path, field: str, kind: str) -> None:
    lettr("property", "create", "city")
    parts = {"subject": "Hello", "html_content": "<p>Hello</p>", "text_content": "Hello"}
    parts[field] = BROKEN[kind]
    (tmp_path / "c.html").write_text(parts["html_content"], encoding="utf-8")
    (tmp_path / "c.txt").write_text(parts["text_content"], encoding="utf-8")
    created = lettr("campaign", "create", "C", "--subject", parts["subject"],
                    "--from-email", "news@example.com", "--html", str(tmp_path / "c.html"),
                    "--text", str(tmp_path / "c.txt"), "--json")  # fmt: skip
    if created.exit_code != 0:  # refused when the campaign is made: the field is named there
        error = created.error()
        assert error["error_code"] == "validation_error"
        assert list(error["errors"]) == [field]
        assert error["message"].startswith(FIELDS[field] + " "), error["message"]
        return
    result = lettr("campaign", "check", "C", "--json")
    assert result.exit_code == 1
    [finding] = result.json()["errors"]
    assert finding["code"] == f"{field}_invalid"
    assert FIELDS[field] + " " in finding["message"], finding["message"]


def checked_in_a_process(tmp_path: Path, campaign: str) -> tuple[int, str, int]:
    """``lettr campaign check --json`` in a fresh interpreter: exit code, stdout, and the
    process's peak resident memory in KiB."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    out = tmp_path / f"out-{campaign}.json"
    with out.open("w") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "lettr_cli", "campaign", "check", campaign, "--json"],
            stdout=stdout, stderr=subprocess.DEVNULL, cwd=REPO,
        )  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, out.read_text(), usage.ru_maxrss


@pytest.mark.parametrize(
    ("html", "named"),
    [
        ("{{ 'x'.zfill(10**9) }}", "zfill(1000000000)"),
        ("{{ ('x'|string).ljust(10**9) }}", "ljust(1000000000)"),
        ("{{ '\\t'.expandtabs(10**9) }}", "expandtabs(1000000000)"),
        ("{{ ('ab'*50000)|replace('a','a'*50000) }}", "replace('a', 'aaaa"),
    ],
)
def test_a_template_cannot_make_lettr_use_much_memory(
    lettr, tmp_path: Path, html: str, named: str
) -> None:
    calm = make(lettr, tmp_path, "<p>Hello {{ 'x'.zfill(10) }}</p>")
    hostile = make(lettr, tmp_path, f"<p>{html}</p>")
    code, _, baseline = checked_in_a_process(tmp_path, calm)
    assert code == 0
    code, out, peak = checked_in_a_process(tmp_path, hostile)
    assert code == 1
    [finding] = json.loads(out)["errors"]
    assert finding["code"] == "html_content_invalid"
    assert named in finding["message"]
    assert peak < baseline + 100 * 1024, (peak, baseline)  # KiB: a memory bound, not a timing


def test_an_own_unsubscribe_link_without_a_preferences_link_is_a_warning(
    lettr, tmp_path: Path
) -> None:
    lettr("config", "set", "sender.postal_address", "1 Example Street")
    words = "<p>Hello, this is our spring letter with plenty of real words in it.</p>"
    ref = make(lettr, tmp_path, words + "<a href='{{ unsubscribe_link }}'>Leave</a>")
    result = lettr("campaign", "check", ref, "--json")
    assert result.exit_code == 0
    (warning,) = result.json()["warnings"]
    assert warning["code"] == "no_preferences_link"
    assert "{{ preferences_link }}" in warning["message"]

    both = (
        words + "<a href='{{ unsubscribe_link }}'>Leave</a> <a href='{{ preferences_link }}'>x</a>"
    )
    lettr("campaign", "delete", ref, "--yes")
    result = lettr("campaign", "check", make(lettr, tmp_path, both), "--json")
    assert result.json() == {"errors": [], "warnings": []}
