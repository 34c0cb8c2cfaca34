"""The schema. Rows are translated to ``core.models`` dataclasses by the query modules
beside this one (``db/registries.py``, ``db/packages.py``, ...); no ORM object leaves the
service layer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored without zone and always read back as aware UTC (SQLite drops zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class OrganizationRow(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The switches admins set (docs/security.md, "Teams"): with teams off every member
    # reads and publishes everywhere; on, only where their teams were granted.
    teams_enabled: Mapped[bool] = mapped_column(default=False)
    members_can_create_registries: Mapped[bool] = mapped_column(default=True)
    members_can_delete_packages: Mapped[bool] = mapped_column(default=False)
    members_can_delete_registries: Mapped[bool] = mapped_column(default=False)


class RegistryRow(Base):
    __tablename__ = "registries"
    __table_args__ = (UniqueConstraint("organization_id", "slug"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    ecosystem: Mapped[str] = mapped_column(String(20), default="python")
    description: Mapped[str] = mapped_column(Text, default="")
    emoji: Mapped[str | None] = mapped_column(String(64), nullable=True)
    color: Mapped[str | None] = mapped_column(String(32), nullable=True)
    public: Mapped[bool] = mapped_column(default=False)
    type: Mapped[str] = mapped_column(String(20), default="source")
    # Bumped in the same transaction as every change to what the index shows; caches of
    # rendered pages are keyed by it, so every process sees a change at once.
    serial: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Bytes its files may take at most (docs/retention.md, "Quotas"); None for no limit.
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)


class TokenRow(Base):
    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Set for read-only registry tokens; NULL for organization API access tokens.
    registry_id: Mapped[str | None] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), nullable=True, index=True
    )
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    # Who made it: the API access token that called the REST API, or the web UI's user;
    # neither for a token made at the command line.
    created_by_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_by_user: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # The person an API access token acts for (at most what they may do); NULL for an
    # organization token, which acts with its scopes alone.
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PackageRow(Base):
    """One distribution file in one registry."""

    __tablename__ = "packages"
    __table_args__ = (
        UniqueConstraint("registry_id", "filename"),
        Index("ix_packages_registry_project", "registry_id", "project"),
        Index("ix_packages_registry_seq", "registry_id", "seq"),
        # SQLite would otherwise reuse the seq of a deleted newest row, and a cursor
        # pointing there would skip the package that took it.
        {"sqlite_autoincrement": True},
    )

    # seq orders packages by push time for listings and cursors (it only grows, so cursor
    # pages never skip or repeat a package); id is the public UUID.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(36), unique=True)
    registry_id: Mapped[str] = mapped_column(ForeignKey("registries.id", ondelete="CASCADE"))
    project: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    filetype: Mapped[str] = mapped_column(String(20))
    python_version: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    md5: Mapped[str] = mapped_column(String(32))
    sha1: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    sha512: Mapped[str] = mapped_column(String(128))
    blake2b_256: Mapped[str] = mapped_column(String(64))
    requires_python: Mapped[str | None] = mapped_column(String(500), nullable=True)
    core_metadata_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    metadata_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    members_json: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    yanked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attestations: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The PEP 740 provenance object, only for attestations that were verified (0015).
    provenance: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Where an imported file came from ("packyard import"); None for a publish.
    imported_from: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Who published it through trusted publishing: the issuer and identifying claims.
    published_by: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    downloads_count: Mapped[int] = mapped_column(BigInteger, default=0)
    # Set with the download counts' flush (services.downloads); retention's
    # ``not_downloaded_days`` rule reads it.
    last_downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProjectStatusRow(Base):
    """A project's PEP 792 status in one source registry; no row is ``active``."""

    __tablename__ = "project_statuses"

    registry_id: Mapped[str] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True
    )
    project: Mapped[str] = mapped_column(String(200), primary_key=True)  # normalised
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProjectSerialRow(Base):
    """The registry serial of the last change to a project's index page (its files, their
    yanks, its status), like PyPI's per-project last serial: a project's rendered page is
    cached under it, so a change to one project leaves the other pages cached. No row: not
    changed since this table was added (serial 0). Rows stay when a project's last file
    goes, so its number never goes back."""

    __tablename__ = "project_serials"
    __table_args__ = (Index("ix_project_serials_registry_serial", "registry_id", "last_serial"),)

    registry_id: Mapped[str] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True
    )
    project: Mapped[str] = mapped_column(String(200), primary_key=True)  # normalised
    last_serial: Mapped[int] = mapped_column(BigInteger)


class CompositeSettingsRow(Base):
    """The settings of a composite registry (one row per composite)."""

    __tablename__ = "composite_settings"

    registry_id: Mapped[str] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True
    )
    public_overrides: Mapped[list[str]] = mapped_column(JSON, default=list)
    pypi_files: Mapped[str] = mapped_column(String(10), default="link")
    min_release_age: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # seconds
    cooldown_exempt: Mapped[list[str]] = mapped_column(JSON, default=list)


class CompositeUpstreamRow(Base):
    """One entry of a composite's ordered upstream list; ``upstream_id`` NULL means PyPI."""

    __tablename__ = "composite_upstreams"

    composite_id: Mapped[str] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    upstream_id: Mapped[str | None] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), nullable=True, index=True
    )


class PypiProjectRow(Base):
    """The cached PEP 691 answer of the PyPI upstream for one project, shared by every app
    process. ``absent`` records a 404 (cached for the TTL like any answer); ``digest`` is
    the SHA256 of ``files`` and keys the rendered pages built from it."""

    __tablename__ = "pypi_projects"

    project: Mapped[str] = mapped_column(String(200), primary_key=True)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    digest: Mapped[str] = mapped_column(String(64), default="")
    etag: Mapped[str | None] = mapped_column(String(500), nullable=True)
    absent: Mapped[bool] = mapped_column(default=False)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserRow(Base):
    """A person who signs in to the web UI with an email and a password."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lowercase
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, PHC string
    # Failed sign-ins since the last success: the throttle works across processes.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MembershipRow(Base):
    """A user's place in an organization: admins manage registries and tokens."""

    __tablename__ = "memberships"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserSessionRow(Base):
    """A signed-in browser. Only the SHA256 of the cookie's secret is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the secret
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamRow(Base):
    """A team of an organization's members; registries are granted to teams."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("organization_id", "slug"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    privacy: Mapped[str] = mapped_column(String(20), default="visible")
    is_default: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamMemberRow(Base):
    """A user in a team, as a member or a maintainer (who manages the team)."""

    __tablename__ = "team_members"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamRegistryRow(Base):
    """A team's access level on a registry."""

    __tablename__ = "team_registries"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    registry_id: Mapped[str] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    access_level: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SearchProjectRow(Base):
    """What search matches for one project of one registry: its newest file's name,
    version, summary and keywords. Kept current in the publish, copy and delete
    transactions (``db/search.py``); the text index over it is the database's own
    (SQLite FTS5 table ``search_fts``, PostgreSQL ``document`` tsvector with a GIN index),
    made by migration 0006."""

    __tablename__ = "search_projects"
    __table_args__ = (
        UniqueConstraint("registry_id", "project"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    registry_id: Mapped[str] = mapped_column(ForeignKey("registries.id", ondelete="CASCADE"))
    project: Mapped[str] = mapped_column(String(200))  # PEP 503 normalised
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(Text, default="")


class OidcPolicyRow(Base):
    """A registry's trusted-publishing policy, as its owner wrote it (core.oidc_policy)."""

    __tablename__ = "oidc_policies"

    registry_id: Mapped[str] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OidcUsedJtiRow(Base):
    """A JWT id already exchanged for a token: each is usable once (kept until it expires)."""

    __tablename__ = "oidc_used_jtis"

    issuer: Mapped[str] = mapped_column(String(500), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OidcMintedTokenRow(Base):
    """A short-lived upload token minted from an OIDC token (PyPI's trusted publishing)."""

    __tablename__ = "oidc_minted_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    registry_ids: Mapped[list[str]] = mapped_column(JSON)
    publisher: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ServerSecretRow(Base):
    """A secret every process of a deployment shares (the key that signs the pre-sign-in
    CSRF cookie), made on first use; never shown, logged or exported."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class AuditEventRow(Base):
    """One entry of an organization's audit log (``core.events``), written in the
    transaction of the change it records. Registries and users may go; their events stay,
    so nothing here points at them with a foreign key."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_organization_seq", "organization_id", "seq"),
        {"sqlite_autoincrement": True},
    )

    # seq orders the log and is its cursor (it only grows); id is the public UUID.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(36), unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    actor: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    subject_name: Mapped[str] = mapped_column(String(500), default="")
    registry_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    registry_slug: Mapped[str | None] = mapped_column(String(100), nullable=True)
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(500), nullable=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookRow(Base):
    """A webhook subscription of a registry (or, with no registry, of every registry of
    its organization). The secret is kept as given: it signs every request."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    registry_id: Mapped[str | None] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), nullable=True, index=True
    )
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDeliveryRow(Base):
    """One message to one hook (the outbox): written in the transaction of its event,
    then sent by the delivery job. ``claim`` marks the rows a process is sending; a claim
    lasts until ``next_attempt_at``, so a process killed mid-send loses nothing."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_hook_seq", "webhook_id", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(36), unique=True)  # the webhook-id header
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claim: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookAttemptRow(Base):
    """One request of a delivery and what came back (status, headers, the first KiB)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    request_headers: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_headers: Mapped[dict[str, str]] = mapped_column(JSON)
    response_body: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class LeaseRow(Base):
    """Who runs a once-per-cluster job (``services.scheduler``) until when. A process may
    take a lease whose ``expires_at`` has passed, or renew its own; ``db.leases`` does
    either in one statement."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RetentionPolicyRow(Base):
    """A source registry's retention policy (``core.retention``); no row, no policy."""

    __tablename__ = "retention_policies"

    registry_id: Mapped[str] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True
    )
    keep_latest: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prereleases_max_age_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    not_downloaded_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    exempt: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_age_hours: Mapped[float] = mapped_column(Float, default=1.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RetentionRunRow(Base):
    """The summary of one real retention run of a registry: when, what started it, how
    many files and bytes it deleted."""

    __tablename__ = "retention_runs"
    __table_args__ = (Index("ix_retention_runs_registry_started", "registry_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registry_id: Mapped[str] = mapped_column(ForeignKey("registries.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(20))  # "schedule" or "request"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    files_deleted: Mapped[int] = mapped_column(Integer)
    bytes_deleted: Mapped[int] = mapped_column(BigInteger)


class PypiCachedFileRow(Base):
    """A file (or PEP 658 metadata) fetched from PyPI and kept in the blob store for
    composites with ``pypi_files=cache``: its size and when it was last served, so the
    cache can be held under its cap by evicting the least recently used."""

    __tablename__ = "pypi_cached_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
