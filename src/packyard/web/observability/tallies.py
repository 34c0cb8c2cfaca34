"""Request metrics tallied in plain integers and added to the Prometheus metrics once a
second.

Under ``packyard serve`` every increment of a prometheus-client metric is a locked write to
a memory-mapped file; a request counted directly (its counter, its histogram's bucket and
sum, its bytes) cost about 10 µs, a tenth of what a cached index read costs in all. A tally
is a dict update and a bisect. The page-cache hits and downloads the fast paths count
(``services.metrics.TalliedCounter``) are added at the same flush. The price: another
worker's latest second may be missing from a scrape (the worker that answers the scrape
adds its own first), which a Prometheus scraping every 15 s or more never notices.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from typing import Any

from prometheus_client import Histogram

from packyard.services import metrics

FLUSH_SECONDS = 1.0
_BOUNDS = tuple(float(bound) for bound in metrics.LATENCY_BUCKETS)


class RequestTallies:
    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, int], int] = {}
        # (route, method) -> [count in each bucket (the last is +Inf)..., sum of seconds]
        self._latency: dict[tuple[str, str], list[Any]] = {}
        self._served: dict[str, int] = {}
        self._flush_scheduled = False

    def add(self, route: str, method: str, status: int, duration: float, sent: int) -> None:
        """Count one answered request; called on the event loop."""
        key = (route, method, status)
        self._requests[key] = self._requests.get(key, 0) + 1
        latency = self._latency.get(key[:2])
        if latency is None:
            latency = self._latency[key[:2]] = [0] * (len(_BOUNDS) + 1) + [0.0]
        latency[bisect_left(_BOUNDS, duration)] += 1
        latency[-1] += duration
        if sent:
            self._served[route] = self._served.get(route, 0) + sent
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Add what was tallied to the metrics (then visible to a scrape of any worker)."""
        self._flush_scheduled = False
        requests, self._requests = self._requests, {}
        latencies, self._latency = self._latency, {}
        served, self._served = self._served, {}
        for (route, method, status), count in requests.items():
            metrics.HTTP_REQUESTS.labels(route, method, status).inc(count)
        for (route, method), tally in latencies.items():
            _add_observations(metrics.HTTP_LATENCY.labels(route, method), tally)
        for route, sent in served.items():
            metrics.HTTP_SERVED_BYTES.labels(route).inc(sent)
        metrics.flush_tallied()  # page-cache hits and downloads, counted alike


def _add_observations(histogram: Histogram, tally: list[Any]) -> None:
    """Add many observations at once. prometheus-client offers only ``observe(one)``; its
    buckets (one value each, not cumulative) and sum are what ``observe`` adds to, so this
    adds the tallied counts to them directly. tests/test_metrics.py checks the result."""
    buckets = histogram._buckets
    assert len(buckets) == len(tally) - 1, "the histogram's buckets are LATENCY_BUCKETS"
    for bucket, count in zip(buckets, tally, strict=False):
        if count:
            bucket.inc(count)
    histogram._sum.inc(tally[-1])
