"""Composite registries over a real server, with a fake PyPI on loopback: precedence, the
hiding rule and its allow list, cooldown, validation of upstreams, publishing refused,
access through the composite only, stale-if-error and hash checks on PyPI's files."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.builders import Dist, wheel_bytes, write_wheel
from tests.support.driver import Organization, Registry, new_organization
from tests.support.fake_pypi import FakeFile, FakePypi, wheel_file

JSON = "application/vnd.pypi.simple.v1+json"


def page(registry: Registry, project: str, token: str, **kwargs: Any) -> dict[str, Any]:
    response = registry.get(f"{project}/", token, headers={"Accept": JSON}, **kwargs)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def origins(document: dict[str, Any]) -> dict[str, str]:
    return {f["filename"]: f["_upstream"] for f in document["files"]}


def api(registry: Registry, path: str) -> str:
    return (
        f"{registry.yard.base_url}/v2/packages/organizations/{registry.organization}"
        f"/registries/{registry.slug}/{path}"
    )


@pytest.fixture
def writer(corg: Organization) -> str:
    return corg.token("read_packages", "write_packages", "read_registries", "write_registries")


def test_files_come_from_upstreams_in_order_and_the_first_copy_wins(
    corg: Organization, writer: str, tmp_path: Path
) -> None:
    team_a, team_b = corg.registry("Team A"), corg.registry("Team B")
    first = write_wheel(Dist("app", "1.0", summary="from team a"), tmp_path)
    team_a.publish(first, writer)
    first_bytes = first.read_bytes()
    team_b.publish(write_wheel(Dist("app", "1.0", summary="from team b"), tmp_path), writer)
    team_b.publish(write_wheel(Dist("app", "2.0"), tmp_path), writer)
    composite = corg.composite("All", "team-a", "team-b")

    document = page(composite, "app", writer)
    assert origins(document) == {
        "app-1.0-py3-none-any.whl": "team-a",
        "app-2.0-py3-none-any.whl": "team-b",
    }
    assert document["versions"] == ["1.0", "2.0"]
    file_url = composite.simple_url + "app/" + document["files"][0]["url"]
    downloaded = httpx.get(file_url, auth=("x", writer), follow_redirects=False)
    assert downloaded.status_code == 200
    assert downloaded.content == first_bytes
    assert composite.get("", writer).text.count('href="app/"') == 1


def test_private_name_hides_pypi_versions_in_composite(
    corg: Organization, writer: str, fake_pypi: FakePypi, tmp_path: Path
) -> None:
    name, public_only = f"{corg.slug}-shared", f"{corg.slug}-public"
    fake_pypi.add(name, wheel_file(Dist(name, "99.0")))
    fake_pypi.add(public_only, wheel_file(Dist(public_only, "3.0")))
    corg.registry("Private").publish(write_wheel(Dist(name, "1.0"), tmp_path), writer)
    composite = corg.composite("All", "pypi", "private")

    assert page(composite, name, writer)["versions"] == ["1.0"]
    public = page(composite, public_only, writer)
    (file,) = public["files"]
    assert file["_upstream"] == "pypi"
    assert file["url"].startswith(fake_pypi.url.removesuffix("simple/"))  # linked, absolute
    html = composite.get(f"{public_only}/", writer).text
    assert 'data-upstream="pypi"' in html


def test_public_override_lets_pypi_versions_of_a_private_name_through(
    corg: Organization, writer: str, fake_pypi: FakePypi, tmp_path: Path
) -> None:
    name = f"{corg.slug}-shared"
    fake_pypi.add(name, wheel_file(Dist(name, "99.0")))
    corg.registry("Private").publish(write_wheel(Dist(name, "1.0"), tmp_path), writer)
    composite = corg.composite("All", "private", "pypi", options=("--public-override", name))
    assert page(composite, name, writer)["versions"] == ["1.0", "99.0"]


def test_cooldown_drops_young_pypi_files_and_files_without_upload_time(
    corg: Organization, writer: str, fake_pypi: FakePypi
) -> None:
    name, exempt = f"{corg.slug}-lib", f"{corg.slug}-exempt"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for project in (name, exempt):
        fake_pypi.add(
            project,
            wheel_file(Dist(project, "1.0")),
            wheel_file(Dist(project, "2.0"), upload_time=now),
            wheel_file(Dist(project, "3.0"), upload_time=None),
        )
    composite = corg.composite(
        "Careful",
        "pypi",
        options=("--min-release-age", "7 days", "--cooldown-exempt", exempt),
    )
    assert page(composite, name, writer)["versions"] == ["1.0"]
    assert page(composite, exempt, writer)["versions"] == ["1.0", "2.0", "3.0"]


def test_composite_or_foreign_registry_as_upstream_is_rejected(
    corg: Organization, writer: str
) -> None:
    corg.registry("Source")
    composite = corg.composite("All", "source")
    result = corg.yard.cli(
        "registry", "create", corg.slug, "Nested", "--composite", "--upstream", "all", check=False
    )
    assert result.returncode != 0
    assert "composite" in result.stderr
    other = new_organization(corg.yard)
    other.registry("Elsewhere")
    for upstreams in (["all"], ["source", f"{other.slug}/elsewhere"], ["elsewhere"]):
        response = httpx.put(
            api(composite, "upstreams"),
            json={"upstreams": upstreams},
            headers={"Authorization": f"Bearer {writer}"},
        )
        assert response.status_code == 422, response.text
    assert httpx.get(
        api(composite, "upstreams"), headers={"Authorization": f"Bearer {writer}"}
    ).json() == {"upstreams": ["source"]}


def test_upstreams_are_read_and_replaced_over_rest(
    corg: Organization, writer: str, tmp_path: Path
) -> None:
    first, second = corg.registry("First"), corg.registry("Second")
    second.publish(write_wheel(Dist("only-in-second", "1.0"), tmp_path), writer)
    composite = corg.composite("All", "first")
    headers = {"Authorization": f"Bearer {writer}"}
    assert composite.get("only-in-second/", writer).status_code == 404
    response = httpx.put(
        api(composite, "upstreams"),
        json={"upstreams": ["second", "first", "pypi"]},
        headers=headers,
    )
    assert response.json() == {"upstreams": ["second", "first", "pypi"]}
    assert httpx.get(api(composite, "upstreams"), headers=headers).json() == response.json()
    assert page(composite, "only-in-second", writer)["versions"] == ["1.0"]
    assert first.slug == "first"


def test_upload_to_composite_registry_is_rejected_naming_its_sources(
    corg: Organization, writer: str, tmp_path: Path
) -> None:
    corg.registry("Team A")
    composite = corg.composite("All", "team-a", "pypi")
    response = composite.publish(write_wheel(Dist("app", "1.0"), tmp_path), writer, expect=400)
    assert "team-a" in response.json()["message"]


def test_composite_credentials_read_private_upstreams_only_through_the_composite(
    corg: Organization, writer: str, tmp_path: Path
) -> None:
    team_a = corg.registry("Team A")
    team_a.publish(write_wheel(Dist("secret-app", "1.0"), tmp_path), writer)
    composite = corg.composite("All", "team-a")
    composite_token = composite.token()
    assert page(composite, "secret-app", composite_token)["versions"] == ["1.0"]
    file_url = composite.simple_url + "secret-app/../../files/secret_app-1.0-py3-none-any.whl"
    assert httpx.get(file_url, auth=("x", composite_token)).status_code == 200
    assert team_a.get("secret-app/", composite_token).status_code == 403
    assert page(composite, "secret-app", corg.token("read_packages"))["versions"] == ["1.0"]
    assert composite.get("secret-app/").status_code == 401
    assert httpx.get(file_url).status_code == 401
    stranger = new_organization(corg.yard).token("read_packages")
    assert composite.get("secret-app/", stranger).status_code == 404


def test_page_changes_when_an_upstream_publishes_and_otherwise_answers_304(
    corg: Organization, writer: str, tmp_path: Path
) -> None:
    team_a = corg.registry("Team A")
    team_a.publish(write_wheel(Dist("app", "1.0"), tmp_path), writer)
    composite = corg.composite("All", "team-a")
    first = composite.get("app/", writer)
    etag = first.headers["etag"]
    assert composite.get("app/", writer, headers={"If-None-Match": etag}).status_code == 304
    team_a.publish(write_wheel(Dist("app", "2.0"), tmp_path), writer)
    second = composite.get("app/", writer, headers={"If-None-Match": etag})
    assert second.status_code == 200
    assert "app-2.0-py3-none-any.whl" in second.text


def test_cached_pypi_files_survive_upstream_death(
    corg: Organization, writer: str, pypi_available: FakePypi
) -> None:
    name = f"{corg.slug}-lib"
    wheel = wheel_file(Dist(name, "1.0"))
    pypi_available.add(name, wheel)
    composite = corg.composite("Cached", "pypi", options=("--pypi-files", "cache"))
    document = page(composite, name, writer)
    (file,) = document["files"]
    assert not file["url"].startswith("http")  # served through Packyard
    file_url = f"{composite.simple_url}{name}/{file['url']}"
    assert httpx.get(file_url, auth=("x", writer)).content == wheel.content
    metadata = httpx.get(file_url + ".metadata", auth=("x", writer))
    assert metadata.content == wheel.metadata

    pypi_available.stop()
    assert page(composite, name, writer) == document  # stale-if-error
    assert httpx.get(file_url, auth=("x", writer)).content == wheel.content
    assert composite.get(f"{corg.slug}-never-seen/", writer).status_code == 502
    log = corg.yard.log_path.read_text()
    assert f"PyPI could not be reached for '{name}'" in log


def test_hash_mismatch_from_upstream_is_refused(
    corg: Organization, writer: str, fake_pypi: FakePypi
) -> None:
    name = f"{corg.slug}-evil"
    content = wheel_bytes(Dist(name, "1.0"))
    tampered = FakeFile(
        Dist(name, "1.0").wheel_filename,
        content + b"tampered",
        announced_sha256=hashlib.sha256(content).hexdigest(),
    )
    fake_pypi.add(name, tampered)
    composite = corg.composite("Cached", "pypi", options=("--pypi-files", "cache"))
    (file,) = page(composite, name, writer)["files"]
    response = httpx.get(f"{composite.simple_url}{name}/{file['url']}", auth=("x", writer))
    assert response.status_code == 502
    assert "sha256" in response.json()["message"]


def test_setup_snippets_name_the_composite_index(corg: Organization, writer: str) -> None:
    corg.registry("Team A")
    composite = corg.composite("All Python", "team-a", "pypi")
    response = httpx.get(api(composite, "setup"), headers={"Authorization": f"Bearer {writer}"})
    assert response.status_code == 200
    body = response.json()
    assert body["index_url"] == composite.simple_url
    host = composite.yard.base_url.split("://", 1)[1]
    expected = f"http://__token__:${{PACKYARD_TOKEN}}@{host}/{corg.slug}/all-python/pypi/simple/"
    snippets = {snippet["key"]: snippet["text"] for snippet in body["snippets"]}
    assert f'pip install --index-url "{expected}" "PACKAGE"' == snippets["pip"]
    assert set(snippets) == {"pip", "uv", "pip_conf", "requirements_txt", "pyproject_toml"}
