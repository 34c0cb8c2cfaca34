"""Limits applied to every request before routing, as plain ASGI middleware.

uvicorn's httptools parser accepts request headers of any size; a client sending megabytes
of headers would make every layer above copy them. Requests whose headers add up to more
than ``MAX_HEADER_BYTES`` are answered 431 before the app sees them.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from packyard.core.errors import HeadersTooLarge
from packyard.web.errors import error_response

MAX_HEADER_BYTES = 64 * 1024


class HeaderSizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_HEADER_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) for name, value in scope["headers"])
            if size > self.max_bytes:
                await _refuse(scope, receive, send, self.max_bytes)
                return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
    error = HeadersTooLarge(f"Request headers are larger than {max_bytes // 1024} KiB in total")
    await error_response(error)(scope, receive, send)
