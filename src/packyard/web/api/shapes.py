"""JSON shapes of the REST API's objects, built from ``core.models`` and a base URL."""

from __future__ import annotations

from typing import Any

from packyard.core.models import PackageFile, Registry


def organization_json(base: str, registry: Registry) -> dict[str, Any]:
    slug = registry.organization_slug
    return {
        "id": registry.organization_id,
        "slug": slug,
        "url": f"{base}/v2/organizations/{slug}",
        "web_url": f"{base}/organizations/{slug}",
    }


def registry_urls(base: str, registry: Registry) -> tuple[str, str]:
    org = registry.organization_slug
    return (
        f"{base}/v2/packages/organizations/{org}/registries/{registry.slug}",
        f"{base}/organizations/{org}/packages/registries/{registry.slug}",
    )


def registry_ref_json(base: str, registry: Registry) -> dict[str, Any]:
    url, web_url = registry_urls(base, registry)
    return {"id": registry.id, "slug": registry.slug, "url": url, "web_url": web_url}


def package_json(base: str, registry: Registry, package: PackageFile) -> dict[str, Any]:
    registry_url, registry_web_url = registry_urls(base, registry)
    digests = package.digests
    return {
        "id": package.id,
        "url": f"{registry_url}/packages/{package.id}",
        "web_url": f"{registry_web_url}/packages/{package.id}",
        "name": package.name,
        "version": package.version,
        "filename": package.filename,
        "size": package.size,
        "created_at": package.created_at.isoformat().replace("+00:00", "Z"),
        "digests": {
            "md5": digests.md5,
            "sha1": digests.sha1,
            "sha256": digests.sha256,
            "sha512": digests.sha512,
            "blake2b_256": digests.blake2b_256,
        },
        "organization": organization_json(base, registry),
        "registry": registry_ref_json(base, registry),
    }
