"""Packages of a registry: publish with ``curl -F file=@dist.whl``, list newest first with
cursor pages, get every detail, delete, and copy into another registry."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from packyard.core.errors import InvalidRequest
from packyard.core.models import Principal, Registry
from packyard.core.permissions import Disclosure, authentication_required
from packyard.services.packages import DEFAULT_PER_PAGE, MAX_PER_PAGE, PackagePage, PackageQuery
from packyard.services.publishing import PublishResult
from packyard.web.api import schemas
from packyard.web.api.common import CONFLICT, ERRORS, PREFIX, Caller, bearer, operation_id
from packyard.web.api.shapes import package_out, package_summary, published_package
from packyard.web.auth import authorized
from packyard.web.deps import base_url, services_of
from packyard.web.multipart import ReceivedForm, receive_form_then

router = APIRouter(
    prefix=f"{PREFIX}/registries/{{registry}}/packages",
    tags=["packages"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)

FILE_FIELD = "file"
# PEP 740 attestations of the file (a JSON array of attestation objects, one object, or a
# Sigstore bundle), verified before anything is stored.
ATTESTATION_FIELD = "attestation_bundle"
CURSOR_PATTERN = r"^[0-9]{1,18}$"

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {"type": "string", "format": "binary"},
                        ATTESTATION_FIELD: {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


async def _publish_target(
    request: Request,
    organization: str,
    registry: str,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> tuple[Registry, Principal]:
    """The registry to publish into and who publishes. The
    caller is authenticated and authorized in one worker-thread trip
    (``web.auth.authorized``), before the body is read. As on every REST route, an
    anonymous caller is asked for a Bearer token."""
    services = services_of(request)

    def authorize(principal: Principal) -> tuple[Registry, Principal]:
        if principal.is_anonymous:
            raise authentication_required(Disclosure.API)
        return services.publishing.authorize(principal, organization, registry), principal

    return await authorized(request, services.tokens, authorize)


PublishTarget = Annotated[tuple[Registry, Principal], Depends(_publish_target)]


@router.post(
    "",
    summary="Publish a wheel or sdist (write_packages)",
    description="Send the file as multipart form field `file`, and optionally its PEP 740 "
    "attestations as `attestation_bundle` (verified; 400 when they do not verify). "
    "Publishing the same bytes again answers the existing package; other bytes under a "
    "taken name answer 409.",
    openapi_extra=_UPLOAD_BODY,
    responses={
        **CONFLICT,
        413: {"model": schemas.ErrorBody, "description": "Past the upload size limit"},
        507: {"model": schemas.ErrorBody, "description": "No room left to store it"},
    },
)
async def publish_package(
    request: Request, organization: str, registry: str, target: PublishTarget
) -> schemas.PublishedPackage:
    publishing = services_of(request).publishing
    found, principal = target

    def publish(form: ReceivedForm) -> PublishResult:
        if form.file is None:
            raise InvalidRequest('No file in the request: send it as the form field "file"')
        attestations = form.get(ATTESTATION_FIELD)
        return publishing.publish(found, form.file, attestations=attestations or None, by=principal)

    # The body's last bytes are parsed and the file published in one worker-thread trip.
    result = await receive_form_then(
        request,
        publishing.staging,
        frozenset({FILE_FIELD}),
        publish,
        frozenset({ATTESTATION_FIELD}),
    )
    return published_package(base_url(request), found, result.package)


Cursor = Annotated[
    str | None,
    Query(
        pattern=CURSOR_PATTERN,
        description="A cursor from a `links` URL; `before` pages to newer packages, `after` "
        "to older ones",
    ),
]


@router.get("", summary="List packages, newest first (read_packages)")
async def list_packages(
    request: Request,
    organization: str,
    registry: str,
    principal: Caller,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE,
    before: Cursor = None,
    after: Cursor = None,
    name: Annotated[
        str | None, Query(max_length=200, description="A project name (normalised match)")
    ] = None,
    version: Annotated[str | None, Query(max_length=200, description="A version")] = None,
) -> schemas.PackageList:
    query = PackageQuery(
        per_page=per_page,
        before=None if before is None else int(before),
        after=None if after is None else int(after),
        name=name,
        version=version,
    )
    packages = services_of(request).packages
    page = await run_in_threadpool(
        packages.list_packages, principal, organization, registry, query, Disclosure.API
    )
    return _package_list(request, page, query)


def _package_list(request: Request, page: PackagePage, query: PackageQuery) -> schemas.PackageList:
    base = base_url(request)
    filters: dict[str, str | int] = {}
    if query.per_page != DEFAULT_PER_PAGE:
        filters["per_page"] = query.per_page
    if query.name is not None:
        filters["name"] = query.name
    if query.version is not None:
        filters["version"] = query.version
    url = f"{base}{request.url.path}"

    def link(**cursor: int | None) -> str:
        params = {**filters, **{k: v for k, v in cursor.items() if v is not None}}
        return f"{url}?{urlencode(params)}" if params else url

    return schemas.PackageList(
        items=[package_summary(base, page.registry, p) for p in page.items],
        links=schemas.Links(
            self=link(before=query.before, after=query.after),
            next=None if page.next_cursor is None else link(after=page.next_cursor),
            prev=None if page.prev_cursor is None else link(before=page.prev_cursor),
        ),
    )


@router.get("/{package_id}", summary="Get a package with every detail (read_packages)")
async def get_package(
    request: Request, organization: str, registry: str, package_id: str, principal: Caller
) -> schemas.PackageOut:
    packages = services_of(request).packages
    details = await run_in_threadpool(
        packages.package, principal, organization, registry, package_id, Disclosure.API
    )
    return package_out(base_url(request), details)


@router.delete("/{package_id}", summary="Delete a package (delete_packages)")
async def delete_package(
    request: Request, organization: str, registry: str, package_id: str, principal: Caller
) -> schemas.Deleted:
    packages = services_of(request).packages
    await run_in_threadpool(
        packages.delete_package, principal, organization, registry, package_id, Disclosure.API
    )
    return schemas.Deleted(id=package_id)


@router.post(
    "/{package_id}/copy",
    summary="Copy a package into another registry (read_packages and write_packages)",
    description="The copy shares the stored bytes. If the destination already has the "
    "file with the same bytes, the existing package is answered; other bytes answer 409.",
    responses=CONFLICT,
)
async def copy_package(
    request: Request,
    organization: str,
    registry: str,
    package_id: str,
    principal: Caller,
    to: Annotated[str, Query(min_length=1, max_length=100, description="Destination slug")],
) -> schemas.PackageOut:
    packages = services_of(request).packages
    result = await run_in_threadpool(
        packages.copy_package, principal, organization, registry, package_id, to, Disclosure.API
    )
    return package_out(base_url(request), result.details)
