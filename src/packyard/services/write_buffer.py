"""Values noted in memory on the hot path and written to the database in batches: download
counts, tokens' last use, the PyPI cache's last use.

A value stays readable (``get``) from the moment it is noted until the transaction that
writes it has committed: while a flush is writing, readers see it among the values in
flight, so a count or a time shown to a user never dips between the swap and the commit.
A flush that fails keeps its values for the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class WriteBuffer(Generic[K, V]):
    def __init__(self, merge: Callable[[V, V], V]) -> None:
        """``merge`` combines two values noted for one key (a sum, the later time)."""
        self._merge = merge
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time: ``_writing`` is one batch
        self._pending: dict[K, V] = {}
        self._writing: dict[K, V] = {}

    def note(self, key: K, value: V) -> None:
        with self._lock:
            held = self._pending.get(key)
            self._pending[key] = value if held is None else self._merge(held, value)

    def get(self, key: K) -> V | None:
        """What this process noted for ``key`` and has not yet committed, if anything."""
        with self._lock:
            pending, writing = self._pending.get(key), self._writing.get(key)
        if pending is None or writing is None:
            return writing if pending is None else pending
        return self._merge(writing, pending)

    def flush(self, write: Callable[[dict[K, V]], None]) -> None:
        """Write what was noted with ``write`` (one transaction); a flush waits for one
        already under way."""
        with self._flushing:
            self._flush(write)

    def _flush(self, write: Callable[[dict[K, V]], None]) -> None:
        with self._lock:
            batch, self._pending = self._pending, {}
            self._writing = batch
        if not batch:
            return
        written = False
        try:
            write(batch)
            written = True
        finally:
            with self._lock:  # one step, so no reader sees a value twice or not at all
                self._writing = {}
                if not written:
                    for key, value in batch.items():
                        held = self._pending.get(key)
                        self._pending[key] = value if held is None else self._merge(value, held)


class Throttle(Generic[K]):
    """Lets a key through at most once per ``interval`` (a token used all day is noted
    once a minute, not per request). ``max_keys`` bounds memory: forgetting the keys only
    lets each through once more."""

    def __init__(self, interval: timedelta, max_keys: int) -> None:
        self._interval = interval
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._last: dict[K, datetime] = {}

    def due(self, key: K, now: datetime) -> bool:
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                return False
            if len(self._last) >= self._max_keys:
                self._last.clear()
            self._last[key] = now
            return True
