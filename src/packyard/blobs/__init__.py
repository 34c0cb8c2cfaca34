"""Blob stores: immutable bytes addressed by their SHA256, chosen by URL
(``make_blob_store``, called by ``bootstrap``)."""

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from packyard.blobs.base import BlobStore
from packyard.blobs.local import LocalBlobStore

__all__ = ["BlobStore", "LocalBlobStore", "make_blob_store"]


def make_blob_store(url: str, *, s3_redirect: bool = False) -> BlobStore:
    """The blob store a storage URL names: ``file:///path`` or ``s3://bucket/prefix?…``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(url2pathname(parsed.path)))
    if parsed.scheme == "s3":
        # Imported here: boto3 is an optional dependency (packyard[s3]) and slow to import.
        from packyard.blobs.s3 import S3BlobStore

        return S3BlobStore.from_url(url, redirect=s3_redirect)
    raise ValueError(f"Unsupported storage URL {url!r}: use file:///path or s3://bucket/prefix")
