"""Speaking the upload API (PyPI's ``/legacy/``) by hand, the way twine, uv and poetry do:
a multipart form with ``:action``, ``protocol_version``, metadata fields and ``content``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from tests.support.driver import Registry


def upload_url(registry: Registry, suffix: str = "pypi/") -> str:
    return f"{registry.yard.base_url}/{registry.organization}/{registry.slug}/{suffix}"


def form_for(path: Path, name: str, version: str) -> list[tuple[str, str]]:
    """The fields a tool sends for ``path``: digests of its bytes and a few metadata keys."""
    data = path.read_bytes()
    filetype = "bdist_wheel" if path.name.endswith(".whl") else "sdist"
    return [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", name),
        ("version", version),
        ("filetype", filetype),
        ("pyversion", "py3" if filetype == "bdist_wheel" else "source"),
        ("metadata_version", "2.1"),
        ("summary", "A package built by the Packyard test suite"),
        ("md5_digest", hashlib.md5(data, usedforsecurity=False).hexdigest()),
        ("sha256_digest", hashlib.sha256(data).hexdigest()),
        ("blake2_256_digest", hashlib.blake2b(data, digest_size=32).hexdigest()),
    ]


def legacy_upload(
    registry: Registry,
    path: Path,
    token: str | None,
    fields: list[tuple[str, str]],
    *,
    suffix: str = "pypi/",
    expect: int = 200,
    extra_files: list[tuple[str, tuple[str, bytes]]] | None = None,
) -> httpx.Response:
    """POST ``path`` as ``content`` with ``fields``; basic auth ``__token__:token``."""
    auth = ("__token__", token) if token else None
    files: list[tuple[str, tuple[str, bytes] | tuple[str, bytes, str]]] = [
        ("content", (path.name, path.read_bytes(), "application/octet-stream")),
        *(extra_files or []),
    ]
    data: dict[str, list[str]] = {}
    for key, value in fields:  # repeated keys stay repeated, in order
        data.setdefault(key, []).append(value)
    response = httpx.post(
        upload_url(registry, suffix),
        data=data,
        files=files,
        auth=auth,
        timeout=60,
        follow_redirects=False,
    )
    assert response.status_code == expect, (response.status_code, response.text)
    return response
