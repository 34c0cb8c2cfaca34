"""The REST API's objects, built from ``core`` and service data and a base URL.

URLs follow Buildkite's: ``{base}/v2/packages/organizations/{org}/registries/{registry}``
for the API, ``{base}/organizations/{org}/packages/registries/{registry}`` for pages.
"""

from __future__ import annotations

from typing import Any

from packyard.core.models import PackageFile, Publisher, Registry, Token
from packyard.core.publishers import describe_publisher
from packyard.core.snippets import (
    TOKEN_PLACEHOLDER,
    TOKEN_VARIABLE,
    USER_NAME,
    RegistryAddress,
    Snippet,
    install_snippets,
    publish_snippets,
)
from packyard.services.packages import PackageDetails
from packyard.web.api import schemas


def organization_ref(base: str, registry: Registry) -> schemas.OrganizationRef:
    slug = registry.organization_slug
    return schemas.OrganizationRef(
        id=registry.organization_id,
        slug=slug,
        url=f"{base}/v2/organizations/{slug}",
        web_url=f"{base}/organizations/{slug}",
    )


def registry_urls(base: str, registry: Registry) -> tuple[str, str]:
    org = registry.organization_slug
    return (
        f"{base}/v2/packages/organizations/{org}/registries/{registry.slug}",
        f"{base}/organizations/{org}/packages/registries/{registry.slug}",
    )


def registry_ref(base: str, registry: Registry) -> schemas.RegistryRef:
    url, web_url = registry_urls(base, registry)
    return schemas.RegistryRef(id=registry.id, slug=registry.slug, url=url, web_url=web_url)


def registry_out(base: str, registry: Registry) -> schemas.RegistryOut:
    url, web_url = registry_urls(base, registry)
    return schemas.RegistryOut(
        id=registry.id,
        slug=registry.slug,
        url=url,
        web_url=web_url,
        name=registry.name,
        ecosystem=registry.ecosystem,
        description=registry.description,
        emoji=registry.emoji,
        color=registry.color,
        public=registry.public,
        type=registry.type,
        quota_bytes=registry.quota_bytes,
        created_at=registry.created_at,
    )


def package_summary(base: str, registry: Registry, package: PackageFile) -> schemas.PackageSummary:
    return schemas.PackageSummary(**_summary_fields(base, registry, package))


def _summary_fields(base: str, registry: Registry, package: PackageFile) -> dict[str, Any]:
    url, web_url = registry_urls(base, registry)
    return {
        "id": package.id,
        "url": f"{url}/packages/{package.id}",
        "web_url": f"{web_url}/packages/{package.id}",
        "name": package.name,
        "version": package.version,
        "filename": package.filename,
        "created_at": package.created_at,
        "yanked": package.yanked_reason is not None,
        "yanked_reason": package.yanked_reason,
    }


def published_package(
    base: str, registry: Registry, package: PackageFile
) -> schemas.PublishedPackage:
    digests = package.digests
    # The summary's fields given directly: no summary model built and dumped first.
    return schemas.PublishedPackage(
        **_summary_fields(base, registry, package),
        size=package.size,
        digests=schemas.Digests(
            md5=digests.md5,
            sha1=digests.sha1,
            sha256=digests.sha256,
            sha512=digests.sha512,
            blake2b_256=digests.blake2b_256,
        ),
        organization=organization_ref(base, registry),
        registry=registry_ref(base, registry),
    )


def package_out(base: str, details: PackageDetails) -> schemas.PackageOut:
    registry, package = details.registry, details.package
    metadata = schemas.Metadata.model_validate(details.metadata)
    return schemas.PackageOut(
        **published_package(base, registry, package).model_dump(),
        distribution=schemas.Distribution(
            name=package.name,
            version=package.version,
            filetype=package.filetype.value,
            python_version=package.python_version,
            requires_python=package.requires_python,
        ),
        metadata=metadata,
        dependencies_count=len(metadata.requires_dist),
        files=[schemas.ArchiveFile(path=m.path, size=m.size) for m in details.members],
        total_files=len(details.members),
        downloads_count=package.downloads_count,
        visibility="public" if registry.public else "private",
        installation=installation(base, registry, f"{package.project}=={package.version}"),
        imported_from=package.imported_from,
        published_by=published_by(package.published_by),
    )


def published_by(publisher: Publisher | None) -> schemas.PublishedBy | None:
    if publisher is None:
        return None
    return schemas.PublishedBy(
        issuer=publisher.issuer,
        claims=dict(publisher.claims),
        description=describe_publisher(publisher),
    )


def installation(base: str, registry: Registry, requirement: str) -> schemas.Installation:
    """pip and uv snippets installing ``requirement`` from ``registry``; a private
    registry's carry the token placeholder."""
    address = RegistryAddress(base, registry.organization_slug, registry.slug)
    found = install_snippets(address, public=registry.public, requirement=requirement)
    return schemas.Installation(
        index_url=address.index_url,
        token_placeholder=None if registry.public else TOKEN_PLACEHOLDER,
        user_name=USER_NAME,
        snippets=[_snippet(s) for s in found],
    )


def publish_instructions(base: str, registry: Registry) -> schemas.PublishInstructions:
    address = RegistryAddress(base, registry.organization_slug, registry.slug)
    return schemas.PublishInstructions(
        upload_url=address.upload_url,
        index_url=address.index_url,
        repository_name=registry.slug,
        token_variable=TOKEN_VARIABLE,
        token_placeholder=TOKEN_PLACEHOLDER,
        user_name=USER_NAME,
        snippets=[_snippet(s) for s in publish_snippets(address)],
    )


def _snippet(snippet: Snippet) -> schemas.Snippet:
    return schemas.Snippet(
        key=snippet.key, title=snippet.title, language=snippet.language, text=snippet.text
    )


def token_out(base: str, registry: Registry, token: Token) -> schemas.TokenOut:
    url, _ = registry_urls(base, registry)
    return schemas.TokenOut(
        id=token.id,
        description=token.description,
        url=f"{url}/tokens/{token.id}",
        created_at=token.created_at,
        created_by=(
            None
            if token.created_by_token is None
            else schemas.TokenCreator(id=token.created_by_token)
        ),
        organization=organization_ref(base, registry),
        registry=registry_ref(base, registry),
        last_used_at=token.last_used_at,
    )


def access_token_out(token: Token) -> schemas.AccessTokenOut:
    return schemas.AccessTokenOut(
        uuid=token.id,
        scopes=sorted(s.value for s in token.scopes),
        description=token.description,
        created_at=token.created_at,
        acts_for="user" if token.user_id is not None else "organization",
        user_id=token.user_id,
    )


def package_json(base: str, registry: Registry, package: PackageFile) -> bytes:
    """The publish answer as a JSON body, for routes that build responses by hand
    (serialised by the model itself, without a dict in between)."""
    return published_package(base, registry, package).model_dump_json().encode()
