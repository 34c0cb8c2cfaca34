"""Credentials to Principal. Accepted forms: ``Authorization: Bearer TOKEN`` (REST) and HTTP
basic with the token as password and any user name (pip, uv, twine: ``__token__``).

A REST request that carries a body is authenticated by web.gate before its body is read;
the principal found there is kept in the request's state and used by ``principal_for``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Callable, Iterator
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Scope

from packyard.core.errors import Unauthenticated
from packyard.core.models import ANONYMOUS, Principal
from packyard.services.tokens import TokenService
from packyard.web.auth_limits import FailedAuthLimiter
from packyard.web.deps import base_url
from packyard.web.observability.requests import note_principal

# OIDC tokens (JWTs) run to a few kilobytes, more once base64-encoded in basic credentials.
MAX_AUTHORIZATION_LENGTH = 12 * 1024
PRINCIPAL_STATE = "packyard_principal"  # where web.gate leaves the principal it found

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


def client_address(request: Request) -> str:
    """The client's address: the TCP peer, or the one a trusted proxy forwarded (web.gate)."""
    return request.client.host if request.client else "unknown"


@contextlib.contextmanager
def failures_counted(limiter: FailedAuthLimiter, client: str, credentials: bool) -> Iterator[None]:
    """Around the use of a request's credentials: an Unauthenticated raised inside counts
    as one failure of ``client``, and becomes 429 once the address has failed too often.
    Valid credentials and requests without any are never limited (web.auth_limits)."""
    try:
        yield
    except Unauthenticated:
        if credentials:
            limiter.failed(client)
        raise


def failed_authentications_limited(request: Request) -> contextlib.AbstractContextManager[None]:
    limiter: FailedAuthLimiter = request.app.state.auth_limiter
    credentials = bool(request.headers.get("authorization"))
    return failures_counted(limiter, client_address(request), credentials)


async def authenticate(
    scope: Scope,
    authorization: str | None,
    client: str,
    base: str,
    tokens: TokenService,
    limiter: FailedAuthLimiter,
) -> Principal:
    """The principal of a request's Authorization header (anonymous without one); ``base``
    is the public base URL (the audience an OIDC token must name)."""
    with failures_counted(limiter, client, bool(authorization)):
        secret = credential_from_header(authorization)
        if secret is None:
            return ANONYMOUS
        principal = await run_in_threadpool(tokens.authenticate, secret, base)
        note_principal(scope, principal.kind, principal.token_id)
        return principal


async def principal_for(request: Request, tokens: TokenService) -> Principal:
    found = request.scope.get("state", {}).get(PRINCIPAL_STATE)
    if isinstance(found, Principal):
        return found
    limiter: FailedAuthLimiter = request.app.state.auth_limiter
    authorization = request.headers.get("authorization")
    client, base = client_address(request), base_url(request)
    return await authenticate(request.scope, authorization, client, base, tokens, limiter)


async def authorized(
    request: Request, tokens: TokenService, authorize: Callable[[Principal], T]
) -> T:
    """``authorize(principal_for(request))``, both in one trip to a worker thread: each
    is a database query, and each trip costs two thread switches (an upload's fixed cost).

    Failed authentications are limited and counted as in ``principal_for``: ``authorize``
    raises Unauthenticated only for the anonymous caller, whose request carries no
    credentials and is therefore never counted.
    """

    def authenticate_then_authorize(secret: str | None, base: str) -> tuple[T, Principal]:
        principal = ANONYMOUS if secret is None else tokens.authenticate(secret, base)
        return authorize(principal), principal

    return await resolved(request, authenticate_then_authorize)


async def resolved(
    request: Request, resolve: Callable[[str | None, str], tuple[T, Principal]]
) -> T:
    """What ``resolve(secret, base URL)`` answers for the request's credential (None:
    anonymous) with the principal it found, in one trip to a worker thread; failed
    authentications are limited and counted as in ``principal_for``."""
    with failed_authentications_limited(request):
        secret = credential_from_header(request.headers.get("authorization"))
        base = base_url(request)

        def resolve_and_note() -> T:
            found, principal = resolve(secret, base)
            note_principal(request.scope, principal.kind, principal.token_id)
            return found

        return await run_in_threadpool(resolve_and_note)
