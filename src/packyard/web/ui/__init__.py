"""The web UI: server-rendered pages, one module per page group, calling the services.

``install_ui(app)`` adds the routes, the template environment and ``/static``. To add a
page: a route module here (with ``PageRoute`` so domain errors become pages), a template
under ``templates/`` extending ``base.html``, and its router in ``ROUTERS``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from packyard.web.ui import (
    accounts,
    audit,
    composites,
    lifecycle,
    packages,
    registries,
    retention,
    search,
    settings,
    teams,
    tokens,
    webhooks,
)
from packyard.web.ui.common import HERE, Templates
from packyard.web.ui.presenting import ReadmeRenderer

__all__ = ["install_ui"]

ROUTERS = (
    accounts.router,
    registries.router,
    composites.router,
    settings.router,
    packages.router,
    lifecycle.router,
    tokens.router,
    teams.router,
    search.router,
    audit.router,
    webhooks.router,
    retention.router,
)


def install_ui(app: FastAPI) -> None:
    app.state.ui_templates = Templates()
    app.state.ui_readmes = ReadmeRenderer()
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
