"""The composition root: the one place that chooses implementations (database, blob
store, clock) and wires services together. Nothing is created at import time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from sqlalchemy import Engine

from packyard.blobs.base import BlobStore
from packyard.blobs.local import LocalBlobStore
from packyard.db.engine import (
    change_counter,
    make_engine,
    make_session_factory,
    schema_is_current,
    upgrade_schema,
)
from packyard.services.access import ReadAccess
from packyard.services.downloads import DownloadCounter, DownloadService
from packyard.services.index import IndexService
from packyard.services.publishing import PublishService
from packyard.services.registries import RegistryService
from packyard.services.staging import StagingArea
from packyard.services.tokens import TokenService
from packyard.settings import Settings


class SchemaNotReady(RuntimeError):
    """The configured database has no schema, or an old one: run ``packyard db upgrade``."""


@dataclass
class Services:
    settings: Settings
    engine: Engine
    registries: RegistryService
    tokens: TokenService
    publishing: PublishService
    index: IndexService
    downloads: DownloadService
    access: ReadAccess

    def close(self) -> None:
        self.downloads.counter.flush()
        self.engine.dispose()


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_blob_store(url: str) -> BlobStore:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(url2pathname(parsed.path)))
    raise ValueError(f"Unsupported storage URL {url!r}: use file:///path")


def build_services(settings: Settings, *, migrate: bool | None = None) -> Services:
    """Build every service for ``settings``.

    The embedded SQLite database is created and migrated on first use; a database named by
    ``PACKYARD_DATABASE_URL`` is only migrated when ``migrate`` is True, and otherwise must
    already be current (SchemaNotReady).
    """
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    should_migrate = settings.uses_embedded_database if migrate is None else migrate
    if should_migrate:
        upgrade_schema(engine)
    elif not schema_is_current(engine):
        engine.dispose()
        raise SchemaNotReady(
            "The database schema is missing or out of date: run `packyard db upgrade`"
        )
    sessions = make_session_factory(engine)
    blobs = make_blob_store(settings.effective_storage_url)
    registries = RegistryService(sessions, utc_now)
    staging = StagingArea(settings.staging_dir, settings.max_upload_bytes)
    tokens = TokenService(sessions, registries, utc_now)
    return Services(
        settings=settings,
        engine=engine,
        registries=registries,
        tokens=tokens,
        publishing=PublishService(sessions, registries, blobs, staging, utc_now),
        index=IndexService(sessions),
        downloads=DownloadService(sessions, blobs, DownloadCounter(sessions)),
        access=ReadAccess(sessions, tokens, registries, change_counter(engine)),
    )
