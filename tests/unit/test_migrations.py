from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from packyard.db.engine import make_engine, migration_head
from packyard.db.migrations import SCHEMA_HEAD
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.backend_independent


def test_schema_head_constant_names_the_newest_migration() -> None:
    assert migration_head() == SCHEMA_HEAD


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_0005_sorts_each_token_creator_into_its_own_column(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'packyard.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = cluster.create_database(f"migration_{uuid.uuid4().hex[:12]}")
    engine = make_engine(url)
    try:
        _migrate(engine, "upgrade", "0004")
        ids = {name: str(uuid.uuid4()) for name in ("org", "user", "cli", "rest", "ui", "gone")}
        now = datetime(2026, 12, 1, tzinfo=UTC)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organizations (id, slug, name, created_at) "
                    "VALUES (:o, 'a', 'a', :t)"
                ),
                {"o": ids["org"], "t": now},
            )
            connection.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, failed_logins, created_at) "
                    "VALUES (:u, 'ann@example.com', 'x', 0, :t)"
                ),
                {"u": ids["user"], "t": now},
            )
            creators = {"cli": None, "rest": ids["cli"], "ui": ids["user"], "gone": "vanished"}
            for name, creator in creators.items():
                connection.execute(
                    text(
                        "INSERT INTO tokens (id, organization_id, secret_sha256, scopes, "
                        "description, created_by, created_at) "
                        "VALUES (:id, :o, :sha, '[]', '', :by, :t)"
                    ),
                    {"id": ids[name], "o": ids["org"], "sha": name, "by": creator, "t": now},
                )
        _migrate(engine, "upgrade", "head")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, created_by_token, created_by_user FROM tokens")
            ).all()
        found = {row[0]: (row[1], row[2]) for row in rows}
        assert found == {
            ids["cli"]: (None, None),
            ids["rest"]: (ids["cli"], None),
            ids["ui"]: (None, ids["user"]),
            ids["gone"]: (None, None),
        }
        _migrate(engine, "downgrade", "0004")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, created_by FROM tokens")).all()
        assert dict((row[0], row[1]) for row in rows)[ids["ui"]] == ids["user"]
    finally:
        engine.dispose()


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", "packyard.db:migrations")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)
