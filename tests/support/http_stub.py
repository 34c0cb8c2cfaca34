"""The request handler of the small HTTP servers tests run on loopback to stand in for
other people's services (PyPI, a static index): a function answers each GET."""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

Answer = tuple[int, dict[str, str], bytes]  # status, headers, body


def handler_for(answer: Callable[[BaseHTTPRequestHandler], Answer]) -> type[BaseHTTPRequestHandler]:
    """A handler class whose GETs are answered by ``answer(request)``, quietly."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = answer(self)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
