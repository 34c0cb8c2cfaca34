"""The package page (About this version, the details block, tabs Installation, Contents,
Details and Attestations), its Download button and Delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.core.lifecycle import ProjectStatus
from packyard.core.permissions import allowed
from packyard.core.publishers import describe_publisher
from packyard.core.scopes import Scope
from packyard.core.snippets import RegistryAddress, install_snippets
from packyard.services.lifecycle import REGISTRY_ADMIN_SCOPES
from packyard.web.deps import base_url, services_of
from packyard.web.simple.files import file_response
from packyard.web.ui.common import PageRoute, checked_form, redirect, render, visitor_of
from packyard.web.ui.presenting import ReadmeRenderer, member_tree, safe_url
from packyard.web.ui.registries import REGISTRY_PATH, readable_registry, registry_url

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PACKAGE_PATH = REGISTRY_PATH + "/packages/{package_id}"
PACKAGE_TABS = (
    ("install", "Installation"),
    ("contents", "Contents"),
    ("details", "Details"),
    ("attestations", "Attestations"),
)
# Where a person looks up a Rekor entry by its log index.
REKOR_SEARCH = "https://search.sigstore.dev/?logIndex="
LICENSE_CLASSIFIER = "License :: "


def _licenses(metadata: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key in ("license_expression", "license"):
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            # A whole license text sometimes sits in License: show its first line.
            found.append(value.strip().splitlines()[0][:200])
            break
    for classifier in metadata.get("classifiers") or []:
        if isinstance(classifier, str) and classifier.startswith(LICENSE_CLASSIFIER):
            found.append(classifier.rsplit(" :: ", 1)[-1])
    return list(dict.fromkeys(found))


def _homepage(metadata: dict[str, Any]) -> str | None:
    urls = metadata.get("project_urls") or {}
    candidates = [metadata.get("homepage")]
    if isinstance(urls, dict):
        candidates += [v for k, v in urls.items() if str(k).lower() in ("homepage", "home")]
    return next((url for url in map(safe_url, candidates) if url), None)


def _project_links(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    urls = metadata.get("project_urls") or {}
    if not isinstance(urls, dict):
        return []
    return [(str(k), url) for k, v in urls.items() if (url := safe_url(v))]


@router.get(PACKAGE_PATH)
async def show_package(
    request: Request, organization: str, registry: str, package_id: str, tab: str = "install"
) -> Response:
    visitor = await visitor_of(request)
    target, principal = await readable_registry(request, visitor, organization, registry)
    services = services_of(request)
    detail = await run_in_threadpool(
        services.packages.package, principal, organization, registry, package_id
    )
    package, metadata = detail.package, detail.metadata
    readmes: ReadmeRenderer = request.app.state.ui_readmes
    readme = await run_in_threadpool(
        readmes.render,
        package.id,
        detail.description,
        metadata.get("description_content_type"),
    )
    requirement = f"{package.name}=={package.version}"
    status = await run_in_threadpool(
        services.lifecycle.project_status, principal, organization, registry, package.project
    )
    return render(
        request,
        visitor,
        "package.html",
        registry=target,
        registry_url=registry_url(target),
        detail=detail,
        package=package,
        metadata=metadata,
        readme=readme,
        homepage=_homepage(metadata),
        project_links=_project_links(metadata),
        licenses=_licenses(metadata),
        same_version=[s for s in detail.siblings if s.version == package.version],
        tree=member_tree(detail.members),
        tabs=PACKAGE_TABS,
        tab=tab if tab in {k for k, _ in PACKAGE_TABS} else "install",
        install=install_snippets(
            RegistryAddress(base_url(request), target.organization_slug, target.slug),
            public=target.public,
            requirement=requirement,
        ),
        can_delete=allowed(principal, Scope.DELETE_PACKAGES, target),
        project_status=status,
        statuses=[s.value for s in ProjectStatus],
        can_set_status=all(allowed(principal, s, target) for s in REGISTRY_ADMIN_SCOPES),
        published_by=package.published_by and describe_publisher(package.published_by),
        rekor_search=REKOR_SEARCH,
    )


@router.get(PACKAGE_PATH + "/download")
async def download_package(
    request: Request, organization: str, registry: str, package_id: str
) -> Response:
    visitor = await visitor_of(request)
    target, _principal = await readable_registry(request, visitor, organization, registry)
    downloads = services_of(request).downloads
    download = await run_in_threadpool(downloads.locate_package, target, package_id)
    downloads.count(download, method=request.method, ranged="range" in request.headers)
    small = request.app.state.small_files
    return await file_response(request, downloads, download, public=False, small=small)


@router.post(PACKAGE_PATH + "/delete")
async def delete_package(
    request: Request, organization: str, registry: str, package_id: str
) -> Response:
    visitor = await visitor_of(request)
    await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    packages = services_of(request).packages
    await run_in_threadpool(packages.delete_package, principal, organization, registry, package_id)
    return redirect(registry_url(target))
