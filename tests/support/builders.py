"""Real wheels and sdists built directly (no build backend, no network), deterministic for
given inputs. The sdists carry a tiny in-tree PEP 517 backend, so pip and uv can build
them offline from a registry that has nothing else."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

FIXED_DATE = (2024, 1, 1, 0, 0, 0)
FIXED_MTIME = 1704067200


@dataclass
class Dist:
    name: str
    version: str
    requires: list[str] = field(default_factory=list)
    requires_python: str | None = None
    summary: str = "A package built by the Packyard test suite"
    keywords: list[str] = field(default_factory=list)
    description: str = "# Hello\n\nA test package."
    extra_files: dict[str, bytes] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return canonicalize_name(self.name).replace("-", "_")

    @property
    def wheel_filename(self) -> str:
        return f"{self.module}-{self.version}-py3-none-any.whl"

    @property
    def sdist_filename(self) -> str:
        return f"{self.module}-{self.version}.tar.gz"


def metadata_text(dist: Dist, metadata_version: str = "2.1") -> str:
    lines = [
        f"Metadata-Version: {metadata_version}",
        f"Name: {dist.name}",
        f"Version: {dist.version}",
        f"Summary: {dist.summary}",
        "Home-page: https://example.invalid/home",
        "License: MIT",
        "Author: Test Author",
        "Classifier: Programming Language :: Python :: 3",
    ]
    if dist.keywords:
        lines.append(f"Keywords: {','.join(dist.keywords)}")
    if dist.requires_python:
        lines.append(f"Requires-Python: {dist.requires_python}")
    lines += [f"Requires-Dist: {r}" for r in dist.requires]
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + dist.description + "\n"


def _module_source(dist: Dist) -> bytes:
    return f'__version__ = "{dist.version}"\n'.encode()


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel_bytes(dist: Dist) -> bytes:
    dist_info = f"{dist.module}-{dist.version}.dist-info"
    files: dict[str, bytes] = {
        f"{dist.module}/__init__.py": _module_source(dist),
        **dist.extra_files,
        f"{dist_info}/METADATA": metadata_text(dist).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: packyard-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = [_record_line(p, d) for p, d in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, FIXED_DATE), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# A complete PEP 517 backend in a few lines: builds the wheel from the sdist's own files.
_IN_TREE_BACKEND = """
import base64, hashlib, os, zipfile

def _meta():
    with open("PKG-INFO", encoding="utf-8") as f:
        return f.read()

def _field(text, key):
    for line in text.splitlines():
        if line.startswith(key + ": "):
            return line[len(key) + 2:]

def _record(path, data):
    d = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={d},{len(data)}"

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    meta = _meta()
    name, version = _field(meta, "Name"), _field(meta, "Version")
    module = name.lower().replace("-", "_").replace(".", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {}
    for root, _dirs, names in os.walk(module):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                files[p.replace(os.sep, "/")] = f.read()
    files[f"{dist_info}/METADATA"] = meta.encode()
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    )
    record = [_record(p, d) for p, d in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\\n".join(record) + "\\n").encode()
    filename = f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    return filename
"""

_PYPROJECT = """[build-system]
requires = []
build-backend = "packyard_test_backend"
backend-path = ["."]
"""


def sdist_bytes(dist: Dist) -> bytes:
    base = f"{dist.module}-{dist.version}"
    files = {
        f"{base}/PKG-INFO": metadata_text(dist, "2.1").encode(),
        f"{base}/pyproject.toml": _PYPROJECT.encode(),
        f"{base}/packyard_test_backend.py": _IN_TREE_BACKEND.encode(),
        f"{base}/{dist.module}/__init__.py": _module_source(dist),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = FIXED_MTIME
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_wheel(dist: Dist, directory: Path) -> Path:
    path = directory / dist.wheel_filename
    path.write_bytes(wheel_bytes(dist))
    return path


def write_sdist(dist: Dist, directory: Path) -> Path:
    path = directory / dist.sdist_filename
    path.write_bytes(sdist_bytes(dist))
    return path
