"""Headers every response gets, as plain ASGI middleware, whichever layer answered it.

- ``X-Content-Type-Options: nosniff`` on everything (files, index pages, JSON, static).
- ``Cache-Control: no-store`` on REST answers that set no caching of their own: they carry
  token secrets and private metadata, and a cache has no business keeping them.
- ``private`` added to a ``no-cache`` answer to a request that carried credentials (a
  private index page): no shared cache may keep it, whatever it makes of ``Authorization``.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REST_PREFIX = "/v2/"


class ResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rest = scope["path"].startswith(REST_PREFIX)
        credentials = any(name == b"authorization" for name, _ in scope["headers"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _complete(MutableHeaders(scope=message), rest=rest, credentials=credentials)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _complete(headers: MutableHeaders, *, rest: bool, credentials: bool) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    cache = headers.get("cache-control")
    if cache is None:
        if rest:
            headers["Cache-Control"] = "no-store"
        return
    directives = {d.strip().split("=", 1)[0].lower() for d in cache.split(",")}
    if credentials and not directives & {"public", "private", "no-store"}:
        headers["Cache-Control"] = f"private, {cache}"
