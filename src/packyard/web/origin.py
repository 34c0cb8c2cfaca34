"""Where each request came from, for the audit log: a plain ASGI layer that sets
``core.events.ORIGIN`` (client address and user agent) for the rest of the request.

It sits inside the trusted-proxy layer (``web.app``), so the address is the one a trusted
proxy forwarded when ``PACKYARD_TRUSTED_PROXIES`` names it, as everywhere else
(``web.auth.client_address``). Services run in worker threads that inherit the request's
context, so ``services.events.record`` reads it there.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from packyard.core.events import ORIGIN, Origin, trimmed_user_agent

READS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestOrigin:
    def __init__(self, app: ASGIApp, base_url: str | None) -> None:
        self.app = app
        self._base_url = (base_url or "").rstrip("/") or None  # PACKYARD_BASE_URL

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Reads change nothing, and the index fast path should not pay for this.
        if scope["type"] != "http" or scope["method"] in READS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        agent = next((v for k, v in scope.get("headers", ()) if k == b"user-agent"), None)
        token = ORIGIN.set(
            Origin(
                address=str(client[0]) if client else None,
                user_agent=trimmed_user_agent(agent.decode("latin-1")) if agent else None,
                base_url=self._base_url or _request_base(scope),
            )
        )
        try:
            await self.app(scope, receive, send)
        finally:
            ORIGIN.reset(token)


def _request_base(scope: Scope) -> str | None:
    """``scheme://host`` as the request reached us (the gate refuses a Host this server
    does not answer to before any route runs)."""
    host = next((v for k, v in scope.get("headers", ()) if k == b"host"), None)
    if host is None:
        return None
    return f"{scope.get('scheme', 'http')}://{host.decode('latin-1')}{scope.get('root_path', '')}"
