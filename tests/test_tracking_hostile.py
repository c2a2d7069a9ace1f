"""The tracking server against requests no mail client sends: huge numbers, many form fields,
nested multipart bodies, tokens with something after them, and whatever hypothesis makes up;
real HTTP to the app under uvicorn on loopback. Nothing answers 5xx but the documented 503."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tracking_helpers import (
    app_client,
    contact_status,
    sent_campaign,
    serving,
    snapshot,
)

ANN = "ann@example.com"
URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}


def _nested_multipart(depth: int) -> tuple[str, bytes]:
    """A form whose part holds a multipart that holds a multipart ... ``depth`` deep, each
    left open (as a parser must tolerate), so that 1,200 levels fit in 62 KB."""
    body = b"confirm=1"
    for level in range(depth, 0, -1):
        head = f"--{level:x}\r\nContent-Type:multipart/mixed;boundary={level + 1:x}\r\n\r\n"
        body = head.encode() + body
    return "multipart/form-data; boundary=1", body


def test_a_click_number_of_thousands_of_digits_is_not_found(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    base = links[ANN].clicks[0].rsplit("/", 1)[0]
    before = snapshot(isolated_home)
    with serving(app_client(isolated_home).app) as url, httpx.Client(base_url=url) as http:
        for number in ("9" * 5000, "0" * 4000 + "1", "1" * 20):
            assert http.get(f"{base}/{number}").status_code == 404
        assert snapshot(isolated_home) == before
        assert http.get(links[ANN].clicks[0]).status_code == 302


def test_an_unsubscribe_post_with_too_many_fields_or_nested_parts_is_refused(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    path = links[ANN].unsubscribe
    before = snapshot(isolated_home)
    many = "&".join(f"f{n}=x" for n in range(20)) + "&confirm=1"
    parts = [(f"f{n}", (None, "x")) for n in range(20)] + [("confirm", (None, "1"))]
    nested_type, nested = _nested_multipart(1200)
    with serving(app_client(isolated_home).app) as url, httpx.Client(base_url=url) as http:
        assert http.post(path, content=many.encode(), headers=URLENCODED).status_code == 400
        assert http.post(path, files=parts).status_code == 400
        shallow_type, shallow = _nested_multipart(3)
        for kind, body in ((nested_type, nested), (shallow_type, shallow)):
            assert http.post(path, content=body, headers={"Content-Type": kind}).status_code == 400

        def chunks() -> Any:
            yield b"confirm=1&"
            for _ in range(100):
                yield b"x" * 1000

        streamed = http.post(path, content=chunks(), headers=URLENCODED)
        assert streamed.status_code == 413
        assert snapshot(isolated_home) == before
        # Twenty fields, confirm=1 among them, are still a confirm.
        fine = "&".join(f"f{n}=x" for n in range(19)) + "&confirm=1"
        assert http.post(path, content=fine.encode(), headers=URLENCODED).status_code == 200
    assert contact_status(isolated_home, ANN) == "unsubscribed"


def test_a_token_followed_by_a_newline_or_more_is_not_a_token(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    mine = links[ANN]
    before = snapshot(isolated_home)
    pixel = mine.pixel.removesuffix(".gif")
    click, _, number = mine.clicks[0].rpartition("/")
    with serving(app_client(isolated_home).app) as url, httpx.Client(base_url=url) as http:
        for tail in ("%0A", "%0D%0A", "%0A%0A", "%20", "%00"):
            assert http.get(f"{pixel}{tail}.gif").status_code == 404, tail
            assert http.get(f"{click}{tail}/{number}").status_code == 404, tail
            assert http.get(f"{mine.unsubscribe}{tail}").status_code == 404, tail
            confirm = http.post(f"{mine.unsubscribe}{tail}", data={"confirm": "1"})
            assert confirm.status_code == 404, tail
            assert http.get(f"{mine.view}{tail}").status_code == 404, tail
    assert snapshot(isolated_home) == before
    assert contact_status(isolated_home, ANN) == "subscribed"


METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"]
CONTENT_TYPES = [
    None,
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b1",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "text/plain",
    "application/x-www-form-urlencoded; charset=nope",
]
ESCAPES = ["%0A", "%00", "%FF", "%C3%28", "%2F", "%25", "%", "%Z", ".gif", "/", "//"]


def _paths(valid: list[str]) -> st.SearchStrategy[str]:
    """Mostly the paths of real links, cut, extended or with their numbers replaced."""
    number = st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=30),
        st.sampled_from(["0", "1", "2", "-1", "x", "1/2", "", "9" * 5000, "0" * 5000 + "1"]),
    )
    junk = st.lists(st.sampled_from(ESCAPES), max_size=3).map("".join)
    real = st.one_of(
        st.sampled_from(valid),
        st.builds(lambda path, tail: path + tail, st.sampled_from(valid), junk),
        st.builds(
            lambda path, n: path.rsplit("/", 1)[0] + "/" + n,
            st.sampled_from([p for p in valid if p.startswith("/c/")]),
            number,
        ),
        st.builds(lambda path, cut: path[:cut], st.sampled_from(valid), st.integers(0, 40)),
    )
    made_up = st.builds(
        lambda prefix, text, tail: prefix + quote(text, safe="") + tail,
        st.sampled_from(["/o/", "/c/", "/u/", "/v/", "/p/", "/", "/x/"]),
        st.text(max_size=60),
        st.one_of(junk, number.map(lambda n: "/" + n)),
    )
    return st.one_of(real, real, made_up, st.text(max_size=80).map(lambda t: "/" + quote(t)))


def _bodies() -> st.SearchStrategy[bytes]:
    fields = st.lists(
        st.tuples(
            st.sampled_from(["confirm", "List-Unsubscribe", "x", "shown", "topic", "unsubscribe"]),
            st.text(max_size=12),
        ),
        max_size=40,
    )
    return st.one_of(
        st.binary(max_size=3000),
        fields.map(lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs).encode()),
        st.integers(min_value=0, max_value=1200).map(lambda n: _nested_multipart(n)[1]),
        st.just(b"--b1\r\n\r\nconfirm=1\r\n--b1--\r\n"),
    )


def test_no_request_of_any_shape_gets_a_5xx_but_the_documented_503(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    valid = [
        path
        for mine in links.values()
        for path in (mine.pixel, *mine.clicks, mine.unsubscribe, mine.view, mine.preferences)
    ]
    with serving(app_client(isolated_home).app) as url, httpx.Client(base_url=url) as http:

        @settings(
            max_examples=300,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(
            method=st.sampled_from(METHODS),
            path=_paths(valid),
            body=_bodies(),
            content_type=st.sampled_from(CONTENT_TYPES),
            agent=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        )
        def probe(
            method: str, path: str, body: bytes, content_type: str | None, agent: str
        ) -> None:
            headers = {"User-Agent": agent.strip() or "probe"}
            if content_type is not None:
                headers["Content-Type"] = content_type
            try:
                request = http.build_request(method, path, content=body or None, headers=headers)
            except (httpx.InvalidURL, UnicodeError):
                return  # not a request an HTTP client can send
            status = http.send(request).status_code
            assert status < 500 or status == 503, (method, path, status)

        probe()
