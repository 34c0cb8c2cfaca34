"""The upstream client (PyPI) that counts what it does: requests by status class,
failures (no answer, or a 5xx) and the time to the answer's headers. Every request of
``get``, ``stream`` and the rest goes through ``send``, so no call site has to remember to
count, and proxies taken from the environment stay in use. Kept apart from
services.metrics because importing httpx costs a worker memory it only pays when an
upstream is first asked (bootstrap.UpstreamHttp)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from packyard.services import metrics

_TRANSPORT_ERRORS = metrics.UPSTREAM_ERRORS.labels("transport")
_SERVER_ERRORS = metrics.UPSTREAM_ERRORS.labels("server")


class CountingClient(httpx.Client):
    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = super().send(request, **kwargs)
        except httpx.TransportError:
            metrics.UPSTREAM_REQUESTS.labels("error").inc()
            _TRANSPORT_ERRORS.inc()
            raise
        finally:
            metrics.UPSTREAM_LATENCY.observe(time.perf_counter() - started)
        metrics.UPSTREAM_REQUESTS.labels(f"{response.status_code // 100}xx").inc()
        if response.status_code >= 500:
            _SERVER_ERRORS.inc()
        return response
