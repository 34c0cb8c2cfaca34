"""Signing in and out, and the home page that sends a person where they work."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.core.errors import RateLimited, Unauthenticated
from packyard.services.users import SESSION_LIFETIME, NewSession, normalize_email
from packyard.web.auth import client_address
from packyard.web.auth_limits import FailedAuthLimiter, SignInThrottle
from packyard.web.deps import services_of
from packyard.web.errors import status_for
from packyard.web.ui.common import (
    SESSION_COOKIE,
    PageRoute,
    checked_form,
    field,
    redirect,
    render,
    set_cookie,
    visitor_of,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only a path on this site: never ``//host`` or a full URL (an open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/")
async def home(request: Request) -> Response:
    visitor = await visitor_of(request)
    if visitor.signed_in is None:
        return redirect("/sign-in")
    memberships = visitor.signed_in.memberships
    if len(memberships) == 1:
        return redirect(f"/organizations/{memberships[0].organization_slug}/packages")
    return render(request, visitor, "home.html", memberships=memberships)


@router.get("/organizations/{organization}")
async def organization_home(organization: str) -> Response:
    """Where the REST answers' ``organization.web_url`` points: its registries page."""
    return redirect(f"/organizations/{quote(organization, safe='')}/packages")


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str = "/") -> Response:
    visitor = await visitor_of(request)
    if visitor.signed_in is not None:
        return redirect(_safe_next(next))
    return render(request, visitor, "sign_in.html", next=_safe_next(next), email="", error=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    visitor = await visitor_of(request)
    form = await checked_form(request, visitor)
    email, target = field(form, "email"), _safe_next(field(form, "next", "/"))
    try:
        session = await _throttled_sign_in(request, email, field(form, "password"))
    except (Unauthenticated, RateLimited) as error:
        page = render(
            request,
            visitor,
            "sign_in.html",
            status_code=status_for(error),
            next=target,
            email=email,
            error=error.message,
        )
        if isinstance(error, RateLimited):
            page.headers["Retry-After"] = str(error.retry_after)
        return page
    response = redirect(target)
    set_cookie(
        request, response, SESSION_COOKIE, session.secret, int(SESSION_LIFETIME.total_seconds())
    )
    return response


async def _throttled_sign_in(request: Request, email: str, password: str) -> NewSession:
    """``users.sign_in`` behind the throttles: the client address's failure budget (shared
    with token failures) and the growing delay per address and email. Both are checked
    before the password, and a failure counts the same whether the email exists or not."""
    limiter: FailedAuthLimiter = request.app.state.auth_limiter
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    client, address = client_address(request), normalize_email(email)
    limiter.check(client)
    throttle.check(client, address)
    users = services_of(request).users
    try:
        session = await run_in_threadpool(users.sign_in, email, password)
    except Unauthenticated:
        if throttle.failed(client, address):
            await run_in_threadpool(users.note_locked, address)
        limiter.failed(client)
        raise
    throttle.succeeded(client, address)
    return session


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    visitor = await visitor_of(request)
    await checked_form(request, visitor)
    users = services_of(request).users
    await run_in_threadpool(users.sign_out, request.cookies.get(SESSION_COOKIE))
    response = redirect("/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
