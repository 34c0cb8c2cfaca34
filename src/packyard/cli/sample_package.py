"""A tiny real package for the quickstart to publish: a wheel and an sdist written with the
standard library (no build backend, no network), byte for byte the same on every run, so
publishing them again is a no-op rather than a conflict."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

NAME = "hello-packyard"
MODULE = "hello_packyard"
VERSION = "1.0"
# Fixed timestamps keep the archives deterministic (2024-01-01 00:00 UTC).
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
_TAR_MTIME = 1704067200

_METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: A sample package published by the Packyard quickstart
Keywords: packyard,quickstart,sample
Requires-Python: >=3.8

Prints a greeting: python -c "import {MODULE}; {MODULE}.hello()"
"""
_MODULE_SOURCE = f'''"""The Packyard quickstart's sample package."""

__version__ = "{VERSION}"


def hello() -> None:
    print("Hello from a package served by Packyard")
'''
_PYPROJECT = f"""[project]
name = "{NAME}"
version = "{VERSION}"
description = "A sample package published by the Packyard quickstart"

[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""


def wheel_name() -> str:
    return f"{MODULE}-{VERSION}-py3-none-any.whl"


def sdist_name() -> str:
    return f"{MODULE}-{VERSION}.tar.gz"


def write_sample(directory: Path) -> list[Path]:
    """Write the wheel and the sdist into ``directory`` (created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / wheel_name()
    wheel.write_bytes(_wheel())
    sdist = directory / sdist_name()
    sdist.write_bytes(_sdist())
    return [wheel, sdist]


def _wheel() -> bytes:
    dist_info = f"{MODULE}-{VERSION}.dist-info"
    files = {
        f"{MODULE}/__init__.py": _MODULE_SOURCE.encode(),
        f"{dist_info}/METADATA": _METADATA.encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: packyard-quickstart\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [_record_entry(path, data) for path, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, _ZIP_DATE), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _record_entry(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _sdist() -> bytes:
    root = f"{MODULE}-{VERSION}"
    files = {
        f"{root}/PKG-INFO": _METADATA.encode(),
        f"{root}/pyproject.toml": _PYPROJECT.encode(),
        f"{root}/{MODULE}/__init__.py": _MODULE_SOURCE.encode(),
    }
    buffer = io.BytesIO()
    # mtime=0 in the gzip header: the same bytes on every run.
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = _TAR_MTIME
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
