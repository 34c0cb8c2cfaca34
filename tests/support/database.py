"""Reading a server's database directly, whichever engine it runs on, for tests that check
what is stored (hashes only, attestations kept, counts flushed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy

from tests.support.server import PackyardServer


def database_url(server: PackyardServer) -> str:
    return server.extra_env.get(
        "PACKYARD_DATABASE_URL", f"sqlite:///{server.data_dir / 'packyard.sqlite3'}"
    )


def query(server: PackyardServer, sql: str, **params: Any) -> Sequence[sqlalchemy.Row[Any]]:
    engine = sqlalchemy.create_engine(database_url(server))
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(sql), params).all()
    finally:
        engine.dispose()
