"""Who may do what: one decision over plain data, and one choice of the error to answer.

``allowed`` and ``allowed_in_organization`` are allow-lists: they name each kind of
principal that may act and deny every other, so a kind added later (a team, an OIDC
publisher) is refused everywhere until it is named here. ``denial`` picks what a refused
caller is told, per audience (``Disclosure``): "tell us who you are" (Unauthenticated),
"you may not know this exists" (NotFound) or "you are known but lack the scope"
(PermissionDenied). Services call ``require`` and ``require_in_organization``; nothing
else decides.
"""

from __future__ import annotations

import enum

from packyard.core.errors import NotFound, PackyardError, PermissionDenied, Unauthenticated
from packyard.core.models import Principal, PrincipalKind, Registry
from packyard.core.scopes import Scope

MEMBER_SCOPES = frozenset({Scope.READ_REGISTRIES, Scope.READ_PACKAGES, Scope.WRITE_PACKAGES})
ADMIN_SCOPES = frozenset(Scope)
# The kinds whose scopes apply to every registry of their organization.
_SCOPED_KINDS = frozenset({PrincipalKind.API_TOKEN, PrincipalKind.USER})


class Disclosure(enum.Enum):
    """What a refused caller may learn, per audience.

    ``INSTALLER``: pip, uv, the publishing tools and the web UI. A public registry is
    readable by anyone; an anonymous caller is asked to authenticate (401) even for a
    registry that does not exist, because pip retries with credentials only on 401 and a
    404 would send uv on to the next index. A registry token naming another registry of
    its organization is told it is read-only there (403): both publish doors answer this
    one table (``tests/test_access_matrix.py``).

    ``API``: the REST API. It never treats a registry as public, and what the token may
    not see (another organization's, or another registry than a registry token's own)
    answers 404 like a name that does not exist.
    """

    INSTALLER = "installer"
    API = "api"


def user_principal(user_id: str, organization_id: str, *, admin: bool) -> Principal:
    """The Principal of a signed-in user acting in one organization: members publish and
    read; admins also manage registries and tokens and delete."""
    return Principal(
        kind=PrincipalKind.USER,
        organization_id=organization_id,
        user_id=user_id,
        scopes=ADMIN_SCOPES if admin else MEMBER_SCOPES,
    )


# The command line: whoever runs it holds the database itself, so it may do anything.
OPERATOR = Principal(kind=PrincipalKind.OPERATOR, scopes=ADMIN_SCOPES)


def allowed_in_organization(principal: Principal, scope: Scope, organization_id: str) -> bool:
    """Whether ``principal`` holds ``scope`` across the organization (listing and creating
    registries, organization tokens)."""
    if principal.kind is PrincipalKind.OPERATOR:
        return True
    return (
        principal.kind in _SCOPED_KINDS
        and principal.organization_id == organization_id
        and scope in principal.scopes
    )


def allowed(
    principal: Principal,
    scope: Scope,
    registry: Registry,
    disclosure: Disclosure = Disclosure.INSTALLER,
) -> bool:
    """Whether ``principal`` may use ``scope`` on ``registry``; the REST API
    (``Disclosure.API``) does not count a registry's being public."""
    if scope is Scope.READ_PACKAGES and registry.public and disclosure is Disclosure.INSTALLER:
        return True
    if principal.kind is PrincipalKind.OIDC:
        # The scopes of the policy statement that matched, on that registry only.
        return (registry.id, scope) in principal.grants
    if principal.kind is PrincipalKind.REGISTRY_TOKEN:
        return (
            scope is Scope.READ_PACKAGES
            and principal.organization_id == registry.organization_id
            and principal.registry_id == registry.id
        )
    return allowed_in_organization(principal, scope, registry.organization_id)


def require(principal: Principal, scope: Scope, registry: Registry, disclosure: Disclosure) -> None:
    """Raise ``denial`` unless ``principal`` may use ``scope`` on ``registry``."""
    if not allowed(principal, scope, registry, disclosure):
        raise denial(principal, scope, registry, disclosure)


def require_in_organization(
    principal: Principal,
    scope: Scope,
    organization_id: str,
    organization_slug: str,
    disclosure: Disclosure,
) -> None:
    """Raise unless ``principal`` holds ``scope`` across the organization. Outsiders get
    404 from the REST API and 403 from the web UI, where the organization is no secret."""
    if allowed_in_organization(principal, scope, organization_id):
        return
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise authentication_required(disclosure)
    if principal.organization_id != organization_id:
        if disclosure is Disclosure.API:
            raise NotFound(f"No organization {organization_slug!r}")
        raise PermissionDenied(f"Only organization members with {scope.value} may do this")
    raise _lacking(principal, scope)


def denial(
    principal: Principal, scope: Scope, registry: Registry, disclosure: Disclosure
) -> PackyardError:
    """The error for a caller refused ``scope`` on ``registry``. (For a name that does
    not exist, callers raise ``authentication_required`` to the anonymous and their
    NotFound to everyone else, which is what a registry they may not see answers.)"""
    if principal.kind is PrincipalKind.ANONYMOUS:
        return authentication_required(disclosure)
    if principal.kind is PrincipalKind.OIDC:
        return _oidc_denial(principal, scope, registry, disclosure)
    if principal.organization_id != registry.organization_id:
        return _no_registry(registry)
    if principal.kind is PrincipalKind.REGISTRY_TOKEN and principal.registry_id != registry.id:
        if disclosure is Disclosure.API:
            return _no_registry(registry)
        return PermissionDenied("This registry token grants read access to another registry only")
    return _lacking(principal, scope)


def authentication_required(disclosure: Disclosure) -> Unauthenticated:
    if disclosure is Disclosure.API:
        return Unauthenticated("Authentication required: send Authorization: Bearer TOKEN")
    return Unauthenticated("Authentication required: send a token as the password")


def _lacking(principal: Principal, scope: Scope) -> PermissionDenied:
    if principal.kind is PrincipalKind.REGISTRY_TOKEN:
        return PermissionDenied(
            f"Registry tokens are read-only; use an API token with the {scope.value} scope"
        )
    if principal.kind is PrincipalKind.USER:
        return PermissionDenied(f"Your role in this organization lacks the {scope.value} scope")
    if principal.kind is PrincipalKind.API_TOKEN:
        return PermissionDenied(f"This token lacks the {scope.value} scope")
    return PermissionDenied(f"This kind of caller may not use the {scope.value} scope")


def _oidc_denial(
    principal: Principal, scope: Scope, registry: Registry, disclosure: Disclosure
) -> PackyardError:
    if all(registry_id != registry.id for registry_id, _ in principal.grants):
        if disclosure is Disclosure.API:
            return _no_registry(registry)
        return PermissionDenied(
            "This OIDC token is for another registry: its audience (or, for a minted "
            "token, the registries whose policy matched) does not include this one"
        )
    return PermissionDenied(
        f"The OIDC policy statement that matched this token lacks the {scope.value} scope"
    )


def _no_registry(registry: Registry) -> NotFound:
    # The same message as for a name that does not exist (RegistryService.find_registry).
    return NotFound(f"No registry {registry.slug!r} in organization {registry.organization_slug!r}")
