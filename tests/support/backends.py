"""Which database and blob store the servers under test use.

The suite runs once on the embedded default (SQLite, local folder) and once on the
scale-out stack (PostgreSQL, S3): ``pytest --database postgresql --storage s3``. Each
server gets a database and a bucket of its own. The servers run on granian, the default
HTTP server; ``pytest --server uvicorn`` runs them on uvicorn instead.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from tests.support.postgres import PostgresCluster
from tests.support.s3 import CREDENTIALS, S3Server
from tests.support.server import PackyardServer

_names = itertools.count()


# A backend-independent test marked ``on_pass=SCALE_OUT_PASS`` runs on the scale-out pass
# (tests/conftest.py): scripts/test.py runs the two passes at once, so CI lasts as long as
# the longer, and the default pass, which runs every other backend-independent test, is the
# longer by minutes.
SCALE_OUT_PASS = "scale-out"


@dataclass
class Backend:
    database: str  # "sqlite" or "postgresql"
    storage: str  # "local" or "s3"
    server: str = "granian"  # the HTTP server: "granian" or "uvicorn" (pytest --server)
    postgres: PostgresCluster | None = None
    s3: S3Server | None = None

    def server_env(self) -> dict[str, str]:
        """Settings for one more server: a fresh database and bucket when not embedded."""
        env: dict[str, str] = {}
        name = f"yard{next(_names)}"
        if self.postgres is not None:
            env["PACKYARD_DATABASE_URL"] = self.postgres.create_database(name)
        if self.s3 is not None:
            self.s3.create_bucket(name)
            env["PACKYARD_STORAGE_URL"] = self.s3.storage_url(name)
            env.update(CREDENTIALS)
        return env

    def new_server(
        self, root: Path, extra_env: dict[str, str] | None = None, workers: int = 1
    ) -> PackyardServer:
        """A server (not started) with its own data directory, database and bucket; the
        schema of a non-embedded database is created with ``packyard db upgrade``."""
        env = {**self.server_env(), **(extra_env or {})}
        server = PackyardServer(
            root / "data", root / "server.log", extra_env=env, workers=workers, server=self.server
        )
        if "PACKYARD_DATABASE_URL" in env:
            server.admin("db", "upgrade")
        return server
