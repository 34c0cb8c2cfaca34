"""The BlobStore contract: every implementation passes the same suite, or it does not ship.
Runs on the local folder and on an S3 protocol server on loopback."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from packyard.blobs.base import BlobStore
from packyard.blobs.local import LocalBlobStore
from packyard.blobs.s3 import S3BlobStore
from tests.support.s3 import CREDENTIALS, S3Server

pytestmark = pytest.mark.backend_independent

_buckets = itertools.count()


@pytest.fixture(params=["local", "s3", "s3-redirect"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
        return
    s3: S3Server = request.getfixturevalue("s3_server")
    bucket = f"contract{next(_buckets)}"
    s3.create_bucket(bucket)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    yield S3BlobStore.from_url(
        s3.storage_url(bucket, "some/prefix"), redirect=request.param == "s3-redirect"
    )


def _key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _staged(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / f"staged-{_key(data)[:8]}"
    path.write_bytes(data)
    return path


def test_put_file_then_read_back(store: BlobStore, tmp_path: Path) -> None:
    data = b"wheel bytes " * 1000
    staged = _staged(tmp_path, data)
    store.put_file(_key(data), staged)
    assert not staged.exists(), "put_file consumes the staged file"
    assert b"".join(store.read(_key(data))) == data
    assert store.size(_key(data)) == len(data)


# The local store begins flushing a file of a mebibyte or more early, a smaller one not.
@pytest.mark.parametrize("repeats", [1000, 100_000], ids=["small", "large"])
def test_a_prepared_file_is_stored_whole_and_preparing_a_gone_file_is_no_error(
    store: BlobStore, tmp_path: Path, repeats: int
) -> None:
    data = b"prepared wheel bytes " * repeats
    staged = _staged(tmp_path, data)
    store.prepare(_key(data), staged)
    store.put_file(_key(data), staged)
    assert b"".join(store.read(_key(data))) == data
    store.prepare(_key(b"discarded"), tmp_path / "discarded-meanwhile")
    assert store.size(_key(b"discarded")) is None


def test_blobs_started_are_stored_once_waited_for_new_or_already_there(
    store: BlobStore, tmp_path: Path
) -> None:
    data, metadata = b"started wheel bytes " * 1000, b"Metadata-Version: 2.1\n"
    for _attempt in range(2):  # new blobs, then the same ones found in place
        staged = _staged(tmp_path, data)
        store.start_put_all({_key(data): staged}, {_key(metadata): metadata}).wait()
        assert not staged.exists(), "the staged file is consumed"
        assert b"".join(store.read(_key(data))) == data
        assert b"".join(store.read(_key(metadata))) == metadata


def test_put_bytes_then_read_a_range(store: BlobStore) -> None:
    data = bytes(range(256)) * 10
    store.put_bytes(_key(data), data)
    assert b"".join(store.read(_key(data), 10, 20)) == data[10:20]
    assert b"".join(store.read(_key(data), 2550)) == data[2550:]


def test_storing_twice_is_idempotent(store: BlobStore, tmp_path: Path) -> None:
    data = b"same bytes"
    store.put_file(_key(data), _staged(tmp_path, data))
    again = _staged(tmp_path, data)
    store.put_file(_key(data), again)
    store.put_bytes(_key(data), data)
    assert not again.exists()
    assert b"".join(store.read(_key(data))) == data


def test_put_all_stores_files_and_bytes_together(store: BlobStore, tmp_path: Path) -> None:
    wheel, metadata, known = b"wheel " * 500, b"Metadata-Version: 2.1\n", b"stored before"
    store.put_bytes(_key(known), known)
    staged, staged_known = _staged(tmp_path, wheel), _staged(tmp_path, known)
    store.put_all({_key(wheel): staged, _key(known): staged_known}, {_key(metadata): metadata})
    assert not staged.exists(), "put_all consumes the staged files"
    assert not staged_known.exists(), "a file already stored is consumed too"
    for data in (wheel, metadata, known):
        assert b"".join(store.read(_key(data))) == data
    assert {blob.key for blob in store.iter_blobs()} == {_key(wheel), _key(metadata), _key(known)}


def test_missing_blob(store: BlobStore) -> None:
    missing = _key(b"never stored")
    assert store.size(missing) is None
    with pytest.raises(FileNotFoundError):
        b"".join(store.read(missing))
    store.delete(missing)  # not an error


def test_delete_removes_the_blob(store: BlobStore) -> None:
    data = b"short-lived"
    store.put_bytes(_key(data), data)
    store.delete(_key(data))
    assert store.size(_key(data)) is None


def test_large_file_goes_up_in_parts_and_reads_back(store: BlobStore, tmp_path: Path) -> None:
    data = hashlib.sha512(b"seed").digest() * (70 * 1024 * 1024 // 64)  # past the part size
    store.put_file(_key(data), _staged(tmp_path, data))
    assert store.size(_key(data)) == len(data)
    assert b"".join(store.read(_key(data), len(data) - 5)) == data[-5:]


def test_url_is_a_presigned_link_only_when_redirecting(
    store: BlobStore, request: pytest.FixtureRequest
) -> None:
    data = b"linked"
    store.put_bytes(_key(data), data)
    url = store.url(_key(data), "pkg-1.0.tar.gz")
    if "redirect" not in request.node.callspec.params["store"]:
        assert url is None
        return
    assert url is not None
    response = httpx.get(url)  # no credentials: the signature is the credential
    assert response.status_code == 200
    assert response.content == data


def test_iter_blobs_lists_every_blob_with_its_modification_time(store: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    keys = set()
    for data in (b"first", b"second", b"third"):
        store.put_bytes(_key(data), data)
        keys.add(_key(data))
    listed = {blob.key: blob.modified for blob in store.iter_blobs()}
    assert set(listed) == keys
    for key in keys:
        assert before <= listed[key] <= datetime.now(UTC) + timedelta(seconds=5)
        assert store.modified(key) == listed[key]
    assert store.modified(_key(b"never stored")) is None


def test_storing_an_existing_blob_again_refreshes_its_modification_time(
    store: BlobStore, tmp_path: Path
) -> None:
    data = b"stored twice"
    store.put_bytes(_key(data), data)
    first = store.modified(_key(data))
    assert first is not None
    time.sleep(1.1)  # S3 keeps whole seconds
    store.put_file(_key(data), _staged(tmp_path, data))
    again = store.modified(_key(data))
    assert again is not None
    assert again > first
    assert b"".join(store.read(_key(data))) == data
