"""Pooled PostgreSQL connections that the server closes (a restart, an idle timeout,
``pg_terminate_backend``) are replaced before they are used: no request fails for them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.driver import new_organization
from tests.support.postgres import PostgresCluster, database_address
from tests.support.server import PackyardServer

pytestmark = pytest.mark.backend_independent


@pytest.fixture
def served(postgres_cluster: PostgresCluster, tmp_path: Path) -> Iterator[PackyardServer]:
    server = Backend("postgresql", "local", postgres=postgres_cluster).new_server(tmp_path)
    server.start()
    yield server
    server.stop()


def _close_the_servers_connections(server: PackyardServer) -> int:
    """End every other session on the server's database, as a PostgreSQL restart would;
    how many were ended."""
    with psycopg.connect(database_address(server), autocommit=True) as connection:
        ended = connection.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert ended is not None
    return int(ended[0])


def test_connections_the_database_closed_are_replaced_without_a_failed_request(
    served: PackyardServer, tmp_path: Path
) -> None:
    organization = new_organization(served)
    registry = organization.registry("Private")
    writer = organization.token("read_packages", "write_packages")
    packages_url = registry.publish_url  # listed by a GET
    headers = {"Authorization": f"Bearer {writer}"}
    # Publishes and listings fill the worker's pool with connections.
    for n in range(3):
        registry.publish(write_wheel(Dist("before", f"1.{n}"), tmp_path), writer)
        assert httpx.get(packages_url, headers=headers, timeout=30).status_code == 200
    assert _close_the_servers_connections(served) >= 2
    for n in range(5):
        registry.publish(write_wheel(Dist("after", f"1.{n}"), tmp_path), writer)
        listing = httpx.get(packages_url, headers=headers, timeout=30)
        assert listing.status_code == 200, listing.text
    names = {item["filename"] for item in listing.json()["items"]}
    assert {f"after-1.{n}-py3-none-any.whl" for n in range(5)} <= names
