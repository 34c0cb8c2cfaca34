"""Reading through a composite served by two worker processes, on the configured backend,
each page asked for on fresh connections so that both workers answer: an upload to an
upstream, a change of the upstream list and a new version on PyPI are on the very next
page, whichever worker made the change and whichever remembered the page before it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Organization, Registry, new_organization
from tests.support.fake_pypi import FakePypi, wheel_file
from tests.support.server import PackyardServer

READS = 16  # fresh connections per check: both workers answer some of them


@pytest.fixture(scope="module")
def two_workers(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, fake_pypi: FakePypi
) -> Iterator[PackyardServer]:
    server = backend.new_server(
        tmp_path_factory.mktemp("composite-workers"),
        extra_env={
            "PACKYARD_PYPI_URL": fake_pypi.url,
            "PACKYARD_UPSTREAM_TTL": "0",
            "PACKYARD_UPSTREAM_TIMEOUT": "5",
        },
        workers=2,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def team(two_workers: PackyardServer) -> Organization:
    return new_organization(two_workers, "team")


@pytest.fixture
def writer(team: Organization) -> str:
    return team.token("read_packages", "write_packages", "read_registries", "write_registries")


def reads(registry: Registry, path: str, token: str, **headers: str) -> list[httpx.Response]:
    answers = [registry.get(path, token, headers=headers) for _ in range(READS)]
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    return answers


def test_upload_to_an_upstream_is_on_the_next_page_from_every_worker(
    team: Organization, writer: str, tmp_path: Path
) -> None:
    team_a, team_b = team.registry("Team A"), team.registry("Team B")
    team_a.publish(write_wheel(Dist("app", "1.0"), tmp_path), writer)
    composite = team.composite("All", "team-a", "team-b", "pypi")
    before = reads(composite, "app/", writer)
    assert len({(a.content, a.headers["etag"]) for a in before}) == 1
    assert "app-2.0" not in before[0].text
    listed = reads(composite, "", writer)
    assert 'href="lib/"' not in listed[0].text

    team_b.publish(write_wheel(Dist("app", "2.0"), tmp_path), writer)
    team_b.publish(write_wheel(Dist("lib", "1.0"), tmp_path), writer)
    etag = before[0].headers["etag"]
    after = reads(composite, "app/", writer, **{"If-None-Match": etag})
    assert all("app-2.0-py3-none-any.whl" in a.text for a in after)
    assert all(a.headers["etag"] != etag for a in after)
    assert all('href="lib/"' in a.text for a in reads(composite, "", writer))


def test_changed_upstreams_are_on_the_next_page_from_every_worker(
    team: Organization, writer: str, tmp_path: Path
) -> None:
    team.registry("First").publish(write_wheel(Dist("app", "1.0"), tmp_path), writer)
    team.registry("Second").publish(write_wheel(Dist("app", "2.0"), tmp_path), writer)
    composite = team.composite("All", "first", "second")
    assert all("app-2.0" in a.text for a in reads(composite, "app/", writer))

    response = httpx.put(
        f"{team.yard.base_url}/v2/packages/organizations/{team.slug}"
        f"/registries/{composite.slug}/upstreams",
        json={"upstreams": ["first"]},
        headers={"Authorization": f"Bearer {writer}"},
    )
    assert response.status_code == 200, response.text
    assert not any("app-2.0" in a.text for a in reads(composite, "app/", writer))


def test_new_version_on_pypi_is_on_the_next_page_once_the_ttl_has_passed(
    team: Organization, writer: str, fake_pypi: FakePypi
) -> None:
    name = f"{team.slug}-lib"
    fake_pypi.add(name, wheel_file(Dist(name, "1.0")))
    composite = team.composite("Public", "pypi")
    assert not any("-2.0-" in a.text for a in reads(composite, f"{name}/", writer))
    fake_pypi.add(name, wheel_file(Dist(name, "2.0")))  # the TTL is 0: stale at once
    assert all("-2.0-" in a.text for a in reads(composite, f"{name}/", writer))
