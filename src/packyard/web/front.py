"""The front door: the one plain-ASGI layer every request passes first, reading its head
once.

In order:

1. ``/healthz``, ``/readyz`` and ``/metrics`` are answered at once, neither counted nor
   logged (``web.observability``).
2. The request gets its id and the clock starts; its headers are read once
   (``web.request_head``): more than 64 KiB of them answers 431 (``web.limits``), a Host
   this server does not answer to 400 (``web.gate``).
3. A cached index read (``IndexFastPath.answer``) or a repeated download of a small file
   (``FileFastPath.answer``) is answered right here, with the headers every response gets
   (``web.response_headers``): the requests pip and uv make most, where each layer
   wrapping ``send`` was a visible share of the cost (issue 20).
4. Anything else: a request that may change something gets its origin for the audit log
   (``web.origin``); a small body is read after authenticating a REST caller
   (``web.gate``); the application (the file fast path, then the framework) answers
   through one ``send`` that completes the headers, adds the request id and notes the
   status and size. Every request from here on is counted in and out
   (``services.process_load.RequestActivity``): background jobs make way for them.
5. The request is tallied for metrics and written to the access log.

Refusals answer with the error's JSON (``web.errors``), through the same ``send``.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from packyard.core.errors import PackyardError, TooLarge, Unauthenticated
from packyard.core.events import ORIGIN
from packyard.services.process_load import RequestActivity
from packyard.web.body_pieces import send_whole_body
from packyard.web.errors import error_response
from packyard.web.gate import RequestGate
from packyard.web.limits import check_header_size
from packyard.web.observability.logs import REQUEST_ID
from packyard.web.observability.requests import (
    REQUEST_ID_HEADER,
    RequestObserver,
    content_length,
)
from packyard.web.origin import READS, request_origin
from packyard.web.request_head import HeadMap, read_head
from packyard.web.response_headers import REST_PREFIX, RawHeaders, completed
from packyard.web.simple.cached_files import FileFastPath
from packyard.web.simple.cached_reads import IndexFastPath

# ASGI extensions that send a file the server reads itself: its length is the header's.
_FILE_SENDS = frozenset({"http.response.pathsend", "http.response.zerocopysend"})


class FrontDoor:
    def __init__(
        self,
        app: ASGIApp,
        *,
        observer: RequestObserver,
        gate: RequestGate,
        index: IndexFastPath,
        files: FileFastPath,
        base_url: str | None,
        activity: RequestActivity,
    ) -> None:
        self.app = app
        self._observer = observer
        self._gate = gate
        self._index = index
        self._files = files
        self._base_url = (base_url or "").rstrip("/") or None  # PACKYARD_BASE_URL
        self._activity = activity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = self._observer.lifespan_send(send)
            await self.app(scope, receive, send)
            return
        endpoint = self._observer.endpoints.get(scope["path"])
        if endpoint is not None:
            await endpoint(scope, receive, send)
            return
        started = time.perf_counter()
        headers, size = read_head(scope)
        request_id = self._observer.request_id(headers.get(REQUEST_ID_HEADER))
        exchange = _Exchange(
            send,
            request_id,
            rest=scope["path"].startswith(REST_PREFIX),
            credentials=b"authorization" in headers,
        )
        token = REQUEST_ID.set(request_id)
        self._activity.begin()
        try:
            await self._answer(scope, receive, headers, size, exchange)
        finally:
            self._activity.end()
            REQUEST_ID.reset(token)
            duration = time.perf_counter() - started
            self._observer.record(scope, exchange.status, duration, exchange.sent, request_id)

    async def _answer(
        self, scope: Scope, receive: Receive, headers: HeadMap, size: int, exchange: _Exchange
    ) -> None:
        try:
            check_header_size(size)
            self._gate.check_host(scope, headers.get(b"host"))
        except PackyardError as error:
            await _refuse(error, scope, receive, exchange)
            return
        reading = scope["method"] in READS
        if reading and scope["method"] != "OPTIONS":
            answer = self._index.answer(scope, headers) or self._files.answer(scope, headers)
            if answer is not None:
                await exchange.answer(*answer)
                return
        origin = None if reading else ORIGIN.set(request_origin(scope, headers, self._base_url))
        try:
            try:
                receive = await self._gate.admit_body(scope, receive, headers)
            except PackyardError as error:
                await _refuse(error, scope, receive, exchange)
                return
            await self.app(scope, receive, exchange.send)
        finally:
            if origin is not None:
                ORIGIN.reset(origin)


async def _refuse(
    error: PackyardError, scope: Scope, receive: Receive, exchange: _Exchange
) -> None:
    response = error_response(error)
    if isinstance(error, Unauthenticated | TooLarge):
        response.headers["Connection"] = "close"  # spare both sides the body
    await response(scope, receive, exchange.send)


class _Exchange:
    """One request's answer on its way out: every response passes ``send`` (or
    ``answer``), which completes its headers and notes what the log and metrics want."""

    __slots__ = ("_credentials", "_request_id", "_rest", "_send", "headers", "sent", "status")

    def __init__(self, send: Send, request_id: str, *, rest: bool, credentials: bool) -> None:
        self._send = send
        self._request_id = (REQUEST_ID_HEADER, request_id.encode())
        self._rest = rest
        self._credentials = credentials
        self.headers: RawHeaders = []
        self.status = 500  # what the server answers if the application fails first
        self.sent = 0

    def _completed(self, headers: RawHeaders) -> RawHeaders:
        self.headers = completed(headers, rest=self._rest, credentials=self._credentials)
        self.headers.append(self._request_id)
        return self.headers

    async def answer(self, status: int, headers: RawHeaders, body: bytes) -> None:
        """Send a whole answer made without the application."""
        self.status = status
        self.sent = len(body)
        start = {
            "type": "http.response.start",
            "status": status,
            "headers": self._completed(headers),
        }
        await self._send(start)
        await send_whole_body(self._send, body)

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            message["headers"] = self._completed(message.get("headers", []))
        elif kind == "http.response.body":
            self.sent += len(message.get("body", b""))
        elif kind in _FILE_SENDS:
            self.sent += content_length(self.headers)
        await self._send(message)
