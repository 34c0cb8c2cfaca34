"""What every REST route shares: the Bearer credential (declared for the OpenAPI
document), the caller's Principal, the base URL, and the documented error answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from packyard.core.models import Principal
from packyard.core.permissions import Disclosure, authentication_required
from packyard.web.api.schemas import ErrorBody, ValidationErrorBody
from packyard.web.auth import principal_for
from packyard.web.deps import services_of

# Declares the scheme in the OpenAPI document; the credential itself is read by
# ``principal_for``, which also accepts HTTP basic with the token as password.
bearer = HTTPBearer(
    auto_error=False,
    description="An API access token (or a registry token, for reading packages)",
)

PREFIX = "/v2/packages/organizations/{organization}"


def operation_id(route: APIRoute) -> str:
    """OpenAPI operation ids are the route functions' names (``list_packages``), which
    generated clients turn into method names."""
    return route.name


async def api_principal(request: Request) -> Principal:
    """The caller of a REST route. The REST API always needs a credential: an anonymous
    caller is answered 401 here, before any service runs."""
    principal = await principal_for(request, services_of(request).tokens)
    if principal.is_anonymous:
        raise authentication_required(Disclosure.API)
    return principal


async def _caller(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    return await api_principal(request)


Caller = Annotated[Principal, Depends(_caller)]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The request is malformed"),
    401: _error("No credential, or one that is unknown or revoked"),
    403: _error("The token lacks the scope this needs"),
    404: _error("Unknown, or not visible to this token"),
    422: {"model": ValidationErrorBody, "description": "Field values are not acceptable"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _error("The file name is taken by other bytes"),
}
