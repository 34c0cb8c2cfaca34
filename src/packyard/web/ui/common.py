"""What every page shares: the template environment, the signed-in user, CSRF checks,
security headers, and turning domain errors into pages.

Templates autoescape everything (metadata is hostile input); the only HTML inserted as is
is a README already sanitised by ``readme-renderer``. The Content-Security-Policy allows
scripts from ``/static`` only: no inline script, no inline event handlers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from packyard.core.errors import PackyardError, PermissionDenied, Unauthenticated
from packyard.core.models import Organization, Principal, PrincipalKind
from packyard.core.snippets import TOKEN_PLACEHOLDER
from packyard.services.users import SignedIn
from packyard.web.deps import base_url, services_of
from packyard.web.errors import status_for
from packyard.web.observability.requests import note_principal

if TYPE_CHECKING:
    import jinja2

HERE = Path(__file__).parent
SESSION_COOKIE = "packyard_session"
CSRF_COOKIE = "packyard_csrf"  # double-submit token for forms shown before signing in
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 64 * 1024

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _filesize(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


class Templates:
    """The UI's template environment, made when the first page is rendered: Jinja2 costs
    each worker about 2 MiB, and a worker that only answers pip and uv never needs it."""

    def __init__(self) -> None:
        self._environment: jinja2.Environment | None = None
        self._lock = threading.Lock()

    def get_template(self, name: str) -> jinja2.Template:
        with self._lock:
            if self._environment is None:
                self._environment = make_environment()
            environment = self._environment
        return environment.get_template(name)


def make_environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["filesize"] = _filesize
    environment.filters["when"] = _when
    environment.filters["urlpart"] = lambda value: quote(str(value), safe="")
    # The snippets' own placeholder, so the pages' prose names what the snippets say.
    environment.globals["token_placeholder"] = TOKEN_PLACEHOLDER
    return environment


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is looking at a page: the signed-in user (or None) and the CSRF token to put in
    forms."""

    signed_in: SignedIn | None
    csrf_token: str
    new_csrf_cookie: bool  # a double-submit cookie must be set with this response


async def visitor_of(request: Request) -> Visitor:
    users = services_of(request).users
    signed_in = await run_in_threadpool(users.signed_in, request.cookies.get(SESSION_COOKIE))
    if signed_in is not None:
        note_principal(request.scope, PrincipalKind.USER, signed_in.user.id)
        return Visitor(signed_in, signed_in.csrf_token, False)
    key = users.known_csrf_key
    if key is None:
        key = await run_in_threadpool(users.csrf_key)
    cookie = request.cookies.get(CSRF_COOKIE)
    if cookie and len(cookie) <= 200 and hmac.compare_digest(cookie, _signed(key, cookie)):
        return Visitor(None, cookie, False)
    return Visitor(None, _signed(key, secrets.token_urlsafe(32)), True)


def _signed(key: bytes, cookie: str) -> str:
    """``NONCE.SIGNATURE`` for the nonce of ``cookie`` (its part before any dot): a
    pre-sign-in CSRF cookie is accepted only as the server issued it, so a value planted
    by a sibling subdomain is refused."""
    nonce = cookie.split(".", 1)[0]
    signature = hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{nonce}.{signature}"


async def principal_in(request: Request, visitor: Visitor, organization: Organization) -> Principal:
    """Who the visitor is in ``organization`` (members and admins carry their standing)."""
    users = services_of(request).users
    return await run_in_threadpool(users.principal, visitor.signed_in, organization)


async def signed_in_member(
    request: Request, visitor: Visitor, slug: str, purpose: str
) -> tuple[Organization, Principal]:
    """The organization and the visitor's standing in it, for pages only its members see
    (asked to sign in ``purpose``, e.g. "to manage tokens"; others are refused)."""
    registries = services_of(request).registries
    organization = await run_in_threadpool(registries.get_organization, slug)
    if visitor.signed_in is None:
        raise Unauthenticated(f"Sign in {purpose}")
    principal = await principal_in(request, visitor, organization)
    if principal.organization_id != organization.id:
        raise PermissionDenied("You are not a member of this organization")
    return organization, principal


def is_https(request: Request) -> bool:
    configured = services_of(request).settings.base_url
    if configured:
        return configured.startswith("https://")
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def render(
    request: Request,
    visitor: Visitor,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    templates: Templates = request.app.state.ui_templates
    body = templates.get_template(template).render(
        request=request,
        visitor=visitor,
        csrf_field=CSRF_FIELD,
        csrf_token=visitor.csrf_token,
        base=base_url(request),
        **context,
    )
    response = HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)
    if visitor.new_csrf_cookie:
        set_cookie(request, response, CSRF_COOKIE, visitor.csrf_token, 60 * 60 * 24)
    return response


async def checked_form(request: Request, visitor: Visitor) -> FormData:
    """The posted form, after checking its size, its origin and its CSRF token.

    Raises PermissionDenied for a form that did not come from our own page.
    """
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise PermissionDenied("This form is larger than a page of ours would send")
    origin = request.headers.get("origin")
    # "null" is what a sandboxed frame or a data: page sends: never one of our pages.
    if origin is not None and (origin == "null" or not _same_origin(origin, request)):
        raise PermissionDenied("This form was sent from another site and was refused")
    form = await request.form(max_files=0, max_fields=100)
    sent = form.get(CSRF_FIELD)
    if (
        visitor.new_csrf_cookie
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent.encode(), visitor.csrf_token.encode())
    ):
        raise PermissionDenied(
            "The form's security token is missing or stale. Reload the page and try again."
        )
    return form


def _same_origin(origin: str, request: Request) -> bool:
    sent = urlsplit(origin)
    allowed = {urlsplit(str(request.base_url)).netloc}
    configured = services_of(request).settings.base_url
    if configured:
        allowed.add(urlsplit(configured).netloc)
    return sent.netloc in allowed


def field(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name, default)
    return value if isinstance(value, str) else default


def redirect(location: str) -> RedirectResponse:
    """After a successful post: see the result with a GET (303)."""
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


def sign_in_location(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/sign-in?next={quote(target, safe='')}"


class PageRoute(APIRoute):
    """Routes of the UI answer domain errors with a page: a sign-in redirect for pages
    that need one, otherwise the error page with the message and the status."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except PackyardError as error:
                return await error_page(request, error)

        return handle


async def error_page(request: Request, error: PackyardError) -> Response:
    visitor = await visitor_of(request)
    if isinstance(error, Unauthenticated) and request.method == "GET":
        return RedirectResponse(sign_in_location(request), status_code=303)
    status = status_for(error)
    if isinstance(error, Unauthenticated):
        status = 403  # a browser must not see a basic-auth prompt
    return render(request, visitor, "error.html", status_code=status, message=error.message)
