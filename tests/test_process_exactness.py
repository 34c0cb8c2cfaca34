"""Two app processes on one database, SQLite or PostgreSQL: each caches access, pages and
files in memory (validated by the change counter, db/changes.py), and a change made through
one is seen by the other on its very next request: a new version, a deleted file, a
revoked token, a registry made private, a composite's new upstream list; a write made
outside Packyard (the sqlite3 shell, psql) is seen once the safety net finds it.

Every check first reads through the second process twice, so that its answer is cached
(the second read is the fast path's), then changes through the first, then reads once.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Protocol

import httpx
import psycopg
import pytest

from packyard.db.changes import shared_serial
from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.database import query
from tests.support.driver import Organization, Registry, new_organization
from tests.support.postgres import PostgresCluster, database_address
from tests.support.server import PackyardServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.backend_independent

JSON = "application/vnd.pypi.simple.v1+json"
DATABASES = ["sqlite", "postgresql"]
# The safety net's period: long for the tests of the change marks (it must not be what
# makes them pass), short for the test of the safety net itself.
MARKS_ONLY = "3600"
QUICK_RECHECK = "0.5"
QUIET_SECONDS = 3
Pair = tuple[PackyardServer, PackyardServer]


def _start_pair(database: str, cluster: PostgresCluster, root: Path, recheck_seconds: str) -> Pair:
    """Two processes on two ports: one database, one blob folder, separate data folders."""
    shared = {
        "PACKYARD_STORAGE_URL": (root / "blobs").as_uri(),
        "PACKYARD_CHANGE_RECHECK_SECONDS": recheck_seconds,
    }
    if database == "sqlite":
        backend = Backend("sqlite", "local")
        shared["PACKYARD_DATABASE_URL"] = f"sqlite:///{root / 'shared.sqlite3'}"
    else:
        backend = Backend("postgresql", "local", postgres=cluster)
    first = backend.new_server(root / "a", shared)
    second = PackyardServer(root / "b" / "data", root / "b.log", extra_env=first.extra_env)
    first.start()
    second.start()
    return first, second


@pytest.fixture(scope="module", params=DATABASES)
def pair(
    request: pytest.FixtureRequest,
    postgres_cluster: PostgresCluster,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp(f"{request.param}-pair")
    servers = _start_pair(request.param, postgres_cluster, root, MARKS_ONLY)
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture(params=DATABASES)
def rechecking_pair(
    request: pytest.FixtureRequest, postgres_cluster: PostgresCluster, tmp_path: Path
) -> Iterator[Pair]:
    servers = _start_pair(request.param, postgres_cluster, tmp_path / "pair", QUICK_RECHECK)
    yield servers
    for server in servers:
        server.stop()


def _on(server: PackyardServer, registry: Registry) -> Registry:
    return Registry(server, registry.organization, registry.slug)


def _twice(registry: Registry, path: str, token: str | None) -> httpx.Response:
    """Read twice (the second answer comes from the process's caches); the second answer."""
    first = registry.get(path, token, headers={"Accept": JSON})
    second = registry.get(path, token, headers={"Accept": JSON})
    assert (first.status_code, first.content) == (second.status_code, second.content)
    return second


def _files(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(f["filename"] for f in response.json()["files"])


def _rest(server: PackyardServer, method: str, path: str, token: str, **kw: object) -> None:
    response = httpx.request(
        method,
        f"{server.base_url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        **kw,  # type: ignore[arg-type]
    )
    assert response.is_success, response.text


def _sqlite_path(server: PackyardServer) -> str:
    return server.extra_env["PACKYARD_DATABASE_URL"].removeprefix("sqlite:///")


def _is_sqlite(server: PackyardServer) -> bool:
    return server.extra_env["PACKYARD_DATABASE_URL"].startswith("sqlite")


class _ChangeWatch(Protocol):
    def changed_within(self, seconds: float) -> bool:
        """Whether any process makes a change known within ``seconds`` from now."""


class _SerialWatch:
    """SQLite: the shared serial beside the database (db/changes.py::SharedSerial)."""

    def __init__(self, database: str) -> None:
        self._serial = shared_serial(database)
        self._seen = self._serial.read()

    def changed_within(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            now = self._serial.read()
            if now != self._seen:
                self._seen = now
                return True
            time.sleep(0.05)
        return False


class _NotificationWatch:
    """PostgreSQL: a connection listening for ``packyard_changes``."""

    def __init__(self, connection: psycopg.Connection[tuple[object, ...]]) -> None:
        self._connection = connection
        connection.execute("LISTEN packyard_changes")

    def changed_within(self, seconds: float) -> bool:
        return bool(list(self._connection.notifies(timeout=seconds, stop_after=1)))


@contextmanager
def _watching(server: PackyardServer) -> Iterator[_ChangeWatch]:
    """Watch the changes made known, once the processes have been quiet for a while
    (earlier tests' download counts are flushed within 2 s)."""
    with ExitStack() as stack:
        watch: _ChangeWatch
        if _is_sqlite(server):
            watch = _SerialWatch(_sqlite_path(server))
        else:
            address = database_address(server)
            listener = stack.enter_context(psycopg.connect(address, autocommit=True))
            watch = _NotificationWatch(listener)
        eventually(
            lambda: not watch.changed_within(QUIET_SECONDS),
            60,
            lambda: "the processes kept making changes known while nobody used them",
        )
        yield watch


def _write_outside_packyard(server: PackyardServer, statement: str, value: str) -> None:
    """``statement`` (one ``?`` parameter) through the database's own client library, as
    the sqlite3 shell or psql would run it: no change mark."""
    if _is_sqlite(server):
        with closing(sqlite3.connect(_sqlite_path(server))) as shell, shell:
            shell.execute(statement, (value,))
        return
    with psycopg.connect(database_address(server), autocommit=True) as psql:
        psql.execute(statement.replace("?", "%s"), (value,))


@pytest.fixture
def org(pair: Pair) -> Organization:
    return new_organization(pair[0], "exact")


def test_version_published_through_one_process_is_on_the_others_next_page(
    pair: Pair, org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("Dev")
    token = org.token("read_packages", "write_packages")
    registry.publish(write_wheel(Dist("app", "1.0"), tmp_path), token)
    through_second = _on(pair[1], registry)
    assert _files(_twice(through_second, "app/", token)) == ["app-1.0-py3-none-any.whl"]

    registry.publish(write_wheel(Dist("app", "1.1"), tmp_path), token)
    after = through_second.get("app/", token, headers={"Accept": JSON})
    assert _files(after) == ["app-1.0-py3-none-any.whl", "app-1.1-py3-none-any.whl"]


def test_file_deleted_through_one_process_is_gone_from_the_others_next_page(
    pair: Pair, org: Organization, tmp_path: Path
) -> None:
    """Pages are cached per project (its own serial): the other process learns which
    project changed, and still answers the others' pages as before."""
    first, _second = pair
    registry = org.registry("Dev")
    token = org.token("read_packages", "write_packages", "delete_packages")
    registry.publish(write_wheel(Dist("app", "1.0"), tmp_path), token)
    doomed = registry.publish(write_wheel(Dist("app", "1.1"), tmp_path), token).json()["id"]
    registry.publish(write_wheel(Dist("other", "1.0"), tmp_path), token)
    through_second = _on(pair[1], registry)
    assert len(_files(_twice(through_second, "app/", token))) == 2
    other = _twice(through_second, "other/", token)

    path = f"/v2/packages/organizations/{org.slug}/registries/{registry.slug}/packages/{doomed}"
    _rest(first, "DELETE", path, token)
    after = through_second.get("app/", token, headers={"Accept": JSON})
    assert _files(after) == ["app-1.0-py3-none-any.whl"]
    unchanged = through_second.get("other/", token, headers={"Accept": JSON})
    assert (unchanged.headers["etag"], unchanged.content) == (other.headers["etag"], other.content)


def test_token_revoked_through_one_process_is_refused_by_the_other_at_once(
    pair: Pair, org: Organization, tmp_path: Path
) -> None:
    first, second = pair
    registry = org.registry("Dev")
    writer = org.token("read_packages", "write_packages")
    wheel = write_wheel(Dist("app", "1.0"), tmp_path)
    registry.publish(wheel, writer)
    reader = org.token("read_packages")
    through_second = _on(second, registry)
    files = f"{second.base_url}/{org.slug}/{registry.slug}/pypi/files/{wheel.name}"
    assert _twice(through_second, "app/", reader).status_code == 200
    for url in (files, f"{files}.metadata"):
        assert httpx.get(url, auth=("x", reader)).status_code == 200
        assert (
            httpx.get(url, auth=("x", reader)).content == httpx.get(url, auth=("x", writer)).content
        )

    _rest(first, "DELETE", "/v2/access-token", reader)
    assert through_second.get("app/", reader).status_code == 401
    assert httpx.get(files, auth=("x", reader)).status_code == 401
    assert httpx.get(f"{files}.metadata", auth=("x", reader)).status_code == 401
    assert through_second.get("app/", writer).status_code == 200


def test_registry_made_private_through_one_process_is_refused_by_the_other_at_once(
    pair: Pair, org: Organization, tmp_path: Path
) -> None:
    first, second = pair
    registry = org.registry("Open", public=True)
    admin = org.token("read_packages", "write_packages", "read_registries", "write_registries")
    registry.publish(write_wheel(Dist("app", "1.0"), tmp_path), admin)
    through_second = _on(second, registry)
    assert _twice(through_second, "app/", None).status_code == 200

    path = f"/v2/packages/organizations/{org.slug}/registries/{registry.slug}"
    _rest(first, "PATCH", path, admin, json={"public": False})
    assert through_second.get("app/").status_code == 401
    assert through_second.get("app/", admin).status_code == 200


def test_composite_upstreams_changed_through_one_process_are_on_the_others_next_page(
    pair: Pair, org: Organization, tmp_path: Path
) -> None:
    first, second = pair
    admin = org.token("read_packages", "write_packages", "read_registries", "write_registries")
    org.registry("First").publish(write_wheel(Dist("app", "1.0"), tmp_path), admin)
    org.registry("Second").publish(write_wheel(Dist("app", "2.0"), tmp_path), admin)
    composite = org.composite("All", "first")
    through_second = _on(second, composite)
    assert _files(_twice(through_second, "app/", admin)) == ["app-1.0-py3-none-any.whl"]

    path = f"/v2/packages/organizations/{org.slug}/registries/{composite.slug}/upstreams"
    _rest(first, "PUT", path, admin, json={"upstreams": ["second", "first"]})
    after = through_second.get("app/", admin, headers={"Accept": JSON})
    assert _files(after) == ["app-1.0-py3-none-any.whl", "app-2.0-py3-none-any.whl"]


def test_write_outside_packyard_reaches_every_process_through_the_safety_net(
    rechecking_pair: Pair,
) -> None:
    """The sqlite3 shell and psql mark nothing: the periodic look at whether anything was
    committed finds it."""
    org = new_organization(rechecking_pair[0], "outside")
    registry = org.registry("Dev")
    reader = org.token("read_packages")
    through_second = _on(rechecking_pair[1], registry)
    assert _twice(through_second, "", reader).status_code == 200
    secret_sha256 = hashlib.sha256(reader.encode()).hexdigest()
    _write_outside_packyard(
        rechecking_pair[0], "DELETE FROM tokens WHERE secret_sha256 = ?", secret_sha256
    )

    eventually(
        lambda: through_second.get("", reader).status_code == 401,
        30,
        lambda: "a token deleted outside Packyard was still accepted",
    )


def test_idle_processes_make_no_change_known(pair: Pair) -> None:
    """Background jobs that find nothing to do write nothing: the webhook sender polls
    every 2 s in each process, and a write of no rows would still make every process drop
    its caches. Quiet first, then six seconds in which neither process may make a change
    known."""
    with _watching(pair[0]) as watch:
        assert not watch.changed_within(6)


def test_counting_downloads_makes_no_change_known(
    pair: Pair, org: Organization, tmp_path: Path
) -> None:
    """A download's count and its token's last use are bookkeeping no cache shows: their
    flush (every 2 s in each process) reaches no process, so a download load does not make
    every process drop its caches and look every file up again. A publish still does."""
    registry = org.registry("Counted")
    token = org.token("read_packages", "write_packages")
    wheel = write_wheel(Dist("counted", "1.0"), tmp_path)
    registry.publish(wheel, token)
    (link,) = [f["url"] for f in _twice(registry, "counted/", token).json()["files"]]
    file_path = httpx.URL(f"{registry.simple_url}counted/").join(link).path
    with _watching(pair[0]) as watch:
        for server in pair:
            downloaded = httpx.get(f"{server.base_url}{file_path}", auth=("x", token), timeout=30)
            assert downloaded.status_code == 200

        def counted() -> bool:
            rows = query(
                pair[0],
                "SELECT p.downloads_count, t.last_used_at FROM packages p, tokens t"
                " WHERE p.filename = :filename AND t.secret_sha256 = :secret_sha256",
                filename=wheel.name,
                secret_sha256=hashlib.sha256(token.encode()).hexdigest(),
            )
            found = [tuple(row) for row in rows]
            return [(count, used is not None) for count, used in found] == [(2, True)]

        eventually(counted, 30, lambda: "the downloads were not counted in the database")
        assert not watch.changed_within(1)

        registry.publish(write_wheel(Dist("counted", "1.1"), tmp_path), token)
        assert watch.changed_within(5)
