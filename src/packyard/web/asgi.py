"""The factory uvicorn's workers call: settings from the environment, services, app.

``packyard serve`` migrates or checks the schema once before starting workers, so workers
never migrate concurrently.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from packyard.bootstrap import build_services
from packyard.settings import Settings
from packyard.web.app import create_app


def app_factory() -> ASGIApp:
    return create_app(build_services(Settings(), migrate=False))
