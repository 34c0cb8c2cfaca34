"""Retention policies of source registries: set and read them, preview what one deletes,
run it on demand or on the schedule, and keep each real run's summary.

The preview and the run call the same pure decision (``core.retention.doomed_files``) on
the same facts, so a run deletes exactly what a preview just before it listed; the run
deletes through ``PackageService.delete_packages``, the use case a user's delete takes,
so index serials, search and audit events follow as they do for a user's delete. The
scheduled run acts as the server's operator and is a once-per-cluster job.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import InvalidRequest, ValidationFailed
from packyard.core.events import EventType, Subject, changed_fields
from packyard.core.models import Principal, Registry, RegistryType
from packyard.core.permissions import OPERATOR, Disclosure
from packyard.core.retention import (
    Doomed,
    RetentionPolicy,
    RetentionRun,
    StorageUsage,
    doomed_files,
    policy_problems,
    policy_state,
)
from packyard.core.scopes import Scope
from packyard.db import retention as queries
from packyard.services.events import record
from packyard.services.packages import PackageService
from packyard.services.registries import RegistryService

log = logging.getLogger(__name__)

SCHEDULE = "schedule"
REQUEST = "request"


@dataclass(frozen=True, slots=True)
class RetentionPreview:
    """What a policy deletes now: the files (each with its rule) and their bytes."""

    policy: RetentionPolicy | None
    files: list[Doomed]

    @property
    def bytes(self) -> int:
        return sum(d.file.size for d in self.files)


@dataclass(frozen=True, slots=True)
class RetentionOverview:
    """What a registry's Retention page shows: its policy, latest runs and storage."""

    policy: RetentionPolicy | None
    runs: list[RetentionRun]
    usage: StorageUsage


@dataclass(frozen=True, slots=True)
class RetentionOutcome:
    """A real run: its summary and the files it deleted."""

    run: RetentionRun
    files: list[Doomed]


class RetentionService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        packages: PackageService,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._packages = packages
        self._now = now

    def policy(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> RetentionPolicy | None:
        """The registry's policy (``read_registries``), None when it has none."""
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.READ_REGISTRIES, disclosure
        )
        with self._sessions() as session:
            return queries.policy_of(session, registry.id)

    def set_policy(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        policy: RetentionPolicy,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> RetentionPolicy:
        """Replace the registry's policy (``write_registries``, full access). Raises
        InvalidRequest for a composite registry, ValidationFailed naming each problem of the
        policy."""
        registry = self._source_registry(principal, organization, registry_slug, disclosure)
        problems = policy_problems(policy)
        if problems:
            raise ValidationFailed(
                "The retention policy was not saved: " + "; ".join(problems), problems
            )
        with self._sessions.begin() as session:
            before = queries.policy_of(session, registry.id)
            queries.put_policy(session, registry.id, policy, self._now())
            changes = changed_fields(
                {} if before is None else policy_state(before), policy_state(policy)
            )
            if changes:
                record(
                    session,
                    principal,
                    EventType.REGISTRY_RETENTION_POLICY_UPDATED,
                    organization_id=registry.organization_id,
                    subject=Subject("registry", registry.id, registry.slug),
                    registry=registry,
                    changes=changes,
                    now=self._now(),
                )
        return policy

    def preview(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> RetentionPreview:
        """What the registry's policy would delete now (``write_registries``); nothing
        changes."""
        registry = self._source_registry(principal, organization, registry_slug, disclosure)
        return self._decide(registry)

    def run(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
        trigger: str = REQUEST,
    ) -> RetentionOutcome:
        """Apply the registry's policy now (``write_registries`` and ``delete_packages``):
        delete what ``preview`` lists, record the run's summary and return it."""
        registry = self._source_registry(principal, organization, registry_slug, disclosure)
        started = self._now()
        with _readers_first():
            decided = self._decide(registry)
            deleted = self._packages.delete_packages(
                principal,
                organization,
                registry_slug,
                [d.file.package_id for d in decided.files],
                disclosure,
            )
        gone = {p.id for p in deleted}
        files = [d for d in decided.files if d.file.package_id in gone]
        run = RetentionRun(
            trigger, started, self._now(), len(files), sum(d.file.size for d in files)
        )
        with self._sessions.begin() as session:
            queries.add_run(session, registry.id, run)
        return RetentionOutcome(run, files)

    def runs(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> list[RetentionRun]:
        """The registry's latest run summaries, newest first (``read_registries``)."""
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.READ_REGISTRIES, disclosure
        )
        with self._sessions() as session:
            return queries.runs_of(session, registry.id)

    def usage(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> StorageUsage:
        """Storage the registry's files use, per project, and its quota
        (``read_registries``)."""
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.READ_REGISTRIES, disclosure
        )
        with self._sessions() as session:
            return _usage(session, registry)

    def overview(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> RetentionOverview:
        """The policy, latest runs and storage of a source registry, for those who may
        change its policy (``write_registries``, full access): the UI's Retention page."""
        registry = self._source_registry(principal, organization, registry_slug, disclosure)
        with self._sessions() as session:
            return RetentionOverview(
                queries.policy_of(session, registry.id),
                queries.runs_of(session, registry.id),
                _usage(session, registry),
            )

    def run_all(self) -> int:
        """The scheduled job: apply every registry's policy as the operator; one failing
        registry does not stop the others. Returns how many files were deleted."""
        with self._sessions() as session:
            targets = queries.registries_with_policies(session)
        deleted = 0
        for organization, registry_slug in targets:
            try:
                outcome = self.run(OPERATOR, organization, registry_slug, trigger=SCHEDULE)
            except Exception:
                log.exception("Retention of %s/%s failed", organization, registry_slug)
                continue
            deleted += outcome.run.files_deleted
            if outcome.run.files_deleted:
                log.info(
                    "Retention deleted %d files (%d bytes) of %s/%s",
                    outcome.run.files_deleted,
                    outcome.run.bytes_deleted,
                    organization,
                    registry_slug,
                )
        return deleted

    def _source_registry(
        self, principal: Principal, organization: str, registry_slug: str, disclosure: Disclosure
    ) -> Registry:
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.WRITE_REGISTRIES, disclosure
        )
        if registry.type is not RegistryType.SOURCE:
            raise InvalidRequest(
                "Retention policies apply to source registries; a composite registry holds "
                "no files of its own"
            )
        return registry

    def _decide(self, registry: Registry) -> RetentionPreview:
        with self._sessions() as session:
            policy = queries.policy_of(session, registry.id)
            files = queries.retained_files(session, registry.id) if policy else []
        if policy is None:
            return RetentionPreview(None, [])
        return RetentionPreview(policy, doomed_files(policy, files, self._now()))


_paused_by = 0  # runs in this process that hold the cyclic garbage collector off
_paused_lock = threading.Lock()
_switch_interval = 0.0  # the interpreter's switch interval before the first run began
# While a run works, the interpreter hands over to other threads this often (seconds;
# Python's default is 0.005): the event loop that answers index reads waits for the
# run's thread at most this long each time it needs the interpreter, not 5 ms.
RUN_SWITCH_INTERVAL = 0.0005


@contextlib.contextmanager
def _readers_first() -> Iterator[None]:
    """Let this process's readers go first while a run loads and deletes thousands of
    files. The cyclic garbage collector is held off: the run's allocations would trigger
    full collections of a heap that large, each holding the interpreter for a quarter of
    a second (bench/retention_scale.py at 100,000 files: read p99 about 10x without a
    run, about 2x with this). Reference counting still frees nearly everything; cycles
    wait until the run ends, a few seconds. And the interpreter switches threads ten
    times as often, so a read waits for the run's thread a tenth as long."""
    global _paused_by, _switch_interval
    with _paused_lock:
        if _paused_by == 0:
            _switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_interval, RUN_SWITCH_INTERVAL))
        _paused_by += 1
        gc.disable()
    try:
        yield
    finally:
        with _paused_lock:
            _paused_by -= 1
            if _paused_by == 0:
                gc.enable()
                sys.setswitchinterval(_switch_interval)


def _usage(session: Session, registry: Registry) -> StorageUsage:
    projects = queries.usage_by_project(session, registry.id)
    return StorageUsage(
        bytes=sum(p.bytes for p in projects),
        files=sum(p.files for p in projects),
        quota_bytes=registry.quota_bytes,
        projects=projects,
    )
