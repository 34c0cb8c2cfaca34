"""A webhook receiver on loopback: a threaded HTTP server that keeps every POST it gets
(headers and body bytes) and answers each from a script of statuses (then 200). With
``hang_first``, the first request is held, unanswered, until ``release`` (a server can be
killed while it waits for the answer)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

# A server's environment for tests with a receiver: private addresses allowed (the receiver
# is on loopback), retries 100 times sooner, the outbox polled often.
TEST_ENV = {
    "PACKYARD_WEBHOOK_ALLOW_PRIVATE": "true",
    "PACKYARD_WEBHOOK_RETRY_SCALE": "0.01",
    "PACKYARD_WEBHOOK_POLL_SECONDS": "0.2",
}


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    statuses: list[int] = field(default_factory=list)
    hang_first: bool = False
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def release(self) -> None:
        self._release.set()

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: BaseHTTPRequestHandler) -> int:
        length = int(request.headers.get("Content-Length", "0"))
        body = request.rfile.read(length)
        with self._lock:
            self.received.append(Received(dict(request.headers.items()), body))
            first = len(self.received) == 1
            status = self.statuses.pop(0) if self.statuses else 200
        if first and self.hang_first:
            self._release.wait(120)
        return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                status = receiver._answer(self)
                body = b"thanks" if status < 400 else b"not now"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the sender went away (killed) while we held the request

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
