"""``packyard fsck`` proves every recorded file has its bytes; ``packyard gc`` removes blobs
nothing references once past a grace period, and never one a publish is about to use."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.builders import Dist, wheel_bytes, write_wheel
from tests.support.driver import Organization, Registry
from tests.support.integrity import blob_store_of, fsck, gc, services_of


@pytest.fixture
def registry(org: Organization) -> Registry:
    return org.registry("Checked")


@pytest.fixture
def writer(org: Organization) -> str:
    return org.token("read_packages", "write_packages", "delete_packages")


def _publish(registry: Registry, token: str, dist: Dist, tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / f"{dist.name}-{dist.version}-{dist.summary[:8]}"
    folder.mkdir(exist_ok=True)
    body: dict[str, str] = registry.publish(write_wheel(dist, folder), token).json()
    return body


def _delete(token: str, package: dict[str, str]) -> None:
    response = httpx.delete(package["url"], headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def _key(dist: Dist) -> str:
    return hashlib.sha256(wheel_bytes(dist)).hexdigest()


def test_fsck_passes_on_a_healthy_store(registry: Registry, writer: str, tmp_path: Path) -> None:
    _publish(registry, writer, Dist("healthy", "1.0"), tmp_path)
    code, report = fsck(registry.yard)
    assert code == 0
    assert report["ok"] is True
    assert report["files_checked"] >= 1
    assert report["problems"] == []


def test_fsck_names_a_file_whose_blob_is_missing(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    dist = Dist("vanished", "1.0")
    _publish(registry, writer, dist, tmp_path)
    with blob_store_of(registry.yard) as store:
        store.delete(_key(dist))
    code, report = fsck(registry.yard)
    assert code == 1
    assert {
        "file": f"{registry.organization}/{registry.slug}/{dist.wheel_filename}",
        "blob": _key(dist),
        "problem": "blob is missing",
    } in report["problems"]
    with blob_store_of(registry.yard) as store:  # repair, for the tests that follow
        store.put_bytes(_key(dist), wheel_bytes(dist))
    assert fsck(registry.yard)[0] == 0


def test_fsck_names_a_file_whose_blob_has_other_bytes(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    dist = Dist("tampered", "1.0")
    _publish(registry, writer, dist, tmp_path)
    good = wheel_bytes(dist)
    bad = bytes([good[0] ^ 1]) + good[1:]
    with blob_store_of(registry.yard) as store:
        store.delete(_key(dist))
        store.put_bytes(_key(dist), bad)  # same size, other bytes
    code, report = fsck(registry.yard)
    assert code == 1
    [problem] = [p for p in report["problems"] if p["blob"] == _key(dist)]
    assert problem["problem"] == f"blob's sha256 is {hashlib.sha256(bad).hexdigest()}"
    with blob_store_of(registry.yard) as store:
        store.delete(_key(dist))
        store.put_bytes(_key(dist), good)


def test_an_orphan_blob_is_reported_then_collected_only_past_the_grace_period(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    dist = Dist("orphaned", "1.0")
    package = _publish(registry, writer, dist, tmp_path)
    _delete(writer, package)
    code, report = fsck(registry.yard)
    assert code == 0, "orphans alone are not damage"
    assert _key(dist) in report["orphans"]
    assert _key(dist) not in gc(registry.yard, grace=3600)["removed"]
    time.sleep(1.1)
    assert _key(dist) in gc(registry.yard, grace=1)["removed"]
    assert _key(dist) not in fsck(registry.yard)[1]["orphans"]


def test_gc_keeps_a_blob_published_again_after_its_package_was_deleted(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    dist = Dist("reborn", "1.0")
    _delete(writer, _publish(registry, writer, dist, tmp_path))
    time.sleep(2.2)  # the orphan is now older than the grace period
    _publish(registry, writer, dist, tmp_path)  # same bytes: the store refreshes the blob
    assert _key(dist) not in gc(registry.yard, grace=2)["removed"]
    response = registry.get(f"../files/{dist.wheel_filename}", writer)
    assert response.status_code == 200
    assert response.content == wheel_bytes(dist)


def test_gc_beside_concurrent_publishes_never_removes_a_referenced_blob(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    done = threading.Event()
    published: list[Dist] = []

    def publish_many() -> None:
        for i in range(15):
            dist = Dist("racing", f"1.{i}")
            _publish(registry, writer, dist, tmp_path)
            published.append(dist)
        done.set()

    publisher = threading.Thread(target=publish_many)
    publisher.start()
    while not done.is_set():
        gc(registry.yard, grace=2)
    publisher.join()
    code, report = fsck(registry.yard)
    assert code == 0, report["problems"]
    for dist in published:
        response = registry.get(f"../files/{dist.wheel_filename}", writer)
        assert response.status_code == 200


def test_bytes_published_again_between_the_gc_check_and_the_removal_survive(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    """The interleaving forced: gc has decided the orphan goes, and right then the same
    bytes are published again (another process, through the server). The publish either
    finishes first (it must not: it would be left without its blob) or waits for gc and
    stores the bytes anew."""
    dist = Dist("raced", "1.0")
    _delete(writer, _publish(registry, writer, dist, tmp_path))
    answers: list[int] = []

    def publish_again() -> None:
        again = tmp_path / "again"
        again.mkdir()
        with write_wheel(dist, again).open("rb") as handle:
            answers.append(
                httpx.post(
                    registry.publish_url,
                    headers={"Authorization": f"Bearer {writer}"},
                    files={"file": (dist.wheel_filename, handle)},
                    timeout=60,
                ).status_code
            )

    publisher = threading.Thread(target=publish_again)

    def interleave(key: str) -> None:
        if key == _key(dist):
            publisher.start()
            # Long enough for the publish to finish here, were nothing holding it back.
            publisher.join(timeout=3)

    with services_of(registry.yard) as services:
        report = services.integrity.gc(timedelta(0), on_removing=interleave)
    publisher.join()
    assert _key(dist) in report.removed  # the orphan was removed...
    assert answers == [200]
    response = registry.get(f"../files/{dist.wheel_filename}", writer)
    assert response.status_code == 200
    assert response.content == wheel_bytes(dist)  # ...and the new publish's bytes are there
    code, checked = fsck(registry.yard)
    assert code == 0, checked["problems"]
