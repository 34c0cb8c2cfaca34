"""Small stored files kept in memory: ``.metadata`` files (PEP 658, a few kilobytes, read
by pip and uv for every candidate they consider) and small distributions.

Answering such a file from disk costs more than the answer: ``FileResponse`` opens, reads
and closes the file in three trips to the thread pool. Blobs are named by their SHA256 and
never change, so their bytes can be kept as long as memory allows and are never stale;
whether a request may have them is decided before, by the caller (``DownloadService``).
Bounded by bytes; the least recently used go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

MAX_FILE_BYTES = 128 * 1024
MAX_TOTAL_BYTES = 16 * 1024**2


class SmallFiles:
    def __init__(self, max_total_bytes: int = MAX_TOTAL_BYTES) -> None:
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._max_total_bytes = max_total_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def fits(size: int) -> bool:
        """Whether a file of ``size`` bytes is kept here."""
        return size <= MAX_FILE_BYTES

    def get(self, blob_key: str) -> bytes | None:
        with self._lock:
            body = self._entries.get(blob_key)
            if body is not None:
                self._entries.move_to_end(blob_key)
            return body

    def put(self, blob_key: str, body: bytes) -> None:
        if not self.fits(len(body)):
            return
        with self._lock:
            if blob_key in self._entries:
                return
            self._entries[blob_key] = body
            self._bytes += len(body)
            while self._bytes > self._max_total_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted)
