"""Failed authentications are limited per client address, in process.

``FailedAuthLimiter``: a token bucket per client address that each failure drains and time
refills (``PACKYARD_AUTH_FAILURES_PER_MINUTE`` per minute, the same as the burst). Token
failures and sign-in failures spend the same budget. Valid credentials are never refused:
a token is looked up first (one indexed query by its SHA256), and only a failure meets the
limit, answered 429 with Retry-After instead of 401 while the bucket is empty. A sign-in is
refused before its password is checked (a password is guessable where a token is not).

``SignInThrottle``: growing delays per client address and account (the normalised email,
known or not, so that a 429 never says whether an account exists). A stranger elsewhere
cannot lock anyone out: there is no per-account lockout.

The client address is the TCP peer, or behind a trusted proxy the address it forwards
(web.gate); IPv6 addresses count per /64, the block one host is usually given. Memory is
bounded: past ``MAX_TRACKED_CLIENTS`` entries, the tenth that matters least is forgotten
(the fullest buckets; the fewest, oldest sign-in failures), so that an attacker with many
addresses cannot push out, and so reset, the entries of the addresses they drained. The
limits are per process: several workers or hosts each allow their own.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable

from packyard.core.errors import RateLimited

MAX_TRACKED_CLIENTS = 100_000
KEPT_AFTER_EVICTION = MAX_TRACKED_CLIENTS * 9 // 10
FREE_SIGN_IN_FAILURES = 5  # per address and account, before the delays start
MAX_SIGN_IN_DELAY_SECONDS = 300.0
SIGN_IN_MEMORY_SECONDS = 3600.0  # an address and account quiet this long starts afresh


def client_key(address: str) -> str:
    """The bucket of ``address``: itself, or its /64 for IPv6."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class FailedAuthLimiter:
    def __init__(
        self, failures_per_minute: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._capacity = float(max(failures_per_minute, 1))
        self._refill_per_second = self._capacity / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Raise RateLimited when ``client`` has no failures left to spend."""
        with self._lock:
            tokens = self._tokens(client_key(client))
        if tokens < 1:
            raise self._too_many(tokens)

    def failed(self, client: str) -> None:
        """Spend one failure of ``client``'s budget; raise RateLimited when it was
        already spent (the caller answers 429 instead of its 401)."""
        key = client_key(client)
        with self._lock:
            tokens = self._tokens(key)
            self._buckets[key] = (max(tokens - 1, -1.0), self._clock())
            if len(self._buckets) > MAX_TRACKED_CLIENTS:
                kept = sorted(self._buckets, key=self._tokens)[:KEPT_AFTER_EVICTION]
                self._buckets = {k: self._buckets[k] for k in kept}
        if tokens < 1:
            raise self._too_many(tokens - 1)

    def _tokens(self, key: str) -> float:
        entry = self._buckets.get(key)
        if entry is None:
            return self._capacity
        tokens, at = entry
        return min(self._capacity, tokens + (self._clock() - at) * self._refill_per_second)

    def _too_many(self, tokens: float) -> RateLimited:
        wait = max(1, math.ceil((1 - tokens) / self._refill_per_second))
        return RateLimited(
            f"Too many failed authentications from this address; retry in {wait} seconds",
            wait,
        )


class SignInThrottle:
    """After ``FREE_SIGN_IN_FAILURES`` failures from one address for one email, each next
    attempt waits twice as long as the last (1 s, 2 s, 4 s ... up to 5 minutes); a success
    starts afresh."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[tuple[str, str], tuple[int, float]] = {}  # -> (count, last)
        self._lock = threading.Lock()

    def check(self, client: str, email: str) -> None:
        """Raise RateLimited while ``client`` must wait before trying ``email`` again."""
        with self._lock:
            entry = self._failures.get((client_key(client), email))
        if entry is None:
            return
        count, at = entry
        wait = _delay(count) - (self._clock() - at)
        if wait > 0:
            seconds = math.ceil(wait)
            raise RateLimited(
                f"Too many failed sign-ins from this address. Try again in {seconds} "
                f"second{'s' if seconds != 1 else ''}.",
                seconds,
            )

    def failed(self, client: str, email: str) -> bool:
        """Count a failure; True when it is the one that starts the delays (the account
        is now locked for this address: the audit log records it)."""
        key = (client_key(client), email)
        now = self._clock()
        with self._lock:
            count, at = self._failures.get(key, (0, now))
            if now - at > SIGN_IN_MEMORY_SECONDS:
                count = 0
            self._failures[key] = (count + 1, now)
            if len(self._failures) > MAX_TRACKED_CLIENTS:
                kept = sorted(self._failures.items(), key=lambda item: item[1], reverse=True)
                self._failures = dict(kept[:KEPT_AFTER_EVICTION])
        return count + 1 == FREE_SIGN_IN_FAILURES

    def succeeded(self, client: str, email: str) -> None:
        with self._lock:
            self._failures.pop((client_key(client), email), None)


def _delay(failures: int) -> float:
    if failures < FREE_SIGN_IN_FAILURES:
        return 0.0
    return float(min(2 ** (failures - FREE_SIGN_IN_FAILURES), MAX_SIGN_IN_DELAY_SECONDS))
