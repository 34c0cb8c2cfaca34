"""``/docs`` and ``/redoc`` load nothing from another origin and run under a strict
Content-Security-Policy (security probe F10), in Chromium."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Request

from tests.support.browser import browser, new_page
from tests.support.server import PackyardServer

__all__ = ["browser"]  # the fixture, imported for this module


@pytest.mark.parametrize(
    ("path", "rendered"), [("/docs", ".swagger-ui .info"), ("/redoc", ".api-info")]
)
def test_api_docs_render_from_this_origin_only(
    yard: PackyardServer, browser: Browser, path: str, rendered: str
) -> None:
    page = new_page(browser)
    origins: set[str] = set()
    problems: list[str] = []
    page.on("request", lambda request: _note_origin(request, origins))
    page.on("console", lambda message: _note_problem(message, problems))
    page.goto(f"{yard.base_url}{path}")
    page.wait_for_selector(rendered)
    assert "Packyard" in page.inner_text(rendered)
    assert origins == {urlsplit(yard.base_url).netloc}
    assert [p for p in problems if "cdn.redoc.ly" not in p] == []
    headers = httpx.get(f"{yard.base_url}{path}").headers
    assert "script-src 'self';" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    page.context.close()


ACTIVE = frozenset({"document", "script", "stylesheet", "fetch", "xhr", "font"})


def _note_origin(request: Request, origins: set[str]) -> None:
    """Where active content came from (ReDoc's sidebar logo, an image from cdn.redoc.ly,
    is blocked by the policy and cannot run anything)."""
    if request.resource_type in ACTIVE and request.url.startswith("http"):
        origins.add(urlsplit(request.url).netloc)


def _note_problem(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type == "error" or "Content Security Policy" in message.text:
        problems.append(message.text)
