"""``CounterValidatedMemo``: answers remembered while the database is unchanged.

``db.changes.change_counter`` changes whenever anything is committed, by any process (SQLite:
``data_version``; PostgreSQL: notifications); an answer remembered with the counter's
value is used only while the counter still has it, so a memo like this is never stale
whichever process made the change. Read the counter (``counter()``) *before* the queries
an answer comes from, so that a change committed meanwhile forgets it. While the counter
is None (no counter, or PostgreSQL's listener not connected), nothing is kept.

Looking up costs no query and no I/O: cheap enough for the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class CounterValidatedMemo(Generic[K, V]):
    def __init__(self, change_counter: Callable[[], int | None], max_entries: int) -> None:
        self._change_counter = change_counter
        self._max_entries = max_entries
        self._entries: dict[K, tuple[int, V]] = {}

    def counter(self) -> int | None:
        """The counter's value now, to pass to ``put``; None: remember nothing."""
        return self._change_counter()

    def get(self, key: K) -> V | None:
        """What was remembered under ``key``, if the database has not changed since."""
        hit = self._entries.get(key)
        if hit is None or hit[0] != self._change_counter():
            return None
        return hit[1]

    def put(self, key: K, counter: int | None, value: V) -> None:
        """Remember ``value``, computed from what the database held at ``counter``. Full,
        the memo starts again empty: entries of an unchanged database are rarely many."""
        if counter is None:
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (counter, value)
