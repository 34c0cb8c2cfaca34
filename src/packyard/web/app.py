"""``create_app(services)``: the ASGI application. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import cast

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from packyard import __version__
from packyard.bootstrap import Services
from packyard.settings import Settings
from packyard.web.api import (
    access_token,
    audit,
    instructions,
    lifecycle,
    oidc,
    packages,
    registries,
    retention,
    teams,
    tokens,
    upstreams,
    webhooks,
)
from packyard.web.api import search as api_search
from packyard.web.auth_limits import FailedAuthLimiter, SignInThrottle
from packyard.web.docs_pages import install_docs
from packyard.web.errors import install_error_handlers
from packyard.web.front import FrontDoor
from packyard.web.gate import RequestGate
from packyard.web.observability.layer import observer_for
from packyard.web.simple import routes as simple_routes
from packyard.web.simple import upload as simple_upload
from packyard.web.simple.cache import RenderedPageCache
from packyard.web.simple.cached_files import FileFastPath
from packyard.web.simple.cached_reads import IndexFastPath
from packyard.web.simple.pages import IndexPages
from packyard.web.simple.read_path import ReadFastPath
from packyard.web.simple.small_files import SmallFiles
from packyard.web.simple.upload_path import UploadFastPath
from packyard.web.ui import install_ui

log = logging.getLogger(__name__)


def create_app(services: Services) -> ASGIApp:
    """The application behind plain-ASGI layers, outermost first: the trusted proxy's
    client address and scheme (when PACKYARD_TRUSTED_PROXIES names one); the front door
    (web.front: health and metrics, request ids, the header-size limit, the Host check,
    cached index reads, the origin for the audit log, small bodies, the headers every
    response gets, metrics and the access log, in one pass); the fast path for located
    files (web.simple.cached_files); index and file reads not cached yet
    (web.simple.read_path) and uploads (web.simple.upload_path), each answered by its
    route's function; the framework."""
    app = create_framework_app(services)
    uploads = UploadFastPath(app)
    reads = ReadFastPath(uploads, framework=app)
    files = FileFastPath(reads, services.access, services.downloads, app.state.small_files)
    settings = services.settings
    front = FrontDoor(
        files,
        observer=observer_for(services),
        gate=RequestGate(settings, services.tokens, app.state.auth_limiter),
        index=IndexFastPath(files, services.access, app.state.index_pages, settings.base_url),
        files=files,
        base_url=settings.base_url,
        activity=services.requests,
    )
    return _behind_trusted_proxies(front, settings)


def _behind_trusted_proxies(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` seeing the client address and scheme that a trusted proxy forwards."""
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if not proxies:
        return app
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    # uvicorn types ASGI apps its own way; the middleware is a plain ASGI app all the same.
    middleware = ProxyHeadersMiddleware(app, trusted_hosts=proxies)  # type: ignore[arg-type]
    return cast("ASGIApp", middleware)


def create_framework_app(services: Services) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The change counter's listener (PostgreSQL) keeps every cache exact.
        tasks = [
            asyncio.create_task(_flush_download_counts(services)),
            asyncio.create_task(services.changes.follow()),
            asyncio.create_task(run_in_threadpool(_build_routes, _app)),
        ]
        # Where every process of the server reads this one's requests (process_load).
        services.requests.share(services.settings.metrics_dir)
        await services.scheduler.start()
        try:
            yield
        finally:
            await services.scheduler.stop()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await run_in_threadpool(services.close)

    app = FastAPI(
        title="Packyard",
        version=__version__,
        summary="A self-hosted package registry for Python",
        lifespan=lifespan,
        docs_url=None,  # served by web.docs_pages, with local assets
        redoc_url=None,
    )
    app.state.services = services
    app.state.index_pages = IndexPages(services.index, RenderedPageCache())
    app.state.small_files = SmallFiles()
    app.state.auth_limiter = FailedAuthLimiter(services.settings.auth_failures_per_minute)
    app.state.sign_in_throttle = SignInThrottle()
    install_error_handlers(app)
    app.include_router(registries.router)
    app.include_router(retention.router)
    app.include_router(retention.usage_router)
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
    app.include_router(audit.router)
    app.include_router(webhooks.router)
    app.include_router(webhooks.organization_router)
    app.include_router(simple_routes.router)
    app.include_router(simple_upload.router)
    install_docs(app)  # before the UI: its /static/docs mount must come before /static
    install_ui(app)
    return app


# A path no route matches: routing it walks, and so builds, every route.
_NO_ROUTE: dict[str, object] = {
    "type": "http",
    "method": "GET",
    "path": "",
    "root_path": "",
    "headers": [],
    "query_string": b"",
}


def _build_routes(app: FastAPI) -> None:
    """Have FastAPI build every route's request models now, in a worker thread, while
    the server already answers. It builds them lazily, when a request first walks past
    a route: about 0.2-0.5 s of CPU that the first upload or REST call after each start
    would otherwise wait for (issue 20's publishing profile)."""
    try:
        for route in app.router.routes:
            route.matches(_NO_ROUTE)
    except Exception:  # the first requests build what is left, as without this
        log.exception("Could not build the routes ahead of the first requests")


async def _flush_download_counts(services: Services) -> None:
    interval = services.settings.download_count_flush_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(services.flush_buffers)
        except Exception:
            log.exception("Could not flush download counts or token uses; will retry")
