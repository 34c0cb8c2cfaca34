"""Who may do what: one decision over plain data, and one choice of the error to answer.

``allowed`` and ``allowed_in_organization`` are allow-lists: they name each kind of
principal that may act and deny every other, so a kind added later (a team, an OIDC
publisher) is refused everywhere until it is named here. ``denial`` picks what a refused
caller is told, per audience (``Disclosure``): "tell us who you are" (Unauthenticated),
"you may not know this exists" (NotFound) or "you are known but lack the scope"
(PermissionDenied). Services call ``require``, ``require_in_organization`` and
``require_on_team``; nothing else decides.

A person (a signed-in user, or an API token acting for one) carries ``MemberAccess``: their
role, the organization's switches and their teams' access levels. Admins reach everything;
with teams off every member holds ``read_and_write`` on every registry (the behaviour
before teams); with teams on, the best level their teams were granted, or nothing. A token
acting for a person may do what its scopes **and** its owner may (both are checked here).
The table is docs/security.md, "Teams and access levels".
"""

from __future__ import annotations

import enum

from packyard.core.errors import NotFound, PackyardError, PermissionDenied, Unauthenticated
from packyard.core.models import (
    LEVEL_ORDER,
    AccessLevel,
    MemberAccess,
    OrganizationSwitches,
    Principal,
    PrincipalKind,
    Registry,
    Team,
    TeamPrivacy,
)
from packyard.core.scopes import Scope

# A signed-in person holds every scope; their MemberAccess narrows it.
USER_SCOPES = frozenset(Scope)
ADMIN_SCOPES = frozenset(Scope)
# The level each scope needs on a registry; deletes also count the switches (below).
_LEVEL_NEEDED = {
    Scope.READ_REGISTRIES: AccessLevel.READ_ONLY,
    Scope.READ_PACKAGES: AccessLevel.READ_ONLY,
    Scope.READ_TEAMS: AccessLevel.READ_ONLY,
    Scope.WRITE_PACKAGES: AccessLevel.READ_AND_WRITE,
    Scope.WRITE_REGISTRIES: AccessLevel.FULL,
    Scope.WRITE_TEAMS: AccessLevel.FULL,
    Scope.DELETE_PACKAGES: AccessLevel.FULL,
    Scope.DELETE_REGISTRIES: AccessLevel.FULL,
    Scope.READ_AUDIT_EVENTS: AccessLevel.FULL,  # organization-wide: admins only
}
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


def user_principal(
    user_id: str, organization_id: str, *, admin: bool, member: MemberAccess | None = None
) -> Principal:
    """The Principal of a signed-in user acting in one organization; their ``member``
    standing decides (without one: the default switches and no teams)."""
    if member is None:
        member = MemberAccess(admin=admin, switches=OrganizationSwitches(), levels={})
    return Principal(
        kind=PrincipalKind.USER,
        organization_id=organization_id,
        user_id=user_id,
        scopes=USER_SCOPES,
        member=member,
    )


# The command line: whoever runs it holds the database itself, so it may do anything.
OPERATOR = Principal(kind=PrincipalKind.OPERATOR, scopes=ADMIN_SCOPES)


def is_admin(principal: Principal) -> bool:
    """An organization admin, or an organization token (which has no owner to narrow it)
    holding ``write_registries``: who sees every token and team."""
    if principal.kind is PrincipalKind.OPERATOR:
        return True
    if principal.kind not in _SCOPED_KINDS:
        return False
    if principal.member is None:
        return principal.kind is PrincipalKind.API_TOKEN and Scope.WRITE_REGISTRIES in (
            principal.scopes
        )
    return principal.member.admin


def require_admin(
    principal: Principal, scope: Scope, organization_id: str, organization_slug: str
) -> None:
    """Raise unless ``principal`` administers the organization (its switches, its users):
    an admin, or an organization token, holding ``scope``."""
    require_in_organization(principal, scope, organization_id, organization_slug, Disclosure.API)
    if principal.member is not None and not principal.member.admin:
        raise PermissionDenied("Only organization admins may do this")


def useful_scopes(principal: Principal) -> frozenset[Scope]:
    """The scopes ``principal`` could use somewhere: what a token they make may carry
    (and what the tokens page offers)."""
    member = principal.member
    if member is None or member.admin:
        return principal.scopes
    full = member.switches.teams_enabled and AccessLevel.FULL in member.levels.values()
    wanted = {Scope.READ_REGISTRIES, Scope.READ_PACKAGES, Scope.READ_TEAMS, Scope.WRITE_PACKAGES}
    if full or member.switches.members_can_create_registries:
        wanted.add(Scope.WRITE_REGISTRIES)
    if full or member.switches.members_can_delete_packages:
        wanted.add(Scope.DELETE_PACKAGES)
    if full or member.switches.members_can_delete_registries:
        wanted.add(Scope.DELETE_REGISTRIES)
    if full or member.maintained:
        wanted.add(Scope.WRITE_TEAMS)
    return frozenset(wanted) & principal.scopes


def _holds(principal: Principal, scope: Scope, organization_id: str) -> bool:
    """The scope itself: the caller's kind, organization and scopes."""
    if principal.kind is PrincipalKind.OPERATOR:
        return True
    return (
        principal.kind in _SCOPED_KINDS
        and principal.organization_id == organization_id
        and scope in principal.scopes
    )


def allowed_in_organization(principal: Principal, scope: Scope, organization_id: str) -> bool:
    """Whether ``principal`` holds ``scope`` across the organization (listing and creating
    registries and teams, organization tokens). Members list what they may see (the
    services filter each item with ``allowed``), create registries when the switch allows,
    and leave creating teams and organization-wide deletes to admins."""
    if not _holds(principal, scope, organization_id):
        return False
    member = principal.member
    if member is None or member.admin:
        return True
    if scope is Scope.WRITE_REGISTRIES:
        return member.switches.members_can_create_registries
    return scope in (Scope.READ_REGISTRIES, Scope.READ_PACKAGES, Scope.READ_TEAMS)


def level_on(member: MemberAccess, registry_id: str) -> AccessLevel | None:
    """The level a member holds on a registry: full for admins, read and write for
    everyone with teams off, else the best their teams were granted."""
    if member.admin:
        return AccessLevel.FULL
    if not member.switches.teams_enabled:
        return AccessLevel.READ_AND_WRITE
    return member.levels.get(registry_id)


def _level_allows(member: MemberAccess, level: AccessLevel | None, scope: Scope) -> bool:
    if level is None:
        return False
    rank = LEVEL_ORDER.index(level)
    if rank >= LEVEL_ORDER.index(_LEVEL_NEEDED[scope]):
        return True
    # The switches let writers delete what full access alone could.
    writer = rank >= LEVEL_ORDER.index(AccessLevel.READ_AND_WRITE)
    if scope is Scope.DELETE_PACKAGES:
        return writer and member.switches.members_can_delete_packages
    if scope is Scope.DELETE_REGISTRIES:
        return writer and member.switches.members_can_delete_registries
    return False


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
    if not _holds(principal, scope, registry.organization_id):
        return False
    member = principal.member
    return member is None or _level_allows(member, level_on(member, registry.id), scope)


def allowed_on_team(principal: Principal, scope: Scope, team: Team) -> bool:
    """Whether ``principal`` may see (``read_teams``) or manage (``write_teams``: edit,
    members, grants) ``team``. Secret teams are seen by their members and admins only;
    maintainers manage their team, admins every team."""
    if not _holds(principal, scope, team.organization_id):
        return False
    member = principal.member
    if member is None or member.admin:
        return True
    if scope is Scope.READ_TEAMS:
        return team.privacy is TeamPrivacy.VISIBLE or team.id in member.teams
    return scope is Scope.WRITE_TEAMS and team.id in member.maintained


def require_on_team(principal: Principal, scope: Scope, team: Team) -> None:
    """Raise unless ``principal`` may use ``scope`` on ``team``: NotFound for a team the
    caller may not see, PermissionDenied for one they see but may not manage."""
    if allowed_on_team(principal, scope, team):
        return
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise authentication_required(Disclosure.API)
    if not allowed_on_team(principal, Scope.READ_TEAMS, team) and scope is not Scope.READ_TEAMS:
        raise NotFound(f"No team {team.slug!r}")
    if scope is Scope.READ_TEAMS:
        raise NotFound(f"No team {team.slug!r}")
    if principal.member is not None and scope in principal.scopes:
        raise PermissionDenied("Only the team's maintainers and organization admins may do this")
    raise _lacking(principal, scope)


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
    member = principal.member
    # A member whose teams were not granted it may not learn a private registry exists.
    unseen = member is not None and level_on(member, registry.id) is None
    if unseen and not (registry.public and disclosure is Disclosure.INSTALLER):
        return _no_registry(registry)
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
    if principal.kind is PrincipalKind.USER or (
        principal.member is not None and scope in principal.scopes
    ):
        return PermissionDenied(_member_lacks(scope))
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


def _member_lacks(scope: Scope) -> str:
    if scope is Scope.WRITE_REGISTRIES:
        return (
            "You need full access (read_write_and_admin) to this registry, or to be an "
            "organization admin; creating registries needs the organization's permission"
        )
    if scope in (Scope.DELETE_PACKAGES, Scope.DELETE_REGISTRIES):
        return (
            f"{scope.value}: you need full access to this registry, or the organization "
            "must let members delete"
        )
    if scope is Scope.WRITE_TEAMS:
        return "Only organization admins and the team's maintainers may manage teams"
    return f"Your teams' access to this registry does not include {scope.value}"
