"""PyPI's trusted-publishing exchange, so unmodified clients (uv, twine, the GitHub
action) publish with a CI job's OIDC token: ask the audience, mint a 15-minute token,
burn it after use. Warehouse's paths and bodies (docs/trusted-publishing.md)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from packyard.core.errors import TokenExchangeFailed
from packyard.web.api.schemas import ErrorBody
from packyard.web.auth import client_address
from packyard.web.auth_limits import FailedAuthLimiter
from packyard.web.deps import services_of

router = APIRouter(prefix="/_/oidc", tags=["trusted publishing"])


class Audience(BaseModel):
    audience: str


class MintedToken(BaseModel):
    success: bool
    token: str = Field(description="Use as the upload password (user __token__)")
    expires: int = Field(description="Unix time")


class Burned(BaseModel):
    success: bool


class ExchangeError(BaseModel):
    code: str = Field(examples=["invalid-publisher"])
    description: str


class ExchangeFailed(BaseModel):
    message: str = Field(examples=["Token request failed"])
    errors: list[ExchangeError]


# The body is read by hand so that a malformed one gets Warehouse's answer, not FastAPI's.
_TOKEN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["token"],
                    "properties": {"token": {"type": "string"}},
                }
            }
        },
    }
}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    422: {"model": ExchangeFailed, "description": "Refused, with Warehouse's error code"},
    429: {"model": ErrorBody, "description": "Too many refused exchanges from this address"},
}


def audience_of(request: Request) -> str:
    """``PACKYARD_OIDC_AUDIENCE``, else the host name the client asked for."""
    configured = services_of(request).settings.oidc_audience
    return configured or (request.url.hostname or "packyard")


@router.get("/audience", summary="The audience OIDC tokens for /_/oidc/mint-token must name")
async def audience(request: Request) -> Audience:
    return Audience(audience=audience_of(request))


@router.post(
    "/mint-token",
    summary="Exchange an OIDC token for a 15-minute upload token",
    openapi_extra=_TOKEN_BODY,
    responses=_REFUSALS,
)
@router.post(
    "/github/mint-token",
    summary="The same as /_/oidc/mint-token (older clients)",
    openapi_extra=_TOKEN_BODY,
    responses=_REFUSALS,
    operation_id="mint_token_github",
)
async def mint_token(request: Request) -> MintedToken:
    # Refused exchanges count as failed authentications of the client address (429 past
    # PACKYARD_AUTH_FAILURES_PER_MINUTE), as refused credentials do; a valid token is
    # never refused by the limit (web.auth_limits).
    limiter: FailedAuthLimiter = request.app.state.auth_limiter
    client = client_address(request)
    try:
        token = await _token_of(request)
        minted = await run_in_threadpool(
            services_of(request).oidc.mint, token, audience_of(request)
        )
    except TokenExchangeFailed:
        limiter.failed(client)
        raise
    return MintedToken(success=True, token=minted.token, expires=int(minted.expires.timestamp()))


@router.post(
    "/burn-token",
    summary="Revoke a minted token at once (uv does after publishing)",
    openapi_extra=_TOKEN_BODY,
    responses=_REFUSALS,
)
async def burn_token(request: Request) -> Burned:
    token = await _token_of(request)
    await run_in_threadpool(services_of(request).oidc.burn, token)
    return Burned(success=True)


async def _token_of(request: Request) -> str:
    body = await request.body()
    try:
        payload = json.loads(body) if len(body) <= 64 * 1024 else None
    except ValueError:
        payload = None
    token = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenExchangeFailed("invalid-payload", 'send a JSON body {"token": "..."}')
    return token
