"""Access to the services and per-request helpers shared by the routes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Scope

from packyard.bootstrap import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def base_url(request: Request) -> str:
    """The public base URL: ``PACKYARD_BASE_URL`` when set, else what the client asked for."""
    configured = services_of(request).settings.base_url
    if configured:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


# Base URLs by what they are made of (see ``scope_base_url``). The Host header comes from
# clients, so the memo is emptied when it fills rather than allowed to grow.
_BASE_URLS: dict[tuple[object, ...], str] = {}
_BASE_URLS_KEPT = 64


def scope_base_url(scope: Scope, configured: str | None, host: bytes | None) -> str:
    """``base_url`` for a plain ASGI layer that has no ``Request``; ``host`` is the
    request's first Host header.

    The index fast path asks this for every read; building Starlette's ``URL`` each time
    cost about 6% of a cached read (issue 20's profile), so the answer is remembered per
    scheme, server address, root path and Host header: all that ``Request.base_url``
    reads."""
    if configured:
        return configured.rstrip("/")
    server = scope.get("server")
    key = (
        scope.get("scheme"),
        None if server is None else tuple(server),  # a list from some ASGI clients
        scope.get("app_root_path", scope.get("root_path", "")),
        host,
    )
    known = _BASE_URLS.get(key)
    if known is None:
        if len(_BASE_URLS) >= _BASE_URLS_KEPT:
            _BASE_URLS.clear()
        known = _BASE_URLS[key] = str(Request(scope).base_url).rstrip("/")
    return known
