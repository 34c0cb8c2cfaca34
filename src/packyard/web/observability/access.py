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
import time
from typing import TextIO

from starlette.types import Scope

from packyard.web.observability.logs import timestamp

# Where authentication notes who made the request (web.observability.requests).
PRINCIPAL_KEY = "packyard.principal"

FLUSH_SECONDS = 1.0
MAX_BUFFERED = 512


class AccessLog:
    def __init__(self, json_lines: bool, stream: TextIO | None = None) -> None:
        self._format = _json_line if json_lines else _text_line
        self._stream = stream
        self._lines: list[str] = []
        self._flush_scheduled = False

    def write(
        self, scope: Scope, route: str, status: int, duration: float, sent: int, request_id: str
    ) -> None:
        """Buffer the request's line; called on the event loop, after the answer was sent."""
        self._lines.append(self._format(scope, route, status, duration, sent, request_id))
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


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


def _text_line(
    scope: Scope, route: str, status: int, duration: float, sent: int, request_id: str
) -> str:
    path = scope["path"]
    if not path.isprintable():
        path = ascii(path)[1:-1]
    principal = ""
    if PRINCIPAL_KEY in scope:
        kind, principal_id = scope[PRINCIPAL_KEY]
        principal = f" {kind}:{principal_id or '-'}"
    return (
        f'INFO:     {_client(scope)} - "{scope["method"]} {path} '
        f'HTTP/{scope.get("http_version", "1.1")}" {status} {duration * 1000:.1f}ms '
        f"{request_id}{principal}\n"
    )


def _json_line(
    scope: Scope, route: str, status: int, duration: float, sent: int, request_id: str
) -> str:
    # Only the path (and the principal's id, an identifier we made) can hold characters
    # JSON must escape; the other values are numbers, validated ids and route templates.
    path = scope["path"]
    if path.isascii() and path.isprintable() and '"' not in path and "\\" not in path:
        path = f'"{path}"'  # nothing to escape: most paths, at a quarter of json.dumps's cost
    else:
        path = json.dumps(path, ensure_ascii=False)
    kind, principal_id = scope.get(PRINCIPAL_KEY, (None, None))
    kind = "null" if kind is None else f'"{kind}"'
    principal_id = "null" if principal_id is None else json.dumps(principal_id)
    method = scope["method"]
    return (
        f'{{"time":"{timestamp(time.time())}","level":"INFO","logger":"packyard.access",'
        f'"message":"{method} {route} {status}","request_id":"{request_id}",'
        f'"method":"{method}","path":{path},"route":"{route}","status":{status},'
        f'"duration_ms":{duration * 1000:.3f},"bytes":{sent},"principal_kind":{kind},'
        f'"principal_id":{principal_id},"client":"{_client(scope)}"}}\n'
    )
