"""The web UI in a real browser, as a person uses it: sign in, create a registry, publish
with curl-style multipart, find the release, read every tab of the package page, download
the file, make a registry token and install with pip using it.

One signed-in admin and one registry are set up per module (a browser is slow to start);
each test checks one thing a person would see. Screenshots land in
``test-output/screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from packyard.core.snippets import TOKEN_PLACEHOLDER, RegistryAddress, publish_snippets
from tests.support.browser import (
    PASSWORD,
    browser,
    create_user,
    new_page,
    screenshot,
    sign_in,
)
from tests.support.builders import Dist, write_wheel
from tests.support.clients import Venv
from tests.support.driver import Organization, Registry, new_organization
from tests.support.server import PackyardServer

__all__ = ["browser"]  # the fixture, imported for this module


@dataclass
class Story:
    org: Organization
    email: str
    page: Page
    registry: Registry
    registry_url: str
    writer: str  # an API token with write_packages, made on the tokens page
    wheel: Path
    published: dict[str, Any]  # the publish response

    @property
    def package_url(self) -> str:
        return str(self.published["web_url"])


def create_registry_in_browser(page: Page, yard: PackyardServer, org: Organization) -> str:
    page.goto(f"{yard.base_url}/organizations/{org.slug}/packages")
    page.fill("#new-name", "Team Packages")
    page.fill("#new-description", "Wheels our CI builds")
    page.fill("#new-emoji", "🚀")
    page.click("text=Create registry")
    page.wait_for_url(re.compile(r".*/registries/team-packages$"))
    return "team-packages"


def create_api_token_in_browser(page: Page, yard: PackyardServer, org: Organization) -> str:
    page.goto(f"{yard.base_url}/organizations/{org.slug}/tokens")
    page.fill("#api-token-description", "CI publishing")
    page.check("input[value=write_packages]")
    page.click("text=Create token")
    secret = page.inner_text("#new-token").strip()
    screenshot(page, "tokens-page-new-token")
    return secret


@pytest.fixture(scope="module")
def story(
    yard: PackyardServer, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Story]:
    org = new_organization(yard, "ui")
    email = create_user(yard, org, admin=True)
    page = new_page(browser)
    sign_in(page, yard.base_url, email, PASSWORD)
    slug = create_registry_in_browser(page, yard, org)
    writer = create_api_token_in_browser(page, yard, org)
    registry = Registry(yard, org.slug, slug)
    dist = Dist(
        "Ui-Demo",
        "1.2.0",
        requires=["httpx>=0.27", "packaging"],
        extra_files={"ui_demo/data/table.csv": b"a,b\n1,2\n"},
    )
    wheel = write_wheel(dist, tmp_path_factory.mktemp("dists"))
    published = registry.publish(wheel, writer).json()
    yield Story(
        org,
        email,
        page,
        registry,
        f"{yard.base_url}/organizations/{org.slug}/packages/registries/{slug}",
        writer,
        wheel,
        published,
    )
    page.context.close()


def test_wrong_password_shows_a_clear_message(yard: PackyardServer, browser: Browser) -> None:
    org = new_organization(yard, "ui")
    email = create_user(yard, org, admin=False)
    page = new_page(browser)
    sign_in(page, yard.base_url, email, "not the password")
    assert page.inner_text("#sign-in-error") == "Wrong email or password."
    screenshot(page, "sign-in-wrong-password")
    sign_in(page, yard.base_url, email, PASSWORD)
    assert page.url.endswith(f"/organizations/{org.slug}/packages")
    page.context.close()


def test_new_registry_form_creates_a_source_registry(story: Story) -> None:
    page = story.page
    page.goto(f"{story.registry.yard.base_url}/organizations/{story.org.slug}/packages")
    item = page.locator(".registry-item", has_text="Team Packages")
    assert "source" in item.inner_text()
    assert "private" in item.inner_text()
    assert "Wheels our CI builds" in item.inner_text()
    screenshot(page, "registries-page")


def test_published_package_is_listed_under_releases(story: Story) -> None:
    page = story.page
    page.goto(story.registry_url)
    row = page.locator("table.releases tbody tr").first
    text = row.inner_text()
    assert "Ui-Demo" in text
    assert "1.2.0" in text
    assert "wheel" in text
    screenshot(page, "registry-releases")


def test_releases_filter_by_name(story: Story) -> None:
    page = story.page
    page.goto(story.registry_url)
    page.fill("#release-filter", "nothing-like-it")
    page.click("#panel-releases button[type=submit]")
    assert "No package name starts with" in page.inner_text("#panel-releases")
    page.fill("#release-filter", "ui_demo")  # matched as PEP 503 normalises names
    page.click("#panel-releases button[type=submit]")
    assert page.locator("table.releases tbody tr").count() == 1


def test_publish_instructions_name_this_registry(story: Story) -> None:
    page = story.page
    page.goto(story.registry_url)
    page.click("#tab-publish")
    assert page.locator("#panel-publish").is_visible()
    assert page.locator("#panel-releases").is_hidden()
    keys = page.locator("#panel-publish [data-subtab=publish]").evaluate_all(
        "tabs => tabs.map(tab => tab.id.replace('publish-tab-', ''))"
    )
    address = RegistryAddress(story.org.yard.base_url, story.org.slug, "team-packages")
    assert keys == [snippet.key for snippet in publish_snippets(address)]  # the API's tools
    curl = page.inner_text("#publish-code-curl")
    assert f'"Authorization: Bearer {TOKEN_PLACEHOLDER}"' in curl
    assert f"/v2/packages/organizations/{story.org.slug}/registries/team-packages/packages" in curl
    screenshot(page, "registry-publish-instructions")


def test_installation_snippets_have_copy_buttons(story: Story) -> None:
    page = story.page
    page.goto(f"{story.registry_url}?tab=install")
    assert f"Replace {TOKEN_PLACEHOLDER} with" in page.inner_text("#panel-install")
    for key in ("pip", "uv", "pip_conf", "requirements_txt", "pyproject_toml"):
        page.click(f"#install-tab-{key}")
        code = page.locator(f"#install-code-{key}")
        assert code.is_visible()
        assert story.registry.simple_url.split("://", 1)[1] in code.inner_text()
        assert page.locator(f"button[data-copy=install-code-{key}]").is_visible()
    screenshot(page, "registry-installation")


def test_installation_tab_shows_exactly_what_the_rest_api_gives(story: Story) -> None:
    """One snippet source: the UI's tab and REST ``/setup`` agree to the character."""
    token = story.org.token("read_packages")
    setup = f"{story.registry.yard.base_url}/v2/packages/organizations/{story.org.slug}"
    setup += "/registries/team-packages/setup"
    rest = httpx.get(setup, headers={"Authorization": f"Bearer {token}"}).json()
    assert rest["token_placeholder"] == TOKEN_PLACEHOLDER
    page = story.page
    page.goto(f"{story.registry_url}?tab=install")
    for snippet in rest["snippets"]:
        page.click(f"#install-tab-{snippet['key']}")
        shown = page.inner_text(f"#install-code-{snippet['key']}")
        assert shown.strip() == snippet["text"].strip(), snippet["key"]


def test_package_page_shows_about_and_details(story: Story) -> None:
    page = story.page
    page.goto(story.package_url)
    assert page.inner_text("#package-title").startswith("Ui-Demo")
    assert page.inner_text("#summary") == "A package built by the Packyard test suite"
    assert page.inner_text("#readme h1") == "Hello"
    facts = page.inner_text(".facts")
    for expected in ("Team Packages", "Private", "MIT", "httpx>=0.27", "packaging"):
        assert expected in facts
    assert page.locator(".facts a[href='https://example.invalid/home']").count() == 1
    screenshot(page, "package-installation")


def test_package_installation_tab_pins_the_version(story: Story) -> None:
    page = story.page
    page.goto(story.package_url)
    assert 'pip install --index-url "' in page.inner_text("#pkg-install-code-pip")
    assert '"Ui-Demo==1.2.0"' in page.inner_text("#pkg-install-code-pip")


def test_contents_tab_shows_the_archive_as_a_tree(story: Story) -> None:
    page = story.page
    page.goto(story.package_url)
    page.click("#tab-contents")
    tree = page.locator("#contents-tree")
    assert tree.is_visible()
    text = tree.inner_text()
    for name in ("ui_demo/", "data/", "table.csv", "__init__.py", "METADATA", "RECORD"):
        assert name in text
    screenshot(page, "package-contents")


def test_details_tab_checksums_equal_the_publish_response(story: Story) -> None:
    page = story.page
    page.goto(f"{story.package_url}?tab=details")
    digests = story.published["digests"]
    for algorithm in ("md5", "sha1", "sha256", "sha512"):
        assert page.inner_text(f"#digest-{algorithm}").strip() == digests[algorithm]
        assert page.locator(f"button[data-copy=digest-{algorithm}]").is_visible()
    screenshot(page, "package-details")


def test_copy_button_copies_the_checksum(story: Story) -> None:
    page = story.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{story.package_url}?tab=details")
    page.click("button[data-copy=digest-sha256]")
    assert page.evaluate("navigator.clipboard.readText()") == story.published["digests"]["sha256"]


def test_download_button_gives_identical_bytes(story: Story, tmp_path: Path) -> None:
    page = story.page
    page.goto(story.package_url)
    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    assert download.suggested_filename == story.wheel.name
    saved = tmp_path / "downloaded.whl"
    download.save_as(saved)
    assert saved.read_bytes() == story.wheel.read_bytes()


def test_other_files_of_the_project_are_one_click_away(story: Story, tmp_path: Path) -> None:
    newer = write_wheel(Dist("Ui-Demo", "1.3.0"), tmp_path)
    story.registry.publish(newer, story.writer)
    page = story.page
    page.goto(story.package_url)
    page.click("#other-files a:has-text('1.3.0')")
    assert page.inner_text("#package-title").endswith("1.3.0")


def test_registry_token_from_settings_installs_with_pip(story: Story, pip_venv: Venv) -> None:
    page = story.page
    page.goto(f"{story.registry_url}?tab=settings")
    page.fill("#token-description", "pip in CI")
    page.click("#registry-tokens button:has-text('Create token')")
    secret = page.inner_text("#new-token").strip()
    assert secret.startswith("pky_")
    assert "pip in CI" in page.inner_text("#registry-tokens table")
    screenshot(page, "registry-settings")
    # --no-deps: its dependencies live on PyPI, which this registry does not proxy.
    pip_venv.pip_install(story.registry.index_url(secret), "ui-demo==1.2.0", extra=("--no-deps",))
    assert pip_venv.installed_version("ui_demo") == "1.2.0"


def test_form_post_without_csrf_token_is_refused(story: Story) -> None:
    cookies = {c["name"]: c["value"] for c in story.page.context.cookies()}
    response = httpx.post(
        f"{story.registry.yard.base_url}/organizations/{story.org.slug}/packages/registries",
        data={"name": "Sneaky"},
        cookies=cookies,
    )
    assert response.status_code == 403
    assert "security token" in response.text
    listing = httpx.get(
        f"{story.registry.yard.base_url}/organizations/{story.org.slug}/packages",
        cookies=cookies,
    )
    assert "Sneaky" not in listing.text


def test_pages_carry_a_content_security_policy_without_inline_scripts(story: Story) -> None:
    response = httpx.get(
        story.package_url, cookies={c["name"]: c["value"] for c in story.page.context.cookies()}
    )
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None
    assert re.search(r"\son[a-z]+=", response.text) is None


def test_delete_removes_the_package_from_releases(story: Story, tmp_path: Path) -> None:
    doomed = story.registry.publish(
        write_wheel(Dist("Doomed", "0.1"), tmp_path), story.writer
    ).json()
    page = story.page
    page.goto(doomed["web_url"])
    page.click("#delete-package")
    page.wait_for_url(story.registry_url)
    assert "Doomed" not in page.inner_text("#panel-releases")


def test_deleting_the_registry_needs_its_name_typed(story: Story) -> None:
    page = story.page
    page.goto(f"{story.registry_url}?tab=settings")
    assert page.locator("#delete-registry").is_disabled()
    page.fill("#confirm-name", "Team Packages")
    page.click("#delete-registry")
    page.wait_for_url(f"{story.registry.yard.base_url}/organizations/{story.org.slug}/packages")
    assert "Team Packages" not in page.locator(".registry-name").all_inner_texts()
    assert story.registry.get("", story.writer).status_code == 404


def test_sign_out_ends_the_session(story: Story) -> None:
    page = story.page
    page.goto(f"{story.registry.yard.base_url}/organizations/{story.org.slug}/tokens")
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r".*/sign-in$"))
    page.goto(f"{story.registry.yard.base_url}/organizations/{story.org.slug}/tokens")
    assert "/sign-in?next=" in page.url
