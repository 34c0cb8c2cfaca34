"""The maintenance jobs every app process schedules (``services.scheduler``): the staging
sweep (files of uploads and imports whose process died), the blob garbage collector,
the registries' retention policies and the PyPI cache's cap.
Each is a plain function of the services it tidies, so the command line (``packyard gc``)
and the scheduler run the same code."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from packyard.core.retention import DEAD_STAGING_AGE
from packyard.services.integrity import IntegrityService
from packyard.services.pypi_cache import PypiCache
from packyard.services.retention import RetentionService
from packyard.services.scheduler import PeriodicJob
from packyard.services.staging import StagingArea

log = logging.getLogger(__name__)

STAGING_SWEEP = "staging-sweep"
BLOB_GC = "blob-gc"
RETENTION = "retention"
PYPI_CACHE = "pypi-cache-prune"


def staging_sweep_job(
    staging: StagingArea, now: Callable[[], datetime], interval: float
) -> PeriodicJob:
    """Remove staged files nobody wrote for DEAD_STAGING_AGE, at start-up and each
    interval. Every process may run it: removing a file twice is harmless."""

    def sweep() -> None:
        removed = staging.sweep(now() - DEAD_STAGING_AGE)
        if removed:
            log.info("Staging sweep removed %d files of uploads or imports that died", removed)

    return PeriodicJob(STAGING_SWEEP, interval, sweep)


def blob_gc_job(integrity: IntegrityService, grace: timedelta, interval: float) -> PeriodicJob:
    """Remove blobs nothing references once ``grace`` has passed since they were last
    stored (``IntegrityService.gc``, what ``packyard gc`` runs); once per cluster."""

    def collect() -> None:
        report = integrity.gc(grace)
        if report.removed:
            log.info("Blob GC removed %d blobs nothing references", len(report.removed))

    return PeriodicJob(BLOB_GC, interval, collect, once_per_cluster=True)


def retention_job(retention: RetentionService, interval: float) -> PeriodicJob:
    """Apply every registry's retention policy (``RetentionService.run_all``); once per
    cluster."""
    return PeriodicJob(RETENTION, interval, retention.run_all, once_per_cluster=True)


def pypi_cache_job(cache: PypiCache, interval: float) -> PeriodicJob:
    """Hold the PyPI file cache under its cap (``PypiCache.prune``, what ``packyard cache
    prune`` runs); once per cluster."""

    def prune() -> None:
        report = cache.prune()
        if report.evicted:
            log.info(
                "PyPI cache: evicted %d files, %d bytes left (cap %s)",
                len(report.evicted),
                report.bytes_after,
                report.max_bytes,
            )

    return PeriodicJob(PYPI_CACHE, interval, prune, once_per_cluster=True)
