"""``create_app(services)``: the ASGI application. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from packyard import __version__
from packyard.bootstrap import Services
from packyard.web.api import (
    access_token,
    instructions,
    lifecycle,
    oidc,
    packages,
    registries,
    teams,
    tokens,
    upstreams,
)
from packyard.web.api import search as api_search
from packyard.web.auth_limits import FailedAuthLimiter
from packyard.web.errors import install_error_handlers
from packyard.web.limits import HeaderSizeLimit
from packyard.web.observability.layer import observed
from packyard.web.simple import routes as simple_routes
from packyard.web.simple import upload as simple_upload
from packyard.web.simple.cache import RenderedPageCache
from packyard.web.simple.cached_reads import IndexFastPath
from packyard.web.simple.pages import IndexPages
from packyard.web.ui import install_ui

log = logging.getLogger(__name__)


def create_app(services: Services) -> ASGIApp:
    """The application behind three plain-ASGI layers: the observer (request ids, metrics,
    the access log, health and /metrics: web.observability), the header-size limit (every
    request) and the fast path for cached index reads (web.simple.cached_reads)."""
    app = create_framework_app(services)
    fast_path = IndexFastPath(app, services.access, app.state.index_pages, app.state.auth_limiter)
    return observed(HeaderSizeLimit(fast_path), services)


def create_framework_app(services: Services) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        flusher = asyncio.create_task(_flush_download_counts(services))
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await run_in_threadpool(services.close)

    app = FastAPI(
        title="Packyard",
        version=__version__,
        summary="A self-hosted package registry for Python",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.index_pages = IndexPages(services.index, RenderedPageCache())
    app.state.auth_limiter = FailedAuthLimiter(services.settings.auth_failures_per_minute)
    install_error_handlers(app)
    app.include_router(registries.router)
    app.include_router(packages.router)
    app.include_router(lifecycle.router)
    app.include_router(instructions.router)
    app.include_router(upstreams.router)
    app.include_router(tokens.router)
    app.include_router(access_token.router)
    app.include_router(teams.router)
    app.include_router(teams.access_router)
    app.include_router(oidc.router)
    app.include_router(api_search.router)
    app.include_router(simple_routes.router)
    app.include_router(simple_upload.router)
    install_ui(app)
    return app


async def _flush_download_counts(services: Services) -> None:
    interval = services.settings.download_count_flush_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(services.flush_buffers)
        except Exception:
            log.exception("Could not flush download counts or token uses; will retry")
