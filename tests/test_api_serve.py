"""`lettr serve` in a process of its own: the API under /api (the official SDK's health check
and auth check answer), the tracking endpoints at /, JSON for unknown routes and wrong methods,
a plain warning off loopback, and SIGTERM exits 143."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import lettr as sdk

from tests.api_helpers import make_key
from tests.send_cases import finish, spawn, stop
from tests.test_track_serve import _free_port, _wait_for


def test_serve_answers_the_sdk_and_exits_143_on_sigterm(lettr, isolated_home: Path) -> None:
    key = make_key(lettr)
    port = _free_port()
    process = spawn(isolated_home, "serve", "--port", str(port))
    try:
        _wait_for(port)
        base = f"http://127.0.0.1:{port}"
        with sdk.Lettr(key, base_url=f"{base}/api") as api:
            health = api.health()
            check = api.auth_check()
        later = make_key(lettr, "made-while-serving")  # looked up per request: works at once
        with sdk.Lettr(later, base_url=f"{base}/api") as api:
            assert api.auth_check().team_id == 1
        with httpx.Client(base_url=base) as http:
            unknown = http.get("/api/nothing/here")
            wrong = http.delete("/api/health")
            tracking = http.get("/o/not-a-token.gif")
        process.send_signal(signal.SIGTERM)
        code, _, stderr = finish(process)
    finally:
        stop(process)
    assert health.status == "ok" and health.timestamp
    assert check.team_id == 1 and isinstance(check.team_id, int)
    assert unknown.status_code == 404
    assert unknown.json() == {
        "message": "The requested resource was not found.",
        "error_code": "not_found",
    }
    assert wrong.status_code == 405 and wrong.json()["error_code"] == "method_not_allowed"
    assert tracking.status_code == 404 and "json" not in tracking.headers["content-type"]
    assert code == 143, stderr
    assert "Warning" not in stderr
    assert "GET /api/auth/check 200" in stderr


def test_serve_off_loopback_warns_that_traffic_is_unencrypted(isolated_home: Path) -> None:
    port = _free_port()
    process = spawn(isolated_home, "serve", "--host", "0.0.0.0", "--port", str(port))
    try:
        _wait_for(port)
        process.send_signal(signal.SIGINT)
        _, _, stderr = finish(process)
    finally:
        stop(process)
    assert "Warning: 0.0.0.0 is not a loopback address" in stderr
    assert "unencrypted unless a TLS proxy" in stderr
