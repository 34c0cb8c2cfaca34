"""Teams in the web UI, as a person uses them: an admin turns teams on, makes a team,
adds a member and grants the team a registry from its Settings tab; the member then sees
that registry and no other private one, and the pages offer only what they may do while
the server refuses the rest anyway."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, Page

from tests.support.browser import PASSWORD, browser, create_user, new_page, sign_in
from tests.support.driver import new_organization
from tests.support.server import PackyardServer

__all__ = ["browser"]  # the fixture, imported for this module


def _post_form(page: Page, base_url: str, path: str, fields: dict[str, str]) -> httpx.Response:
    """Post as the page's session would, with its cookies and CSRF token, bypassing the
    page's buttons: what a person could do without the UI offering it."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    return httpx.post(
        f"{base_url}{path}",
        data={"csrf_token": csrf, **fields},
        cookies=cookies,
        headers={"Origin": base_url},
        follow_redirects=False,
    )


def test_an_admin_grants_a_team_a_registry_and_its_member_sees_only_that(
    yard: PackyardServer, browser: Browser
) -> None:
    org = new_organization(yard, "ui-teams")
    org.registry("Granted")
    org.registry("Withheld")
    admin = create_user(yard, org, admin=True)
    member = create_user(yard, org, admin=False)
    base = yard.base_url

    page = new_page(browser)
    sign_in(page, base, admin, PASSWORD)
    page.goto(f"{base}/organizations/{org.slug}/teams")
    page.check("#switch-teams_enabled")
    page.click("#organization-settings button[type=submit]")
    assert page.locator("#switch-teams_enabled").is_checked()
    page.fill("#team-name", "Data")
    page.click("button:has-text('Create team')")
    page.fill("#add-data", member)
    page.click("#team-data button:has-text('Add')")
    assert member in page.locator("#team-data").inner_text()
    page.goto(f"{base}/organizations/{org.slug}/packages/registries/granted?tab=settings")
    page.select_option("#grant-level", "read_only")
    page.click("#registry-teams button:has-text('Grant')")
    assert "read_only" in page.locator("#registry-teams").inner_text()
    page.context.close()

    page = new_page(browser)
    sign_in(page, base, member, PASSWORD)
    page.goto(f"{base}/organizations/{org.slug}/packages")
    assert page.locator(".registry-name").all_inner_texts() == ["Granted"]
    page.goto(f"{base}/organizations/{org.slug}/packages/registries/granted")
    assert page.locator("#tab-settings").count() == 0
    withheld = page.goto(f"{base}/organizations/{org.slug}/packages/registries/withheld")
    assert withheld is not None
    assert withheld.status == 404
    page.goto(f"{base}/organizations/{org.slug}/teams")
    # A member sees the switches but no form to change them, and no team controls.
    assert page.locator("#switch-teams_enabled").count() == 0
    assert page.locator("#team-name").count() == 0
    assert page.locator("#add-data").count() == 0
    refused = _post_form(page, base, f"/organizations/{org.slug}/settings", {"teams_enabled": ""})
    assert refused.status_code == 403
    page.context.close()
