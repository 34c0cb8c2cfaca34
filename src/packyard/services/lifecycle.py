"""A release's life after publishing: yank and unyank one file or a whole release
(PEP 592, with Warehouse's semantics: installers skip a yanked file unless a requirement
pins it with ``==``; the reason is shown to whoever installs it anyway).

Yanking needs ``delete_packages`` on the registry (``core.permissions``). Every change
bumps the registry's serial in its transaction, so index pages, their ETags and the
composites built on the registry change at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import InvalidRequest, NotFound
from packyard.core.models import PackageFile, Principal, Registry, RegistryType
from packyard.core.names import looks_like_id, normalize_project, normalize_version
from packyard.core.permissions import Disclosure
from packyard.core.scopes import Scope
from packyard.db import lifecycle as queries
from packyard.db.packages import package_by_id
from packyard.db.registries import bump_serial
from packyard.services.registries import RegistryService

MAX_REASON_LENGTH = 1_000


@dataclass(frozen=True, slots=True)
class ReleaseFiles:
    """A release after a yank or unyank: its files, in publishing order."""

    registry: Registry
    project: str
    version: str
    yanked_reason: str | None  # None: not yanked
    files: list[PackageFile]


class LifecycleService:
    def __init__(self, sessions: sessionmaker[Session], registries: RegistryService) -> None:
        self._sessions = sessions
        self._registries = registries

    def yank_file(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        package_id: str,
        reason: str | None,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> tuple[Registry, PackageFile]:
        """Yank one file (``reason`` a string, "" for none) or unyank it (None)."""
        registry = self._target(principal, organization, registry_slug, disclosure)
        stored_reason = _checked_reason(reason)
        with self._sessions.begin() as session:
            changed = looks_like_id(package_id) and queries.set_file_yank(
                session, registry.id, package_id, stored_reason
            )
            found = package_by_id(session, registry.id, package_id) if changed else None
            if found is None:
                raise NotFound(f"No package {package_id!r} in registry {registry.slug!r}")
            bump_serial(session, registry.id)
            return registry, found.package

    def yank_release(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        name: str,
        version: str,
        reason: str | None,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> ReleaseFiles:
        """Yank (``reason`` a string) or unyank (None) every file of a release."""
        registry = self._target(principal, organization, registry_slug, disclosure)
        stored_reason = _checked_reason(reason)
        project = normalize_project(name)
        normal_version = normalize_version(version) or version
        with self._sessions.begin() as session:
            ids = queries.set_release_yank(
                session, registry.id, project, normal_version, stored_reason
            )
            if not ids:
                raise NotFound(
                    f"No release {project} {normal_version} in registry {registry.slug!r}"
                )
            bump_serial(session, registry.id)
            files = [package_by_id(session, registry.id, i) for i in ids]
        return ReleaseFiles(
            registry,
            project,
            normal_version,
            stored_reason,
            [f.package for f in files if f is not None],
        )

    def _target(
        self, principal: Principal, organization: str, registry_slug: str, disclosure: Disclosure
    ) -> Registry:
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.DELETE_PACKAGES, disclosure
        )
        if registry.type is not RegistryType.SOURCE:
            raise InvalidRequest(
                f"{registry.slug!r} is a composite registry: yank the file in the source "
                "registry it comes from"
            )
        return registry


def _checked_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    cleaned = reason.strip()
    if len(cleaned) > MAX_REASON_LENGTH:
        raise InvalidRequest(f"The yank reason is too long: at most {MAX_REASON_LENGTH} characters")
    if any(ord(c) < 32 for c in cleaned):
        raise InvalidRequest("The yank reason must be one line of text without control characters")
    return cleaned
