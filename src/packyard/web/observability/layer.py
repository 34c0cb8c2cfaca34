"""Builds the request observer (``requests.RequestObserver``) the front door uses, from
the settings and services."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from prometheus_client import multiprocess
from starlette.types import Receive, Scope, Send

from packyard.bootstrap import Services
from packyard.services import metrics
from packyard.web.observability.access import AccessLog
from packyard.web.observability.exposition import MetricsEndpoint
from packyard.web.observability.health import Readiness, healthz
from packyard.web.observability.requests import Endpoint, RequestObserver
from packyard.web.observability.tallies import RequestTallies


def observer_for(services: Services) -> RequestObserver:
    settings = services.settings
    endpoints: dict[str, Endpoint] = {
        "/healthz": healthz,
        "/readyz": Readiness(services.readiness_checks(), settings.readiness_timeout),
    }
    on_shutdown: list[Callable[[], None]] = []
    if settings.metrics:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        endpoints["/metrics"] = MetricsEndpoint(
            settings.resolved_data_dir, settings.metrics_dir, token
        )
        metrics.create_zero_series()
    if settings.metrics_dir is not None:
        # This worker's live gauges (pool use) leave the sum when it stops.
        on_shutdown.append(
            functools.partial(
                multiprocess.mark_process_dead, os.getpid(), str(settings.metrics_dir)
            )
        )
    tallies = RequestTallies() if settings.metrics else None
    if tallies is not None:
        on_shutdown.insert(0, tallies.flush)
        endpoints["/metrics"] = functools.partial(_flushed_first, tallies, endpoints["/metrics"])
    access_log = AccessLog(settings.log_format == "json") if settings.access_log else None
    if access_log is not None:
        on_shutdown.insert(0, access_log.flush)
    return RequestObserver(
        endpoints, tallies=tallies, access_log=access_log, on_shutdown=on_shutdown
    )


async def _flushed_first(
    tallies: RequestTallies, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send
) -> None:
    """The scrape sees this worker's latest requests."""
    tallies.flush()
    await endpoint(scope, receive, send)
