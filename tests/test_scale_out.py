"""Many stateless app processes sharing one PostgreSQL and one S3 bucket, proven together;
and several workers on one port sharing SQLite."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.clients import Venv
from tests.support.driver import Organization, Registry, new_organization
from tests.support.postgres import PostgresCluster
from tests.support.s3 import S3Server
from tests.support.server import PackyardServer

pytestmark = pytest.mark.backend_independent

JSON = "application/vnd.pypi.simple.v1+json"
_roots = itertools.count()


@pytest.fixture(scope="module")
def fleet_backend(postgres_cluster: PostgresCluster, s3_server: S3Server) -> Backend:
    return Backend("postgresql", "s3", postgres=postgres_cluster, s3=s3_server)


@pytest.fixture(scope="module")
def fleet(
    fleet_backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PackyardServer, PackyardServer]]:
    """Two app processes on two ports, one database, one bucket, separate data folders."""
    first = fleet_backend.new_server(tmp_path_factory.mktemp("app-a"))
    second = PackyardServer(
        first.data_dir.parent / "second-data",
        first.data_dir.parent / "second.log",
        extra_env={**first.extra_env, "PACKYARD_DOWNLOAD_COUNT_FLUSH_SECONDS": "0.5"},
    )
    first.extra_env["PACKYARD_DOWNLOAD_COUNT_FLUSH_SECONDS"] = "0.5"
    first.start()
    second.start()
    yield first, second
    first.stop()
    second.stop()


def _on(server: PackyardServer, registry: Registry) -> Registry:
    return Registry(server, registry.organization, registry.slug)


def _files(registry: Registry, token: str, project: str) -> list[str]:
    response = registry.get(f"{project}/", token, headers={"Accept": JSON})
    assert response.status_code == 200, response.text
    return sorted(f["filename"] for f in response.json()["files"])


def test_publish_through_one_process_installs_through_the_other(
    fleet: tuple[PackyardServer, PackyardServer], tmp_path: Path, pip_venv: Venv, uv_venv: Venv
) -> None:
    first, second = fleet
    org = new_organization(first)
    registry = org.registry("Fleet")
    token = org.token("read_packages", "write_packages")
    through_second = _on(second, registry)
    assert through_second.get("fleet-app/", token).status_code == 404  # warms B's cache
    registry.publish(write_wheel(Dist("fleet-app", "1.0"), tmp_path), token)
    assert _files(through_second, token, "fleet-app") == ["fleet_app-1.0-py3-none-any.whl"]
    pip_venv.pip_install(through_second.index_url(token), "fleet-app==1.0")
    assert pip_venv.installed_version("fleet_app") == "1.0"
    uv_venv.uv_pip_install(through_second.index_url(token), "fleet-app==1.0")
    assert uv_venv.installed_version("fleet_app") == "1.0"


def test_delete_through_one_process_stops_the_other_serving_the_file(
    fleet: tuple[PackyardServer, PackyardServer], tmp_path: Path
) -> None:
    first, second = fleet
    org = new_organization(first)
    registry = org.registry("Pruned")
    token = org.token("read_packages", "write_packages", "delete_packages")
    wheel = write_wheel(Dist("pruned", "1.0"), tmp_path)
    package_id = registry.publish(wheel, token).json()["id"]
    file_url = f"{second.base_url}/{org.slug}/{registry.slug}/pypi/files/{wheel.name}"
    assert httpx.get(file_url, auth=("x", token)).status_code == 200  # B has served it
    assert _files(_on(second, registry), token, "pruned") == [wheel.name]
    deleted = httpx.delete(
        f"{registry.publish_url}/{package_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert deleted.status_code == 200
    assert httpx.get(file_url, auth=("x", token)).status_code == 404
    assert _on(second, registry).get("pruned/", token).status_code == 404


def test_concurrent_publishes_of_distinct_files_are_each_recorded_once(
    fleet: tuple[PackyardServer, PackyardServer], tmp_path: Path
) -> None:
    first, second = fleet
    org = new_organization(first)
    registry = org.registry("Parallel")
    token = org.token("read_packages", "write_packages")
    wheels = [write_wheel(Dist("many", f"1.{n}"), tmp_path) for n in range(20)]
    targets = [_on(server, registry) for server in (first, second)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(
            pool.map(
                lambda pair: _publish_status(targets[pair[0] % 2], pair[1], token),
                enumerate(wheels),
            )
        )
    assert statuses == [200] * 20
    assert _files(registry, token, "many") == sorted(w.name for w in wheels)


def test_concurrent_publishes_of_the_same_file_record_it_once(
    fleet: tuple[PackyardServer, PackyardServer], tmp_path: Path
) -> None:
    first, second = fleet
    org = new_organization(first)
    registry = org.registry("Same file")
    token = org.token("read_packages", "write_packages")
    wheel = write_wheel(Dist("contended", "1.0"), tmp_path)
    targets = [_on(server, registry) for server in (first, second)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(
            pool.map(lambda n: _publish_status(targets[n % 2], wheel, token), range(20))
        )
    assert statuses == [200] * 20
    assert _files(registry, token, "contended") == [wheel.name]


def test_download_counts_from_both_processes_add_up(
    fleet: tuple[PackyardServer, PackyardServer], tmp_path: Path
) -> None:
    first, second = fleet
    org = new_organization(first)
    registry = org.registry("Counted")
    token = org.token("read_packages", "write_packages")
    wheel = write_wheel(Dist("counted", "1.0"), tmp_path)
    registry.publish(wheel, token)
    for server, times in ((first, 3), (second, 4)):
        url = f"{server.base_url}/{org.slug}/{registry.slug}/pypi/files/{wheel.name}"
        for _ in range(times):
            assert httpx.get(url, auth=("x", token)).content == wheel.read_bytes()
    first.restart()  # a clean shutdown flushes what is buffered
    second.restart()
    assert _downloads_count(first, wheel.name) == 7


def _downloads_count(server: PackyardServer, filename: str) -> int:
    engine = sqlalchemy.create_engine(server.extra_env["PACKYARD_DATABASE_URL"])
    with engine.connect() as connection:
        count = connection.execute(
            sqlalchemy.text("SELECT downloads_count FROM packages WHERE filename = :f"),
            {"f": filename},
        ).scalar_one()
    engine.dispose()
    return int(count)


def _publish_status(registry: Registry, wheel: Path, token: str) -> int:
    with wheel.open("rb") as handle:
        response = httpx.post(
            registry.publish_url,
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (wheel.name, handle)},
            timeout=120,
        )
    return response.status_code


@pytest.fixture(scope="module")
def redirecting_yard(
    fleet_backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PackyardServer]:
    server = fleet_backend.new_server(
        tmp_path_factory.mktemp("redirect"), {"PACKYARD_S3_REDIRECT": "true"}
    )
    server.start()
    yield server
    server.stop()


def test_pip_and_uv_install_through_presigned_redirects(
    redirecting_yard: PackyardServer, tmp_path: Path, pip_venv: Venv, uv_venv: Venv
) -> None:
    org = new_organization(redirecting_yard)
    registry = org.registry("Redirected")
    token = org.token("read_packages", "write_packages")
    wheel = write_wheel(Dist("redirected", "1.0"), tmp_path)
    registry.publish(wheel, token)
    url = f"{redirecting_yard.base_url}/{org.slug}/{registry.slug}/pypi/files/{wheel.name}"
    response = httpx.get(url, auth=("x", token))
    assert response.status_code == 302
    assert httpx.get(response.headers["location"]).content == wheel.read_bytes()
    pip_venv.pip_install(registry.index_url(token), "redirected==1.0")
    assert pip_venv.installed_version("redirected") == "1.0"
    uv_venv.uv_pip_install(registry.index_url(token), "redirected==1.0")
    assert uv_venv.installed_version("redirected") == "1.0"


def test_serve_refuses_a_database_without_schema(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres_cluster.create_database(f"empty{next(_roots)}")
    server = PackyardServer(
        tmp_path / "data", tmp_path / "log", extra_env={"PACKYARD_DATABASE_URL": url}
    )
    result = server.cli("serve", "--port", str(server.port), check=False)
    assert result.returncode != 0
    assert "packyard db upgrade" in result.stderr


def test_several_workers_share_sqlite_under_concurrent_publishes(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    root = tmp_path_factory.mktemp("workers")
    server = PackyardServer(root / "data", root / "server.log", workers=2)
    server.start()
    try:
        org: Organization = new_organization(server)
        registry = org.registry("Busy")
        token = org.token("read_packages", "write_packages")
        wheels = [write_wheel(Dist("busy", f"2.{n}"), tmp_path) for n in range(20)]
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(lambda w: _publish_status(registry, w, token), wheels))
        assert statuses == [200] * 20
        assert _files(registry, token, "busy") == sorted(w.name for w in wheels)
    finally:
        server.stop()
