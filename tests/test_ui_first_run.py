"""The web UI's first impression, in Chromium: an organization without registries and a
registry without packages say what to do next (and what they say works), and the top
bar's search finds packages across registries, grouped, the match highlighted and escaped.
Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import shlex
from pathlib import Path

import httpx
from playwright.sync_api import Browser

from tests.support.browser import PASSWORD, browser, create_user, new_page, screenshot, sign_in
from tests.support.builders import Dist, write_wheel
from tests.support.driver import new_organization
from tests.support.server import PackyardServer

__all__ = ["browser"]


def test_an_organization_without_registries_explains_how_to_create_one(
    yard: PackyardServer, browser: Browser
) -> None:
    org = new_organization(yard, "empty")
    email = create_user(yard, org, admin=True)
    page = new_page(browser)
    sign_in(page, yard.base_url, email, PASSWORD)
    page.goto(f"{yard.base_url}/organizations/{org.slug}/packages")
    advice = page.inner_text("#no-registries")
    assert "New registry" in advice
    assert f"/v2/packages/organizations/{org.slug}/registries" in page.inner_text("#empty-rest")
    print(f"screenshot: {screenshot(page, 'first-run-no-registries')}")
    command = shlex.split(page.inner_text("#empty-cli"))
    assert command[0] == "packyard"
    yard.admin(*command[1:])  # the command as shown creates the registry
    page.reload()
    assert page.locator(".registry-item", has_text="Python packages").count() == 1
    page.context.close()


def test_a_registry_without_packages_shows_how_to_publish_inline(
    yard: PackyardServer, browser: Browser
) -> None:
    org = new_organization(yard, "fresh")
    registry = org.registry("Team")
    email = create_user(yard, org, admin=False)
    page = new_page(browser)
    sign_in(page, yard.base_url, email, PASSWORD)
    page.goto(f"{yard.base_url}/organizations/{org.slug}/packages/registries/{registry.slug}")
    advice = page.inner_text("#no-packages")
    assert "Nothing published yet" in advice
    assert registry.publish_url in page.inner_text("#empty-publish-curl")
    assert f"/{org.slug}/{registry.slug}/pypi/" in page.inner_text("#empty-publish-uv")
    print(f"screenshot: {screenshot(page, 'first-run-no-packages')}")
    page.context.close()


def test_the_top_bar_search_groups_matches_by_registry_and_highlights_them(
    yard: PackyardServer, browser: Browser, tmp_path: Path
) -> None:
    org = new_organization(yard, "find")
    apps, libs, hidden = org.registry("Apps"), org.registry("Libraries"), org.registry("Hidden")
    writer = org.token("read_packages", "write_packages")
    apps.publish(
        write_wheel(Dist("widget-app", "1.0", summary="Uses <b>widgets</b>"), tmp_path), writer
    )
    libs.publish(write_wheel(Dist("widget", "2.0", summary="The widget library"), tmp_path), writer)
    libs.publish(write_wheel(Dist("gadget", "1.0", summary="No match here"), tmp_path), writer)
    email = create_user(yard, org, admin=False)
    page = new_page(browser)
    sign_in(page, yard.base_url, email, PASSWORD)
    page.fill("#top-search", "widget")
    page.press("#top-search", "Enter")
    page.wait_for_selector("#search-results")
    groups = page.locator(".search-group h2").all_inner_texts()
    assert [g.strip() for g in groups] == ["🐍 Libraries", "🐍 Apps"]  # the exact name first
    names = page.locator(".hit-name").all_inner_texts()
    assert sorted(names) == ["widget", "widget-app"]
    assert page.locator(".search-hit mark").first.inner_text().lower() == "widget"
    # The summary's markup is shown as text, never as HTML.
    assert "Uses <b>widgets</b>" in page.inner_text("#search-results")
    assert page.locator("#search-results b").count() == 0
    assert hidden.slug not in page.inner_text("#search-results")
    print(f"screenshot: {screenshot(page, 'search-results')}")
    page.fill("#search-page-q", "nothing-is-called-this")
    page.press("#search-page-q", "Enter")
    assert "No package in the registries you may read" in page.inner_text("#search-empty")
    page.context.close()


def test_a_visitor_who_is_not_signed_in_finds_public_packages_only(
    yard: PackyardServer, tmp_path: Path
) -> None:
    org = new_organization(yard, "open")
    public, private = org.registry("Open source", public=True), org.registry("Internal")
    writer = org.token("read_packages", "write_packages")
    public.publish(write_wheel(Dist("open-thing", "1.0"), tmp_path), writer)
    private.publish(write_wheel(Dist("open-secret", "1.0"), tmp_path), writer)
    page = httpx.get(f"{yard.base_url}/organizations/{org.slug}/search", params={"q": "open"})
    assert page.status_code == 200
    assert "open-thing" in page.text
    assert "open-secret" not in page.text
