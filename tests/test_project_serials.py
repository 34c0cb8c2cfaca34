"""A project's index page is cached under its own serial (``project_serials``): a change to
another project of the registry (a publish, a delete, a yank, a status) leaves the page
answered from cache with the same ETag and bytes, as the server's own cache counters show;
a change to the project itself gives the next read a new page and ETag. Over HTTP, on
every backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.builders import Dist, write_wheel
from tests.support.driver import Api, Organization, Registry, api
from tests.support.lifecycle import JSON_V1, project_json
from tests.support.metrics import Scrape, settled_scrape
from tests.support.rest import ALL_SCOPES

CACHE_LOOKUPS = "packyard_index_cache_lookups_total"
CHANGING = "changing"

# What a change does to the project CHANGING, and what its page shows afterwards.
Change = Callable[[Api, Registry, Path], None]
Shown = Callable[[dict[str, Any]], bool]


def _publish(admin: Api, registry: Registry, directory: Path) -> None:
    admin.publish(registry.slug, write_wheel(Dist(CHANGING, "2.0"), directory))


def _delete(admin: Api, registry: Registry, _directory: Path) -> None:
    listed = admin.call("GET", f"/registries/{registry.slug}/packages").json()["items"]
    doomed = next(p for p in listed if p["name"] == CHANGING and p["version"] == "1.1")
    admin.call("DELETE", f"/registries/{registry.slug}/packages/{doomed['id']}")


def _yank(admin: Api, registry: Registry, _directory: Path) -> None:
    admin.call("POST", f"/registries/{registry.slug}/releases/{CHANGING}/1.1/yank")


def _deprecate(admin: Api, registry: Registry, _directory: Path) -> None:
    path = f"/registries/{registry.slug}/projects/{CHANGING}/status"
    admin.call("PUT", path, json={"status": "deprecated", "reason": "use another"})


CHANGES: dict[str, tuple[Change, Shown]] = {
    "publish": (_publish, lambda page: "2.0" in page["versions"]),
    "delete": (_delete, lambda page: page["versions"] == ["1.0"]),
    "yank": (_yank, lambda page: any(f["yanked"] for f in page["files"])),
    "status": (_deprecate, lambda page: page["project-status"]["status"] == "deprecated"),
}


@pytest.fixture
def admin(org: Organization) -> Api:
    return api(org, org.token(*ALL_SCOPES))


@pytest.fixture
def registry(org: Organization, admin: Api, tmp_path: Path) -> Registry:
    """A registry with the project ``kept`` 1.0 and CHANGING 1.0 and 1.1."""
    registry = org.registry("Serials")
    for name, version in (("kept", "1.0"), (CHANGING, "1.0"), (CHANGING, "1.1")):
        admin.publish(registry.slug, write_wheel(Dist(name, version), tmp_path))
    return registry


def _lookups(scrape: Scrape, result: str) -> float:
    return scrape.value(CACHE_LOOKUPS, result=result)


def _read(registry: Registry, admin: Api, project: str, etag: str | None = None) -> httpx.Response:
    """The project's PEP 691 page; with ``etag``, revalidated (200 or 304)."""
    if etag is None:
        page = project_json(registry, admin.token or "", project)
        assert page.status_code == 200, page.text
        return page
    headers = {"Accept": JSON_V1, "If-None-Match": etag}
    return registry.get(f"{project}/", admin.token, headers=headers)


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_project_page_stays_cached_when_another_project_of_its_registry_changes(
    registry: Registry, admin: Api, tmp_path: Path, change: str
) -> None:
    changed_before = _read(registry, admin, CHANGING)
    kept = _read(registry, admin, "kept")
    before = settled_scrape(registry.yard.base_url)
    CHANGES[change][0](admin, registry, tmp_path)
    again = _read(registry, admin, "kept")
    after = settled_scrape(registry.yard.base_url)
    assert (again.headers["etag"], again.content) == (kept.headers["etag"], kept.content)
    # Answered from the page rendered before the change, not rendered again.
    assert _lookups(after, "miss") == _lookups(before, "miss")
    assert _lookups(after, "hit") > _lookups(before, "hit")
    assert _read(registry, admin, "kept", kept.headers["etag"]).status_code == 304
    # The changed project's own page did change.
    changed = _read(registry, admin, CHANGING)
    assert changed.headers["etag"] != changed_before.headers["etag"]
    assert CHANGES[change][1](changed.json())


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_project_page_changes_when_its_own_project_changes(
    registry: Registry, admin: Api, tmp_path: Path, change: str
) -> None:
    first = _read(registry, admin, CHANGING)
    assert _read(registry, admin, CHANGING).headers["etag"] == first.headers["etag"]
    change_project, shown = CHANGES[change]
    assert not shown(first.json())
    change_project(admin, registry, tmp_path)
    revalidated = _read(registry, admin, CHANGING, first.headers["etag"])
    assert revalidated.status_code == 200
    assert revalidated.headers["etag"] != first.headers["etag"]
    assert shown(revalidated.json())
