"""A composite registry in the browser: created with the New registry form, its upstreams
added and reordered on the Upstreams tab, its Installation snippets read, and a registry
token from its Settings tab used by pip to install through it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser

from packyard.core.snippets import TOKEN_PLACEHOLDER
from tests.support.browser import PASSWORD, browser, create_user, new_page, screenshot, sign_in
from tests.support.builders import Dist, write_wheel
from tests.support.clients import Venv
from tests.support.driver import Registry, new_organization
from tests.support.server import PackyardServer

__all__ = ["browser"]  # the fixture, imported for this module


def _order(page_text: str) -> list[str]:
    return re.findall(r"team-[ab]", page_text)


def test_composite_made_and_used_through_the_ui(
    yard: PackyardServer, browser: Browser, tmp_path: Path, pip_venv: Venv
) -> None:
    org = new_organization(yard, "uicomp")
    writer = org.token("read_packages", "write_packages")
    team_a, team_b = org.registry("Team A"), org.registry("Team B")
    prefix = org.slug
    app = Dist(f"{prefix}-app", "1.0", requires=[f"{prefix}-dep>=2"])
    team_a.publish(write_wheel(app, tmp_path), writer)
    team_b.publish(write_wheel(Dist(f"{prefix}-dep", "2.0"), tmp_path), writer)
    page = new_page(browser)
    sign_in(page, yard.base_url, create_user(yard, org, admin=True), PASSWORD)

    page.goto(f"{yard.base_url}/organizations/{org.slug}/packages")
    page.select_option("#new-type", "composite")
    page.fill("#new-name", "Everything")
    page.check("#new-upstreams input[value=team-a]")
    page.uncheck("#new-upstreams input[value=pypi]")  # no internet in tests
    page.click("text=Create registry")
    page.wait_for_url(re.compile(r".*/registries/everything$"))
    assert page.inner_text("#registry-type") == "composite"

    page.click("#tab-upstreams")
    assert _order(page.inner_text("#upstream-list")) == ["team-a"]
    page.select_option("#add-upstream", "team-b")
    page.click("text=Add upstream")
    assert _order(page.inner_text("#upstream-list")) == ["team-a", "team-b"]
    page.click("button[aria-label='Move up team-b']")
    assert _order(page.inner_text("#upstream-list")) == ["team-b", "team-a"]
    screenshot(page, "composite-upstreams")

    composite_url = page.url.split("?")[0]
    page.goto(f"{composite_url}?tab=install")
    install = page.inner_text("#panel-install")
    assert f"__token__:{TOKEN_PLACEHOLDER}@" in install
    assert f"/{org.slug}/everything/pypi/simple/" in install
    screenshot(page, "composite-installation")

    page.goto(f"{composite_url}?tab=settings")
    page.fill("#token-description", "installs")
    page.click("#registry-tokens button:has-text('Create token')")
    secret = page.inner_text("#new-token").strip()
    page.context.close()
    composite = Registry(yard, org.slug, "everything")
    pip_venv.pip_install(composite.index_url(secret), f"{prefix}-app==1.0")
    assert pip_venv.installed_version(app.module) == "1.0"
    assert pip_venv.installed_version(f"{prefix}-dep".replace("-", "_")) == "2.0"
