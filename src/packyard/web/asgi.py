"""The factory the HTTP server's workers call: settings from the environment, services, app.

``packyard serve`` migrates or checks the schema once before starting workers, so workers
never migrate concurrently.
"""

from __future__ import annotations

import gc

from starlette.types import ASGIApp

from packyard.bootstrap import build_services
from packyard.settings import Settings
from packyard.web.app import create_app
from packyard.web.supervisor_bond import stop_with_supervisor


def app_factory() -> ASGIApp:
    settings = Settings()
    stop_with_supervisor(settings.supervisor_pid)
    app = create_app(build_services(settings, migrate=False))
    # What the worker holds now (its code, the application, its services: some 140,000
    # objects that live as long as it does) stays out of the garbage collector's sweeps.
    # A full sweep of them took 140 ms, and an exiting worker's last sweeps 0.4 s of every
    # stop (granian's worker stopped in 0.42 s, now 0.04 s). Here, in the serving process,
    # not in the application: a process that embeds it (the tests' clients) keeps its own.
    gc.freeze()
    return app
