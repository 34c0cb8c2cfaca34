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


def scope_base_url(scope: Scope, configured: str | None) -> str:
    """``base_url`` for a plain ASGI layer that has no ``Request``."""
    if configured:
        return configured.rstrip("/")
    return str(Request(scope).base_url).rstrip("/")
