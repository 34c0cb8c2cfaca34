"""A composite's remembered page versions (``CompositeIndexService.cached_version``), in
process on SQLite with a clock we move and a fake PyPI on loopback: a remembered version
is the one a fresh read gives, and it is forgotten by an upload to an upstream (in this
process or another), by new upstreams or settings, when PyPI's answer goes stale, when a
file comes out of its cooldown, and while PyPI cannot be reached."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from packyard.blobs import make_blob_store
from packyard.bootstrap import Services, build_services
from packyard.core.models import Registry
from packyard.core.permissions import OPERATOR
from packyard.db.engine import make_session_factory
from packyard.services.composite_index import CompositeIndexService
from packyard.services.upstream_pypi import PypiUpstream
from packyard.settings import Settings
from tests.support.builders import Dist, write_wheel
from tests.support.clock import Clock
from tests.support.fake_pypi import FakePypi, wheel_file
from tests.support.operator import create_composite, create_registry

pytestmark = pytest.mark.backend_independent  # always SQLite in-process

TTL = 600


@pytest.fixture
def fake() -> Iterator[FakePypi]:
    server = FakePypi()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def services(tmp_path: Path, fake: FakePypi) -> Iterator[Services]:
    built = build_services(
        Settings(data_dir=tmp_path / "data", pypi_url=fake.url, upstream_timeout=5)
    )
    built.registries.create_organization("acme")
    create_registry(built, "acme", "Team A")
    create_registry(built, "acme", "Team B")
    yield built
    built.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def composite_index(services: Services, fake: FakePypi, clock: Clock) -> CompositeIndexService:
    """The service as ``bootstrap`` builds it, on the clock we move."""
    sessions = make_session_factory(services.engine)
    blobs = make_blob_store(services.settings.effective_storage_url)
    settings = services.settings
    pypi = PypiUpstream(
        sessions,
        services.http,
        fake.url,
        TTL,
        clock,
        blobs,
        settings.staging_dir,
        1024**2,
        services.pypi_cache,
    )
    return CompositeIndexService(sessions, services.composites, pypi, clock, services.changes)


def publish(services: Services, registry: str, dist: Dist, directory: Path) -> None:
    path = write_wheel(dist, directory)
    writer = services.publishing.staging.open(path.name)
    writer.write(path.read_bytes())
    target = services.registries.find_registry("acme", registry)
    services.publishing.publish(target, writer.finish())


def current(services: Services, composite: Registry) -> Registry:
    """The composite as the next request sees it (its serial may have moved)."""
    return services.registries.find_registry("acme", composite.slug)


def filenames(index: CompositeIndexService, composite: Registry, project: str) -> list[str]:
    return [f.filename for f in index.project_page(composite, project).value.files]


def test_remembered_version_is_the_one_a_fresh_read_gives(
    services: Services, composite_index: CompositeIndexService, tmp_path: Path
) -> None:
    publish(services, "team-a", Dist("app", "1.0"), tmp_path)
    composite = create_composite(services, "acme", "All", ["team-a", "team-b"])
    assert composite_index.cached_version(composite, "app") is None
    version = composite_index.project_page(composite, "app").version
    assert composite_index.cached_version(composite, "app") == version
    assert composite_index.project_page(composite, "app").version == version
    assert composite_index.cached_version(composite, "other") is None


@pytest.mark.parametrize("publisher", ["this process", "another process"])
def test_upload_to_an_upstream_is_seen_by_the_next_read(
    services: Services,
    composite_index: CompositeIndexService,
    tmp_path: Path,
    publisher: str,
) -> None:
    publish(services, "team-a", Dist("app", "1.0"), tmp_path)
    composite = create_composite(services, "acme", "All", ["team-a", "team-b"])
    filenames(composite_index, composite, "app")
    if publisher == "this process":
        publish(services, "team-b", Dist("app", "2.0"), tmp_path)
    else:
        other = build_services(services.settings)  # another worker on the same database
        try:
            publish(other, "team-b", Dist("app", "2.0"), tmp_path)
        finally:
            other.close()
    assert composite_index.cached_version(composite, "app") is None
    assert filenames(composite_index, composite, "app") == [
        "app-1.0-py3-none-any.whl",
        "app-2.0-py3-none-any.whl",
    ]


def test_new_project_in_an_upstream_is_listed_by_the_next_read(
    services: Services, composite_index: CompositeIndexService, tmp_path: Path
) -> None:
    publish(services, "team-a", Dist("app", "1.0"), tmp_path)
    composite = create_composite(services, "acme", "All", ["team-a", "team-b"])
    version = composite_index.project_list(composite).version
    assert composite_index.cached_version(composite, "") == version
    publish(services, "team-b", Dist("lib", "1.0"), tmp_path)
    assert composite_index.cached_version(composite, "") is None
    assert composite_index.project_list(composite).value.projects == ["app", "lib"]


def test_changed_upstreams_are_seen_by_the_next_read(
    services: Services, composite_index: CompositeIndexService, tmp_path: Path
) -> None:
    publish(services, "team-a", Dist("app", "1.0"), tmp_path)
    publish(services, "team-b", Dist("app", "2.0"), tmp_path)
    composite = create_composite(services, "acme", "All", ["team-a", "team-b"])
    assert len(filenames(composite_index, composite, "app")) == 2
    services.composites.set_upstreams(composite, ["team-a"], OPERATOR)
    assert composite_index.cached_version(composite, "app") is None
    assert composite_index.cached_version(current(services, composite), "app") is None
    changed = current(services, composite)
    assert filenames(composite_index, changed, "app") == ["app-1.0-py3-none-any.whl"]


def test_pypi_answer_is_remembered_only_until_its_ttl(
    services: Services, composite_index: CompositeIndexService, fake: FakePypi, clock: Clock
) -> None:
    fake.add("lib", wheel_file(Dist("lib", "1.0")))
    composite = create_composite(services, "acme", "All", ["team-a", "pypi"])
    composite_index.project_page(composite, "lib")  # stores PyPI's answer: a change
    version = composite_index.project_page(composite, "lib").version
    clock.advance(TTL - 1)
    assert composite_index.cached_version(composite, "lib") == version
    fake.add("lib", wheel_file(Dist("lib", "2.0")))
    clock.advance(1)
    assert composite_index.cached_version(composite, "lib") is None
    assert filenames(composite_index, composite, "lib") == [
        "lib-1.0-py3-none-any.whl",
        "lib-2.0-py3-none-any.whl",
    ]


def test_file_held_back_by_a_cooldown_is_served_once_it_comes_of_age(
    services: Services, composite_index: CompositeIndexService, fake: FakePypi, clock: Clock
) -> None:
    young = clock.now - timedelta(days=1) + timedelta(seconds=60)
    fake.add(
        "lib",
        wheel_file(Dist("lib", "1.0")),
        wheel_file(Dist("lib", "2.0"), upload_time=young.strftime("%Y-%m-%dT%H:%M:%SZ")),
    )
    composite = create_composite(services, "acme", "Careful", ["pypi"], min_release_age="1 day")
    assert filenames(composite_index, composite, "lib") == ["lib-1.0-py3-none-any.whl"]
    assert filenames(composite_index, composite, "lib") == ["lib-1.0-py3-none-any.whl"]
    clock.advance(59)
    assert composite_index.cached_version(composite, "lib") is not None
    clock.advance(1)
    assert composite_index.cached_version(composite, "lib") is None
    assert filenames(composite_index, composite, "lib") == [
        "lib-1.0-py3-none-any.whl",
        "lib-2.0-py3-none-any.whl",
    ]


def test_nothing_is_remembered_while_pypi_cannot_be_reached(
    services: Services,
    composite_index: CompositeIndexService,
    fake: FakePypi,
    tmp_path: Path,
) -> None:
    publish(services, "team-a", Dist("app", "1.0"), tmp_path)
    composite = create_composite(
        services, "acme", "All", ["team-a", "pypi"], public_overrides=["app"]
    )
    fake.failing = True
    assert filenames(composite_index, composite, "app") == ["app-1.0-py3-none-any.whl"]
    assert composite_index.cached_version(composite, "app") is None
    fake.failing = False
    fake.add("app", wheel_file(Dist("app", "9.0")))
    assert filenames(composite_index, composite, "app") == [
        "app-1.0-py3-none-any.whl",
        "app-9.0-py3-none-any.whl",
    ]
