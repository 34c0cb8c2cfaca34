"""The maintenance jobs every app process schedules (``services.scheduler``): the staging
sweep (files of uploads and imports whose process died) and the blob garbage collector.
Each is a plain function of the services it tidies, so the command line (``packyard gc``)
and the scheduler run the same code."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from packyard.core.retention import DEAD_STAGING_AGE
from packyard.services.integrity import IntegrityService
from packyard.services.scheduler import PeriodicJob
from packyard.services.staging import StagingArea

log = logging.getLogger(__name__)

STAGING_SWEEP = "staging-sweep"
BLOB_GC = "blob-gc"


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
