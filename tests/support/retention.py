"""Registries with a history, for the retention tests: files imported from a folder keep
the folder's modification times as their upload times (what ``packyard import`` does when
a team moves in), so a test can hold releases uploaded weeks ago without waiting weeks."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.builders import Dist, write_wheel
from tests.support.driver import Api, Registry
from tests.support.moving import import_json

DAY = 24 * 3600


def import_aged(registry: Registry, folder: Path, dists: Sequence[tuple[Dist, float]]) -> None:
    """Import each wheel of ``dists`` into ``registry``, uploaded that many days ago."""
    folder.mkdir(parents=True, exist_ok=True)
    for dist, days_ago in dists:
        path = write_wheel(dist, folder)
        moment = time.time() - days_ago * DAY
        os.utime(path, (moment, moment))
    code, report = import_json(registry.yard, registry.organization, registry.slug, str(folder))
    assert code == 0, report


def set_policy(api: Api, registry: str, expect: int = 200, **rules: Any) -> dict[str, Any]:
    body: dict[str, Any] = api.call(
        "PUT", f"/registries/{registry}/retention", json=rules, expect=expect
    ).json()
    return body


def preview(api: Api, registry: str) -> dict[str, Any]:
    body: dict[str, Any] = api.call("POST", f"/registries/{registry}/retention/preview").json()
    return body


def run(api: Api, registry: str) -> dict[str, Any]:
    body: dict[str, Any] = api.call("POST", f"/registries/{registry}/retention/run").json()
    return body


def filenames(answer: dict[str, Any]) -> list[str]:
    return sorted(f["filename"] for f in answer["files"])


def index_files(api: Api, registry: str, project: str) -> list[str]:
    page = api.registry(registry).get(
        f"{project}/", api.token, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    assert page.status_code in (200, 404), page.text
    return sorted(f["filename"] for f in page.json()["files"]) if page.status_code == 200 else []
