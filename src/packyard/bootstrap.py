"""The composition root: the one place that chooses implementations (database, blob
store, clock) and wires services together. Nothing is created at import time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event, text

from packyard import __version__
from packyard.blobs import make_blob_store
from packyard.blobs.base import BlobStore
from packyard.core.errors import InvalidRequest
from packyard.db.blob_locks import blob_locks_for
from packyard.db.changes import ChangeCounter, change_counter
from packyard.db.engine import make_engine, make_session_factory
from packyard.db.snapshot import sqlite_file
from packyard.dists.limits import ArchiveLimits
from packyard.preflight import ensure_schema
from packyard.services import metrics
from packyard.services.access import ReadAccess
from packyard.services.audit import AuditService
from packyard.services.backup import BackupService
from packyard.services.composite_index import CompositeIndexService
from packyard.services.composites import CompositeService
from packyard.services.downloads import DownloadCounter, DownloadService
from packyard.services.exporting import ExportService
from packyard.services.importing import ImportService
from packyard.services.index import IndexService
from packyard.services.integrity import IntegrityService
from packyard.services.lifecycle import LifecycleService
from packyard.services.maintenance import (
    blob_gc_job,
    pypi_cache_job,
    retention_job,
    staging_sweep_job,
)
from packyard.services.oidc import OidcService
from packyard.services.oidc_keys import OidcVerifier, parse_issuers
from packyard.services.organizations import OrganizationService
from packyard.services.packages import PackageService
from packyard.services.process_load import RequestActivity
from packyard.services.project_serials import ProjectSerials
from packyard.services.provenance import ProvenanceService
from packyard.services.publishing import PublishService
from packyard.services.pypi_cache import PypiCache
from packyard.services.registries import RegistryService
from packyard.services.retention import RetentionService
from packyard.services.scheduler import LeaseKeeper, PeriodicJob, Scheduler
from packyard.services.search import SearchService
from packyard.services.staging import StagingArea
from packyard.services.teams import TeamService
from packyard.services.tokens import TokenService
from packyard.services.upstream_pypi import PypiUpstream
from packyard.services.users import UserService
from packyard.services.webhook_delivery import WebhookSender
from packyard.services.webhooks import WebhookService
from packyard.settings import Settings

if TYPE_CHECKING:
    import httpx


WEBHOOK_JOB = "webhook-delivery"


@dataclass
class Services:
    settings: Settings
    engine: Engine
    registries: RegistryService
    tokens: TokenService
    publishing: PublishService
    index: IndexService
    downloads: DownloadService
    composites: CompositeService
    http: UpstreamHttp
    # The PyPI file cache of composites: last uses buffered, pruned under its cap.
    pypi_cache: PypiCache
    packages: PackageService
    lifecycle: LifecycleService
    users: UserService
    teams: TeamService
    organizations: OrganizationService
    search: SearchService
    access: ReadAccess
    integrity: IntegrityService
    provenance: ProvenanceService
    blobs: BlobStore
    # packyard import / export.
    importing: ImportService
    exporting: ExportService
    # Trusted publishing: OIDC policies, verification, minted tokens.
    oidc: OidcService
    # The audit log (written by services.events.record in each change's transaction).
    audit: AuditService
    # Webhooks: subscriptions and the outbox (services.webhooks), and its sender.
    webhooks: WebhookService
    webhook_sender: WebhookSender
    # The requests this process is answering (counted by the front door, summed with the
    # server's other processes): background jobs make way for them.
    requests: RequestActivity
    # Retention policies of source registries (docs/retention.md).
    retention: RetentionService
    # Background jobs (services.scheduler): started by the app's lifespan only.
    scheduler: Scheduler
    # What validates every in-memory cache across processes (followed in the lifespan).
    changes: ChangeCounter

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        """What ``/readyz`` asks: each returns when its dependency answers, else raises."""
        return {"database": self._ping_database, "blob_store": self.blobs.check}

    def _ping_database(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def flush_buffers(self) -> None:
        """Write what is buffered in memory: download counts and token last-use times."""
        try:
            self.downloads.counter.flush()
        finally:
            try:
                self.tokens.usage.flush()
            finally:
                self.pypi_cache.flush()

    def close(self) -> None:
        self.flush_buffers()
        self.http.close()
        self.oidc.close()
        self.webhook_sender.close()
        self.requests.close()
        self.engine.dispose()


def utc_now() -> datetime:
    return datetime.now(UTC)


class UpstreamHttp:
    """The client that asks upstream indexes (PyPI): one per process, connections pooled,
    made when first called. Importing httpx and building its TLS context cost each worker
    about 7 MiB, and only composite registries that consult PyPI need it."""

    def __init__(self, settings: Settings) -> None:
        self._timeout = settings.upstream_timeout
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def __call__(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                import httpx

                from packyard.services.upstream_metrics import CountingClient

                self._client = CountingClient(
                    timeout=httpx.Timeout(self._timeout),
                    follow_redirects=True,
                    headers={"User-Agent": f"packyard/{__version__}"},
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _oidc_http() -> httpx.Client:
    """The client that fetches OIDC issuers' keys, made on the first fetch (httpx is
    imported then: see UpstreamHttp)."""
    import httpx

    return httpx.Client(timeout=10.0)


def build_services(settings: Settings, *, migrate: bool | None = None) -> Services:
    """Build every service for ``settings``.

    The embedded SQLite database is created and migrated on first use; a database named by
    ``PACKYARD_DATABASE_URL`` is only migrated when ``migrate`` is True, and otherwise must
    already be current (preflight.SchemaNotReady).
    """
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    metrics.watch_pool(engine)
    ensure_schema(engine, settings, migrate=migrate)
    sessions = make_session_factory(engine)
    blob_locks = blob_locks_for(engine)
    blobs = make_blob_store(settings.effective_storage_url, s3_redirect=settings.s3_redirect)
    registries = RegistryService(sessions=sessions, now=utc_now)
    staging = StagingArea(settings.staging_dir, settings.max_upload_bytes)
    counter = DownloadCounter(sessions, utc_now)
    composites = CompositeService(sessions, registries, utc_now)
    http = UpstreamHttp(settings)
    pypi_cache = PypiCache(sessions, blobs, blob_locks, utc_now, settings.pypi_cache_max_bytes)
    pypi = PypiUpstream(
        sessions,
        http,
        settings.pypi_url,
        settings.upstream_ttl,
        utc_now,
        blobs,
        settings.staging_dir,
        settings.max_upload_bytes,
        pypi_cache,
    )
    oidc = OidcService(
        sessions,
        registries,
        OidcVerifier(parse_issuers(settings.oidc_issuers), _oidc_http),
        utc_now,
    )
    tokens = TokenService(sessions=sessions, registries=registries, now=utc_now, oidc=oidc)
    publishing = PublishService(
        sessions=sessions,
        registries=registries,
        blobs=blobs,
        staging=staging,
        now=utc_now,
        limits=ArchiveLimits(max_expanded_bytes=settings.max_expanded_bytes),
        blob_locks=blob_locks,
    )
    requests = RequestActivity()
    sender = WebhookSender(
        sessions,
        utc_now,
        allow_private=settings.webhook_allow_private,
        activity=requests,
        retry_scale=settings.webhook_retry_scale,
    )
    event.listen(sessions, "after_commit", sender.committed)
    event.listen(sessions, "after_rollback", sender.rolled_back)
    # One counter (one dedicated connection) for every cache validated by it.
    changes = change_counter(engine, settings.change_recheck_seconds)
    composite_index = CompositeIndexService(sessions, composites, pypi, utc_now, changes)
    packages = PackageService(
        sessions=sessions, registries=registries, counter=counter, now=utc_now
    )
    services = Services(
        settings=settings,
        engine=engine,
        registries=registries,
        tokens=tokens,
        publishing=publishing,
        index=IndexService(sessions, composite_index, ProjectSerials(sessions)),
        downloads=DownloadService(sessions, blobs, counter, composite_index),
        provenance=ProvenanceService(sessions, composite_index),
        composites=composites,
        http=http,
        pypi_cache=pypi_cache,
        packages=packages,
        lifecycle=LifecycleService(sessions, registries, utc_now),
        users=UserService(sessions, registries, utc_now),
        teams=TeamService(sessions, registries, utc_now),
        organizations=OrganizationService(sessions, registries, utc_now),
        search=SearchService(sessions, registries),
        access=ReadAccess(sessions, tokens, registries, changes),
        integrity=IntegrityService(sessions, blobs, utc_now, blob_locks),
        blobs=blobs,
        importing=ImportService(sessions, registries, publishing, utc_now),
        exporting=ExportService(sessions, registries, blobs, utc_now),
        oidc=oidc,
        changes=changes,
        audit=AuditService(sessions, registries),
        webhooks=WebhookService(
            sessions, registries, utc_now, allow_private=settings.webhook_allow_private
        ),
        webhook_sender=sender,
        requests=requests,
        retention=RetentionService(sessions, registries, packages, utc_now),
        scheduler=Scheduler(LeaseKeeper(sessions, utc_now)),
    )
    schedule_jobs(services, staging)
    return services


def schedule_jobs(services: Services, staging: StagingArea) -> None:
    """Every background job of an app process, each added once here (see
    ``services.scheduler`` for what a job is and how to wake one)."""
    settings = services.settings
    interval = settings.maintenance_interval
    scheduler = services.scheduler
    scheduler.add(staging_sweep_job(staging, utc_now, interval))
    scheduler.add(
        blob_gc_job(services.integrity, timedelta(seconds=settings.blob_grace_seconds), interval)
    )
    # Every process sends the outbox (claims keep a delivery to one sender); a commit that
    # wrote deliveries wakes the job, so they go out at once, after the answer.
    scheduler.add(
        PeriodicJob(WEBHOOK_JOB, settings.webhook_poll_seconds, services.webhook_sender.run_due)
    )
    services.webhook_sender.wake = lambda: scheduler.wake(WEBHOOK_JOB)
    scheduler.add(retention_job(services.retention, interval))
    if settings.pypi_cache_max_bytes is not None:
        scheduler.add(pypi_cache_job(services.pypi_cache, interval))


def build_backup(settings: Settings) -> BackupService:
    """Backup and restore of the embedded database with the configured blob store; builds
    nothing else, so ``restore`` runs where no database exists yet. Raises InvalidRequest
    for a database other than SQLite."""
    database = sqlite_file(settings.effective_database_url)
    if database is None:
        raise InvalidRequest(
            "packyard backup and restore cover the embedded SQLite database; back up "
            "PostgreSQL with pg_dump and the bucket with its versioning "
            "(docs/deployment.md), then check both with `packyard fsck`"
        )
    blobs = make_blob_store(settings.effective_storage_url, s3_redirect=settings.s3_redirect)
    return BackupService(database, blobs, utc_now)
