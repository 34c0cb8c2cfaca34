"""Rendered index pages, kept per process and keyed by the registry's serial.

The serial lives in the database and changes in the same transaction as what the page
shows, so a page cached here is never stale, whichever process handled the change.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RenderedPage:
    body: bytes
    etag: str


class RenderedPageCache:
    def __init__(self, max_entries: int = 20_000) -> None:
        self._entries: OrderedDict[tuple[str, int, str, str], RenderedPage] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, str, str]) -> RenderedPage | None:
        with self._lock:
            page = self._entries.get(key)
            if page is not None:
                self._entries.move_to_end(key)
            return page

    def put(self, key: tuple[str, int, str, str], body: bytes) -> RenderedPage:
        page = RenderedPage(body, '"' + hashlib.sha256(body).hexdigest()[:40] + '"')
        with self._lock:
            self._entries[key] = page
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return page
