"""Credentials to Principal. Accepted forms: ``Authorization: Bearer TOKEN`` (REST) and HTTP
basic with the token as password and any user name (pip, uv, twine: ``__token__``)."""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Callable, Iterator
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from packyard.core.errors import Unauthenticated
from packyard.core.models import ANONYMOUS, Principal
from packyard.services.tokens import TokenService
from packyard.web.auth_limits import FailedAuthLimiter
from packyard.web.deps import base_url
from packyard.web.observability.requests import note_principal

# OIDC tokens (JWTs) run to a few kilobytes, more once base64-encoded in basic credentials.
MAX_AUTHORIZATION_LENGTH = 12 * 1024

T = TypeVar("T")


def credential_from_header(header: str | None) -> str | None:
    """The token secret carried by an Authorization header, or None when there is none.

    Raises Unauthenticated for a header we cannot read.
    """
    if not header:
        return None
    if len(header) > MAX_AUTHORIZATION_LENGTH:
        raise Unauthenticated(
            "Authorization header is too long to hold a Packyard token or an OIDC token"
        )
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme in ("bearer", "token"):
        return value
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("Malformed basic credentials") from None
        username, _, password = decoded.partition(":")
        # Some tools put the token in the user name and leave the password empty.
        return password or username
    raise Unauthenticated(
        f"Unsupported authorization scheme {scheme!r}: use Bearer or Basic with the token"
    )


@contextlib.contextmanager
def failed_authentications_limited(request: Request) -> Iterator[None]:
    """Around the use of a request's credentials: refuse (429) a client address that has
    failed too often, and count an Unauthenticated raised inside as one more failure.
    Requests without credentials are not limited (web.auth_limits)."""
    if not request.headers.get("authorization"):
        yield
        return
    limiter: FailedAuthLimiter = request.app.state.auth_limiter
    client = request.client.host if request.client else "unknown"
    limiter.check(client)
    try:
        yield
    except Unauthenticated:
        limiter.failed(client)
        raise


async def principal_for(request: Request, tokens: TokenService) -> Principal:
    with failed_authentications_limited(request):
        secret = credential_from_header(request.headers.get("authorization"))
        if secret is None:
            return ANONYMOUS
        principal = await run_in_threadpool(tokens.authenticate, secret, base_url(request))
        note_principal(request.scope, principal.kind, principal.token_id)
        return principal


async def authorized(
    request: Request, tokens: TokenService, authorize: Callable[[Principal], T]
) -> T:
    """``authorize(principal_for(request))``, both in one trip to a worker thread: each
    is a database query, and each trip costs two thread switches (an upload's fixed cost).

    Failed authentications are limited and counted as in ``principal_for``: ``authorize``
    raises Unauthenticated only for the anonymous caller, whose request carries no
    credentials and is therefore never counted.
    """
    with failed_authentications_limited(request):
        secret = credential_from_header(request.headers.get("authorization"))
        base = base_url(request)

        def authenticate_then_authorize() -> T:
            principal = ANONYMOUS if secret is None else tokens.authenticate(secret, base)
            note_principal(request.scope, principal.kind, principal.token_id)
            return authorize(principal)

        return await run_in_threadpool(authenticate_then_authorize)
