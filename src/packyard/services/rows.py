"""Translating database rows into ``core.models`` dataclasses, in one place."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from packyard.core.errors import ValidationFailed
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
        imported_from=row.imported_from,
    )


def package_from_values(values: Mapping[str, Any]) -> PackageFile:
    """``package_from_row`` for a row given as its column values (a Core insert's), without
    building an ORM object."""
    return PackageFile(
        id=values["id"],
        registry_id=values["registry_id"],
        project=values["project"],
        name=values["name"],
        version=values["version"],
        filename=values["filename"],
        filetype=FileType(values["filetype"]),
        python_version=values["python_version"],
        size=values["size"],
        digests=Digests(
            md5=values["md5"],
            sha1=values["sha1"],
            sha256=values["sha256"],
            sha512=values["sha512"],
            blake2b_256=values["blake2b_256"],
        ),
        requires_python=values["requires_python"],
        core_metadata_sha256=values["core_metadata_sha256"],
        yanked_reason=values["yanked_reason"],
        created_at=values["created_at"],
        downloads_count=values["downloads_count"],
        imported_from=values["imported_from"],
    )


def new_registry_row(
    organization_id: str,
    slug: str,
    name: str,
    registry_type: RegistryType,
    created_at: datetime,
    *,
    public: bool,
    description: str,
    emoji: str | None,
    color: str | None,
) -> RegistryRow:
    """A registry row ready to insert: a new id and serial 0."""
    return RegistryRow(
        id=str(uuid.uuid4()),
        organization_id=organization_id,
        slug=slug,
        name=name.strip(),
        ecosystem="python",
        description=description,
        emoji=emoji,
        color=color,
        public=public,
        type=registry_type.value,
        serial=0,
        created_at=created_at,
    )


def slug_taken(slug: str, organization_slug: str) -> ValidationFailed:
    """The error for a registry slug already used in the organization."""
    return ValidationFailed(
        f"A registry with slug {slug!r} already exists in {organization_slug!r}"
    )
