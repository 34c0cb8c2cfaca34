"""For the import, export, backup and restore tests: the files an old registry holds (good
ones and hostile ones), ``packyard import`` run the way an administrator runs it, and what
a registry's index says about its files."""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from packaging.utils import parse_sdist_filename, parse_wheel_filename

from tests.support.archives import (
    GIB,
    make_zip,
    sdist_with,
    tar_member,
    wheel_members,
    zip_declaring_size,
)
from tests.support.builders import Dist, sdist_bytes, wheel_bytes
from tests.support.driver import Registry
from tests.support.integrity import run_cli
from tests.support.server import PackyardServer

JSON_INDEX = {"Accept": "application/vnd.pypi.simple.v1+json"}


@dataclass(frozen=True)
class Hostile:
    filename: str
    data: bytes
    reason: str  # a part of the message the import gives for refusing it


def good_files(prefix: str, count: int = 3) -> dict[str, bytes]:
    """``count`` releases of project ``{prefix}-lib``: a wheel and an sdist each."""
    files: dict[str, bytes] = {}
    for minor in range(count):
        dist = Dist(f"{prefix}-lib", f"1.{minor}", requires_python=">=3.9")
        files[dist.wheel_filename] = wheel_bytes(dist)
        files[dist.sdist_filename] = sdist_bytes(dist)
    return files


def hostile_files(prefix: str) -> list[Hostile]:
    """Files whose metadata reads fine (so other registries and their clients take them)
    but whose archives are dangerous to unpack."""
    escaping = wheel_members(Dist(f"{prefix}-escape", "1.0"))
    escaping["../evil.py"] = b"print('owned')"
    escape_name = Dist(f"{prefix}-escape", "1.0").wheel_filename
    liar = Dist(f"{prefix}-liar", "1.0")
    linked = Dist(f"{prefix}-linked", "1.0")
    link = tar_member(f"{linked.module}-1.0/passwd", tarfile.SYMTYPE, "/etc/passwd")
    return [
        Hostile(escape_name, make_zip(escaping), "../evil.py"),
        Hostile(
            liar.wheel_filename,
            zip_declaring_size(wheel_members(liar), f"{liar.module}/__init__.py", 17 * GIB),
            "zip bomb",
        ),
        Hostile(linked.sdist_filename, sdist_with(linked, link), "is a link"),
    ]


def import_json(yard: PackyardServer, *args: str) -> tuple[int, dict[str, Any]]:
    """``packyard import ARGS --json`` against ``yard``'s data: (exit code, report)."""
    code, out = run_cli(yard, "import", *args, "--json")
    report: dict[str, Any] = json.loads(out)
    return code, report


def project_files(registry: Registry, token: str, project: str) -> dict[str, dict[str, Any]]:
    """The PEP 691 file entries of ``project``, by file name."""
    page = registry.get(f"{project}/", token, headers=JSON_INDEX)
    assert page.status_code == 200, page.text
    return {f["filename"]: f for f in page.json()["files"]}


def projects(registry: Registry, token: str) -> list[str]:
    root = registry.get("", token, headers=JSON_INDEX).json()
    return sorted(p["name"] for p in root["projects"])


def package_details(registry: Registry, api_token: str, filename: str) -> dict[str, Any]:
    """The REST details of the package stored as ``filename``."""
    base = (
        f"{registry.yard.base_url}/v2/packages/organizations/{registry.organization}"
        f"/registries/{registry.slug}/packages"
    )
    headers = {"Authorization": f"Bearer {api_token}"}
    listing = httpx.get(base, headers=headers, params={"per_page": 100}, timeout=30).json()
    match = next(p for p in listing["items"] if p["filename"] == filename)
    details: dict[str, Any] = httpx.get(match["url"], headers=headers, timeout=30).json()
    return details


def project_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return str(parse_wheel_filename(filename)[0])
    return str(parse_sdist_filename(filename)[0])


def write_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths
