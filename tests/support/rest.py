"""Fixtures for the REST API tests, registered for every module through ``pytest_plugins``
in ``tests/conftest.py``: an organization per module, an ``admin`` API holding every scope,
and a fresh registry per test. A module that wants other defaults defines a fixture of the
same name, which wins over these."""

from __future__ import annotations

import itertools

import pytest

from tests.support.driver import Api, Organization, api, new_organization
from tests.support.server import PackyardServer

ALL_SCOPES = (
    "read_registries",
    "write_registries",
    "delete_registries",
    "read_packages",
    "write_packages",
    "delete_packages",
)
_names = itertools.count()


def _topic(request: pytest.FixtureRequest) -> str:
    """``tokens`` for ``tests/test_rest_tokens.py``: names that say which module made them."""
    module: str = request.module.__name__
    return module.rpartition(".")[2].removeprefix("test_").removeprefix("rest_")


@pytest.fixture(scope="module")
def organization(yard: PackyardServer, request: pytest.FixtureRequest) -> Organization:
    return new_organization(yard, _topic(request).replace("_", "-"))


@pytest.fixture(scope="module")
def admin(organization: Organization) -> Api:
    return api(organization, organization.token(*ALL_SCOPES))


@pytest.fixture
def registry(admin: Api, request: pytest.FixtureRequest) -> str:
    name = f"{_topic(request).replace('_', ' ').title()} {next(_names)}"
    slug: str = admin.create_registry(name)["slug"]
    return slug
