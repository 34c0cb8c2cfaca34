"""A registry's publish instructions: the pure snippets, and the REST field that serves them.
That the snippets work is shown by test_publish_with_tools.py, which runs them."""

from __future__ import annotations

import httpx
import pytest

from packyard.services.instructions import publish_instructions
from tests.support.driver import Organization, Registry, new_organization
from tests.support.server import PackyardServer

TOOLS = {"twine", "uv", "uv-index", "poetry", "pdm", "hatch"}


def test_every_tool_gets_a_snippet_naming_the_upload_url() -> None:
    found = publish_instructions("https://yard.example/", "acme", "dev")
    assert found.upload_url == "https://yard.example/acme/dev/pypi/"
    assert found.index_url == "https://yard.example/acme/dev/pypi/simple/"
    assert {snippet.tool for snippet in found.snippets} == TOOLS
    for snippet in found.snippets:
        assert found.upload_url in snippet.text, snippet.tool
        assert "__token__" in snippet.text, snippet.tool


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("twine", "[distutils]\nindex-servers =\n    dev\n"),
        ("twine", "repository = https://yard.example/acme/dev/pypi/\nusername = __token__\n"),
        ("uv", "uv publish --publish-url https://yard.example/acme/dev/pypi/"),
        (
            "uv",
            '--check-url "https://__token__:$PACKYARD_TOKEN@yard.example/acme/dev/pypi/simple/"',
        ),
        ("uv-index", '[[tool.uv.index]]\nname = "dev"\n'),
        ("uv-index", 'publish-url = "https://yard.example/acme/dev/pypi/"\n'),
        ("poetry", "poetry config repositories.dev https://yard.example/acme/dev/pypi/\n"),
        ("poetry", "poetry publish --build -r dev\n"),
        ("pdm", "pdm config repository.dev.url https://yard.example/acme/dev/pypi/\n"),
        ("pdm", "pdm publish -r dev\n"),
        ("hatch", "hatch publish -r dev -u __token__"),
    ],
)
def test_snippets_have_the_forms_each_tool_reads(tool: str, expected: str) -> None:
    found = publish_instructions("https://yard.example", "acme", "dev")
    (snippet,) = [s for s in found.snippets if s.tool == tool]
    assert expected in snippet.text


@pytest.fixture(scope="module")
def org(yard: PackyardServer) -> Organization:
    return new_organization(yard, "instructions")


@pytest.fixture(scope="module")
def registry(org: Organization) -> Registry:
    return org.registry("Team Releases")


def _instructions_url(registry: Registry) -> str:
    return (
        f"{registry.yard.base_url}/v2/packages/organizations/{registry.organization}"
        f"/registries/{registry.slug}/publish-instructions"
    )


def test_publish_instructions_are_served_for_the_registry(
    org: Organization, registry: Registry
) -> None:
    token = org.token("read_registries")
    response = httpx.get(_instructions_url(registry), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    upload_url = f"{registry.yard.base_url}/{registry.organization}/team-releases/pypi/"
    assert body["upload_url"] == upload_url
    assert body["index_url"] == f"{upload_url}simple/"
    assert body["token_variable"] == "PACKYARD_TOKEN"
    assert {snippet["tool"] for snippet in body["snippets"]} == TOOLS
    assert all(upload_url in snippet["text"] for snippet in body["snippets"])


def test_publish_instructions_need_credentials(registry: Registry) -> None:
    response = httpx.get(_instructions_url(registry))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


def test_publish_instructions_need_the_read_registries_scope(
    org: Organization, registry: Registry
) -> None:
    token = org.token("read_packages")
    response = httpx.get(_instructions_url(registry), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "read_registries" in response.json()["message"]


def test_publish_instructions_of_another_organizations_registry_are_404(
    yard: PackyardServer, registry: Registry
) -> None:
    stranger = new_organization(yard, "stranger").token("read_registries")
    response = httpx.get(
        _instructions_url(registry), headers={"Authorization": f"Bearer {stranger}"}
    )
    assert response.status_code == 404
