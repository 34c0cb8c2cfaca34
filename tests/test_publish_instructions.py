"""A registry's publish instructions: the pure snippets, and the REST field that serves them.
That the snippets work is shown by test_publish_with_tools.py, which runs them."""

from __future__ import annotations

import httpx
import pytest

from packyard.core.snippets import (
    TOKEN_PLACEHOLDER,
    USER_NAME,
    RegistryAddress,
    install_snippets,
    publish_snippets,
)
from tests.support.driver import Organization, Registry, new_organization
from tests.support.server import PackyardServer

TOOLS = {"curl", "twine", "uv", "uv_index", "poetry", "pdm", "hatch"}
UPLOAD_TOOLS = TOOLS - {"curl"}  # curl speaks to the REST API
ADDRESS = RegistryAddress("https://yard.example/", "acme", "dev")


def test_every_upload_tool_gets_a_snippet_naming_the_upload_url() -> None:
    assert ADDRESS.upload_url == "https://yard.example/acme/dev/pypi/"
    assert ADDRESS.index_url == "https://yard.example/acme/dev/pypi/simple/"
    snippets = {snippet.key: snippet for snippet in publish_snippets(ADDRESS)}
    assert set(snippets) == TOOLS
    for key in UPLOAD_TOOLS:
        assert ADDRESS.upload_url in snippets[key].text, key
        assert USER_NAME in snippets[key].text, key
    assert ADDRESS.api_packages_url in snippets["curl"].text


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("curl", "curl -X POST https://yard.example/v2/packages/organizations/acme/registries/dev"),
        ("curl", '-H "Authorization: Bearer ${PACKYARD_TOKEN}"'),
        ("twine", "[distutils]\nindex-servers =\n    dev\n"),
        ("twine", "repository = https://yard.example/acme/dev/pypi/\nusername = __token__\n"),
        ("twine", 'TWINE_PASSWORD="${PACKYARD_TOKEN}" twine upload --repository dev dist/*'),
        ("uv", "uv publish --publish-url https://yard.example/acme/dev/pypi/"),
        (
            "uv",
            '--check-url "https://__token__:${PACKYARD_TOKEN}@yard.example/acme/dev/pypi/simple/"',
        ),
        ("uv_index", '[[tool.uv.index]]\nname = "dev"\n'),
        ("uv_index", 'publish-url = "https://yard.example/acme/dev/pypi/"\n'),
        ("poetry", "poetry config repositories.dev https://yard.example/acme/dev/pypi/\n"),
        ("poetry", "poetry publish --build -r dev\n"),
        ("pdm", "pdm config repository.dev.url https://yard.example/acme/dev/pypi/\n"),
        ("pdm", "pdm publish -r dev\n"),
        ("hatch", "hatch publish -r dev -u __token__"),
    ],
)
def test_snippets_have_the_forms_each_tool_reads(tool: str, expected: str) -> None:
    (snippet,) = [s for s in publish_snippets(ADDRESS) if s.key == tool]
    assert expected in snippet.text


def test_private_install_snippets_carry_the_placeholder_and_public_ones_need_none() -> None:
    url = "https://__token__:${PACKYARD_TOKEN}@yard.example/acme/dev/pypi/simple/"
    private = {s.key: s.text for s in install_snippets(ADDRESS, public=False)}
    assert private["pip"] == f'pip install --index-url "{url}" "PACKAGE"'
    assert private["uv"] == f'uv pip install --index-url "{url}" "PACKAGE"'
    assert private["pip_conf"] == f"[global]\nindex-url = {url}\n"
    assert private["requirements_txt"] == f"--index-url {url}\nPACKAGE\n"
    assert 'export UV_INDEX_DEV_PASSWORD="${PACKYARD_TOKEN}"' in private["pyproject_toml"]
    public = install_snippets(ADDRESS, public=True, requirement="demo==1.0")
    assert all(TOKEN_PLACEHOLDER not in s.text for s in public)
    assert all("demo==1.0" in s.text for s in public if s.key != "pip_conf")


def test_uv_credential_variables_follow_uvs_rule_for_index_names() -> None:
    address = RegistryAddress("https://yard.example", "acme", "all-python.2")
    (pyproject,) = [s for s in install_snippets(address, public=False) if s.key == "pyproject_toml"]
    assert "UV_INDEX_ALL_PYTHON_2_USERNAME=__token__" in pyproject.text


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
    assert body["token_placeholder"] == TOKEN_PLACEHOLDER
    assert body["user_name"] == USER_NAME
    snippets = {snippet["key"]: snippet["text"] for snippet in body["snippets"]}
    assert set(snippets) == TOOLS
    assert all(upload_url in snippets[key] for key in UPLOAD_TOOLS)


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
