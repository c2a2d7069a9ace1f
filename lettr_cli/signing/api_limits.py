"""Guards of the HTTP API, both off by default (config ``api.rate_limit``, ``api.auth_block``):
requests per second, and blocking after repeated failed authentications. Both are kept per
client address *and* presented key, so a client's failures or bursts with one key never lock out
another key (a valid key on loopback keeps working). In memory, per server process."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FAILURES = 5  # failed authentications within WINDOW seconds...
WINDOW = 300
BLOCK = 900  # ...block that client and key for this long (Lettr: 5 in 5 minutes, 15 minutes)
_PRUNE_AT = 10_000  # entries kept before stale ones are dropped


def _who(client: str, key: str | None) -> tuple[str, str]:
    digest = "" if key is None else hashlib.sha256(key.encode()).hexdigest()[:32]
    return client, digest


@dataclass(frozen=True)
class Verdict:
    """A rate check: ``allowed``, and the ``X-RateLimit-*`` figures."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # unix seconds when the window ends
    retry_after: int  # seconds, when refused

    def headers(self) -> dict[str, str]:
        shown = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            shown["Retry-After"] = str(self.retry_after)
        return shown


@dataclass
class RateLimiter:
    """At most ``per_second`` requests in each whole second, per client and key."""

    per_second: int
    clock: Callable[[], float] = time.time
    _windows: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def check(self, client: str, key: str | None) -> Verdict | None:
        """None when rate limiting is off; else the verdict (a refused request is not counted)."""
        if self.per_second <= 0:
            return None
        second = math.floor(self.clock())
        who = _who(client, key)
        start, used = self._windows.get(who, (second, 0))
        if start != second:
            start, used = second, 0
        allowed = used < self.per_second
        if allowed:
            used += 1
        if len(self._windows) > _PRUNE_AT:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == second}
        self._windows[who] = (start, used)
        return Verdict(allowed, self.per_second, self.per_second - used, second + 1, 1)


@dataclass
class AuthBlocker:
    """After ``FAILURES`` failed authentications within ``WINDOW`` s, a client and key are
    refused for ``BLOCK`` s."""

    enabled: bool
    clock: Callable[[], float] = time.time
    _failures: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    _blocked: dict[tuple[str, str], float] = field(default_factory=dict)

    def blocked_for(self, client: str, key: str | None) -> int | None:
        """Seconds the client and key stay blocked, or None."""
        if not self.enabled:
            return None
        who, now = _who(client, key), self.clock()
        until = self._blocked.get(who)
        if until is None:
            return None
        if until <= now:
            del self._blocked[who]
            return None
        return max(1, math.ceil(until - now))

    def failed(self, client: str, key: str | None) -> None:
        if not self.enabled:
            return
        who, now = _who(client, key), self.clock()
        recent = [at for at in self._failures.get(who, []) if now - at < WINDOW]
        recent.append(now)
        if len(recent) >= FAILURES:
            self._blocked[who] = now + BLOCK
            recent = []
        self._failures[who] = recent
        if len(self._failures) > _PRUNE_AT:
            self._failures = {k: v for k, v in self._failures.items() if v and now - v[-1] < WINDOW}


@dataclass
class Guards:
    rate: RateLimiter
    auth: AuthBlocker
