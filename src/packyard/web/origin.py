"""Where a request came from, for the audit log: ``core.events.ORIGIN`` (client address
and user agent), set by ``web.front`` for the rest of a request that may change something.

The front door sits inside the trusted-proxy layer (``web.app``), so the address is the
one a trusted proxy forwarded when ``PACKYARD_TRUSTED_PROXIES`` names it, as everywhere
else (``web.auth.client_address``). Services run in worker threads that inherit the
request's context, so ``services.events.record`` reads it there.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import Scope

from packyard.core.events import Origin, trimmed_user_agent

# Reads change nothing, and the index fast path should not pay for an origin.
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_origin(scope: Scope, headers: Mapping[bytes, bytes], base_url: str | None) -> Origin:
    """The request's origin; ``base_url`` is ``PACKYARD_BASE_URL`` without its last slash,
    or None to take the request's own."""
    client = scope.get("client")
    agent = headers.get(b"user-agent")
    return Origin(
        address=str(client[0]) if client else None,
        user_agent=trimmed_user_agent(agent.decode("latin-1")) if agent else None,
        base_url=base_url or _request_base(scope, headers.get(b"host")),
    )


def _request_base(scope: Scope, host: bytes | None) -> str | None:
    """``scheme://host`` as the request reached us (the front door refuses a Host this
    server does not answer to before any route runs)."""
    if host is None:
        return None
    return f"{scope.get('scheme', 'http')}://{host.decode('latin-1')}{scope.get('root_path', '')}"
