"""Migration 0009 (teams) keeps what existed working: an organization token made before
it still reads and publishes everywhere, says it acts for the organization, and the
organization starts with teams off."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from packyard.db.engine import make_engine, upgrade_schema
from packyard.db.tokens import hash_secret
from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Api, Registry
from tests.support.server import PackyardServer

SECRET = "pky_" + "m" * 43


def _seed_before_teams(url: str) -> None:
    """An organization, a registry and an organization token, as 0007 stored them."""
    engine = make_engine(url)
    upgrade_schema(engine, "0007")
    now = datetime.now(UTC).replace(tzinfo=None)
    org, registry = str(uuid.uuid4()), str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO organizations VALUES (:id, 'old', 'Old', :now)"),
            {"id": org, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO registries (id, organization_id, slug, name, ecosystem, "
                "description, public, type, serial, created_at) VALUES "
                "(:id, :org, 'kept', 'Kept', 'python', '', false, 'source', 0, :now)"
            ),
            {"id": registry, "org": org, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO tokens (id, organization_id, secret_sha256, scopes, description,"
                " created_at) VALUES (:id, :org, :sha, :scopes, 'old', :now)"
            ),
            {
                "id": str(uuid.uuid4()),
                "org": org,
                "sha": hash_secret(SECRET),
                "scopes": '["read_registries", "read_packages", "write_packages"]',
                "now": now,
            },
        )
    engine.dispose()


def test_tokens_and_registries_made_before_teams_keep_working(
    tmp_path: Path, backend: Backend
) -> None:
    env = backend.server_env()
    data = tmp_path / "data"
    data.mkdir()
    url = env.get("PACKYARD_DATABASE_URL") or f"sqlite:///{data / 'packyard.sqlite3'}"
    _seed_before_teams(url)
    yard = PackyardServer(data, tmp_path / "server.log", extra_env=env)
    yard.admin("db", "upgrade")
    yard.start()
    try:
        old = Api(yard, "old", SECRET)
        old.publish("kept", write_wheel(Dist("kept", "1.0"), tmp_path))
        assert Registry(yard, "old", "kept").get("kept/", SECRET).status_code == 200
        described = old.call("GET", "/v2/access-token").json()
        assert described["acts_for"] == "organization"
        assert old.call("GET", "/registries").json()[0]["slug"] == "kept"
        organization = old.call("GET", "/v2/organizations/old").json()
        assert organization["teams_enabled"] is False
        assert organization["members_can_create_registries"] is True
    finally:
        yard.stop()
