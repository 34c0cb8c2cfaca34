"""Small stored files kept in memory: ``.metadata`` files (PEP 658, a few kilobytes, read
by pip and uv for every candidate they consider) and small distributions.

Answering such a file from disk costs more than the answer: ``FileResponse`` opens, reads
and closes the file in three trips to the thread pool. Blobs are named by their SHA256 and
never change, so their bytes can be kept as long as memory allows and are never stale;
whether a request may have them is decided before, by the caller (``DownloadService``).
Bounded by bytes; the least recently used go first.

The headers a whole-file answer was sent with are kept too, per (blob, visibility, name
asked for): with them, a repeated download is answered by the front door without building
a ``FileResponse`` or touching the disk (``cached_files.FileFastPath.answer``), the way a
cached index page is.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

MAX_FILE_BYTES = 128 * 1024
MAX_TOTAL_BYTES = 16 * 1024**2
MAX_KEPT_HEADERS = 20_000

# (blob key, public, file name as asked for): what decides a file answer's headers.
AnswerKey = tuple[str, bool, str]
RawHeaders = list[tuple[bytes, bytes]]


class SmallFiles:
    def __init__(self, max_total_bytes: int = MAX_TOTAL_BYTES) -> None:
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._max_total_bytes = max_total_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._headers: dict[AnswerKey, RawHeaders] = {}

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

    def answer(self, key: AnswerKey) -> tuple[RawHeaders, bytes] | None:
        """The headers and bytes of a whole-file answer already sent for ``key``."""
        headers = self._headers.get(key)
        if headers is None:
            return None
        body = self.get(key[0])
        return None if body is None else (headers, body)

    def keep_headers(self, key: AnswerKey, headers: RawHeaders) -> None:
        """Remember the headers a whole-file answer for ``key`` was sent with."""
        if len(self._headers) >= MAX_KEPT_HEADERS:
            self._headers.clear()  # bounded; each is kept again at its next download
        self._headers[key] = headers
