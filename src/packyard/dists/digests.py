"""Every digest a registry publishes, computed in one pass over the bytes."""

from __future__ import annotations

import hashlib

from packyard.core.models import Digests


class MultiHasher:
    """Feeds each chunk to MD5, SHA1, SHA256, SHA512 and BLAKE2b-256 at once."""

    __slots__ = ("_blake2b_256", "_md5", "_sha1", "_sha256", "_sha512", "size")

    def __init__(self) -> None:
        # MD5 and SHA1 are published for compatibility, never trusted for identity.
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self._sha512 = hashlib.sha512()
        self._blake2b_256 = hashlib.blake2b(digest_size=32)
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self._sha1.update(chunk)
        self._sha256.update(chunk)
        self._sha512.update(chunk)
        self._blake2b_256.update(chunk)
        self.size += len(chunk)

    def digests(self) -> Digests:
        return Digests(
            md5=self._md5.hexdigest(),
            sha1=self._sha1.hexdigest(),
            sha256=self._sha256.hexdigest(),
            sha512=self._sha512.hexdigest(),
            blake2b_256=self._blake2b_256.hexdigest(),
        )
