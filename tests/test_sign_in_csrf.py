"""Login CSRF (security probe F14): the pre-sign-in CSRF cookie is accepted only as the
server issued it, and a form posted with ``Origin: null`` (a sandboxed frame) is refused."""

from __future__ import annotations

import re

import httpx

from tests.support.browser import PASSWORD, create_user
from tests.support.driver import Organization
from tests.support.server import PackyardServer


def _sign_in(
    yard: PackyardServer, email: str, cookie: str, token: str, headers: dict[str, str]
) -> httpx.Response:
    form = {"csrf_token": token, "email": email, "password": PASSWORD, "next": "/"}
    return httpx.post(
        f"{yard.base_url}/sign-in",
        data=form,
        cookies={"packyard_csrf": cookie},
        headers=headers,
    )


def test_a_planted_csrf_cookie_is_refused(yard: PackyardServer, org: Organization) -> None:
    email = create_user(yard, org, admin=False, name="planted")
    planted = "A" * 24
    refused = _sign_in(yard, email, planted, planted, {})
    assert refused.status_code == 403
    assert "packyard_session" not in refused.headers.get("set-cookie", "")


def test_a_form_from_a_null_origin_is_refused(yard: PackyardServer, org: Organization) -> None:
    email = create_user(yard, org, admin=False, name="sandboxed")
    with httpx.Client() as client:
        page = client.get(f"{yard.base_url}/sign-in")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        issued = client.cookies["packyard_csrf"]
    assert _sign_in(yard, email, issued, found.group(1), {"Origin": "null"}).status_code == 403
    same_site = {"Origin": yard.base_url}
    assert _sign_in(yard, email, issued, found.group(1), same_site).status_code == 303
