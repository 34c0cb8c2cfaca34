"""Translating database rows into ``core.models`` dataclasses, in one place."""

from __future__ import annotations

from packyard.core.models import (
    Digests,
    FileType,
    Organization,
    PackageFile,
    Registry,
    RegistryType,
)
from packyard.db.models import OrganizationRow, PackageRow, RegistryRow


def organization_from_row(row: OrganizationRow) -> Organization:
    return Organization(id=row.id, slug=row.slug, name=row.name, created_at=row.created_at)


def registry_from_row(row: RegistryRow, organization_slug: str) -> Registry:
    return Registry(
        id=row.id,
        organization_id=row.organization_id,
        organization_slug=organization_slug,
        slug=row.slug,
        name=row.name,
        ecosystem=row.ecosystem,
        description=row.description,
        emoji=row.emoji,
        color=row.color,
        public=row.public,
        type=RegistryType(row.type),
        serial=row.serial,
        created_at=row.created_at,
    )


def package_from_row(row: PackageRow) -> PackageFile:
    return PackageFile(
        id=row.id,
        registry_id=row.registry_id,
        project=row.project,
        name=row.name,
        version=row.version,
        filename=row.filename,
        filetype=FileType(row.filetype),
        python_version=row.python_version,
        size=row.size,
        digests=Digests(
            md5=row.md5,
            sha1=row.sha1,
            sha256=row.sha256,
            sha512=row.sha512,
            blake2b_256=row.blake2b_256,
        ),
        requires_python=row.requires_python,
        core_metadata_sha256=row.core_metadata_sha256,
        yanked_reason=row.yanked_reason,
        created_at=row.created_at,
        downloads_count=row.downloads_count,
    )
