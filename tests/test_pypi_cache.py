"""The PyPI file cache of composite registries (``--pypi-files cache``) under a size cap
(docs/retention.md): ``packyard cache prune`` and the maintenance job evict the least
recently used files, a file just served stays, and an evicted file is fetched from PyPI
again on its next request; on both databases and both blob stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist
from tests.support.driver import Organization, Registry, new_organization
from tests.support.fake_pypi import FakeFile, FakePypi, wheel_file
from tests.support.integrity import blob_store_of
from tests.support.server import PackyardServer
from tests.support.waiting import eventually

JSON = "application/vnd.pypi.simple.v1+json"
# Longer than services.pypi_cache.IN_USE_GRACE: a file is evicted only once idle that long.
IDLE_WAIT = 40.0


def _server(root: Path, backend: Backend, fake: FakePypi, extra: dict[str, str]) -> PackyardServer:
    env = {
        "PACKYARD_PYPI_URL": fake.url,
        "PACKYARD_UPSTREAM_TTL": "0",
        "PACKYARD_UPSTREAM_TIMEOUT": "5",
        "PACKYARD_DOWNLOAD_COUNT_FLUSH_SECONDS": "0.5",
        **extra,
    }
    return backend.new_server(root, env)


@pytest.fixture(scope="module")
def yard(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, fake_pypi: FakePypi
) -> Iterator[PackyardServer]:
    """A server with no cap: only ``packyard cache prune`` evicts."""
    server = _server(tmp_path_factory.mktemp("pypi-cache"), backend, fake_pypi, {})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def capped_yard(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, fake_pypi: FakePypi
) -> Iterator[PackyardServer]:
    """A server whose maintenance job holds the cache under one small file's size."""
    extra = {
        "PACKYARD_PYPI_CACHE_MAX_BYTES": str(_CAP),
        "PACKYARD_MAINTENANCE_INTERVAL": "0.5",
    }
    server = _server(tmp_path_factory.mktemp("pypi-capped"), backend, fake_pypi, extra)
    server.start()
    yield server
    server.stop()


_CAP = 1500  # bytes: more than one of the small wheels below, less than two


class Mirror:
    """A composite registry serving PyPI's files through its cache, and a reader's token."""

    def __init__(self, yard: PackyardServer, fake: FakePypi, prefix: str) -> None:
        self.org: Organization = new_organization(yard, prefix)
        self.fake = fake
        self.composite: Registry = self.org.composite(
            "Mirror", "pypi", options=("--pypi-files", "cache")
        )
        self.token = self.org.token("read_packages")

    def offer(self, project: str, *versions: str) -> dict[str, FakeFile]:
        files = {v: wheel_file(Dist(project, v)) for v in versions}
        self.fake.add(project, *files.values())
        return files

    def download(self, project: str, file: FakeFile) -> bytes:
        listed = self.composite.get(f"{project}/", self.token, headers={"Accept": JSON})
        assert listed.status_code == 200, listed.text
        (entry,) = [f for f in listed.json()["files"] if f["filename"] == file.filename]
        url = f"{self.composite.simple_url}{project}/{entry['url']}"
        answer = httpx.get(url, auth=("x", self.token), timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.content

    def fetches(self, file: FakeFile) -> int:
        """How often Packyard fetched the file from PyPI."""
        return sum(1 for path, _ in self.fake.requests if path == f"/files/{file.filename}")


def _blob_held(yard: PackyardServer, key: str) -> bool:
    with blob_store_of(yard) as store:
        return store.size(key) is not None


def test_cache_prune_evicts_the_least_recently_used_and_an_evicted_file_is_fetched_again(
    yard: PackyardServer, fake_pypi: FakePypi
) -> None:
    mirror = Mirror(yard, fake_pypi, "lru")
    project = f"{mirror.org.slug}-lib"
    files = mirror.offer(project, "1.0", "2.0", "3.0")
    first, second, third = files["1.0"], files["2.0"], files["3.0"]
    for file in (first, second, third, first):  # the first file is the most recently used
        assert mirror.download(project, file) == file.content
    cap = len(first.content) + len(third.content)

    def prune() -> dict[str, Any]:
        report: dict[str, Any] = json.loads(
            yard.admin("cache", "prune", "--max-bytes", str(cap), "--json")
        )
        return report if report["evicted"] else {}

    report = eventually(prune, IDLE_WAIT, "nothing was evicted from the PyPI cache")
    assert report["evicted_keys"] == [second.sha256]
    assert report["bytes_after"] == cap
    assert not _blob_held(yard, second.sha256)
    assert _blob_held(yard, first.sha256)
    assert _blob_held(yard, third.sha256)

    assert mirror.download(project, second) == second.content  # fetched again
    assert mirror.fetches(second) == 2
    assert mirror.download(project, first) == first.content  # still cached
    assert mirror.fetches(first) == 1


def test_a_cache_under_its_cap_loses_nothing(yard: PackyardServer, fake_pypi: FakePypi) -> None:
    mirror = Mirror(yard, fake_pypi, "roomy")
    project = f"{mirror.org.slug}-lib"
    (file,) = mirror.offer(project, "1.0").values()
    mirror.download(project, file)
    report = json.loads(yard.admin("cache", "prune", "--max-bytes", str(10**12), "--json"))
    assert report["evicted"] == 0
    assert _blob_held(yard, file.sha256)


def test_the_maintenance_job_holds_the_cache_under_its_cap(
    capped_yard: PackyardServer, fake_pypi: FakePypi
) -> None:
    mirror = Mirror(capped_yard, fake_pypi, "capped")
    project = f"{mirror.org.slug}-lib"
    files = mirror.offer(project, "1.0", "2.0")
    older, newer = files["1.0"], files["2.0"]
    assert len(older.content) < _CAP < len(older.content) + len(newer.content)
    mirror.download(project, older)
    mirror.download(project, newer)

    eventually(
        lambda: not _blob_held(capped_yard, older.sha256),
        IDLE_WAIT,
        "the least recently used file was not evicted",
    )
    assert _blob_held(capped_yard, newer.sha256)
    assert mirror.download(project, older) == older.content
    assert mirror.fetches(older) == 2
