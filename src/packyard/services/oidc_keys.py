"""Verifying OIDC tokens (JWTs) from the issuers the operator trusts.

Keys come from ``{iss}/.well-known/openid-configuration`` -> ``jwks_uri`` and are kept in
memory; a token signed with a key id we do not hold refetches the issuer's keys, at most
once per ``REFETCH_COOL_DOWN`` so that made-up key ids cannot make us hammer an issuer.
Signatures are checked by PyJWT (RS256 and ES256 only). Every refusal is an
Unauthenticated whose message names the check that failed.

PyJWT (with cryptography) and httpx are imported when a JWT first arrives: together about
40 MiB per worker, which a server without trusted publishing never needs.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from packyard.core.errors import Unauthenticated

if TYPE_CHECKING:
    import httpx
    import jwt

ALGORITHMS = ["RS256", "ES256"]
LEEWAY_SECONDS = 30
REFETCH_COOL_DOWN = 60.0
MAX_JWT_LENGTH = 8192
REQUIRED_CLAIMS = ["iss", "aud", "iat", "exp"]


def looks_like_jwt(secret: str) -> bool:
    """Whether a credential is a JWT (three base64url parts, a JSON header) rather than a
    Packyard token."""
    return secret.startswith("eyJ") and secret.count(".") == 2


def parse_issuers(configured: str) -> tuple[str, ...]:
    """The issuer URLs of ``PACKYARD_OIDC_ISSUERS``; raises ValueError for one that is not
    https (plain http is accepted for loopback addresses only, for tests)."""
    issuers = []
    for raw in configured.split(","):
        issuer = raw.strip().rstrip("/")
        if not issuer:
            continue
        parts = urlsplit(issuer)
        if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
            raise ValueError(
                f"PACKYARD_OIDC_ISSUERS: {issuer!r} must be an https URL "
                "(http is accepted for loopback addresses only)"
            )
        issuers.append(issuer)
    return tuple(issuers)


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    issuer: str
    claims: Mapping[str, Any]


@dataclass(slots=True)
class _IssuerKeys:
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float = float("-inf")


def unverified_claims(token: str) -> Mapping[str, Any]:
    """The claims as the token states them, before any check: only to find which issuer
    and audience to check it against."""
    if len(token) > MAX_JWT_LENGTH:
        raise Unauthenticated(f"OIDC token refused: longer than {MAX_JWT_LENGTH} characters")
    import jwt

    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthenticated("OIDC token refused: it is not a well-formed JWT") from None
    return claims


class OidcVerifier:
    def __init__(
        self,
        issuers: tuple[str, ...],
        http: Callable[[], httpx.Client],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``http`` makes the client that fetches issuers' keys, on the first fetch."""
        self.issuers = issuers
        self._make_http = http
        self._http: httpx.Client | None = None
        self._clock = clock
        self._keys: dict[str, _IssuerKeys] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def verify(self, token: str, audience: str, max_lifetime: int | None = None) -> VerifiedToken:
        """The token's issuer and claims, once every check passed: a trusted issuer, a
        known key, the signature, aud, iat, exp, nbf (30 s of leeway) and, when given,
        ``exp - iat <= max_lifetime`` seconds."""
        issuer = str(unverified_claims(token).get("iss", "")).rstrip("/")
        if issuer not in self.issuers:
            raise Unauthenticated(
                "OIDC token refused: its issuer is not one this server trusts "
                "(PACKYARD_OIDC_ISSUERS)"
            )
        key = self._key(issuer, token)
        import jwt

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=audience,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS, "verify_iss": False},
            )
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"OIDC token refused: {_reason(error, audience)}") from None
        if max_lifetime is not None and int(claims["exp"]) - int(claims["iat"]) > max_lifetime:
            raise Unauthenticated(
                f"OIDC token refused: it is valid for more than {max_lifetime // 60} minutes "
                "(exp - iat); request a shorter-lived token"
            )
        return VerifiedToken(issuer, claims)

    def _key(self, issuer: str, token: str) -> jwt.PyJWK:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("OIDC token refused: its header does not parse") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthenticated(
                f"OIDC token refused: algorithm {header.get('alg')!r} is not RS256 or ES256"
            )
        kid = str(header.get("kid", ""))
        with self._lock:
            held = self._keys.setdefault(issuer, _IssuerKeys())
            if kid not in held.keys and self._clock() - held.fetched_at >= REFETCH_COOL_DOWN:
                held.keys = self._fetch(issuer)
                held.fetched_at = self._clock()
            key = held.keys.get(kid)
        if key is None:
            raise Unauthenticated(
                f"OIDC token refused: its key id {kid!r} is not among the issuer's keys"
            )
        return key

    def _fetch(self, issuer: str) -> dict[str, jwt.PyJWK]:
        """The issuer's keys by key id; called with ``_lock`` held."""
        import httpx
        import jwt

        if self._http is None:
            self._http = self._make_http()
        try:
            discovery = self._http.get(f"{issuer}/.well-known/openid-configuration")
            discovery.raise_for_status()
            jwks_uri = str(discovery.json()["jwks_uri"])
            response = self._http.get(jwks_uri)
            response.raise_for_status()
            key_set = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, KeyError, jwt.PyJWTError):
            raise Unauthenticated(
                "OIDC token refused: the issuer's keys could not be fetched; try again later"
            ) from None
        return {str(key.key_id): key for key in key_set.keys if key.key_id is not None}


def _reason(error: jwt.PyJWTError, audience: str) -> str:
    import jwt

    if isinstance(error, jwt.ExpiredSignatureError):
        return "it has expired (exp)"
    if isinstance(error, jwt.ImmatureSignatureError):
        return "it is not valid yet (nbf or iat in the future)"
    if isinstance(error, jwt.InvalidAudienceError):
        return f"its audience (aud) is not {audience!r}"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"it lacks the {error.claim} claim"
    if isinstance(error, jwt.InvalidSignatureError):
        return "its signature does not verify"
    return "it is not a valid JWT"
