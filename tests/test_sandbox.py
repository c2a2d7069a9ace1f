"""The template sandbox: runaway and escaping templates are refused quickly and clearly."""

from __future__ import annotations

import time

import pytest

from lettr_cli.content.sandbox import RenderRefused, compile_template, referenced_names, render


def rendered(source: str, values: dict[str, object] | None = None, *, html: bool = True) -> str:
    return render(compile_template(source, html=html), values or {})


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ 9 ** (9 ** 8) }}", "too large a number"),
        ("{{ 'x' * 10**9 }}", "too large for a template"),
        ("{{ [1] * 10**9 }}", "too large for a template"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "longer than",
        ),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "longer than",
        ),
        ("{% set s = 'x' * 90000 %}{% for i in range(100000) %}{{ s }}{% endfor %}", "larger than"),
        ("{{ 'a'|center(10**9) }}", "width over"),
        ("{{ 'a'|indent(10**9) }}", "width over"),
        ("{{ '%999999999s' % 1 }}", "width over"),
        ("{{ '%999999999s'|format(1) }}", "width over"),
        ("{{ '{:>999999999}'.format(1) }}", "str.format"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "forbids"),
        ("{{ cycler.__init__.__globals__ }}", "forbids"),
        ("{{ lipsum(10**6) }}", "undefined"),
        ("{{ nope }}", "undefined"),
    ],
)
def test_runaway_and_escaping_templates_are_refused(source: str, reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(RenderRefused) as caught:
        rendered(source)
    assert reason in caught.value.message
    assert caught.value.code == "validation_error"
    assert time.monotonic() - started < 10  # "within seconds": a liveness bound, not a timing


def test_ordinary_templates_render() -> None:
    assert rendered("{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ name or 'there' }}", {"name": ""}) == (
        "1024 ababab there"
    )
    assert rendered("{% for i in range(3) %}{{ i }}{% endfor %}") == "012"
    assert rendered("{{ '%5s'|format('x') }}|{{ '%s-%s' % (1, 2) }}") == "    x|1-2"
    assert rendered("{{ prefs.color }}", {"prefs": {"color": "blue"}}) == "blue"


def test_html_is_autoescaped_and_text_is_not() -> None:
    value = {"name": "<b>Ann & Bob</b>"}
    assert rendered("Hi {{ name }}", value) == "Hi &lt;b&gt;Ann &amp; Bob&lt;/b&gt;"
    assert rendered("Hi {{ name }}", value, html=False) == "Hi <b>Ann & Bob</b>"


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(RenderRefused) as caught:
        compile_template("line one\n{% if %}", html=True, field="html_content")
    assert "line 2" in caught.value.message
    assert caught.value.errors == {"html_content": [caught.value.message]}


def test_merge_tags_are_the_names_a_template_reads() -> None:
    source = (
        "{{ first_name or 'there' }} {% for x in items %}{{ x }}{% endfor %}{% set y = 1 %}{{ y }}"
    )
    assert referenced_names(source, html=True) == {"first_name", "items"}
