"""Fixtures that start real things: the server (on the configured database and blob
store), PostgreSQL and S3 servers, virtual environments with real clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import SCALE_OUT_PASS, Backend
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
    parser.addoption(
        "--leave-to-scale-out",
        action="store_true",
        help="leave the backend-independent tests marked on_pass='scale-out' to the scale-out "
        "pass run at the same time (scripts/test.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backend_independent(on_pass='default'): runs once (its backends are fixed), on the "
        "default pass, or with on_pass='scale-out' on the scale-out pass when the default "
        "one is run with --leave-to-scale-out",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``network`` or ``soak`` run only when asked for (``-m network``, ``-m
    soak``): CI stays offline and quick. Tests whose backends do not depend on the options
    run once: on the default pass (also on ``--server uvicorn``: their servers are the
    HTTP server's), except those marked for the scale-out pass, which the default pass
    leaves to it when told to (``--leave-to-scale-out``)."""
    for marker, reason in OPT_IN_MARKERS.items():
        if marker not in (config.option.markexpr or ""):
            skip = pytest.mark.skip(reason=f"{reason}: select with -m {marker}")
            for item in items:
                if marker in item.keywords:
                    item.add_marker(skip)
    default_pass = config.getoption("--database") == "sqlite"
    default_pass = default_pass and config.getoption("--storage") == "local"
    leave = config.getoption("--leave-to-scale-out")

    def runs_here(item: pytest.Item) -> bool:
        on_pass = _on_pass(item)
        if on_pass is None:
            return True
        if default_pass:
            return not (leave and on_pass == SCALE_OUT_PASS)
        return on_pass == SCALE_OUT_PASS

    kept = [item for item in items if runs_here(item)]
    deselected = [item for item in items if not runs_here(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def _on_pass(item: pytest.Item) -> str | None:
    """The pass a backend-independent test runs on; None for any other test."""
    marker = item.get_closest_marker("backend_independent")
    if marker is None:
        return None
    on_pass: str = marker.kwargs.get("on_pass", "default")
    return on_pass


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
