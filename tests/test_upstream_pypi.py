"""The PyPI upstream cache, in process against the fake index with a clock we move: TTL,
ETag revalidation, absent projects, stale-if-error, fields carried through, hash checks."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from packyard.blobs import make_blob_store
from packyard.bootstrap import Services, build_services
from packyard.core.errors import UpstreamError
from packyard.db.engine import make_session_factory
from packyard.services.upstream_pypi import PypiUpstream
from packyard.settings import Settings
from tests.support.builders import Dist
from tests.support.clock import Clock
from tests.support.fake_pypi import FakeFile, FakePypi, wheel_file

TTL = 600


@pytest.fixture
def fake() -> Iterator[FakePypi]:
    server = FakePypi()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def services(tmp_path: Path, fake: FakePypi) -> Iterator[Services]:
    built = build_services(Settings(data_dir=tmp_path, pypi_url=fake.url, upstream_timeout=5))
    yield built
    built.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def upstream(services: Services, fake: FakePypi, clock: Clock, tmp_path: Path) -> PypiUpstream:
    settings = services.settings
    return PypiUpstream(
        make_session_factory(services.engine),
        services.http,
        fake.url,
        TTL,
        clock,
        make_blob_store(settings.effective_storage_url),
        settings.staging_dir,
        1024 * 1024,
        services.pypi_cache,
    )


def test_fresh_answer_is_served_from_the_cache(
    fake: FakePypi, upstream: PypiUpstream, clock: Clock
) -> None:
    fake.add("lib", wheel_file(Dist("lib", "1.0")))
    first = upstream.project("lib")
    clock.advance(TTL - 1)
    assert upstream.project("lib") == first
    assert len(fake.page_requests("lib")) == 1


def test_expired_answer_is_revalidated_with_its_etag(
    fake: FakePypi, upstream: PypiUpstream, clock: Clock
) -> None:
    fake.add("lib", wheel_file(Dist("lib", "1.0")))
    first = upstream.project("lib")
    clock.advance(TTL + 1)
    assert upstream.project("lib") == first
    first_etag, revalidation = fake.page_requests("lib")
    assert first_etag is None
    assert revalidation is not None
    assert revalidation.startswith('"')
    fake.add("lib", wheel_file(Dist("lib", "2.0")))
    clock.advance(TTL + 1)
    assert [f.version for f in upstream.project("lib").files or []] == ["1.0", "2.0"]


def test_project_pypi_does_not_have_is_cached_as_absent(
    fake: FakePypi, upstream: PypiUpstream, clock: Clock
) -> None:
    assert upstream.project("nothing-here").files is None
    clock.advance(TTL - 1)
    assert upstream.project("nothing-here").files is None
    assert len(fake.page_requests("nothing-here")) == 1
    fake.add("nothing-here", wheel_file(Dist("nothing-here", "1.0")))
    clock.advance(2)
    assert upstream.project("nothing-here").files is not None


@pytest.mark.parametrize("outage", ["failing", "stopped"])
def test_last_good_copy_is_served_when_pypi_is_down(
    fake: FakePypi,
    upstream: PypiUpstream,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    outage: str,
) -> None:
    fake.add("lib", wheel_file(Dist("lib", "1.0")))
    first = upstream.project("lib")
    if outage == "failing":
        fake.failing = True
    else:
        fake.stop()
    clock.advance(TTL + 1)
    with caplog.at_level(logging.WARNING, logger="packyard.services.upstream_pypi"):
        assert upstream.project("lib") == first
    assert "PyPI could not be reached for 'lib'" in caplog.text


def test_pypi_down_with_nothing_cached_is_an_upstream_error(
    fake: FakePypi, upstream: PypiUpstream
) -> None:
    fake.failing = True
    with pytest.raises(UpstreamError, match="no copy is cached"):
        upstream.project("lib")


def test_pypi_fields_are_carried_through(fake: FakePypi, upstream: PypiUpstream) -> None:
    wheel = wheel_file(
        Dist("lib", "1.0"),
        requires_python=">=3.9",
        yanked="broken build",
        provenance="https://pypi.example/provenance",
        upload_time="2024-05-06T07:08:09.123456Z",
    )
    fake.add("lib", wheel, FakeFile("lib-legacy.exe", b"x"), FakeFile("lib-0.1.tar.gz", b"sdist"))
    files = upstream.project("lib").files or []
    assert [f.filename for f in files] == [wheel.filename, "lib-0.1.tar.gz"]  # no .exe
    got = files[0]
    assert got.url == f"{fake.url.removesuffix('simple/')}files/{wheel.filename}"
    assert got.sha256 == wheel.sha256
    assert got.size == len(wheel.content)
    assert got.upload_time == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert got.requires_python == ">=3.9"
    assert (got.yanked, got.yanked_reason) == (True, "broken build")
    assert got.core_metadata_sha256 == hashlib.sha256(wheel.metadata or b"").hexdigest()
    assert got.provenance == "https://pypi.example/provenance"
    assert files[1].core_metadata_sha256 is None


def test_cached_file_is_fetched_once_and_checked(fake: FakePypi, upstream: PypiUpstream) -> None:
    wheel = wheel_file(Dist("lib", "1.0"))
    fake.add("lib", wheel)
    (pypi_file,) = upstream.project("lib").files or []
    key = upstream.cached_file(pypi_file)
    assert key == wheel.sha256
    fake.stop()
    assert upstream.cached_file(pypi_file) == key  # from the blob store: PyPI is not asked
    assert sum(path.startswith("/files/") for path, _ in fake.requests) == 1


def test_file_whose_bytes_do_not_match_the_announced_hash_is_refused(
    fake: FakePypi, upstream: PypiUpstream
) -> None:
    fake.add("lib", FakeFile("lib-1.0.tar.gz", b"tampered", announced_sha256="0" * 64))
    (pypi_file,) = upstream.project("lib").files or []
    with pytest.raises(UpstreamError, match="sha256"):
        upstream.cached_file(pypi_file)


def test_a_file_whose_announced_hash_is_not_a_sha256_is_left_out(
    fake: FakePypi, upstream: PypiUpstream
) -> None:
    """A hash becomes a blob key and goes into pages: only 64 hex digits are taken."""
    good = wheel_file(Dist("lib", "1.0"))
    fake.add(
        "lib",
        good,
        FakeFile("lib-2.0.tar.gz", b"x", announced_sha256='"><script>alert(1)</script>'),
    )
    files = upstream.project("lib").files or []
    assert [f.filename for f in files] == [good.filename]
