"""The outermost ASGI layer: every request gets an id, is timed, counted by route template
and logged; ``/healthz``, ``/readyz`` and ``/metrics`` are answered here, before anything
else, and are neither counted nor logged (probes and scrapes every second would drown the
traffic they watch).

Below this layer, whoever learns a fact the log wants writes it into the ASGI scope: the
framework's router sets ``scope["route"]``; the index fast path, which answers below the
framework, sets ``ROUTE_KEY``; authentication calls ``note_principal``. Cheapness matters:
on the cached index path this layer's work is a visible part of a request's cost, so it
tallies metrics in plain integers (web.observability.tallies) and formats nothing unless
the access log is on.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from packyard.web.observability.access import PRINCIPAL_KEY, AccessLog
from packyard.web.observability.logs import REQUEST_ID
from packyard.web.observability.tallies import RequestTallies

ROUTE_KEY = "packyard.route"
UNMATCHED_ROUTE = "unmatched"
REQUEST_ID_HEADER = b"x-request-id"
# An id a client or proxy sends is kept if it is short and made of safe characters (it
# ends up in logs and headers); anything else is replaced by one of ours.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# ASGI extensions that send a file the server reads itself: its length is the header's.
_FILE_SENDS = frozenset({"http.response.pathsend", "http.response.zerocopysend"})

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
        app: ASGIApp,
        endpoints: dict[str, Endpoint],
        *,
        tallies: RequestTallies | None,
        access_log: AccessLog | None,
        on_shutdown: list[Any],
    ) -> None:
        self.app = app
        self._endpoints = endpoints
        self._tallies = tallies
        self._access_log = access_log
        self._on_shutdown = on_shutdown
        self._id_prefix = os.urandom(4).hex() + "-"
        self._ids = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, self._lifespan_send(send))
            else:
                await self.app(scope, receive, send)
            return
        endpoint = self._endpoints.get(scope["path"])
        if endpoint is not None:
            await endpoint(scope, receive, send)
            return
        await self._observe(scope, receive, send)

    async def _observe(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = self._request_id(scope)
        header = (REQUEST_ID_HEADER, request_id.encode())
        status = 500  # what the server answers if the application fails before answering
        sent = 0
        headers: list[tuple[bytes, bytes]] = []

        async def observed_send(message: Message) -> None:
            nonlocal status, sent, headers
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                headers = message["headers"] = [*message.get("headers", ()), header]
            elif kind == "http.response.body":
                sent += len(message.get("body", b""))
            elif kind in _FILE_SENDS:
                sent += _content_length(headers)
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, observed_send)
        finally:
            REQUEST_ID.reset(token)
            duration = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            if self._tallies is not None:
                self._tallies.add(route, method, status, duration, sent)
            if self._access_log is not None:
                self._access_log.write(scope, route, status, duration, sent, request_id)

    def _request_id(self, scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                given: str = value.decode("latin-1")
                if _SAFE_REQUEST_ID.fullmatch(given):
                    return given
                break
        return f"{self._id_prefix}{next(self._ids):x}"

    def _lifespan_send(self, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                for stop in self._on_shutdown:
                    stop()
            await send(message)

        return lifespan_send


def _content_length(headers: list[tuple[bytes, bytes]]) -> int:
    for name, value in headers:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0
