"""What the front door (``web.front``) asks for each request: every request gets an id, is
timed, counted by route template and logged; ``/healthz``, ``/readyz`` and ``/metrics``
are answered before anything else, and are neither counted nor logged (probes and scrapes
every second would drown the traffic they watch).

After the front door, whoever learns a fact the log wants writes it into the ASGI scope: the
framework's router sets ``scope["route"]``; the index fast path, which answers below the
framework, sets ``ROUTE_KEY``; authentication calls ``note_principal``. Cheapness matters:
on the cached index path this work is a visible part of a request's cost, so it
tallies metrics in plain integers (web.observability.tallies) and formats nothing unless
the access log is on.
"""

from __future__ import annotations

import itertools
import os
import re
from typing import Any

from starlette.types import Message, Scope, Send

from packyard.web.observability.access import PRINCIPAL_KEY, AccessLog
from packyard.web.observability.tallies import RequestTallies

ROUTE_KEY = "packyard.route"
UNMATCHED_ROUTE = "unmatched"
REQUEST_ID_HEADER = b"x-request-id"
# An id a client or proxy sends is kept if it is short and made of safe characters (it
# ends up in logs and headers); anything else is replaced by one of ours.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

Endpoint = Any  # an ASGI callable: (scope, receive, send) -> awaitable


def note_principal(scope: Scope, kind: str, principal_id: str | None) -> None:
    """Record who made the request, for the access log (never a secret: kinds and ids)."""
    scope[PRINCIPAL_KEY] = (kind, principal_id)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None:
        path: str = getattr(route, "path", UNMATCHED_ROUTE)
        return path
    template: str = scope.get(ROUTE_KEY, UNMATCHED_ROUTE)
    return template


class RequestObserver:
    def __init__(
        self,
        endpoints: dict[str, Endpoint],
        *,
        tallies: RequestTallies | None,
        access_log: AccessLog | None,
        on_shutdown: list[Any],
    ) -> None:
        self.endpoints = endpoints
        self._tallies = tallies
        self._access_log = access_log
        self._on_shutdown = on_shutdown
        self._id_prefix = os.urandom(4).hex() + "-"
        self._ids = itertools.count(1)

    def request_id(self, given: bytes | None) -> str:
        """The id a client or proxy sent if it is safe to log and echo, else a new one."""
        if given is not None:
            text = given.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(text):
                return text
        return f"{self._id_prefix}{next(self._ids):x}"

    def record(
        self, scope: Scope, status: int, duration: float, sent: int, request_id: str
    ) -> None:
        """Count the request and write its access log line (after it was answered)."""
        route = route_template(scope)
        method = scope["method"] if scope["method"] in _METHODS else "other"
        if self._tallies is not None:
            self._tallies.add(route, method, status, duration, sent)
        if self._access_log is not None:
            self._access_log.write(scope, route, status, duration, sent, request_id)

    def lifespan_send(self, send: Send) -> Send:
        """``send`` for the lifespan, running the shutdown hooks (last flushes) when the
        application has stopped."""

        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                for stop in self._on_shutdown:
                    stop()
            await send(message)

        return lifespan_send


def content_length(headers: list[tuple[bytes, bytes]]) -> int:
    """A response's ``Content-Length`` (0 when it has none): what an ASGI server sends for
    a file it reads itself."""
    for name, value in headers:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0
