"""Failed authentications are rate-limited per client address, in process: a token bucket
per address that each failure drains and time refills (``PACKYARD_AUTH_FAILURES_PER_MINUTE``
per minute, the same as the burst). An address with an empty bucket answers 429 with
Retry-After to every request that carries credentials, right or wrong, until it refills, so
guessing tokens costs a minute per handful of guesses. Requests without credentials are
never limited here.

The limit is per process: several workers or hosts each allow their own budget.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from packyard.core.errors import RateLimited

MAX_TRACKED_CLIENTS = 100_000


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
            tokens = self._tokens(client)
        if tokens < 1:
            wait = math.ceil((1 - tokens) / self._refill_per_second)
            raise RateLimited(
                f"Too many failed authentications from this address; retry in {wait} seconds",
                wait,
            )

    def failed(self, client: str) -> None:
        """Spend one failure of ``client``'s budget."""
        with self._lock:
            tokens = self._tokens(client)
            if len(self._buckets) >= MAX_TRACKED_CLIENTS and client not in self._buckets:
                self._forget_refilled()
            self._buckets[client] = (tokens - 1, self._clock())

    def _tokens(self, client: str) -> float:
        entry = self._buckets.get(client)
        if entry is None:
            return self._capacity
        tokens, at = entry
        return min(self._capacity, tokens + (self._clock() - at) * self._refill_per_second)

    def _forget_refilled(self) -> None:
        full = [c for c in self._buckets if self._tokens(c) >= self._capacity]
        for client in full:
            del self._buckets[client]
        if len(self._buckets) >= MAX_TRACKED_CLIENTS:
            self._buckets.clear()  # memory stays bounded whatever an attacker sends
