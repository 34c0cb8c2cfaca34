"""The access log: one line per request, as text or JSON, written in batches.

uvicorn's access log cost about 44% of a worker's CPU on the index read path (issue 20): a
LogRecord, a colouring formatter and a write and flush per line. Here a line is one
f-string, appended to a list, and the list is written with one write at most once a
second (or when it holds ``MAX_BUFFERED`` lines) and when the worker stops. A worker killed
outright loses at most that second of lines.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from typing import TextIO

from packyard.web.observability.logs import timestamp

FLUSH_SECONDS = 1.0
MAX_BUFFERED = 512


@dataclass(slots=True)
class AccessEntry:
    """What is known of a request when its answer has been sent."""

    now: float  # time.time() at the end
    client: str
    method: str
    path: str
    http_version: str
    route: str
    status: int
    duration: float  # seconds
    sent: int  # body bytes
    request_id: str
    principal_kind: str | None
    principal_id: str | None


class AccessLog:
    def __init__(self, json_lines: bool, stream: TextIO | None = None) -> None:
        self._format = _json_line if json_lines else _text_line
        self._stream = stream
        self._lines: list[str] = []
        self._flush_scheduled = False

    def write(self, entry: AccessEntry) -> None:
        """Buffer the entry's line; called on the event loop, after the answer was sent."""
        self._lines.append(self._format(entry))
        if len(self._lines) >= MAX_BUFFERED:
            self.flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        stream = self._stream or sys.stdout
        stream.write("".join(lines))
        stream.flush()


def _text_line(entry: AccessEntry) -> str:
    path = entry.path if entry.path.isprintable() else ascii(entry.path)[1:-1]
    principal = ""
    if entry.principal_kind is not None:
        principal = f" {entry.principal_kind}:{entry.principal_id or '-'}"
    return (
        f'INFO:     {entry.client} - "{entry.method} {path} HTTP/{entry.http_version}" '
        f"{entry.status} {entry.duration * 1000:.1f}ms {entry.request_id}{principal}\n"
    )


def _json_line(entry: AccessEntry) -> str:
    # Only the path (and the principal's id, an identifier we made) can hold characters
    # JSON must escape; the other values are numbers, validated ids and route templates.
    path = json.dumps(entry.path, ensure_ascii=False)
    kind = "null" if entry.principal_kind is None else f'"{entry.principal_kind}"'
    principal_id = "null" if entry.principal_id is None else json.dumps(entry.principal_id)
    return (
        f'{{"time":"{timestamp(entry.now)}","level":"INFO","logger":"packyard.access",'
        f'"message":"{entry.method} {entry.route} {entry.status}",'
        f'"request_id":"{entry.request_id}","method":"{entry.method}","path":{path},'
        f'"route":"{entry.route}","status":{entry.status},'
        f'"duration_ms":{entry.duration * 1000:.3f},"bytes":{entry.sent},'
        f'"principal_kind":{kind},"principal_id":{principal_id},'
        f'"client":"{entry.client}"}}\n'
    )
