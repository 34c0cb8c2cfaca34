"""Who may do what: pure functions over a Principal and a Registry.

Decisions are made here and nowhere else. Services ask ``check_*`` before acting; the
answers distinguish "you may not know this exists" (NotFound) from "you are known but lack
the scope" (PermissionDenied) from "tell us who you are" (Unauthenticated).
"""

from __future__ import annotations

import enum

from packyard.core.errors import NotFound, PermissionDenied, Unauthenticated
from packyard.core.models import (
    API_TOKEN_KIND,
    REGISTRY_TOKEN_KIND,
    USER_KIND,
    Principal,
    Registry,
)
from packyard.core.scopes import Scope


class Action(enum.Enum):
    READ_PACKAGES = Scope.READ_PACKAGES
    WRITE_PACKAGES = Scope.WRITE_PACKAGES
    DELETE_PACKAGES = Scope.DELETE_PACKAGES
    READ_REGISTRIES = Scope.READ_REGISTRIES
    WRITE_REGISTRIES = Scope.WRITE_REGISTRIES
    DELETE_REGISTRIES = Scope.DELETE_REGISTRIES


def belongs_to_organization(principal: Principal, organization_id: str) -> bool:
    return principal.organization_id == organization_id


def allowed(principal: Principal, action: Action, registry: Registry) -> bool:
    """Whether ``principal`` may perform ``action`` on ``registry``."""
    if action is Action.READ_PACKAGES and registry.public:
        return True
    if not belongs_to_organization(principal, registry.organization_id):
        return False
    if principal.kind == REGISTRY_TOKEN_KIND:
        return action is Action.READ_PACKAGES and principal.registry_id == registry.id
    if principal.kind in (API_TOKEN_KIND, USER_KIND):
        return action.value in principal.scopes
    return False


def check_registry_access(principal: Principal, action: Action, registry: Registry) -> None:
    """Raise unless ``principal`` may perform ``action`` on ``registry``.

    Anonymous callers are asked to authenticate (401) rather than told the registry is
    missing: pip retries with credentials only on 401, and a 404 would send uv to the next
    index. A token of another organization learns nothing (404). A known caller of this
    organization without the right scope gets 403.
    """
    if allowed(principal, action, registry):
        return
    if principal.is_anonymous:
        raise Unauthenticated("Authentication required: send a token as the password")
    if not belongs_to_organization(principal, registry.organization_id):
        raise NotFound(
            f"No registry {registry.slug!r} in organization {registry.organization_slug!r}"
        )
    if principal.kind == REGISTRY_TOKEN_KIND:
        if principal.registry_id != registry.id:
            raise PermissionDenied(
                "This registry token grants read access to another registry only"
            )
        raise PermissionDenied(
            f"Registry tokens are read-only; use an API token with the {action.value.value} scope"
        )
    raise PermissionDenied(f"This token lacks the {action.value.value} scope")


# The REST API. Every call needs a credential of the organization: an unknown organization
# and one the caller does not belong to look the same (404), and so do registries a
# registry token may not see. Public registries are public to installers only.


def check_organization_access(
    principal: Principal, action: Action, organization_id: str, organization_slug: str
) -> None:
    """Raise unless ``principal`` may perform the organization-wide ``action`` (such as
    listing or creating registries) in the organization."""
    _check_api_caller(principal, organization_id, f"No organization {organization_slug!r}")
    if principal.kind != API_TOKEN_KIND:
        raise PermissionDenied(
            f"Registry tokens only read packages; use an API token with the "
            f"{action.value.value} scope"
        )
    if action.value not in principal.scopes:
        raise PermissionDenied(f"This token lacks the {action.value.value} scope")


def check_api_registry_access(principal: Principal, action: Action, registry: Registry) -> None:
    """Raise unless ``principal`` may perform ``action`` on ``registry`` through the REST
    API: Unauthenticated without a credential, NotFound when the registry is not visible
    to the caller, PermissionDenied when it is visible but the scope is missing."""
    # The same message as for a registry that does not exist.
    not_found = f"No registry {registry.slug!r} in organization {registry.organization_slug!r}"
    _check_api_caller(principal, registry.organization_id, not_found)
    if principal.kind == REGISTRY_TOKEN_KIND and principal.registry_id != registry.id:
        raise NotFound(not_found)
    if principal.kind == REGISTRY_TOKEN_KIND and action is not Action.READ_PACKAGES:
        raise PermissionDenied(
            f"Registry tokens are read-only; use an API token with the {action.value.value} scope"
        )
    if principal.kind == API_TOKEN_KIND and action.value not in principal.scopes:
        raise PermissionDenied(f"This token lacks the {action.value.value} scope")


def _check_api_caller(principal: Principal, organization_id: str, not_found: str) -> None:
    if principal.is_anonymous:
        raise Unauthenticated("Authentication required: send Authorization: Bearer TOKEN")
    if not belongs_to_organization(principal, organization_id):
        raise NotFound(not_found)
