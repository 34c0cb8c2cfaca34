"""Fixtures that start real things: the server (on the configured database and blob
store), PostgreSQL and S3 servers, virtual environments with real clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import Backend
from tests.support.clients import Venv, make_venv
from tests.support.driver import Organization, new_organization
from tests.support.postgres import PostgresCluster
from tests.support.s3 import S3Server
from tests.support.server import PackyardServer

# Fixtures shared by several modules, found by name like those below.
pytest_plugins = ["tests.support.rest", "tests.support.composite"]
# Markers of tests that run only when selected, and why.
OPT_IN_MARKERS = {"network": "reaches the real PyPI", "soak": "minutes of load"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="database of the servers under test",
    )
    parser.addoption(
        "--storage",
        choices=["local", "s3"],
        default="local",
        help="blob store of the servers under test",
    )
    parser.addoption(
        "--server",
        choices=["granian", "uvicorn"],
        default="granian",
        help="HTTP server of the servers under test (packyard serve --server)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backend_independent: runs once, on the default pass only (its backends are fixed)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``network`` or ``soak`` run only when asked for (``-m network``, ``-m
    soak``): CI stays offline and quick. On the scale-out pass, leave out tests whose
    backends do not depend on the options: they already ran on the default pass. (On
    ``--server uvicorn`` they run: their servers are the HTTP server's.)"""
    for marker, reason in OPT_IN_MARKERS.items():
        if marker not in (config.option.markexpr or ""):
            skip = pytest.mark.skip(reason=f"{reason}: select with -m {marker}")
            for item in items:
                if marker in item.keywords:
                    item.add_marker(skip)
    if config.getoption("--database") == "sqlite" and config.getoption("--storage") == "local":
        return
    kept = [item for item in items if item.get_closest_marker("backend_independent") is None]
    deselected = [item for item in items if item.get_closest_marker("backend_independent")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> Backend:
    database = request.config.getoption("--database")
    storage = request.config.getoption("--storage")
    return Backend(
        database=database,
        storage=storage,
        server=request.config.getoption("--server"),
        postgres=request.getfixturevalue("postgres_cluster") if database == "postgresql" else None,
        s3=request.getfixturevalue("s3_server") if storage == "s3" else None,
    )


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[PackyardServer]:
    """A running server with a fresh data directory, shared by one test module; each test
    isolates itself in an organization of its own."""
    server = backend.new_server(tmp_path_factory.mktemp("yard"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def org(yard: PackyardServer) -> Organization:
    return new_organization(yard)


@pytest.fixture
def pip_venv(tmp_path: Path) -> Venv:
    return make_venv(tmp_path / "pip-venv")


@pytest.fixture
def uv_venv(tmp_path: Path) -> Venv:
    return make_venv(tmp_path / "uv-venv")


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    """An empty environment for a test parametrized over ``INSTALLERS``."""
    return make_venv(tmp_path / "venv")
