"""`lettr template`: versions, roll back, content checked by the sandbox."""

from __future__ import annotations

from pathlib import Path


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_create_update_activate(lettr, tmp_path: Path) -> None:
    v1 = write(tmp_path, "v1.html", "<p>Hi {{ first_name }}</p>")
    v2 = write(tmp_path, "v2.html", "<p>Hello {{ first_name }}</p>")
    text = write(tmp_path, "v2.txt", "Hello {{ first_name }}")
    created = lettr("template", "create", "Welcome", "--html", v1, "--json")
    assert created.exit_code == 0, created.stderr
    body = created.json()
    assert body["name"] == "Welcome" and body["version"] == 1
    assert [v["active"] for v in body["versions"]] == [True]
    updated = lettr("template", "update", "Welcome", "--html", v2, "--text", text, "--json").json()
    assert updated["version"] == 2
    assert [(v["version"], v["active"]) for v in updated["versions"]] == [(1, False), (2, True)]
    shown = lettr("template", "show", "Welcome", "--json").json()
    assert shown["html_content"] == "<p>Hello {{ first_name }}</p>"
    assert shown["text_content"] == "Hello {{ first_name }}"
    rolled = lettr("template", "activate", "Welcome", "1", "--json").json()
    assert rolled["version"] == 1
    assert lettr("template", "show", "Welcome", "--json").json()["html_content"] == (
        "<p>Hi {{ first_name }}</p>"
    )
    versions = lettr("template", "versions", "Welcome", "--json").json()
    assert [(v["version"], v["active"]) for v in versions] == [(1, True), (2, False)]
    assert [t["name"] for t in lettr("template", "list", "--json").json()] == ["Welcome"]
    assert lettr("template", "delete", "Welcome", "--yes", "--json").json() == {
        "deleted": [body["id"]]
    }
    assert lettr("template", "list", "--json").json() == []


def test_bad_content_is_refused_and_nothing_changes(lettr, tmp_path: Path) -> None:
    good = write(tmp_path, "good.html", "<p>ok</p>")
    lettr("template", "create", "T", "--html", good)
    broken = write(tmp_path, "broken.html", "<p>{% if %}</p>")
    empty = write(tmp_path, "empty.html", "   ")
    latin1 = tmp_path / "latin1.html"
    latin1.write_bytes("<p>café</p>".encode("latin-1"))
    for path, field in (
        (broken, "html_content"),
        (empty, "html_content"),
        (str(latin1), "html_content"),
        (str(tmp_path / "missing.html"), "html_content"),
    ):
        result = lettr("template", "update", "T", "--html", path, "--json")
        assert result.exit_code == 1, path
        assert field in result.error()["errors"]
    bad_text = write(tmp_path, "bad.txt", "{{ unclosed")
    result = lettr("template", "update", "T", "--html", good, "--text", bad_text, "--json")
    assert "text_content" in result.error()["errors"]
    assert lettr("template", "show", "T", "--json").json()["version"] == 1


def test_names_and_lookups(lettr, tmp_path: Path) -> None:
    html = write(tmp_path, "t.html", "<p>ok</p>")
    lettr("template", "create", "T", "--html", html)
    assert lettr("template", "create", "T", "--html", html).stderr.startswith(
        "Error [resource_already_exists]"
    )
    assert lettr("template", "show", "t").stderr == "Error [not_found]: no template named 't'\n"
    assert lettr("template", "activate", "T", "7").stderr.startswith("Error [not_found]")
    assert lettr("template", "delete", "T").stderr.startswith("Error [confirmation_required]")


def test_html_from_stdin(lettr) -> None:
    result = lettr("template", "create", "Piped", "--html", "-", "--json", input="<p>piped</p>")
    assert result.exit_code == 0, result.stderr
    assert lettr("template", "show", "Piped", "--json").json()["html_content"] == "<p>piped</p>"
