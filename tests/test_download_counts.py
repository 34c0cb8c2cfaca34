"""What counts as a download, one rule wherever the file is fetched: a whole GET of a
distribution, through its registry or through a composite over it; not its PEP 658
metadata, not a HEAD, not a range (pip and uv read parts of wheels before installing)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.builders import Dist, write_wheel
from tests.support.driver import Organization, Registry, api


def _files_url(registry: Registry) -> str:
    return registry.simple_url.replace("/simple/", "/files/")


def _downloads_count(org: Organization, token: str, registry: Registry, package_id: str) -> int:
    path = f"/registries/{registry.slug}/packages/{package_id}"
    count: int = api(org, token).call("GET", path).json()["downloads_count"]
    return count


def test_only_whole_gets_of_a_distribution_count(org: Organization, tmp_path: Path) -> None:
    registry = org.registry("Counted")
    token = org.token("read_packages", "write_packages")
    wheel = write_wheel(Dist("counted-demo", "1.0"), tmp_path)
    package_id = registry.publish(wheel, token).json()["id"]
    composite = org.composite("Counted All", registry.slug)
    url = f"{_files_url(registry)}{wheel.name}"
    auth = ("x", token)
    fetched = [
        httpx.get(url, auth=auth),  # counts
        httpx.get(f"{_files_url(composite)}{wheel.name}", auth=auth),  # counts
        httpx.get(f"{url}.metadata", auth=auth),
        httpx.head(url, auth=auth),
        httpx.get(url, auth=auth, headers={"Range": "bytes=0-9"}),
        httpx.get(f"{_files_url(composite)}{wheel.name}.metadata", auth=auth),
    ]
    assert [r.status_code for r in fetched] == [200, 200, 200, 200, 206, 200]
    assert fetched[0].content == fetched[1].content == wheel.read_bytes()
    assert _downloads_count(org, token, registry, package_id) == 2


def test_a_file_no_upstream_holds_is_not_found_through_the_composite(
    org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("Held")
    token = org.token("read_packages", "write_packages")
    registry.publish(write_wheel(Dist("held-demo", "1.0"), tmp_path), token)
    composite = org.composite("Held All", registry.slug)
    for name in ("held_demo-2.0-py3-none-any.whl", "not-a-distribution.txt"):
        response = httpx.get(f"{_files_url(composite)}{name}", auth=("x", token))
        assert response.status_code == 404, name
        assert name in response.json()["message"]
