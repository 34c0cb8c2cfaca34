"""Driving a plain ASGI layer in process: requests through httpx's ASGI transport, and an
application that stands behind the layer and records (with status 599) every request
that reaches it, to show which requests the layer answers on its own."""

from __future__ import annotations

import asyncio
import base64

import httpx
from starlette.types import Receive, Scope, Send


class Refusing:
    """Stands where the application would: every request reaching it is recorded."""

    def __init__(self) -> None:
        self.reached: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def asgi_request(app: object, path: str, method: str = "GET", **headers: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, headers=headers)

    return asyncio.run(call())


def basic(secret: str) -> str:
    """An Authorization header with ``secret`` as the password, as pip sends it."""
    return "Basic " + base64.b64encode(f"x:{secret}".encode()).decode()
