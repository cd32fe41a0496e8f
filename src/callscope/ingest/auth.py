"""Bearer-token auth and per-token rate limits for the ingest endpoints."""

from __future__ import annotations

import hmac
import ipaddress
import math
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass
class AuthError(Exception):
    status: int
    reason: str
    message: str
    retry_after: int | None = None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class TokenAuth:
    """Named tokens (``{token: name}``). With none configured only loopback clients may send."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = [(t.encode("utf-8"), name) for t, name in tokens.items() if t]

    @property
    def open(self) -> bool:
        return not self._tokens

    def check(self, authorization: str | None, client_host: str | None) -> str:
        """The caller's token name, or :class:`AuthError` (401)."""
        if self.open:
            if is_loopback(client_host):
                return "local"
            raise AuthError(
                401,
                "unauthorized",
                "no ingest token is configured on this server: "
                "only clients on this machine may send (set CALLSCOPE_INGEST_TOKEN)",
            )
        if not authorization:
            raise AuthError(401, "unauthorized", "missing Authorization: Bearer <token> header")
        scheme, _, given = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise AuthError(401, "unauthorized", "Authorization header must be 'Bearer <token>'")
        candidate = given.strip().encode("utf-8")
        found: str | None = None
        # Compare against every token so timing does not reveal which one nearly matched.
        for token, name in self._tokens:
            if hmac.compare_digest(candidate, token):
                found = name
        if found is None:
            raise AuthError(401, "unauthorized", "unknown ingest token")
        return found


class RateLimiter:
    """A token bucket per caller: ``per_minute`` sessions refill continuously; bursts of up to
    ``burst_seconds`` of traffic pass at once. A batch costs one unit per session."""

    def __init__(self, per_minute: int, burst_seconds: float = 10.0) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_seconds)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, cost: int = 1) -> None:
        """Spend ``cost`` units or raise :class:`AuthError` (429) with the seconds to wait."""
        # A batch larger than the whole bucket would never pass; it waits for a full bucket.
        need = min(float(cost), self.capacity)
        now = time.monotonic()
        with self._lock:
            level, last = self._buckets.get(key, (self.capacity, now))
            level = min(self.capacity, level + (now - last) * self.rate)
            if level >= need:
                self._buckets[key] = (level - need, now)
                return
            self._buckets[key] = (level, now)
        wait = max(1, math.ceil((need - level) / self.rate))
        raise AuthError(
            429,
            "rate_limited",
            f"rate limit of {round(self.rate * 60)} sessions/minute reached for "
            f"token {key!r}; retry in {wait}s",
            retry_after=wait,
        )


class FailureThrottle:
    """Refuse a client address for a while after ``limit`` failed logins within ``window_s``.

    A wrong token costs nothing to try, so without this a sender can guess at full speed.
    The address is ``request.client.host``: behind a proxy run uvicorn with
    ``--forwarded-allow-ips`` so it is the caller's, not the proxy's.
    """

    def __init__(self, limit: int = 20, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str | None) -> None:
        """Raise :class:`AuthError` (429, with the seconds to wait) while ``client`` is barred."""
        key = client or "?"
        now = time.monotonic()
        with self._lock:
            q = self._failures.get(key)
            if not q:
                return
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) < self.limit:
                if not q:
                    del self._failures[key]
                return
            wait = max(1, math.ceil(self.window_s - (now - q[0])))
        raise AuthError(
            429,
            "too_many_failures",
            f"too many failed authentications from this address; retry in {wait}s",
            retry_after=wait,
        )

    def failed(self, client: str | None) -> None:
        with self._lock:
            q = self._failures.setdefault(client or "?", deque())
            q.append(time.monotonic())
            while len(q) > self.limit:
                q.popleft()
