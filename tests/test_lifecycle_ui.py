"""The package page's lifecycle buttons in Chromium: an admin yanks a file with a reason,
the page and the index say so, and Unyank restores it; a member sees no button."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page

from tests.support.browser import PASSWORD, browser, create_user, new_page, sign_in
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Organization, Registry
from tests.support.server import PackyardServer

__all__ = ["browser"]  # the fixture, imported for this module

JSON_V1 = "application/vnd.pypi.simple.v1+json"


def package_page(
    yard: PackyardServer, org: Organization, browser: Browser, directory: Path, *, admin: bool
) -> tuple[Page, Registry, str]:
    """A signed-in user's browser on the page of a freshly published ui-yank 1.0 wheel;
    its registry and a read-write token."""
    registry = org.registry("Ui Yank")
    token = org.token("read_packages", "write_packages")
    published = registry.publish(write_wheel(Dist("ui-yank", "1.0"), directory), token).json()
    page = new_page(browser)
    sign_in(page, yard.base_url, create_user(yard, org, admin=admin), PASSWORD)
    page.goto(published["web_url"])
    return page, registry, token


def test_an_admin_yanks_a_file_with_a_reason_and_unyanks_it(
    yard: PackyardServer, org: Organization, browser: Browser, tmp_path: Path
) -> None:
    page, registry, token = package_page(yard, org, browser, tmp_path, admin=True)
    page.fill("#yank-reason", "Broken on Windows")
    page.click("#yank-package")
    page.wait_for_selector("#yanked")
    assert "Broken on Windows" in page.inner_text("#yanked")
    files = registry.get("ui-yank/", token, headers={"Accept": JSON_V1}).json()["files"]
    assert [f["yanked"] for f in files] == ["Broken on Windows"]

    page.click("#unyank-package")
    page.wait_for_selector("#yank-package")
    assert page.query_selector("#yanked") is None
    files = registry.get("ui-yank/", token, headers={"Accept": JSON_V1}).json()["files"]
    assert [f["yanked"] for f in files] == [False]
    page.context.close()


def test_a_member_sees_no_yank_button(
    yard: PackyardServer, org: Organization, browser: Browser, tmp_path: Path
) -> None:
    page, _registry, _token = package_page(yard, org, browser, tmp_path, admin=False)
    assert page.query_selector("#yank-package") is None
    assert page.query_selector("#set-status") is None
    page.context.close()


def test_an_admin_archives_the_project_from_its_package_page(
    yard: PackyardServer, org: Organization, browser: Browser, tmp_path: Path
) -> None:
    page, registry, token = package_page(yard, org, browser, tmp_path, admin=True)
    page.select_option("#status-select", "archived")
    page.fill("#status-reason", "Replaced by ui-yank2")
    page.click("#set-status")
    page.wait_for_selector("#project-status")
    assert "archived: Replaced by ui-yank2" in page.inner_text("#project-status")
    document = registry.get("ui-yank/", token, headers={"Accept": JSON_V1}).json()
    assert document["project-status"] == {"status": "archived", "reason": "Replaced by ui-yank2"}
    page.context.close()
