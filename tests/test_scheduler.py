"""The shared scheduler's parts on a real database (SQLite file or PostgreSQL, by the
``--database`` option): a once-per-cluster lease goes to one holder at a time, is taken
over once it expires, and a job runs at start-up and again when woken."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from packyard.db.engine import make_engine, make_session_factory, upgrade_schema
from packyard.services.scheduler import LeaseKeeper, PeriodicJob, Scheduler
from tests.support.backends import Backend
from tests.support.clock import Clock

_names = itertools.count()
MINUTE = timedelta(minutes=1)


@pytest.fixture
def engine(backend: Backend, tmp_path: Path) -> Iterator[Engine]:
    if backend.postgres is not None:
        url = backend.postgres.create_database(f"leases{next(_names)}")
    else:
        url = f"sqlite:///{tmp_path / 'leases.sqlite3'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def test_a_held_lease_is_refused_to_another_process(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    first, second = LeaseKeeper(sessions, clock), LeaseKeeper(sessions, clock)
    assert first.acquire("blob-gc", MINUTE)
    assert not second.acquire("blob-gc", MINUTE)
    clock.advance(30)
    assert first.acquire("blob-gc", MINUTE)  # its holder renews it
    assert not second.acquire("blob-gc", MINUTE)


def test_an_expired_lease_is_taken_over(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    first, second = LeaseKeeper(sessions, clock), LeaseKeeper(sessions, clock)
    assert first.acquire("retention", MINUTE)
    clock.advance(61)
    assert second.acquire("retention", MINUTE)
    assert not first.acquire("retention", MINUTE)


def test_a_lease_kept_until_the_next_run_keeps_others_out(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    first, second = LeaseKeeper(sessions, clock), LeaseKeeper(sessions, clock)
    assert first.acquire("blob-gc", MINUTE)
    first.keep_until("blob-gc", timedelta(minutes=5))
    clock.advance(4 * 60)
    assert not second.acquire("blob-gc", MINUTE)
    clock.advance(61)
    assert second.acquire("blob-gc", MINUTE)


def test_of_processes_racing_for_a_lease_exactly_one_wins(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    keepers = [LeaseKeeper(sessions, clock) for _ in range(8)]
    start = threading.Barrier(len(keepers))
    won: list[bool] = []

    def race(keeper: LeaseKeeper) -> None:
        start.wait()
        won.append(keeper.acquire("race", MINUTE))

    threads = [threading.Thread(target=race, args=(k,)) for k in keepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 7 + [True]


def test_a_job_runs_at_start_and_again_when_woken(sessions: sessionmaker[Session]) -> None:
    runs: list[int] = []
    ran = threading.Semaphore(0)

    def job() -> None:
        runs.append(len(runs))
        ran.release()

    async def scenario() -> None:
        scheduler = Scheduler(LeaseKeeper(sessions, Clock()))
        scheduler.add(PeriodicJob("nudged", 3600, job, once_per_cluster=True))
        await scheduler.start()
        try:
            assert await asyncio.to_thread(ran.acquire, timeout=10)
            # From another thread, as a service running in the thread pool would.
            await asyncio.to_thread(scheduler.wake, "nudged")
            assert await asyncio.to_thread(ran.acquire, timeout=10)
        finally:
            await scheduler.stop()

    asyncio.run(scenario())
    assert runs == [0, 1]


def test_a_failing_job_runs_again_at_its_next_time(sessions: sessionmaker[Session]) -> None:
    attempts = threading.Semaphore(0)

    def failing() -> None:
        attempts.release()
        raise RuntimeError("the blob store is down")

    async def scenario() -> None:
        scheduler = Scheduler(LeaseKeeper(sessions, Clock()))
        scheduler.add(PeriodicJob("flaky", 0.05, failing))
        await scheduler.start()
        try:
            for _ in range(3):
                assert await asyncio.to_thread(attempts.acquire, timeout=10)
        finally:
            await scheduler.stop()

    asyncio.run(scenario())
