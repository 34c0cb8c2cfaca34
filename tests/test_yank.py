"""Yank and unyank (PEP 592) through the REST API, seen by real pip and uv: an unpinned
requirement skips a yanked release, ``==`` still installs it (pip shows the reason), an
unyank restores it; the index pages carry the reason and change their ETag each time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.builders import Dist, write_sdist, write_wheel
from tests.support.clients import INSTALLERS, Installer, Venv, make_venv
from tests.support.driver import Api, Organization, Registry, api
from tests.support.lifecycle import project_json

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def registry(org: Organization) -> Registry:
    return org.registry("Releases")


@pytest.fixture
def maintainer(org: Organization) -> Api:
    return api(org, org.token("read_packages", "write_packages", "delete_packages"))


def publish(maintainer: Api, registry: Registry, dist: Dist, directory: Path) -> list[str]:
    """Publish the wheel and sdist of ``dist``; their package ids."""
    return [
        maintainer.publish(registry.slug, path).json()["id"]
        for path in (write_wheel(dist, directory), write_sdist(dist, directory))
    ]


def yank_release(maintainer: Api, registry: Registry, name: str, version: str, **body: Any) -> Any:
    path = f"/registries/{registry.slug}/releases/{name}/{version}/yank"
    return maintainer.call("POST", path, json=body or None).json()


def unyank_release(maintainer: Api, registry: Registry, name: str, version: str) -> Any:
    path = f"/registries/{registry.slug}/releases/{name}/{version}/unyank"
    return maintainer.call("POST", path).json()


@pytest.mark.parametrize("installer", INSTALLERS)
def test_installers_skip_a_yanked_release_unless_pinned_and_see_it_again_after_unyank(
    registry: Registry, maintainer: Api, tmp_path: Path, venv: Venv, installer: Installer
) -> None:
    for version in ("1.0", "2.0"):
        publish(maintainer, registry, Dist("yank-demo", version), tmp_path)
    token = maintainer.token or ""
    index = registry.index_url(token)
    yanked = yank_release(maintainer, registry, "Yank_Demo", "2.0", reason="broken build")
    assert yanked["yanked"] is True
    assert yanked["yanked_reason"] == "broken build"
    assert len(yanked["files"]) == 2

    venv.install(installer, index, "yank-demo")
    assert venv.installed_version("yank_demo") == "1.0"
    pinned = venv.install(installer, index, "yank-demo==2.0")
    assert venv.installed_version("yank_demo") == "2.0"
    if installer == "pip":
        assert "broken build" in pinned.stdout + pinned.stderr

    unyank_release(maintainer, registry, "yank-demo", "2.0")
    fresh = make_venv(tmp_path / "after-unyank")
    fresh.install(installer, index, "yank-demo")
    assert fresh.installed_version("yank_demo") == "2.0"


def test_the_index_shows_the_reason_and_every_change_moves_the_etag(
    registry: Registry, maintainer: Api, tmp_path: Path
) -> None:
    wheel_id, sdist_id = publish(maintainer, registry, Dist("etag-demo", "1.0"), tmp_path)
    token = maintainer.token or ""
    etags = [project_json(registry, token, "etag-demo").headers["etag"]]

    base = f"/registries/{registry.slug}/packages"
    body = maintainer.call("POST", f"{base}/{wheel_id}/yank", json={"reason": "CVE-1 <x>"})
    assert body.json()["yanked_reason"] == "CVE-1 <x>"
    page = project_json(registry, token, "etag-demo")
    etags.append(page.headers["etag"])
    by_name = {f["filename"]: f for f in page.json()["files"]}
    assert [f["yanked"] for f in by_name.values() if f["filename"].endswith(".whl")] == [
        "CVE-1 <x>"
    ]
    assert [f["yanked"] for f in by_name.values() if f["filename"].endswith(".tar.gz")] == [False]
    html = registry.get("etag-demo/", token).text
    assert 'data-yanked="CVE-1 &lt;x&gt;"' in html

    maintainer.call("POST", f"{base}/{sdist_id}/yank")  # no body: yanked without a reason
    page = project_json(registry, token, "etag-demo")
    etags.append(page.headers["etag"])
    assert sorted(str(f["yanked"]) for f in page.json()["files"]) == ["CVE-1 <x>", "True"]
    assert 'data-yanked=""' in registry.get("etag-demo/", token).text

    details = maintainer.call("GET", f"{base}/{sdist_id}").json()
    assert (details["yanked"], details["yanked_reason"]) == (True, "")
    listed = maintainer.call("GET", f"{base}?name=etag-demo").json()["items"]
    assert {item["yanked"] for item in listed} == {True}

    maintainer.call("POST", f"{base}/{wheel_id}/unyank")
    page = project_json(registry, token, "etag-demo")
    etags.append(page.headers["etag"])
    assert sorted(str(f["yanked"]) for f in page.json()["files"]) == ["False", "True"]
    assert len(set(etags)) == len(etags)
    stale = registry.get("etag-demo/", token, headers={"If-None-Match": etags[0]})
    assert stale.status_code == 200


def test_a_composite_passes_the_yank_through(
    org: Organization, registry: Registry, maintainer: Api, tmp_path: Path
) -> None:
    publish(maintainer, registry, Dist("through-demo", "1.0"), tmp_path)
    composite = org.composite("Everything", registry.slug)
    token = maintainer.token or ""
    yank_release(maintainer, registry, "through-demo", "1.0", reason="superseded")
    files = project_json(composite, token, "through-demo").json()["files"]
    assert [f["yanked"] for f in files] == ["superseded", "superseded"]
    refused = maintainer.call(
        "POST", f"/registries/{composite.slug}/releases/through-demo/1.0/yank", expect=400
    )
    assert "composite" in refused.json()["message"]


def test_yanking_needs_the_delete_packages_scope(
    org: Organization, registry: Registry, maintainer: Api, tmp_path: Path
) -> None:
    publish(maintainer, registry, Dist("scoped-demo", "1.0"), tmp_path)
    writer = api(org, org.token("read_packages", "write_packages"))
    path = f"/registries/{registry.slug}/releases/scoped-demo/1.0/yank"
    refused = writer.call("POST", path, expect=403)
    assert "delete_packages" in refused.json()["message"]
    api(org, None).call("POST", path, expect=401)
    files = project_json(registry, maintainer.token or "", "scoped-demo").json()["files"]
    assert {f["yanked"] for f in files} == {False}


def test_an_unknown_release_or_package_answers_404_naming_it(
    registry: Registry, maintainer: Api
) -> None:
    missing = maintainer.call(
        "POST", f"/registries/{registry.slug}/releases/nothing-here/9.9/yank", expect=404
    )
    assert "nothing-here 9.9" in missing.json()["message"]
    maintainer.call("POST", f"/registries/{registry.slug}/packages/not-an-id/unyank", expect=404)


def test_a_reason_longer_than_a_thousand_characters_is_refused(
    registry: Registry, maintainer: Api, tmp_path: Path
) -> None:
    publish(maintainer, registry, Dist("long-demo", "1.0"), tmp_path)
    path = f"/registries/{registry.slug}/releases/long-demo/1.0/yank"
    maintainer.call("POST", path, json={"reason": "x" * 1_001}, expect=422)


def test_the_cli_yanks_a_release_or_one_file_and_unyanks(
    registry: Registry, maintainer: Api, tmp_path: Path
) -> None:
    publish(maintainer, registry, Dist("cli-demo", "1.0"), tmp_path)
    yard, token = registry.yard, maintainer.token or ""
    where = (registry.organization, registry.slug, "cli-demo", "1.0")
    yanked = yard.cli("yank", *where, "--reason", "bad metadata", "--json").stdout
    assert {f["yanked_reason"] for f in json.loads(yanked)} == {"bad metadata"}
    wheel = write_wheel(Dist("cli-demo", "1.0"), tmp_path).name
    yard.cli("unyank", *where, "--file", wheel)
    files = {
        f["filename"]: f["yanked"]
        for f in project_json(registry, token, "cli-demo").json()["files"]
    }
    assert files[wheel] is False
    assert set(files.values()) == {False, "bad metadata"}
    missing = yard.cli("yank", *where, "--file", "nope.whl", check=False)
    assert missing.returncode != 0
    assert "nope.whl" in missing.stderr
