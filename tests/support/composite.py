"""Fixtures for composite registries: a fake PyPI on loopback and a Packyard server that
uses it as its PyPI upstream (TTL 0: every page revalidates, so outages show at once).

Registered for every module through ``pytest_plugins`` in ``tests/conftest.py``: a test
asks for ``corg``, ``fake_pypi`` or ``composite_yard`` by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.driver import Organization, new_organization
from tests.support.fake_pypi import FakePypi
from tests.support.server import PackyardServer


@pytest.fixture(scope="module")
def fake_pypi() -> Iterator[FakePypi]:
    fake = FakePypi()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def composite_yard(
    tmp_path_factory: pytest.TempPathFactory, fake_pypi: FakePypi
) -> Iterator[PackyardServer]:
    root = tmp_path_factory.mktemp("composite-yard")
    server = PackyardServer(
        data_dir=root / "data",
        log_path=root / "server.log",
        extra_env={
            "PACKYARD_PYPI_URL": fake_pypi.url,
            "PACKYARD_UPSTREAM_TTL": "0",
            "PACKYARD_UPSTREAM_TIMEOUT": "5",
        },
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def corg(composite_yard: PackyardServer) -> Organization:
    """An organization of its own on the composite server."""
    return new_organization(composite_yard, "team")


@pytest.fixture
def pypi_available(fake_pypi: FakePypi) -> Iterator[FakePypi]:
    """The fake PyPI, restored to health after a test that breaks it."""
    yield fake_pypi
    fake_pypi.failing = False
    if fake_pypi._server is None:
        fake_pypi.start()
