"""Blobs in an S3-compatible bucket (AWS, MinIO, Ceph, R2, GCS in S3 mode).

Only standard calls are used: put (multipart for large files, through boto3's transfer
manager), get with Range, head, delete and presigned GET URLs. Objects are immutable and
named by SHA256 under ``{prefix}/sha256/ab/cd/``. Credentials come from the standard AWS
variables and files, as boto3 reads them.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

from botocore.exceptions import ClientError

from packyard.blobs.base import StoredBlob
from packyard.core.durability import Pending, run_at_once, started
from packyard.core.errors import InsufficientStorage

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MULTIPART_BYTES = 64 * 1024 * 1024
READ_CHUNK_BYTES = 1024 * 1024
PRESIGNED_URL_SECONDS = 300
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore:
    def __init__(
        self, make_client: Callable[[], S3Client], bucket: str, prefix: str, *, redirect: bool
    ) -> None:
        # The client is made on first use: building one loads botocore's service models,
        # which administrative commands that never touch a blob should not pay for.
        self._make_client = make_client
        self._client_instance: S3Client | None = None
        self._client_lock = threading.Lock()
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._redirect = redirect

    @property
    def _client(self) -> S3Client:
        if self._client_instance is None:
            with self._client_lock:
                if self._client_instance is None:
                    self._client_instance = self._make_client()
        return self._client_instance

    @classmethod
    def from_url(cls, url: str, *, redirect: bool) -> S3BlobStore:
        """Build from ``s3://bucket/prefix?endpoint_url=…&region=…``."""
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ValueError(f"Storage URL {url!r} names no bucket: use s3://bucket/prefix")
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}

        def make_client() -> S3Client:
            import boto3
            from botocore.config import Config

            return boto3.client(
                "s3",
                endpoint_url=options.get("endpoint_url"),
                region_name=options.get("region"),
                config=Config(
                    retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=32
                ),
            )

        return cls(make_client, parsed.netloc, parsed.path, redirect=redirect)

    def _object_key(self, key: str) -> str:
        name = f"sha256/{key[:2]}/{key[2:4]}/{key}"
        return f"{self._prefix}/{name}" if self._prefix else name

    def _refreshed(self, key: str) -> bool:
        """Whether the blob exists; if so its LastModified is now (see ``put_file``): an
        object copied onto itself with its metadata replaced is stored again."""
        object_key = self._object_key(key)
        try:
            self._client.copy_object(
                Bucket=self._bucket,
                Key=object_key,
                CopySource={"Bucket": self._bucket, "Key": object_key},
                MetadataDirective="REPLACE",
            )
        except ClientError as error:
            if _is_missing(error):
                return False
            # Past 5 GB an object cannot be copied in one call; it is still there.
            return self.size(key) is not None
        return True

    def put_file(self, key: str, path: Path) -> None:
        try:
            if not self._refreshed(key):
                from boto3.s3.transfer import TransferConfig

                transfer = TransferConfig(
                    multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES
                )
                self._client.upload_file(
                    str(path), self._bucket, self._object_key(key), Config=transfer
                )
        except ClientError as error:
            raise _translated(error) from error
        finally:
            path.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes) -> None:
        if self._refreshed(key):
            return
        try:
            self._client.put_object(Bucket=self._bucket, Key=self._object_key(key), Body=data)
        except ClientError as error:
            raise _translated(error) from error

    def prepare(self, key: str, path: Path) -> None:
        return None  # the bytes are sent when stored; nothing to begin earlier

    def start_put_all(self, files: Mapping[str, Path], data: Mapping[str, bytes]) -> Pending:
        return started(functools.partial(self.put_all, files, data))  # waits on the network

    def put_all(self, files: Mapping[str, Path], data: Mapping[str, bytes]) -> None:
        calls: list[Callable[[], None]] = [
            functools.partial(self.put_file, key, path) for key, path in files.items()
        ]
        calls += [functools.partial(self.put_bytes, key, blob) for key, blob in data.items()]
        run_at_once(calls)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if end is not None and end <= start:
            return
        byte_range = f"bytes={start}-" + ("" if end is None else str(end - 1))
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=self._object_key(key), Range=byte_range
            )
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(key) from error
            raise
        body = response["Body"]
        try:
            yield from body.iter_chunks(READ_CHUNK_BYTES)
        finally:
            body.close()

    def size(self, key: str) -> int | None:
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=self._object_key(key))
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        return int(head["ContentLength"])

    def local_path(self, key: str) -> Path | None:
        return None

    def check(self) -> None:
        self._client.head_bucket(Bucket=self._bucket)

    def url(self, key: str, filename: str) -> str | None:
        if not self._redirect:
            return None
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": self._object_key(key),
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=PRESIGNED_URL_SECONDS,
        )

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self._object_key(key))

    def iter_blobs(self) -> Iterator[StoredBlob]:
        prefix = f"{self._prefix}/sha256/" if self._prefix else "sha256/"
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"].rsplit("/", 1)[-1]
                if len(key) == 64:
                    yield StoredBlob(key, item["LastModified"].astimezone(UTC))

    def modified(self, key: str) -> datetime | None:
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=self._object_key(key))
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        return head["LastModified"].astimezone(UTC)


def _is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING_CODES


def _translated(error: ClientError) -> Exception:
    code = str(error.response.get("Error", {}).get("Code"))
    if code in {"EntityTooLarge", "QuotaExceeded", "InsufficientStorage"}:
        return InsufficientStorage("The package store refused the file: it is out of space")
    return error
