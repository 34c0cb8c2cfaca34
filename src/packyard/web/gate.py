"""What every request passes before the application does any work for it (``web.front``
calls it for each request, in one pass over the request's head).

- **Host**: absolute URLs are built from ``PACKYARD_BASE_URL`` or else from the request's
  Host, so a Host must be one this server answers to: a name in ``PACKYARD_ALLOWED_HOSTS``
  or, when that is unset, ``localhost`` or the address the connection came in on. Any other
  Host answers 400 (a forged Host would otherwise steer links, snippets and redirects).
  ``/healthz`` answers any Host: load balancers probe by address, and it has no links.
- **Authentication before the body**: a REST request carrying a body is authenticated
  first (the principal is left for ``web.auth.principal_for``); without valid credentials it
  answers 401 (or 429) before a byte of the body is read.
- **Small bodies**: a body that is not a multipart upload (JSON, forms) is read here, at
  most ``MAX_SMALL_BODY_BYTES`` (413 past it, counted while it streams) and within
  ``PACKYARD_UPLOAD_IDLE_TIMEOUT`` seconds (408), then handed to the app. Uploads stream
  through to ``web.multipart``, which has its own limits.

Each step raises the ``PackyardError`` its refusal answers with.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio
from starlette.requests import Request
from starlette.types import Message, Receive, Scope

from packyard.core.errors import (
    InvalidRequest,
    RequestTimeout,
    TooLarge,
    Unauthenticated,
)
from packyard.services.tokens import TokenService
from packyard.settings import Settings
from packyard.web.auth import PRINCIPAL_STATE, authenticate
from packyard.web.auth_limits import FailedAuthLimiter

MAX_SMALL_BODY_BYTES = 1024 * 1024
REST_PREFIX = "/v2/"
HEALTH_CHECK = "/healthz"
DEFAULT_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_ANSWERED_HOSTS = 64


class RequestGate:
    def __init__(
        self, settings: Settings, tokens: TokenService, limiter: FailedAuthLimiter
    ) -> None:
        self._tokens = tokens
        self._limiter = limiter
        self._hosts = allowed_hosts(settings)
        self._any_host = "*" in self._hosts
        self._own_address_allowed = not settings.allowed_hosts.strip()
        self._body_seconds = settings.upload_idle_timeout
        self._base_url = (settings.base_url or "").rstrip("/")  # as web.deps.base_url
        # Host values already answered to (clients send a handful): parsed once each.
        self._answered: set[tuple[bytes, str | None]] = set()

    def check_host(self, scope: Scope, host: bytes | None) -> None:
        """Raise ``InvalidRequest`` for a Host this server does not answer to."""
        if host is None or self._any_host or scope["path"] == HEALTH_CHECK:
            return
        server = scope.get("server")
        address = str(server[0]).lower() if server else None
        if (host, address) in self._answered:
            return
        given = host.decode("latin-1")
        name = host_name(given)
        if name in self._hosts or (self._own_address_allowed and name == address):
            if len(self._answered) >= MAX_ANSWERED_HOSTS:
                self._answered.clear()  # bounded: forged values must not grow it
            self._answered.add((host, address))
            return
        shown = given if len(given) <= 100 else given[:100] + "..."
        raise InvalidRequest(
            f"Host {shown!r} is not a name this server answers to: set PACKYARD_BASE_URL "
            "to its public URL, or add the name to PACKYARD_ALLOWED_HOSTS"
        )

    async def admit_body(
        self, scope: Scope, receive: Receive, headers: Mapping[bytes, bytes]
    ) -> Receive:
        """What the application should receive from: a small body read here (after the
        caller of a REST request was authenticated), else ``receive`` itself."""
        if not has_small_body(headers):
            return receive
        if scope["path"].startswith(REST_PREFIX):
            await self._authenticate(scope, headers)
        return _replay(await self._read_body(receive), receive)

    async def _authenticate(self, scope: Scope, headers: Mapping[bytes, bytes]) -> None:
        client = scope.get("client")
        base = self._base_url or str(Request(scope).base_url).rstrip("/")
        authorization = headers.get(b"authorization")
        principal = await authenticate(
            scope,
            authorization.decode("latin-1") if authorization is not None else None,
            str(client[0]) if client else "unknown",
            base,
            self._tokens,
            self._limiter,
        )
        if principal.is_anonymous:
            raise Unauthenticated("Authentication required: send Authorization: Bearer TOKEN")
        scope.setdefault("state", {})[PRINCIPAL_STATE] = principal

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        with anyio.move_on_after(self._body_seconds) as timer:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise InvalidRequest("The client went away before the body was complete")
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size > MAX_SMALL_BODY_BYTES:
                    raise TooLarge(
                        f"Request bodies other than uploads may hold at most "
                        f"{MAX_SMALL_BODY_BYTES // 1024} KiB"
                    )
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if timer.cancelled_caught:
            raise RequestTimeout(
                f"The request body did not arrive within {self._body_seconds:g} seconds"
            )
        return b"".join(chunks)


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """The Host names answered: ``PACKYARD_ALLOWED_HOSTS`` (comma-separated; ``*`` for
    any) or the defaults, and the name of ``PACKYARD_BASE_URL``."""
    configured = {h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()}
    hosts = set(configured or DEFAULT_HOSTS)
    if settings.base_url:
        hosts.add(host_name(settings.base_url.split("://", 1)[-1].split("/", 1)[0]))
    return frozenset(hosts)


def host_name(host: str) -> str:
    """The name part of a Host value: ``[::1]:8080`` -> ``::1``, ``a.b:80`` -> ``a.b``."""
    host = host.strip().lower().rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() and ":" not in name else host


def has_small_body(headers: Mapping[bytes, bytes]) -> bool:
    """A body arrives that is not a multipart upload."""
    if headers.get(b"content-length", b"0") == b"0" and b"transfer-encoding" not in headers:
        return False
    content_type = headers.get(b"content-type", b"").lower()
    return not content_type.startswith(b"multipart/form-data")


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()  # the disconnect, when it comes
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
