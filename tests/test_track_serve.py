"""`lettr track serve` in a process of its own: one access line per request on stderr, with
each token cut to its first 8 characters, and no access log of uvicorn's."""

from __future__ import annotations

import re
import signal
import socket
import time
from pathlib import Path

import httpx

from tests.send_cases import LIVENESS, finish, spawn, stop
from tests.tracking_helpers import BROWSER, sent_campaign

ANN = "ann@example.com"
LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d) "
    r"(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) \d+ ms$"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + LIVENESS
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"lettr track serve did not listen on {port}")


def test_track_serve_writes_one_access_line_per_request_with_tokens_cut(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    mine = links[ANN]
    port = _free_port()
    process = spawn(isolated_home, "track", "serve", "--port", str(port))
    try:
        _wait_for(port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            answers = [
                ("GET", mine.pixel, http.get(mine.pixel, headers={"User-Agent": BROWSER})),
                ("GET", mine.clicks[1], http.get(mine.clicks[1])),
                ("GET", f"{mine.view}%0A", http.get(f"{mine.view}%0A")),
                ("GET", "/nothing/here", http.get("/nothing/here")),
                ("POST", mine.unsubscribe, http.post(mine.unsubscribe, data={"confirm": "1"})),
                ("GET", mine.preferences, http.get(mine.preferences)),
            ]
        process.send_signal(signal.SIGINT)
        _, _, stderr = finish(process)
    finally:
        stop(process)

    assert [answer.status_code for _, _, answer in answers] == [200, 302, 404, 404, 200, 200]
    lines = [found for line in stderr.splitlines() if (found := LINE.match(line))]
    assert len(lines) == len(answers), stderr
    for (method, path, answer), line in zip(answers, lines, strict=True):
        assert (line["method"], line["status"]) == (method, str(answer.status_code))
        if path.startswith("/nothing"):
            assert line["path"] == path
            continue
        prefix, token = path[:3], path[3:].split("/")[0].removesuffix(".gif")
        tail = path[3 + len(token) :]
        assert line["path"] == f"{prefix}{token[:8]}…{tail}", (line["path"], path)
    # No whole token is written anywhere, and uvicorn's own access log stays off.
    for path in (mine.pixel, *mine.clicks, mine.view, mine.unsubscribe, mine.preferences):
        assert path.split("/")[2].removesuffix(".gif") not in stderr
    assert "HTTP/1.1" not in stderr
