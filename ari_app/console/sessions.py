"""Console sessions (in memory: the console is one process) and the login rate limit.
Both take a clock, so tests move time by hand."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

SESSION_TTL_S = 8 * 3600.0  # idle time after which a session is gone
MAX_FAILURES = 5  # failed logins per name, and per client address, ...
FAILURE_WINDOW_S = 15 * 60.0  # ... within this window, then refused ...
LOCKOUT_S = 15 * 60.0  # ... for this long after the last failure


@dataclass
class Session:
    token: str
    csrf: str
    user: str
    expires_at: float

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf)


class Sessions:
    def __init__(self, clock: Clock = time.time, ttl_s: float = SESSION_TTL_S) -> None:
        self.clock = clock
        self.ttl_s = ttl_s
        self._by_token: dict[str, Session] = {}

    def create(self, user: str) -> Session:
        self._sweep()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user,
                          self.clock() + self.ttl_s)
        self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session for the cookie's token (its expiry moves on), or None."""
        if not token:
            return None
        session = self._by_token.get(token)
        now = self.clock()
        if session is None or session.expires_at <= now:
            self._by_token.pop(token, None)
            return None
        session.expires_at = now + self.ttl_s
        return session

    def end(self, token: str) -> None:
        self._by_token.pop(token, None)

    def _sweep(self) -> None:
        now = self.clock()
        for token in [t for t, s in self._by_token.items() if s.expires_at <= now]:
            del self._by_token[token]


class LoginLimiter:
    """Counts failed logins per key ("name:anna", "addr:10.0.0.5"); a key with MAX_FAILURES
    inside the window is refused until LOCKOUT_S after its last failure."""

    def __init__(
        self,
        clock: Clock = time.time,
        max_failures: int = MAX_FAILURES,
        window_s: float = FAILURE_WINDOW_S,
        lockout_s: float = LOCKOUT_S,
    ) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._failures: dict[str, list[float]] = {}

    def _recent(self, key: str) -> list[float]:
        now = self.clock()
        keep = max(self.window_s, self.lockout_s)
        times = [t for t in self._failures.get(key, []) if now - t < keep]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def retry_after(self, *keys: str) -> float:
        """Seconds until these keys may try again; 0 when none is locked."""
        now = self.clock()
        wait = 0.0
        for key in keys:
            times = [t for t in self._recent(key) if now - t < self.window_s]
            if len(times) >= self.max_failures:
                wait = max(wait, times[-1] + self.lockout_s - now)
        return max(wait, 0.0)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._failures.setdefault(key, []).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
