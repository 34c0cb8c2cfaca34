"""The Prometheus metrics Packyard exports: every instrument is defined here, once.

The instruments are module-level objects, as prometheus-client intends: under
``packyard serve`` each worker writes its values to its own memory-mapped files in
``PROMETHEUS_MULTIPROC_DIR`` (made by the supervisor before the workers start), and the
worker that answers ``/metrics`` adds up every worker's files (web.observability). In a
process without that directory (a command, a test importing the services) the values stay
in memory and cost nothing.

Labels are bounded by construction: route templates (never a raw path), methods from a
fixed set, status codes, outcome words. No label ever carries a project name, a user, a
token or an address. To add a metric: define it here with the ``packyard_`` prefix, count
it where its event happens, and reference it in deploy/ only if the test in
tests/test_metrics.py sees it move.
"""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import Engine, event

# Index reads answer in well under a millisecond; uploads and cold composite pages take
# seconds: buckets cover both ends without making each histogram large.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
UPSTREAM_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HTTP_REQUESTS = Counter(
    "packyard_http_requests",
    "HTTP requests answered, by route template, method and status code",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "packyard_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
HTTP_SERVED_BYTES = Counter(
    "packyard_http_response_bytes",
    "Response body bytes served, by route template",
    ["route"],
)

PUBLISHES = Counter(
    "packyard_publishes",
    "Files published: created (new) or existing (the same bytes sent again)",
    ["outcome"],
)
PUBLISHED_BYTES = Counter("packyard_published_bytes", "Bytes of newly published files")
DOWNLOADS = Counter(
    "packyard_downloads", "File downloads counted (GET of a whole file, not metadata)"
)
INDEX_CACHE = Counter(
    "packyard_index_cache_lookups",
    "Rendered index page lookups: hit (answered from cache) or miss (rendered)",
    ["result"],
)


class TalliedCounter:
    """A counter counted once per cached read (a page found rendered, a file downloaded),
    in a plain integer added to the Prometheus value by ``flush_tallied``: the request
    tallies (web.observability.tallies) call it once a second, before a scrape and at
    shutdown. Under ``packyard serve`` an ``inc`` of the value itself is a lock, a
    ``getpid`` and a write to a memory-mapped file (0.9 µs; the fast path's Python costs
    about 16 µs per cached read, issue 20); this is a lock and an addition (0.2 µs)."""

    __slots__ = ("_count", "_counter", "_lock")

    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._count = 0
        self._lock = threading.Lock()  # pages are looked up in worker threads too
        _TALLIED.append(self)

    def inc(self) -> None:
        with self._lock:
            self._count += 1

    def flush(self) -> None:
        with self._lock:
            count, self._count = self._count, 0
        if count:
            self._counter.inc(count)


_TALLIED: list[TalliedCounter] = []

INDEX_CACHE_HITS = TalliedCounter(INDEX_CACHE.labels("hit"))
DOWNLOADS_TALLIED = TalliedCounter(DOWNLOADS)


def flush_tallied() -> None:
    """Add every ``TalliedCounter``'s count to its Prometheus value."""
    for tallied in _TALLIED:
        tallied.flush()


UPSTREAM_REQUESTS = Counter(
    "packyard_upstream_requests",
    "Requests to upstream indexes (PyPI) by status class; 'error' when none came back",
    ["status"],
)
UPSTREAM_ERRORS = Counter(
    "packyard_upstream_errors",
    "Upstream requests that failed: transport (no answer) or server (5xx)",
    ["kind"],
)
UPSTREAM_LATENCY = Histogram(
    "packyard_upstream_request_duration_seconds",
    "Time until an upstream index answered (headers), or failed",
    buckets=UPSTREAM_BUCKETS,
)

# Gauges of live state are summed over the workers alive now ("livesum"): a worker that
# stops removes its files (web.observability).
DB_POOL_IN_USE = Gauge(
    "packyard_db_pool_connections_in_use",
    "Database connections checked out of the workers' pools",
    multiprocess_mode="livesum",
)
DB_POOL_OPEN = Gauge(
    "packyard_db_pool_connections_open",
    "Database connections the workers' pools hold open (in use or idle)",
    multiprocess_mode="livesum",
)

# Defined now so that dashboards and alerts can rely on them; they stay 0 until the
# webhook and retention features count into them.
# Counted from the outbox by each process's sender after it polls: the latest count.
WEBHOOK_PENDING = Gauge(
    "packyard_webhook_deliveries_pending",
    "Webhook deliveries waiting to be sent or retried (the outbox, as last counted)",
    multiprocess_mode="livemostrecent",
)
WEBHOOK_FAILED = Counter(
    "packyard_webhook_deliveries_failed",
    "Webhook deliveries given up: their retries ran out, or the receiver answered 410",
)
RETENTION_DELETIONS = Counter(
    "packyard_retention_deletions",
    "Files deleted by retention policies (0 until retention policies exist)",
)

READINESS_FAILURES = Counter(
    "packyard_readiness_failures",
    "Readiness checks failed, by the dependency that did not answer in time",
    ["check"],
)


def record_publish(size: int, *, created: bool) -> None:
    PUBLISHES.labels("created" if created else "existing").inc()
    if created:
        PUBLISHED_BYTES.inc(size)


def create_zero_series() -> None:
    """Create the labelled series every dashboard expects, at 0, so that they are exported
    before their first event (a rate over a series that does not exist yet is empty)."""
    for outcome in ("created", "existing"):
        PUBLISHES.labels(outcome)
    for result in ("hit", "miss"):
        INDEX_CACHE.labels(result)
    for kind in ("transport", "server"):
        UPSTREAM_ERRORS.labels(kind)
    for status in ("2xx", "3xx", "4xx", "5xx", "error"):
        UPSTREAM_REQUESTS.labels(status)
    for check in ("database", "blob_store"):
        READINESS_FAILURES.labels(check)


def watch_pool(engine: Engine) -> None:
    """Keep the pool gauges current from the pool's own events: a few microseconds per
    checkout, and nothing to do when ``/metrics`` is scraped."""

    def opened(*_: Any) -> None:
        DB_POOL_OPEN.inc()

    def closed(*_: Any) -> None:
        DB_POOL_OPEN.dec()

    def checked_out(*_: Any) -> None:
        DB_POOL_IN_USE.inc()

    def checked_in(*_: Any) -> None:
        DB_POOL_IN_USE.dec()

    event.listen(engine, "connect", opened)
    event.listen(engine, "close", closed)
    event.listen(engine, "close_detached", closed)
    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)
