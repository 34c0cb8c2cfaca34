"""What a signed-in user may do in an organization, as scopes.

A web UI user acts with the scopes of their role, so the permission functions in
``core.permissions`` treat them like an API token with those scopes. Members publish and
read; admins also manage registries and tokens and delete.
"""

from __future__ import annotations

from packyard.core.models import USER_KIND, Principal
from packyard.core.scopes import Scope

MEMBER_SCOPES = frozenset({Scope.READ_REGISTRIES, Scope.READ_PACKAGES, Scope.WRITE_PACKAGES})
ADMIN_SCOPES = frozenset(Scope)


def user_principal(user_id: str, organization_id: str, *, admin: bool) -> Principal:
    """The Principal of a signed-in user acting in one organization."""
    return Principal(
        kind=USER_KIND,
        organization_id=organization_id,
        user_id=user_id,
        scopes=ADMIN_SCOPES if admin else MEMBER_SCOPES,
    )


def may(principal: Principal, scope: Scope, organization_id: str) -> bool:
    """Whether ``principal`` holds ``scope`` in the organization (for organization-wide
    actions such as creating registries or API tokens)."""
    return principal.organization_id == organization_id and scope in principal.scopes
