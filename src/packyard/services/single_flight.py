"""``SingleFlight``: calls with the same key at the same time share one call's result.

A burst of requests for a page no process has cached (the root page of a registry of
100,000 projects right after a publish, say) would otherwise run the same query once per
request, each thread holding its own copy of the answer. With a single flight the first
caller runs it and the others wait for its result (or its exception). Nothing is kept
once the call returns: this is not a cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar, cast

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Flight(Generic[V]):
    __slots__ = ("callers", "done", "error", "result")

    def __init__(self) -> None:
        self.callers = 1
        self.done = threading.Event()
        self.result: V | None = None
        self.error: BaseException | None = None


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[K, _Flight[V]] = {}

    def run(self, key: K, call: Callable[[], V]) -> V:
        """``call()``'s result, shared with every caller of ``key`` meanwhile; its
        exception is raised in each of them."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
            else:
                flight.callers += 1
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return cast(V, flight.result)
        try:
            flight.result = call()
            return flight.result
        except BaseException as error:
            flight.error = error
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def callers(self, key: K) -> int:
        """How many callers share ``key``'s flight now, its leader included; 0 if none."""
        with self._lock:
            flight = self._flights.get(key)
            return 0 if flight is None else flight.callers
