"""The registries page of an organization, the New registry form, and a registry's page
with its tabs: Releases, Publish Instructions (source), Upstreams (composite), Installation
and Settings; see ``REGISTRY_TABS`` and ``templates/registry.html``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.core.composite import CompositeSpec
from packyard.core.errors import NotFound, ValidationFailed
from packyard.core.models import AccessLevel, Organization, Principal, Registry, RegistryType
from packyard.core.permissions import allowed, allowed_in_organization
from packyard.core.registries import RegistryFields
from packyard.core.scopes import Scope
from packyard.core.simple_api import PYPI_UPSTREAM
from packyard.core.snippets import (
    TOKEN_PLACEHOLDER,
    RegistryAddress,
    install_snippets,
    publish_snippets,
)
from packyard.services.tokens import IssuedToken
from packyard.web.deps import base_url, services_of
from packyard.web.ui.common import (
    PageRoute,
    Visitor,
    checked_form,
    field,
    principal_in,
    redirect,
    render,
    visitor_of,
)
from packyard.web.ui.retention_view import retention_view
from packyard.web.ui.teams import registry_teams

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ORG_PATH = "/organizations/{organization}/packages"
REGISTRY_PATH = ORG_PATH + "/registries/{registry}"
# (key, title, for which registry types)
REGISTRY_TABS = (
    ("releases", "Releases", (RegistryType.SOURCE, RegistryType.COMPOSITE)),
    ("publish", "Publish Instructions", (RegistryType.SOURCE,)),
    ("upstreams", "Upstreams", (RegistryType.COMPOSITE,)),
    ("install", "Installation", (RegistryType.SOURCE, RegistryType.COMPOSITE)),
    ("settings", "Settings", (RegistryType.SOURCE, RegistryType.COMPOSITE)),
    ("retention", "Retention", (RegistryType.SOURCE,)),
)
# Tabs only for those with full access to the registry (write_registries).
MANAGERS_TABS = frozenset({"retention"})
MAX_CURSOR = 2**62


def registry_url(registry: Registry) -> str:
    return f"/organizations/{registry.organization_slug}/packages/registries/{registry.slug}"


@dataclass(frozen=True, slots=True)
class UpstreamsView:
    """A composite's ordered upstreams and the source registries that could be added."""

    slugs: list[str]
    addable: list[str]
    has_pypi: bool


async def _upstreams_view(request: Request, registry: Registry) -> UpstreamsView | None:
    if registry.type is not RegistryType.COMPOSITE:
        return None
    services = services_of(request)
    settings = await run_in_threadpool(services.composites.settings, registry)
    slugs = [u.slug for u in settings.upstreams]
    every = await run_in_threadpool(services.registries.list_registries, registry.organization_slug)
    addable = [r.slug for r in every if r.type is RegistryType.SOURCE and r.slug not in slugs]
    return UpstreamsView(slugs, addable, PYPI_UPSTREAM in slugs)


@dataclass(frozen=True, slots=True)
class FirstRegistry:
    """How to create an organization's first registry, shown where there is none."""

    cli: str
    rest: str

    @classmethod
    def of(cls, base: str, organization: str) -> FirstRegistry:
        rest = (
            f"curl -X POST {base}/v2/packages/organizations/{organization}/registries \\\n"
            f'  -H "Authorization: Bearer {TOKEN_PLACEHOLDER}" '
            '-H "Content-Type: application/json" \\\n'
            """  -d '{"name": "Python packages", "ecosystem": "python"}'"""
        )
        return cls(f'packyard registry create {organization} "Python packages"', rest)


@dataclass(frozen=True, slots=True)
class RegistryPage:
    """Who may do what on a registry page."""

    can_manage: bool  # edit settings and tokens
    can_delete: bool


def form_of(values: Any) -> RegistryFields:
    """Every field of the New registry and Settings forms."""
    return RegistryFields.every(
        field(values, "name"),
        description=field(values, "description"),
        emoji=field(values, "emoji") or None,
        color=field(values, "color") or None,
        public=field(values, "visibility") == "public",
    )


async def _organization(request: Request, slug: str) -> Organization:
    registries = services_of(request).registries
    return await run_in_threadpool(registries.get_organization, slug)


async def _registries_page(
    request: Request,
    visitor: Visitor,
    organization: Organization,
    *,
    query: str = "",
    error: str | None = None,
    form: RegistryFields | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    principal = await principal_in(request, visitor, organization)
    every = await run_in_threadpool(services.registries.list_registries, organization.slug)
    readable = services.packages.readable(principal, every)
    member = visitor.signed_in is not None and visitor.signed_in.membership(organization.id)
    if not readable and not member:
        # Nothing here for this visitor: answered as a missing organization would be, so
        # that its existence and name stay private (security probe F9).
        raise NotFound(f"No organization {organization.slug!r}")
    needle = query.strip().lower()
    if needle:
        readable = [
            r for r in readable if needle in r.name.lower() or needle in r.description.lower()
        ]
    stats = await run_in_threadpool(services.packages.stats, readable)
    return render(
        request,
        visitor,
        "registries.html",
        status_code=status_code,
        organization=organization,
        registries=readable,
        stats=stats,
        query=query,
        can_create=allowed_in_organization(principal, Scope.WRITE_REGISTRIES, organization.id),
        sources=[r for r in every if r.type is RegistryType.SOURCE],
        first_registry=FirstRegistry.of(base_url(request), organization.slug),
        error=error,
        form=form or RegistryFields.every(""),
    )


@router.get(ORG_PATH)
async def registries_page(request: Request, organization: str, q: str = "") -> Response:
    visitor = await visitor_of(request)
    found = await _organization(request, organization)
    return await _registries_page(request, visitor, found, query=q)


@router.post(ORG_PATH + "/registries")
async def create_registry(request: Request, organization: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    found = await _organization(request, organization)
    principal = await principal_in(request, visitor, found)
    form = form_of(values)
    services = services_of(request)
    try:
        if field(values, "type") == RegistryType.COMPOSITE.value:
            upstreams = [v for v in values.getlist("upstream") if isinstance(v, str)]
            spec = CompositeSpec(replace(form, public=False), upstreams)
            created = await run_in_threadpool(
                services.composites.create, principal, found.slug, spec
            )
        else:
            created = await run_in_threadpool(
                services.registries.create, principal, found.slug, form
            )
    except ValidationFailed as error:
        return await _registries_page(
            request, visitor, found, error=error.message, form=form, status_code=422
        )
    return redirect(registry_url(created))


async def readable_registry(
    request: Request, visitor: Visitor, organization: str, registry: str
) -> tuple[Registry, Principal]:
    """The registry if the visitor may read it (else NotFound, or a sign-in redirect)."""
    found = await _organization(request, organization)
    principal = await principal_in(request, visitor, found)
    registries = services_of(request).registries
    target = await run_in_threadpool(
        registries.registry_for, principal, organization, registry, Scope.READ_PACKAGES
    )
    return target, principal


async def registry_page(
    request: Request,
    visitor: Visitor,
    registry: Registry,
    principal: Principal,
    *,
    tab: str = "releases",
    query: str = "",
    before: int | None = None,
    new_token: IssuedToken | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """Render the registry page; shared by the GET and by posts that show a result."""
    services = services_of(request)
    access = RegistryPage(
        can_manage=allowed(principal, Scope.WRITE_REGISTRIES, registry),
        can_delete=allowed(principal, Scope.DELETE_REGISTRIES, registry),
    )
    tabs = [
        (key, title)
        for key, title, types in REGISTRY_TABS
        # Settings also for those who may only delete the registry (a switch lets writers).
        if registry.type in types
        and (key != "settings" or access.can_manage or access.can_delete)
        and (key not in MANAGERS_TABS or access.can_manage)
    ]
    if tab not in {key for key, _ in tabs}:
        tab = "releases"
    page = await run_in_threadpool(
        lambda: services.packages.releases(registry, name_filter=query, before=before)
    )
    tokens = (
        (
            await run_in_threadpool(
                services.tokens.registry_tokens,
                principal,
                registry.organization_slug,
                registry.slug,
            )
        ).tokens
        if access.can_manage
        else []
    )
    address = RegistryAddress(base_url(request), registry.organization_slug, registry.slug)
    upstreams = await _upstreams_view(request, registry)
    team_grants = await registry_teams(request, registry, principal) if access.can_manage else None
    policy = (
        await run_in_threadpool(services.oidc.policy_text, registry) if access.can_manage else None
    )
    retention = (
        await retention_view(request, registry, principal, registry_url(registry))
        if any(key == "retention" for key, _ in tabs)
        else None
    )
    return render(
        request,
        visitor,
        "registry.html",
        status_code=status_code,
        registry=registry,
        registry_url=registry_url(registry),
        access=access,
        tabs=tabs,
        tab=tab,
        retention=retention,
        releases=page,
        query=query,
        paged=before is not None,
        install=install_snippets(address, public=registry.public),
        publish=publish_snippets(address),
        upstreams=upstreams,
        tokens=tokens,
        team_grants=team_grants,
        access_levels=[level.value for level in AccessLevel],
        new_token=new_token,
        error=error,
        oidc_policy=policy,
    )


@router.get(REGISTRY_PATH)
async def show_registry(
    request: Request,
    organization: str,
    registry: str,
    tab: str = "releases",
    q: str = "",
    before: int | None = None,
) -> Response:
    visitor = await visitor_of(request)
    target, principal = await readable_registry(request, visitor, organization, registry)
    cursor = before if before is not None and 0 < before < MAX_CURSOR else None
    return await registry_page(
        request, visitor, target, principal, tab=tab, query=q[:200], before=cursor
    )
