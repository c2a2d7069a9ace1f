"""The API's guards, off by default: requests per second (`api.rate_limit`, X-RateLimit-*
headers, 429 with Retry-After) and blocking after repeated failed authentications
(`api.auth_block`), both per client and presented key, so a valid key is never locked out."""

from __future__ import annotations

from pathlib import Path

import httpx
import lettr as sdk
import pytest

from lettr_cli.signing.api_limits import BLOCK, FAILURES, WINDOW, AuthBlocker, RateLimiter
from tests.api_helpers import api_server, make_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_limiter_counts_whole_seconds_per_client_and_key() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock)
    first, second, third = (limiter.check("127.0.0.1", "k1") for _ in range(3))
    assert first and second and third
    assert (first.allowed, second.allowed, third.allowed) == (True, True, False)
    assert (second.remaining, third.headers()["Retry-After"]) == (0, "1")
    assert third.headers()["X-RateLimit-Reset"] == str(int(clock.now) + 1)
    other_key = limiter.check("127.0.0.1", "k2")
    assert other_key is not None and other_key.allowed
    clock.now += 1
    again = limiter.check("127.0.0.1", "k1")
    assert again is not None and again.allowed
    assert RateLimiter(0, clock).check("127.0.0.1", "k1") is None  # off


def test_failed_logins_block_that_client_and_key_only_for_a_while() -> None:
    clock = Clock()
    blocker = AuthBlocker(True, clock)
    for _ in range(FAILURES - 1):
        blocker.failed("10.0.0.1", "bad")
    assert blocker.blocked_for("10.0.0.1", "bad") is None
    clock.now += WINDOW  # the early failures have expired
    blocker.failed("10.0.0.1", "bad")
    assert blocker.blocked_for("10.0.0.1", "bad") is None
    for _ in range(FAILURES - 1):
        blocker.failed("10.0.0.1", "bad")
    assert blocker.blocked_for("10.0.0.1", "bad") == BLOCK
    assert blocker.blocked_for("10.0.0.1", "good") is None
    assert blocker.blocked_for("10.0.0.2", "bad") is None
    clock.now += BLOCK
    assert blocker.blocked_for("10.0.0.1", "bad") is None
    off = AuthBlocker(False, clock)
    for _ in range(FAILURES * 2):
        off.failed("10.0.0.1", "bad")
    assert off.blocked_for("10.0.0.1", "bad") is None


def test_rate_limit_over_http_says_so_in_headers_and_the_sdk_raises(
    lettr, isolated_home: Path
) -> None:
    key = make_key(lettr)
    assert lettr("config", "set", "api.rate_limit", "1").exit_code == 0
    with api_server(isolated_home) as base:
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}) as http:
            answers = [http.get(f"{base}/auth/check") for _ in range(6)]
        with sdk.Lettr(key, base_url=base) as api, pytest.raises(sdk.RateLimitError) as raised:
            for _ in range(6):
                api.auth_check()
    assert answers[0].status_code == 200
    assert answers[0].headers["X-RateLimit-Limit"] == "1"
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert limited[0].json()["error_code"] == "rate_limit_exceeded"
    assert limited[0].headers["Retry-After"] == "1"
    assert limited[0].headers["X-RateLimit-Remaining"] == "0"
    assert raised.value.error_code == "rate_limit_exceeded"


def test_auth_block_over_http_never_locks_out_a_valid_key(lettr, isolated_home: Path) -> None:
    key = make_key(lettr)
    assert lettr("config", "set", "api.auth_block", "true").exit_code == 0
    bad = "lttr_" + "f" * 64
    with api_server(isolated_home) as base, httpx.Client() as http:
        answers = [
            http.get(f"{base}/auth/check", headers={"Authorization": f"Bearer {bad}"})
            for _ in range(FAILURES + 1)
        ]
        valid = http.get(f"{base}/auth/check", headers={"Authorization": f"Bearer {key}"})
    assert [a.status_code for a in answers] == [401] * FAILURES + [429]
    assert answers[-1].json()["error_code"] == "rate_limit_exceeded"
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert valid.status_code == 200
    assert "X-RateLimit-Limit" not in valid.headers  # rate limiting stays off
