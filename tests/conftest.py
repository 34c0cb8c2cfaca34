"""Fixtures that start real things: the server, virtual environments with real clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clients import Venv, make_venv
from tests.support.driver import Organization, new_organization
from tests.support.server import PackyardServer


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackyardServer]:
    """A running server with a fresh data directory, shared by one test module; each test
    isolates itself in an organization of its own."""
    root = tmp_path_factory.mktemp("yard")
    server = PackyardServer(data_dir=root / "data", log_path=root / "server.log")
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``network`` run only when asked for (``-m network``): CI stays offline."""
    if "network" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="reaches the real PyPI: select with -m network")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)
