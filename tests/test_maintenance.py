"""The server tidies up by itself (services.scheduler): staged files of uploads and imports
that died are swept at start-up, and blobs nothing references any more are removed once
their grace period has passed, from the local folder or the S3 bucket alike."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, wheel_bytes, write_wheel
from tests.support.driver import Organization, Registry
from tests.support.integrity import blob_store_of
from tests.support.server import PackyardServer
from tests.support.waiting import eventually

GRACE_SECONDS = 2


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[PackyardServer]:
    """A server that runs its maintenance jobs twice a second, with a short blob grace."""
    server = backend.new_server(
        tmp_path_factory.mktemp("maintained"),
        {
            "PACKYARD_MAINTENANCE_INTERVAL": "0.5",
            "PACKYARD_BLOB_GRACE_SECONDS": str(GRACE_SECONDS),
        },
    )
    server.start()
    yield server
    server.stop()


def _key(dist: Dist) -> str:
    return hashlib.sha256(wheel_bytes(dist)).hexdigest()


def test_blob_of_a_deleted_file_is_removed_after_its_grace(
    org: Organization, tmp_path: Path
) -> None:
    registry: Registry = org.registry("Tidied")
    token = org.token("read_packages", "write_packages", "delete_packages")
    gone, kept = Dist("gone", "1.0"), Dist("kept", "1.0")
    published = registry.publish(write_wheel(gone, tmp_path), token).json()
    registry.publish(write_wheel(kept, tmp_path), token)
    deleted = httpx.delete(published["url"], headers={"Authorization": f"Bearer {token}"})
    assert deleted.status_code == 200, deleted.text

    with blob_store_of(registry.yard) as store:
        eventually(
            lambda: store.size(_key(gone)) is None,
            GRACE_SECONDS + 20,
            "the unreferenced blob was never collected",
        )
        assert store.size(_key(kept)) == len(wheel_bytes(kept))
    download = httpx.get(
        f"{registry.yard.base_url}/{registry.organization}/{registry.slug}"
        f"/pypi/files/{kept.wheel_filename}",
        auth=("x", token),
    )
    assert download.status_code == 200
    assert download.content == wheel_bytes(kept)


def test_staged_files_of_dead_uploads_are_swept_at_start_up(
    backend: Backend, tmp_path: Path
) -> None:
    server = backend.new_server(tmp_path)
    staging = server.data_dir / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    dead_upload = staging / "upload-dead.part"  # an upload whose worker was killed
    dead_import = staging / "upload-import.part"  # a `packyard import` killed mid-file
    live = staging / "upload-live.part"  # an upload being received right now
    two_hours_ago = time.time() - 2 * 3600
    for path in (dead_upload, dead_import, live):
        path.write_bytes(b"partial wheel bytes")
    for path in (dead_upload, dead_import):
        os.utime(path, (two_hours_ago, two_hours_ago))
    server.start()
    try:
        eventually(
            lambda: not dead_upload.exists() and not dead_import.exists(),
            20,
            lambda: f"dead staged files were not swept: {sorted(os.listdir(staging))}",
        )
        assert live.read_bytes() == b"partial wheel bytes"
    finally:
        server.stop()
