"""Headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright, and a signed-in
page of the UI. Playwright never downloads a browser here: ``executable_path`` names the
system one. Screenshots go under ``test-output/screenshots/`` for a person to look at."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.driver import Organization
from tests.support.server import PackyardServer

CHROMIUM = Path(os.environ.get("PACKYARD_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
TIMEOUT_MS = 15_000
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def new_page(browser: Browser, *, width: int = 1280, height: int = 900) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-output/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(
    page: Page, base_url: str, email: str, password: str, address: str | None = None
) -> None:
    """Sign in on the sign-in page, or on ``address`` (one that shows the sign-in form)."""
    page.goto(address or f"{base_url}/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()


def create_user(
    yard: PackyardServer, org: Organization, *, admin: bool, name: str | None = None
) -> str:
    """A user of ``org`` (signing in with PASSWORD); returns the email."""
    email = f"{name or ('admin' if admin else 'member')}@{org.slug}.example.com"
    args = ["user", "create", email, "--org", org.slug, "--password-stdin"]
    yard.cli(*args, *(["--admin"] if admin else []), input=PASSWORD + "\n")
    return email
