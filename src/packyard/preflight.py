"""What must hold before a process builds its services: the data folder, the database's
schema (migrated when it is the embedded one, else checked), and the settings a process
would otherwise refuse only while building its services (the storage URL, the OIDC
issuers).

``bootstrap.build_services`` runs these steps as it builds; ``packyard serve`` runs
``prepare`` once, in a short-lived child, before starting its workers, so that a worker
never migrates and a mistake is reported once instead of by workers the supervisor keeps
restarting. A new check of the settings that can fail in ``build_services`` belongs in
``prepare`` too.

That child runs before every start, and the workers wait for it: on the embedded database
it reads the schema revision with the standard library's ``sqlite3`` and imports SQLAlchemy
(a quarter of a second here) only when there is something to migrate or another database
to ask; it imports no service.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from packyard.blobs import make_blob_store
from packyard.db.migrations import REVISION_QUERY, SCHEMA_HEAD
from packyard.services.oidc_keys import parse_issuers
from packyard.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


class SchemaNotReady(RuntimeError):
    """The configured database has no schema, or an old one: run ``packyard db upgrade``."""


def ensure_schema(engine: Engine, settings: Settings, *, migrate: bool | None = None) -> None:
    """Migrate the database behind ``engine`` when ``migrate`` is True (None: when it is the
    embedded one), else check that its schema is current; raises SchemaNotReady (and
    disposes of ``engine``) when it is not."""
    from packyard.db.engine import schema_is_current, upgrade_schema

    should_migrate = settings.uses_embedded_database if migrate is None else migrate
    if should_migrate:
        upgrade_schema(engine)
    elif not schema_is_current(engine):
        engine.dispose()
        raise SchemaNotReady(
            "The database schema is missing or out of date: run `packyard db upgrade`"
        )


def prepare(settings: Settings) -> None:
    """Check the settings and make the schema current as ``build_services`` would, without
    building any service. Raises SchemaNotReady, or ValueError naming a wrong setting."""
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    if not (
        settings.uses_embedded_database
        and embedded_schema_is_current(settings.embedded_database_path)
    ):
        from packyard.db.engine import make_engine

        engine = make_engine(settings.effective_database_url)
        try:
            ensure_schema(engine, settings)
        finally:
            engine.dispose()
    make_blob_store(settings.effective_storage_url, s3_redirect=settings.s3_redirect)
    parse_issuers(settings.oidc_issuers)


def embedded_schema_is_current(path: Path) -> bool:
    """Whether the SQLite database at ``path`` exists and records the newest schema revision
    (the query ``db.engine.schema_is_current`` makes). Opened read-only, so a missing file is
    not created; any error answers False, and the caller then takes the SQLAlchemy path,
    which migrates or reports."""
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as connection:
            row = connection.execute(REVISION_QUERY).fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == SCHEMA_HEAD
