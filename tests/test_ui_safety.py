"""The UI against hostile input and unwelcome visitors: a README full of scripts renders
inert, repeated wrong passwords are throttled, visitors see public registries only,
members cannot manage, and the pages work at phone width and from the keyboard."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Dialog

from tests.support.browser import (
    PASSWORD,
    browser,
    create_user,
    new_page,
    screenshot,
    sign_in,
)
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Organization, new_organization
from tests.support.server import PackyardServer

__all__ = ["browser"]  # the fixture, imported for this module

HOSTILE_README = """# Totally normal

<script>window.__pwned = 1; alert("readme");</script>

[click me](javascript:window.__pwned=2)

<a href="javascript:alert(3)" onclick="window.__pwned=3">also me</a>

<img src="x" onerror="window.__pwned=4">

<iframe src="javascript:alert(5)"></iframe>

<form action="https://evil.invalid/"><input name="password"></form>

<div style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</div>
"""


@dataclass
class Team:
    org: Organization
    admin: str
    member: str


@pytest.fixture(scope="module")
def team(yard: PackyardServer) -> Team:
    """One organization with an admin and a member, shared by the tests of this module."""
    org = new_organization(yard, "ui")
    org.registry("Open Source", public=True)
    org.registry("Internal")
    return Team(org, create_user(yard, org, admin=True), create_user(yard, org, admin=False))


HOSTILE_SUMMARY = '<script>window.__pwned = 6</script><b onmouseover="x()">bold</b>'


def test_hostile_readme_renders_inert(
    yard: PackyardServer, browser: Browser, team: Team, tmp_path: Path
) -> None:
    org, email = team.org, team.admin
    registry = org.registry("Hostile")
    wheel = write_wheel(
        Dist("evil-pkg", "6.6.6", summary=HOSTILE_SUMMARY, description=HOSTILE_README), tmp_path
    )
    published = registry.publish(wheel, org.token("write_packages")).json()
    page = new_page(browser)
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    sign_in(page, yard.base_url, email, PASSWORD)
    page.goto(published["web_url"])
    screenshot(page, "package-hostile-readme")
    assert page.inner_text("#summary") == HOSTILE_SUMMARY  # shown as text, not run
    readme = page.locator("#readme")
    assert readme.locator("h1").inner_text() == "Totally normal"
    # Chromium may leave an empty style="" on a form control; only a real style counts.
    dangerous = page.evaluate(
        "Array.from(document.getElementById('readme').querySelectorAll("
        "'script, iframe, form, [style], [onclick], [onerror]'))"
        ".filter(e => e.getAttribute('style') !== '').map(e => e.outerHTML)"
    )
    assert dangerous == []
    assert page.locator("[href^='javascript:' i], [src^='javascript:' i]").count() == 0
    page.click("#readme a:has-text('click me')")
    page.click("#readme a:has-text('also me')")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []
    page.context.close()


def _sign_in_form(client: httpx.Client, base: str) -> str:
    page = client.get(f"{base}/sign-in")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_repeated_wrong_passwords_are_throttled(yard: PackyardServer, team: Team) -> None:
    email = create_user(yard, team.org, admin=False, name="unlucky")
    with httpx.Client() as client:
        token = _sign_in_form(client, yard.base_url)

        def attempt(password: str) -> httpx.Response:
            form = {"csrf_token": token, "email": email, "password": password}
            return client.post(f"{yard.base_url}/sign-in", data=form)

        statuses = [attempt("wrong password").status_code for _ in range(5)]
        assert statuses == [401] * 5
        refused = attempt(PASSWORD)  # even the right password, for a while
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.text


def test_sign_in_form_without_csrf_token_is_refused(yard: PackyardServer, team: Team) -> None:
    email = team.member
    response = httpx.post(f"{yard.base_url}/sign-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 403
    assert "packyard_session" not in response.headers.get("set-cookie", "")


def test_visitors_see_public_registries_only(
    yard: PackyardServer, browser: Browser, team: Team
) -> None:
    org = team.org
    page = new_page(browser)
    page.goto(f"{yard.base_url}/organizations/{org.slug}/packages")
    names = page.locator(".registry-name").all_inner_texts()
    assert names == ["Open Source"]
    assert page.locator("#new-name").count() == 0
    page.goto(f"{yard.base_url}/organizations/{org.slug}/packages/registries/internal")
    assert "/sign-in?next=" in page.url
    page.context.close()


def test_members_read_private_registries_but_do_not_manage(
    yard: PackyardServer, browser: Browser, team: Team
) -> None:
    org = team.org
    page = new_page(browser)
    sign_in(page, yard.base_url, team.member, PASSWORD)
    assert "Internal" in page.locator(".registry-name").all_inner_texts()
    # Members may create registries unless an admin turns members_can_create_registries off.
    assert page.locator("#new-name").count() == 1
    page.goto(f"{yard.base_url}/organizations/{org.slug}/packages/registries/internal")
    assert page.locator("#tab-settings").count() == 0
    page.goto(f"{yard.base_url}/organizations/{org.slug}/tokens")
    scopes = page.locator("input[name=scope]").evaluate_all("els => els.map(e => e.value)")
    assert sorted(scopes) == [
        "read_packages",
        "read_registries",
        "read_teams",
        "write_packages",
        "write_registries",
    ]
    page.context.close()


@pytest.mark.parametrize("width", [390])
def test_pages_fit_a_phone_width_screen(
    yard: PackyardServer, browser: Browser, team: Team, tmp_path: Path, width: int
) -> None:
    org, email = team.org, team.admin
    registry = org.registry("Phone")
    long_name = "a-package-with-a-rather-long-name-indeed"
    published = registry.publish(
        write_wheel(Dist(long_name, "1.0"), tmp_path), org.token("write_packages")
    ).json()
    page = new_page(browser, width=width, height=800)
    sign_in(page, yard.base_url, email, PASSWORD)
    registry_url = f"{yard.base_url}/organizations/{org.slug}/packages/registries/phone"
    for name, url in [
        ("registries", f"{yard.base_url}/organizations/{org.slug}/packages"),
        ("registry", registry_url),
        ("registry-install", f"{registry_url}?tab=install"),
        ("package", published["web_url"]),
        ("package-details", f"{published['web_url']}?tab=details"),
    ]:
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        screenshot(page, f"phone-{name}")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"
    page.context.close()


def test_tabs_are_reachable_by_keyboard(yard: PackyardServer, browser: Browser, team: Team) -> None:
    page = new_page(browser)
    sign_in(page, yard.base_url, team.admin, PASSWORD)
    page.goto(f"{yard.base_url}/organizations/{team.org.slug}/packages/registries/internal")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "tab-releases":
            break
    else:
        pytest.fail("Tab never reached the Releases tab")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-publish"
    assert page.locator("#panel-publish").is_visible()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the first client tab of Installation
    assert page.locator("#install-code-pip").is_visible()
    page.context.close()
