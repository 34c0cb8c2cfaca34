"""The caller's own token: inspect it, or revoke it (``/v2/access-token``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from packyard.web.api import schemas
from packyard.web.api.common import Caller, operation_id
from packyard.web.api.schemas import ErrorBody
from packyard.web.api.shapes import access_token_out
from packyard.web.deps import services_of

router = APIRouter(
    prefix="/v2/access-token",
    tags=["access token"],
    responses={401: {"model": ErrorBody, "description": "No credential, or an unknown one"}},
    generate_unique_id_function=operation_id,
)


@router.get("", summary="The token this request authenticated with")
async def get_access_token(request: Request, principal: Caller) -> schemas.AccessTokenOut:
    tokens = services_of(request).tokens
    token = await run_in_threadpool(tokens.current_token, principal)
    return access_token_out(token)


@router.delete(
    "",
    summary="Revoke the token this request authenticated with",
    status_code=204,
    response_class=Response,
)
async def revoke_access_token(request: Request, principal: Caller) -> Response:
    tokens = services_of(request).tokens
    await run_in_threadpool(tokens.revoke_current_token, principal)
    return Response(status_code=204)
