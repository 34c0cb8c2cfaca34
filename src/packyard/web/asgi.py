"""The factory the HTTP server's workers call: settings from the environment, services, app.

``packyard serve`` migrates or checks the schema once before starting workers, so workers
never migrate concurrently.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from packyard.bootstrap import build_services
from packyard.settings import Settings
from packyard.web.app import create_app
from packyard.web.supervisor_bond import stop_with_supervisor


def app_factory() -> ASGIApp:
    settings = Settings()
    stop_with_supervisor(settings.supervisor_pid)
    return create_app(build_services(settings, migrate=False))
