"""Blob stores: immutable bytes addressed by their SHA256, chosen by URL in ``bootstrap``."""

from packyard.blobs.base import BlobStore
from packyard.blobs.local import LocalBlobStore

__all__ = ["BlobStore", "LocalBlobStore"]
