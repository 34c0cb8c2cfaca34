"""The one background scheduler: every app process runs one, and it runs periodic jobs.

A job is a blocking function (it runs in a worker thread, so it may use the database and
the blob store like any service) called at start-up and then every ``interval_seconds``,
or sooner when someone calls ``Scheduler.wake(name)`` (a webhook sender nudged after a
commit, say). A job that must run once per cluster at a time (retention, blob GC) sets
``once_per_cluster``: before each run the process takes the job's lease row in the
database (``db.leases``) and, after it, keeps the lease until the job is next due, so that
one process runs it each interval however many share the database; when that process
stops, another takes over once the lease expires. Jobs that work through queue rows may
instead run everywhere and claim their rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL.

To add a job: build it in ``bootstrap.schedule_jobs`` with
``scheduler.add(PeriodicJob(name, interval_seconds, run, once_per_cluster))``. The app's
lifespan starts the scheduler and stops it on shutdown, waiting for a running job to
finish. Command-line processes never start it. A job's exception is logged and the job
runs again at its next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from packyard.db import leases

log = logging.getLogger(__name__)

# How long a once-per-cluster run may take before another process may take its lease
# over (a process that died mid-run frees its jobs after this). Runs are expected to take
# seconds; a longer interval lengthens it.
MIN_RUN_LEASE = timedelta(minutes=10)
# How long ``stop`` waits for a running job before abandoning its thread.
STOP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """``run`` every ``interval_seconds`` (and at start-up, and when woken); with
    ``once_per_cluster``, in one process of the cluster at a time."""

    name: str
    interval_seconds: float
    run: Callable[[], object]
    once_per_cluster: bool = False


class LeaseKeeper:
    """Takes and keeps once-per-cluster leases for this process (``db.leases``)."""

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now
        # Made per process: workers forked from one parent must not share a holder.
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self, name: str, duration: timedelta) -> bool:
        """Take or renew the lease ``name`` for ``duration``; whether this process holds it."""
        now = self._now()
        with self._sessions.begin() as session:
            return leases.acquire(session, name, self.holder, now, now + duration)

    def keep_until(self, name: str, duration: timedelta) -> None:
        """Keep this process's lease ``name`` for ``duration`` from now."""
        with self._sessions.begin() as session:
            leases.hold_until(session, name, self.holder, self._now() + duration)


@dataclass
class _Scheduled:
    job: PeriodicJob
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class Scheduler:
    """Runs the periodic jobs of one process. ``add`` before ``start``; ``wake`` from any
    thread."""

    def __init__(self, leases: LeaseKeeper) -> None:
        self._leases = leases
        self._jobs: dict[str, _Scheduled] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._lock = threading.Lock()

    @property
    def job_names(self) -> list[str]:
        return list(self._jobs)

    def add(self, job: PeriodicJob) -> None:
        """Register ``job``; raises ValueError for a name already taken or after start."""
        if self._loop is not None:
            raise ValueError("add jobs before the scheduler starts")
        if job.name in self._jobs:
            raise ValueError(f"a job named {job.name!r} is already scheduled")
        if job.interval_seconds <= 0:
            raise ValueError(f"job {job.name!r} needs a positive interval")
        self._jobs[job.name] = _Scheduled(job)

    def wake(self, name: str) -> None:
        """Run job ``name`` as soon as it is not running (again, if it is); a no-op when the
        scheduler is not running (the command line). Raises KeyError for an unknown job."""
        scheduled = self._jobs[name]
        with self._lock:
            loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(scheduled.woken.set)

    async def start(self) -> None:
        """Start every job's loop on the running event loop; each job runs once now."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
        self._stopping = False
        for scheduled in self._jobs.values():
            scheduled.woken = asyncio.Event()
            scheduled.task = asyncio.create_task(self._loop_of(scheduled), name=scheduled.job.name)

    async def stop(self) -> None:
        """Stop the loops, waiting (up to STOP_TIMEOUT_SECONDS) for running jobs to end."""
        self._stopping = True
        tasks = [s.task for s in self._jobs.values() if s.task is not None]
        for scheduled in self._jobs.values():
            scheduled.woken.set()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_SECONDS)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with self._lock:
            self._loop = None

    async def _loop_of(self, scheduled: _Scheduled) -> None:
        job = scheduled.job
        while not self._stopping:
            scheduled.woken.clear()
            try:
                await asyncio.to_thread(self._run, job)
            except Exception:
                log.exception("Background job %s failed; it runs again at its next time", job.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(scheduled.woken.wait(), timeout=job.interval_seconds)

    def _run(self, job: PeriodicJob) -> None:
        if not job.once_per_cluster:
            job.run()
            return
        interval = timedelta(seconds=job.interval_seconds)
        if not self._leases.acquire(job.name, max(MIN_RUN_LEASE, 2 * interval)):
            return  # another process runs it this time
        try:
            job.run()
        finally:
            # Kept until the job is next due, so the other processes skip this interval.
            self._leases.keep_until(job.name, interval)
