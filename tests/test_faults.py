"""Faults lose nothing and explain themselves: a server killed mid-upload keeps every upload
whole or absent, a full disk answers 507 while reads go on, a database outage answers 503
with Retry-After. (PyPI down for a composite: ``test_upstream_pypi.py``,
``test_last_good_copy_is_served_when_pypi_is_down``.)"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError

from packyard.bootstrap import Services, build_services
from packyard.settings import Settings
from packyard.web.app import create_app
from tests.support.backends import Backend
from tests.support.builders import Dist, wheel_bytes, write_wheel
from tests.support.driver import Registry, new_organization
from tests.support.integrity import fsck
from tests.support.operator import create_registry
from tests.support.server import PackyardServer

UPLOADS = 50


def test_a_server_killed_mid_uploads_keeps_each_upload_whole_or_absent(
    tmp_path: Path, backend: Backend
) -> None:
    (tmp_path / "killed").mkdir()
    yard = backend.new_server(tmp_path / "killed")
    yard.start()
    try:
        org = new_organization(yard)
        registry, token = org.registry("Crash"), org.token("read_packages", "write_packages")
        dists = [
            Dist(
                "crash",
                f"1.{i}",
                extra_files={"crash/pad.bin": hashlib.sha512(bytes([i])).digest() * 4000},
            )
            for i in range(UPLOADS)
        ]
        paths = [write_wheel(dist, tmp_path) for dist in dists]
        answered = _upload_until_killed(yard, registry, token, paths, kill_after=15)
        yard.start()
        page = registry.get(
            "crash/", token, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        )
        listed = {f["filename"]: f for f in page.json()["files"]} if page.status_code == 200 else {}
        for dist in dists:
            download = registry.get(f"../files/{dist.wheel_filename}", token)
            if dist.wheel_filename in listed:
                assert download.status_code == 200
                assert download.content == wheel_bytes(dist), "a listed file has other bytes"
            else:
                assert download.status_code == 404
                assert dist.wheel_filename not in answered, "an acknowledged upload was lost"
        assert len(listed) >= len(answered) >= 15
        code, report = fsck(yard)
        assert code == 0, report["problems"]
    finally:
        yard.stop()


def _upload_until_killed(
    yard: PackyardServer, registry: Registry, token: str, paths: list[Path], kill_after: int
) -> set[str]:
    """Upload ``paths`` from 4 threads; kill the server outright once ``kill_after`` answered.
    Returns the file names the server acknowledged with 200."""
    answered: set[str] = set()
    lock = threading.Lock()
    killed = threading.Event()

    def upload(path: Path) -> None:
        if killed.is_set():
            return
        try:
            with path.open("rb") as handle:
                response = httpx.post(
                    registry.publish_url,
                    headers={"Authorization": f"Bearer {token}"},
                    files={"file": (path.name, handle)},
                    timeout=30,
                )
        except httpx.TransportError:
            return
        with lock:
            if response.status_code == 200:
                answered.add(path.name)
            if len(answered) >= kill_after and not killed.is_set():
                killed.set()
                yard.kill()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(upload, paths))
    assert killed.is_set(), "the server was never killed"
    return answered


# -- a full disk ---------------------------------------------------------------------------


@contextlib.contextmanager
def _with_small_folder(
    root: Path, backend: Backend, folder: str
) -> Iterator[tuple[PackyardServer, Path]]:
    """A server whose data folder ``folder`` is a 1 MiB tmpfs (needs root and mount)."""
    root.mkdir()
    yard = backend.new_server(root)
    small = yard.data_dir / folder
    small.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr!r}")
    try:
        yard.start()
        yield yard, small
    finally:
        yard.stop()
        subprocess.run(["umount", str(small)], check=False)


@pytest.fixture
def small_disk_yard(tmp_path: Path, backend: Backend) -> Iterator[tuple[PackyardServer, Path]]:
    """A server whose staging folder is a 1 MiB tmpfs."""
    with _with_small_folder(tmp_path / "full", backend, "staging") as found:
        yield found


@pytest.mark.backend_independent
def test_a_full_disk_answers_507_and_reads_go_on(
    small_disk_yard: tuple[PackyardServer, Path], tmp_path: Path
) -> None:
    yard, staging = small_disk_yard
    org = new_organization(yard)
    registry, token = org.registry("Full"), org.token("read_packages", "write_packages")
    small = Dist("small", "1.0")
    registry.publish(write_wheel(small, tmp_path), token)
    noise = hashlib.shake_256(b"noise").digest(2 * 1024**2)  # larger than the disk
    large = Dist("large", "1.0", extra_files={"large/noise.bin": noise})
    response = registry.publish(write_wheel(large, tmp_path), token, expect=507)
    assert "no space left" in response.json()["message"]
    assert not list(staging.iterdir()), "the partial upload was left on the full disk"
    assert registry.get("small/", token).status_code == 200
    download = registry.get(f"../files/{small.wheel_filename}", token)
    assert download.content == wheel_bytes(small)
    assert registry.get("large/", token).status_code == 404
    assert "Traceback" not in yard.log_path.read_text()


@pytest.fixture
def small_blob_yard(tmp_path: Path, backend: Backend) -> Iterator[tuple[PackyardServer, Path]]:
    """A server whose blob folder is a 1 MiB tmpfs; staging is not."""
    with _with_small_folder(tmp_path / "blobs-full", backend, "blobs") as found:
        yield found


@pytest.mark.backend_independent
def test_a_full_blob_store_answers_507_and_records_nothing(
    small_blob_yard: tuple[PackyardServer, Path], tmp_path: Path
) -> None:
    """The blobs are stored while the row's statements run; the commit waits for them."""
    yard, _blobs = small_blob_yard
    org = new_organization(yard)
    registry, token = org.registry("Full"), org.token("read_packages", "write_packages")
    noise = hashlib.shake_256(b"blob noise").digest(2 * 1024**2)  # larger than the store
    large = Dist("large", "1.0", extra_files={"large/noise.bin": noise})
    response = registry.publish(write_wheel(large, tmp_path), token, expect=507)
    assert "out of space" in response.json()["message"]
    assert registry.get("large/", token).status_code == 404
    assert not list((yard.data_dir / "staging").iterdir())
    small = Dist("small", "1.0")
    registry.publish(write_wheel(small, tmp_path), token)
    download = registry.get(f"../files/{small.wheel_filename}", token)
    assert download.content == wheel_bytes(small)
    assert "Traceback" not in yard.log_path.read_text()


# -- the database unavailable --------------------------------------------------------------


@pytest.fixture
def app_services(tmp_path: Path) -> Services:
    services = build_services(Settings(data_dir=tmp_path / "data"))
    services.registries.create_organization("acme", None)
    create_registry(services, "acme", "Dev", public=True)
    return services


@pytest.fixture
def app_client(app_services: Services) -> Iterator[TestClient]:
    # The client's lifespan closes the services.
    with TestClient(create_app(app_services), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "failure",
    [
        OperationalError("SELECT 1", {}, Exception("database is locked")),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
    ],
    ids=["busy", "gone"],
)
def test_a_database_outage_answers_503_with_retry_after(
    app_client: TestClient,
    app_services: Services,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
) -> None:
    services = app_services

    def fail(*_args: object) -> None:
        raise failure

    monkeypatch.setattr(services.index, "project_list", fail)
    response = app_client.get("/acme/dev/pypi/simple/")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json() == {
        "message": "The database is busy or unreachable; try again in a moment"
    }
    monkeypatch.undo()
    assert app_client.get("/acme/dev/pypi/simple/").status_code == 200


@pytest.mark.backend_independent
def test_a_database_error_that_is_a_bug_stays_a_500(
    app_client: TestClient, app_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = app_services

    def fail(*_args: object) -> None:
        raise IntegrityError("INSERT", {}, Exception("constraint"))

    monkeypatch.setattr(services.index, "project_list", fail)
    response = app_client.get("/acme/dev/pypi/simple/")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}
