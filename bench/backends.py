"""The scale-out backends the benchmark runs Packyard on, started once for the whole run:
a PostgreSQL cluster from the machine's server binaries, durable as deployed (fsync and
synchronous commits on, unlike the test suite's), and moto's S3 protocol server, the one
the test suite uses. Each Packyard gets a database (and a bucket) of its own through
``tests/support/backends.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.support.backends import Backend
from tests.support.postgres import PostgresCluster
from tests.support.s3 import S3Server


class ScaleOut:
    """PostgreSQL and an S3 protocol server, started on first use, stopped by ``close``."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._postgres: PostgresCluster | None = None
        self._s3: S3Server | None = None

    def postgres(self) -> PostgresCluster:
        if self._postgres is None:
            cluster = PostgresCluster(durable=True)
            cluster.start()
            self._postgres = cluster
        return self._postgres

    def s3(self) -> S3Server:
        if self._s3 is None:
            self._workdir.mkdir(parents=True, exist_ok=True)
            server = S3Server(self._workdir / "s3-server.log")
            server.start()
            self._s3 = server
        return self._s3

    def backend(self, database: str, storage: str) -> Backend:
        return Backend(
            database,
            storage,
            postgres=self.postgres() if database == "postgresql" else None,
            s3=self.s3() if storage == "s3" else None,
        )

    def close(self) -> None:
        if self._s3 is not None:
            self._s3.stop()
        if self._postgres is not None:
            self._postgres.stop()


@contextlib.contextmanager
def scale_out(workdir: Path) -> Iterator[ScaleOut]:
    backends = ScaleOut(workdir)
    try:
        yield backends
    finally:
        backends.close()


def describe(database: str, storage: str) -> str:
    """The backend as the report's mode column says it."""
    db = "SQLite WAL" if database == "sqlite" else "PostgreSQL (fsync on)"
    blobs = "local blob folder" if storage == "local" else "S3 protocol server (moto)"
    return f"{db}, {blobs}"
