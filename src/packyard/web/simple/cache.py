"""Rendered index pages, kept per process and keyed by the version of what they show
(``web.simple.pages``): a source registry's serial, which lives in the database and changes
in the same transaction as what the page shows, or a composite's version. A page cached
here is never stale, whichever process handled the change.

The cache is bounded by the bytes it holds as well as by its number of pages: a project
with hundreds of releases renders a page of hundreds of kilobytes, and a registry's root
page lists every project (4 MiB at 100,000 projects). The least recently used pages go
first; the page just stored always stays.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from packyard.services import metrics

# (registry id, version, project, media type, the registry's URL): pages link PEP 740
# provenance by absolute URL, so a page answered under another host name, or after the
# registry or its organization was renamed, is another page.
Key = tuple[str, int, str, str, str]

# What an entry costs besides its body: key tuple, RenderedPage, ETag, the dict's links.
ENTRY_OVERHEAD_BYTES = 400


_HITS = metrics.INDEX_CACHE_HITS
_MISSES = metrics.INDEX_CACHE.labels("miss")


@dataclass(frozen=True, slots=True)
class RenderedPage:
    body: bytes
    etag: str

    def matches(self, if_none_match: str | None) -> bool:
        """Whether an ``If-None-Match`` header names this page (the answer is then 304)."""
        if not if_none_match:
            return False
        # "*" names any current page (RFC 9110 13.1.2); weak tags compare weakly.
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or self.etag in tags


class RenderedPageCache:
    def __init__(self, max_entries: int = 20_000, max_bytes: int = 32 * 1024**2) -> None:
        self._entries: OrderedDict[Key, RenderedPage] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Key) -> RenderedPage | None:
        with self._lock:
            page = self._entries.get(key)
            if page is not None:
                self._entries.move_to_end(key)
                _HITS.inc()
            return page

    def put(self, key: Key, body: bytes) -> RenderedPage:
        """Store ``body`` under ``key`` and return it with its ETag. The same body stored
        again (several requests rendered the page at once) keeps the page already there."""
        _MISSES.inc()  # every page stored was rendered because it was not found
        with self._lock:
            page = self._entries.get(key)
            if page is not None and page.body == body:
                self._entries.move_to_end(key)
                return page
        page = RenderedPage(body, '"' + hashlib.sha256(body).hexdigest()[:40] + '"')
        with self._lock:
            replaced = self._entries.pop(key, None)
            if replaced is not None:
                self._bytes -= _cost(replaced)
            self._entries[key] = page
            self._bytes += _cost(page)
            while len(self._entries) > 1 and (
                len(self._entries) > self._max_entries or self._bytes > self._max_bytes
            ):
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= _cost(evicted)
        return page

    @property
    def size_bytes(self) -> int:
        """What the cached pages cost, by the estimate the bound applies."""
        return self._bytes


def _cost(page: RenderedPage) -> int:
    return len(page.body) + ENTRY_OVERHEAD_BYTES
