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


NS = "{% set ns = namespace(s='x' * 100000, n=2 ** 4000, t=('x',)) %}"


@pytest.mark.parametrize(
    ("source", "named"),
    [
        # The issue's examples: each would have allocated gigabytes before the output cap.
        ("{{ 'x'.zfill(10**9) }}", "'x'.zfill(1000000000)"),
        ("{{ ('x'|string).ljust(10**9) }}", "'x'.ljust(1000000000)"),
        ("{{ '\\t'.expandtabs(10**9) }}", "'\\t'.expandtabs(1000000000)"),
        ("{{ ('ab'*50000)|replace('a','a'*50000) }}", "replace('a', 'aaaaaaaaaaaaaaaaaaa…aa')"),
        # The same through other doors.
        ("{{ 'x'.rjust(10**9) ~ 'x'.center(10**9) }}", "rjust(1000000000)"),
        ("{{ ('\\t' * 100000).expandtabs(10000) }}", "expandtabs(10000)"),
        ("{{ ('ab'*50000).replace('a', 'a'*50000) }}", ".replace('a', 'aaaa"),
        ("{{ ('a'*100000).join(['']*100000) }}", ".join(…)"),
        ("{{ (['a'*100000]*50)|join }}", "join(''"),
        ("{{ 'x'.encode().zfill(10**9) }}", "b'x'.zfill(1000000000)"),
        ("{{ 'x'.encode() * 10**9 }}", "b'x' * 1000000000"),
        ("{{ ('x' * 99999).translate({120: 'y' * 100}) }}", ".translate({120: 'yyyyy"),
        ("{{ (1).to_bytes(10**9, 'big') }}", "to_bytes(1000000000, 'big')"),
        ("{{ '%.999999999f' % 1 }}", "the format '%.999999999f'"),
        ("{{ '%(a)999999999s' % {'a': 1} }}", "the format '%(a)999999999s'"),
        ("{{ '%(a(b))999999999s' % {'a(b)': 1} }}", "the format '%(a(b))999999999s'"),
        ("{{ '%*s' % (10**9, 'x') }}", "the format '%*s'"),
        ("{{ ('%9999s' * 200) % (('x',) * 200) }}", "the format '%9999s%9999s"),
        ("{{ ('\\n' * 100000)|indent(10000) }}", "indent(10000)"),
        ("{{ ('a ' * 50000)|wordwrap(1, wrapsep='x' * 10000) }}", "wordwrap(wrapsep='xxxx"),
        ("{{ [[1]]|tojson(10**6) }}", "tojson(1000000)"),
        ("{{ [1]|batch(10**9, 'x')|list }}", "linecount 1000000000"),
        ("{{ []|slice(10**9)|list }}", "slices 1000000000"),
        ("{{ ([[1] * 100000] * 100)|sum(start=[]) }}", "sum"),
        ("{{ ['x' * 100000] * 100000 }}", "printing a value"),
        ("{{ {}.fromkeys(range(100000), 'x' * 100000) }}", "printing a value"),
        ("{{ (['x' * 100000] * 100)|string }}", "the 'string' filter"),
        (NS + "{% for i in range(20) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "joining"),
        (NS + "{% for i in range(20) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "+ 'xxxx"),
        (NS + "{% for i in range(20) %}{% set ns.n = ns.n * ns.n %}{% endfor %}", "* "),
        (NS + "{% for i in range(60) %}{% set ns.t = (ns.t, ns.t) %}{% endfor %}{{ ns.t }}",
         "printing a value"),
        ("{% macro f(n) %}{% if n %}{% set s = f(n - 1) %}{{ s }}{{ s }}{% else %}"
         "{{ 'x' * 100000 }}{% endif %}{% endmacro %}{{ f(30) }}", "block or macro"),
        ("{% macro g() %}{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}"
         "{% endmacro %}{{ g() }}", "block or macro"),
        ("{% set big %}{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}{% endset %}",
         "block or macro"),
    ],
)  # fmt: skip
def test_size_arguments_are_bounded_before_the_call(source: str, named: str) -> None:
    started = time.monotonic()
    with pytest.raises(RenderRefused) as caught:
        render(compile_template(source, html=False), {}, field="html_content")
    message = caught.value.message
    assert caught.value.code == "validation_error"
    assert message.startswith("the HTML was refused: "), message
    assert named in message, message
    assert time.monotonic() - started < 10  # a liveness bound, not a timing


def test_ordinary_uses_of_the_same_methods_render() -> None:
    source = (
        "{{ '7'.zfill(3) }}|{{ 'a'.ljust(3, '.') }}|{{ 'a\\tb'.expandtabs(4) }}|"
        "{{ 'abc'|replace('b', 'BB') }}|{{ ', '.join(['x', 'y']) }}|{{ ['x', 'y']|join('-') }}|"
        "{{ '%05.1f' % 3.14159 }}|{{ '%(n)s!'|format(n=1) }}|{{ 'ab'|center(6) }}|"
        "{{ 'a\\nb'|indent(2) }}|{{ [1, [2]]|tojson(1) }}|{{ [1, 2, 3]|batch(2, 0)|list }}|"
        "{{ [[1], [2]]|sum(start=[]) }}|{{ 'a' ~ 1 ~ [2] }}|{{ 'x' + 'y' }}|{{ 3 * 4 }}"
    )
    assert render(compile_template(source, html=False), {}) == (
        "007|a..|a   b|aBBc|x, y|x-y|003.1|1!|  ab  |a\n  b|[\n 1,\n [\n  2\n ]\n]"
        "|[[1, 2], [3, 0]]|[1, 2]|a1[2]|xy|12"
    )
