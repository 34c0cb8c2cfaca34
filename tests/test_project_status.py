"""Project status (PEP 792) through the REST API and the index: archived and quarantined
projects refuse uploads with 409 naming the status, a quarantined one serves no files, and
the pinned pip and uv install from api-version 1.4 pages."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from pypi_simple import ProjectPage, ProjectStatus

from tests.support.builders import Dist, write_sdist, write_wheel
from tests.support.clients import INSTALLERS, Installer, Venv
from tests.support.driver import Api, Organization, Registry, api
from tests.support.fake_pypi import FakePypi, wheel_file
from tests.support.lifecycle import project_json
from tests.support.rest import ALL_SCOPES

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def registry(org: Organization) -> Registry:
    return org.registry("Statuses")


@pytest.fixture
def admin(org: Organization) -> Api:
    return api(org, org.token(*ALL_SCOPES))


def set_status(admin: Api, registry: Registry, project: str, expect: int = 200, **body: Any) -> Any:
    path = f"/registries/{registry.slug}/projects/{project}/status"
    return admin.call("PUT", path, json=body, expect=expect).json()


@pytest.mark.parametrize("installer", INSTALLERS)
def test_an_archived_project_refuses_uploads_and_still_installs(
    registry: Registry, admin: Api, tmp_path: Path, venv: Venv, installer: Installer
) -> None:
    admin.publish(registry.slug, write_wheel(Dist("old-tool", "1.0"), tmp_path))
    token = admin.token or ""
    before = project_json(registry, token, "old-tool").headers["etag"]
    answer = set_status(admin, registry, "Old_Tool", status="archived", reason="moved to new-tool")
    assert answer == {"status": "archived", "reason": "moved to new-tool"}

    page = project_json(registry, token, "old-tool")
    assert page.headers["etag"] != before
    document = page.json()
    assert document["meta"]["api-version"] == "1.4"
    assert document["project-status"] == {"status": "archived", "reason": "moved to new-tool"}
    html = registry.get("old-tool/", token).text
    assert '<meta name="pypi:repository-version" content="1.4">' in html
    assert '<meta name="pypi:project-status" content="archived">' in html
    assert '<meta name="pypi:project-status-reason" content="moved to new-tool">' in html

    refused = admin.publish(registry.slug, write_wheel(Dist("old-tool", "1.1"), tmp_path), 409)
    assert "archived" in refused.json()["message"]
    venv.install(installer, registry.index_url(token), "old-tool")
    assert venv.installed_version("old_tool") == "1.0"


def test_a_quarantined_project_serves_no_files_until_it_is_active_again(
    registry: Registry, admin: Api, tmp_path: Path
) -> None:
    wheel = write_wheel(Dist("bad-pkg", "1.0"), tmp_path)
    admin.publish(registry.slug, wheel)
    token = admin.token or ""
    assert registry.get(f"../files/{wheel.name}", token).status_code == 200
    set_status(admin, registry, "bad-pkg", status="quarantined", reason="malware report")

    document = project_json(registry, token, "bad-pkg").json()
    assert document["files"] == []
    assert document["project-status"]["status"] == "quarantined"
    assert registry.get(f"../files/{wheel.name}", token).status_code == 404
    refused = admin.publish(registry.slug, write_sdist(Dist("bad-pkg", "1.1"), tmp_path), 409)
    assert "quarantined" in refused.json()["message"]
    seen = admin.call("GET", f"/registries/{registry.slug}/projects/bad-pkg/status").json()
    assert seen == {"status": "quarantined", "reason": "malware report"}
    listed = admin.call("GET", f"/registries/{registry.slug}/packages?name=bad-pkg").json()
    assert [item["filename"] for item in listed["items"]] == [wheel.name]

    set_status(admin, registry, "bad-pkg", status="active")
    document = project_json(registry, token, "bad-pkg").json()
    assert [f["filename"] for f in document["files"]] == [wheel.name]
    assert document["project-status"] == {"status": "active"}
    assert registry.get(f"../files/{wheel.name}", token).status_code == 200


def test_a_deprecated_project_still_accepts_uploads(
    registry: Registry, admin: Api, tmp_path: Path
) -> None:
    admin.publish(registry.slug, write_wheel(Dist("aging", "1.0"), tmp_path))
    set_status(admin, registry, "aging", status="deprecated", reason="use shiny")
    admin.publish(registry.slug, write_wheel(Dist("aging", "1.1"), tmp_path))
    files = project_json(registry, admin.token or "", "aging").json()["files"]
    assert len(files) == 2


def test_setting_a_status_needs_full_access_and_a_known_status_and_project(
    org: Organization, registry: Registry, admin: Api, tmp_path: Path
) -> None:
    admin.publish(registry.slug, write_wheel(Dist("guarded", "1.0"), tmp_path))
    maintainer = api(org, org.token("read_packages", "write_packages", "delete_packages"))
    refused = set_status(maintainer, registry, "guarded", 403, status="archived")
    assert "scope" in refused["message"]
    assert maintainer.call(
        "GET", f"/registries/{registry.slug}/projects/guarded/status"
    ).json() == {
        "status": "active",
        "reason": "",
    }
    set_status(admin, registry, "guarded", 422, status="retired")
    missing = set_status(admin, registry, "never-published", 404, status="archived")
    assert "never-published" in missing["message"]


def test_a_strict_third_party_parser_reads_status_and_yanks_from_both_page_kinds(
    registry: Registry, admin: Api, tmp_path: Path
) -> None:
    for version in ("1.0", "2.0"):
        admin.publish(registry.slug, write_wheel(Dist("parsed", version), tmp_path))
    base = f"/registries/{registry.slug}"
    admin.call("POST", f"{base}/releases/parsed/1.0/yank", json={"reason": "bad <build>"})
    set_status(admin, registry, "parsed", status="deprecated", reason="use parsed2 & co")
    token = admin.token or ""
    url = f"{registry.simple_url}parsed/"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a newer api-version than it knows would warn
        pages = [
            ProjectPage.from_json_data(project_json(registry, token, "parsed").json(), url),
            ProjectPage.from_html("parsed", registry.get("parsed/", token).text, url),
        ]
    for page in pages:
        assert page.repository_version == "1.4"
        assert page.status is ProjectStatus.DEPRECATED
        assert page.status_reason == "use parsed2 & co"
        yanks = {p.version: (p.is_yanked, p.yanked_reason) for p in page.packages}
        assert yanks == {"1.0": (True, "bad <build>"), "2.0": (False, None)}
        assert all(p.digests["sha256"] and p.url.startswith("http") for p in page.packages)


def test_the_cli_sets_and_prints_a_project_status(
    registry: Registry, admin: Api, tmp_path: Path
) -> None:
    admin.publish(registry.slug, write_wheel(Dist("cli-status", "1.0"), tmp_path))
    where = (registry.organization, registry.slug, "cli-status")
    registry.yard.cli("project-status", *where, "--set", "archived", "--reason", "done")
    assert registry.yard.cli("project-status", *where).stdout.strip() == "archived\tdone"
    refused = registry.yard.cli("project-status", *where, "--set", "retired", check=False)
    assert refused.returncode != 0
    assert "retired" in refused.stderr


def test_a_composite_serves_no_file_of_a_project_quarantined_in_its_source(
    corg: Organization, fake_pypi: FakePypi, tmp_path: Path
) -> None:
    """The composite follows each source: a quarantined project's files are neither listed
    nor downloadable through it, and its name still hides PyPI's (no dependency confusion)."""
    name = f"{corg.slug}-tainted"
    fake_pypi.add(name, wheel_file(Dist(name, "99.0")))
    admin = api(corg, corg.token(*ALL_SCOPES))
    token = admin.token or ""
    source, other = corg.registry("Source"), corg.registry("Other")
    first = write_wheel(Dist(name, "1.0"), tmp_path)
    admin.publish(source.slug, first)
    admin.publish(other.slug, write_wheel(Dist(name, "2.0"), tmp_path))
    composite = corg.composite("All", source.slug, other.slug, "pypi")

    def served() -> list[str]:
        files = project_json(composite, token, name).json()["files"]
        return [f["filename"].split("-")[1] for f in files]

    assert served() == ["1.0", "2.0"]
    assert composite.get(f"../files/{first.name}", token).status_code == 200

    set_status(admin, source, name, status="quarantined", reason="malware report")
    assert served() == ["2.0"]
    assert composite.get(f"../files/{first.name}", token).status_code == 404

    set_status(admin, other, name, status="quarantined")
    document = project_json(composite, token, name).json()
    assert document["files"] == []
    assert document["project-status"]["status"] == "quarantined"

    set_status(admin, source, name, status="active")
    set_status(admin, other, name, status="active")
    assert served() == ["1.0", "2.0"]
