"""A release's life after publishing: yank and unyank one file or a whole release
(PEP 592, with Warehouse's semantics: installers skip a yanked file unless a requirement
pins it with ``==``; the reason is shown to whoever installs it anyway), and a project's
status (PEP 792: active, archived, deprecated, quarantined).

Yanking needs ``delete_packages`` on the registry, a status full access to it
(``REGISTRY_ADMIN_SCOPES``, each through ``core.permissions``). Every change
bumps the registry's serial in its transaction, so index pages, their ETags and the
composites built on the registry change at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from packyard.core.errors import Conflict, InvalidRequest, NotFound
from packyard.core.events import EventType, Subject, changed_fields
from packyard.core.lifecycle import ACTIVE, ProjectState, ProjectStatus, checked_reason
from packyard.core.models import PackageFile, Principal, Registry, RegistryType
from packyard.core.names import looks_like_id, normalize_project, normalize_version
from packyard.core.permissions import Disclosure, require
from packyard.core.scopes import Scope
from packyard.db import lifecycle as queries
from packyard.db.packages import package_by_id
from packyard.db.registries import bump_serial
from packyard.services.events import record, record_package
from packyard.services.scoped import ScopedService

# Full access to a registry: what a status needs (the scopes a team's full access grants on
# one registry; teams' own scopes are the organization's business, not the registry's).
REGISTRY_ADMIN_SCOPES = (Scope.WRITE_REGISTRIES, Scope.DELETE_PACKAGES, Scope.DELETE_REGISTRIES)


@dataclass(frozen=True, slots=True)
class ReleaseFiles:
    """A release after a yank or unyank: its files, in publishing order."""

    registry: Registry
    project: str
    version: str
    yanked_reason: str | None  # None: not yanked
    files: list[PackageFile]


class LifecycleService(ScopedService):
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
            known = looks_like_id(package_id)
            before = package_by_id(session, registry.id, package_id) if known else None
            changed = known and queries.set_file_yank(
                session, registry.id, package_id, stored_reason
            )
            found = package_by_id(session, registry.id, package_id) if changed else None
            if found is None or before is None:
                raise NotFound(f"No package {package_id!r} in registry {registry.slug!r}")
            bump_serial(session, registry.id, [found.package.project])
            self._record_yank(session, principal, registry, found.package, before.package)
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
            bump_serial(session, registry.id, [project])
            files = [package_by_id(session, registry.id, i) for i in ids]
            for file in files:
                if file is not None:
                    self._record_yank(session, principal, registry, file.package)
        return ReleaseFiles(
            registry,
            project,
            normal_version,
            stored_reason,
            [f.package for f in files if f is not None],
        )

    def project_status(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        project: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> ProjectState:
        """The status of a project of the registry (``read_packages``); raises NotFound."""
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.READ_PACKAGES, disclosure
        )
        name = normalize_project(project)
        with self._sessions() as session:
            return self._known_state(session, registry, name)

    def set_project_status(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        project: str,
        status: str,
        reason: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> ProjectState:
        """Record a project's status (full access: ``REGISTRY_ADMIN_SCOPES``)."""
        registry = self._target(principal, organization, registry_slug, disclosure)
        for scope in REGISTRY_ADMIN_SCOPES:
            require(principal, scope, registry, disclosure)
        state = ProjectState(_parsed_status(status), _checked_reason(reason, "status") or "")
        name = normalize_project(project)
        with self._sessions.begin() as session:
            before = self._known_state(session, registry, name)
            queries.set_project_state(session, registry.id, name, state, self._now())
            bump_serial(session, registry.id, [name])
            changes = changed_fields(
                {"status": before.status.value, "reason": before.reason},
                {"status": state.status.value, "reason": state.reason},
            )
            if changes:
                record(
                    session,
                    principal,
                    EventType.PROJECT_STATUS_CHANGED,
                    organization_id=registry.organization_id,
                    subject=Subject("project", name, name),
                    registry=registry,
                    changes=changes,
                    now=self._now(),
                )
        return state

    def _record_yank(
        self,
        session: Session,
        principal: Principal,
        registry: Registry,
        after: PackageFile,
        before: PackageFile | None = None,
    ) -> None:
        yanked = after.yanked_reason is not None
        event_type = EventType.PACKAGE_YANKED if yanked else EventType.PACKAGE_UNYANKED
        old = None if before is None else before.yanked_reason
        changes = changed_fields({"yanked_reason": old}, {"yanked_reason": after.yanked_reason})
        record_package(session, principal, event_type, registry, after, self._now(), changes)

    @staticmethod
    def _known_state(session: Session, registry: Registry, project: str) -> ProjectState:
        state = queries.project_state(session, registry.id, project)
        if state is None and not queries.has_project(session, registry.id, project):
            raise NotFound(f"No project {project!r} in registry {registry.slug!r}")
        return state or ACTIVE

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


def _checked_reason(reason: str | None, what: str = "yank") -> str | None:
    if reason is None:
        return None
    try:
        return checked_reason(reason, what)
    except ValueError as error:
        raise InvalidRequest(str(error)) from None


def _parsed_status(status: str) -> ProjectStatus:
    try:
        return ProjectStatus(status)
    except ValueError:
        known = ", ".join(s.value for s in ProjectStatus)
        raise InvalidRequest(f"Unknown project status {status!r}; use one of {known}") from None


def refuse_closed_project(session: Session, registry: Registry, project: str) -> None:
    """Raise Conflict when ``project`` (normalised) is archived or quarantined: called in
    the transaction that records a new file."""
    state = queries.project_state(session, registry.id, project)
    if state is None or state.status.accepts_uploads:
        return
    why = f" ({state.reason})" if state.reason else ""
    raise Conflict(
        f"Project {project!r} is {state.status.value}{why} and accepts no new uploads; "
        "an organization admin can set its status back to active"
    )
