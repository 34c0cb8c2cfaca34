"""The API access tokens page of an organization: create with chosen scopes (the secret
shown once), see last use, revoke. Admins see every token; members see their own and may
grant only the scopes they hold."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.core.errors import ValidationFailed
from packyard.core.models import Organization, Principal
from packyard.core.permissions import useful_scopes
from packyard.core.scopes import Scope
from packyard.services.tokens import IssuedToken
from packyard.web.deps import services_of
from packyard.web.ui.common import (
    PageRoute,
    Visitor,
    checked_form,
    field,
    redirect,
    render,
    signed_in_member,
    visitor_of,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TOKENS_PATH = "/organizations/{organization}/tokens"


async def _tokens_page(
    request: Request,
    visitor: Visitor,
    organization: Organization,
    principal: Principal,
    *,
    new_token: IssuedToken | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    tokens = await run_in_threadpool(
        services_of(request).tokens.access_tokens, principal, organization.slug
    )
    return render(
        request,
        visitor,
        "tokens.html",
        status_code=status_code,
        organization=organization,
        tokens=tokens,
        scopes=[s for s in Scope if s in useful_scopes(principal)],
        new_token=new_token,
        error=error,
        user_id=principal.user_id,
    )


@router.get(TOKENS_PATH)
async def tokens_page(request: Request, organization: str) -> Response:
    visitor = await visitor_of(request)
    found, principal = await signed_in_member(request, visitor, organization, "to manage tokens")
    return await _tokens_page(request, visitor, found, principal)


@router.post(TOKENS_PATH)
async def create_token(request: Request, organization: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    found, principal = await signed_in_member(request, visitor, organization, "to manage tokens")
    chosen = [v for v in values.getlist("scope") if isinstance(v, str)]
    tokens = services_of(request).tokens
    try:
        scopes = frozenset(Scope(v) for v in chosen)
        if not scopes:
            raise ValidationFailed("Choose at least one scope for the token.")
        issued = await run_in_threadpool(
            tokens.create_access_token, principal, found.slug, scopes, field(values, "description")
        )
    except ValueError:
        return await _tokens_page(
            request, visitor, found, principal, error="Unknown scope.", status_code=422
        )
    except ValidationFailed as error:
        return await _tokens_page(
            request, visitor, found, principal, error=error.message, status_code=422
        )
    return await _tokens_page(request, visitor, found, principal, new_token=issued)


@router.post(TOKENS_PATH + "/{token_id}/revoke")
async def revoke_token(request: Request, organization: str, token_id: str) -> Response:
    visitor = await visitor_of(request)
    await checked_form(request, visitor)
    found, principal = await signed_in_member(request, visitor, organization, "to manage tokens")
    tokens = services_of(request).tokens
    await run_in_threadpool(tokens.revoke_access_token, principal, found.slug, token_id)
    return redirect(f"/organizations/{found.slug}/tokens")
