"""The one Settings object. Built by the CLI or the ASGI factory and passed down; no other
module reads the environment. Every field can be set as ``PACKYARD_<FIELD>``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from packyard.core.retention import DEFAULT_GC_GRACE

ONE_GIB = 1024**3


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PACKYARD_", extra="ignore")

    data_dir: Path = Field(default=Path("packyard-data"))
    database_url: str | None = None  # default: SQLite under data_dir
    storage_url: str | None = None  # default: file:// under data_dir
    base_url: str | None = None  # default: taken from each request's Host
    # Host names answered when base_url is unset (comma-separated, "*" for any); default:
    # localhost and the address a connection came in on. Other Hosts answer 400.
    allowed_hosts: str = ""
    # Proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; by default nobody's are.
    trusted_proxies: str = ""
    pypi_url: str = "https://pypi.org/simple/"
    upstream_ttl: int = 600  # seconds a cached PyPI answer is used before revalidating
    upstream_timeout: float = 10.0  # seconds; past it the last good copy is served
    max_upload_bytes: int = ONE_GIB
    # An upload must deliver upload_min_rate bytes a second, averaged over each window of
    # upload_idle_timeout seconds, or it is dropped with 408 (a stalled or trickling client).
    upload_idle_timeout: float = 30.0
    upload_min_rate: int = 1024
    # Failed authentications allowed per client address and minute (and in a burst); past
    # them the address gets 429 until its budget refills.
    auth_failures_per_minute: int = 120
    # Webhooks may be sent to loopback, private and link-local addresses (tests, a private
    # network the operator trusts); refused by default (server-side request forgery).
    webhook_allow_private: bool = False
    # How often each process looks for deliveries due again (retries); new ones are sent
    # at once after their commit.
    webhook_poll_seconds: float = 2.0
    # Multiplies the retry schedule's waits (tests shorten it; 1 is Standard Webhooks').
    webhook_retry_scale: float = 1.0
    # An archive whose members add up to more is refused (a zip bomb by absolute size).
    max_expanded_bytes: int = 16 * ONE_GIB
    # With S3 storage: answer downloads with a redirect to a short-lived presigned URL.
    s3_redirect: bool = False
    download_count_flush_seconds: float = 2.0
    # PostgreSQL: how often each process re-reads the server's transaction snapshot, the
    # safety net under change notifications (db/changes.py): a write made outside
    # Packyard (psql) reaches every cache within this many seconds.
    change_recheck_seconds: float = Field(default=10.0, gt=0)
    # Operating it (docs/operations.md): /metrics, its optional bearer token, the logs.
    metrics: bool = True
    metrics_token: SecretStr | None = None
    # Set by `packyard serve` for its workers: where each writes its metric values.
    metrics_dir: Path | None = Field(default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR")
    log_format: Literal["text", "json"] = "text"
    access_log: bool = True
    # Set by `packyard serve` for its workers: a worker stops when this process is gone.
    supervisor_pid: int | None = None
    # Trusted publishing (docs/trusted-publishing.md): issuer URLs, comma-separated (https
    # only, except loopback), and the audience of tokens exchanged at /_/oidc/mint-token
    # (default: the host name a request came to).
    oidc_issuers: str = ""
    oidc_audience: str | None = None
    readiness_timeout: float = 2.0  # seconds /readyz waits for the database and blob store
    # Background work (services.scheduler, docs/retention.md): how often each process runs
    # the maintenance jobs (staging sweep, blob GC, retention policies, PyPI cache cap),
    # and how long a blob nothing references is kept after it was last stored.
    maintenance_interval: float = Field(default=300.0, gt=0)
    blob_grace_seconds: int = Field(default=int(DEFAULT_GC_GRACE.total_seconds()), ge=0)
    # The PyPI file cache of composite registries (pypi_files=cache) is held under this
    # many bytes by evicting the least recently used files each maintenance interval
    # (services/pypi_cache.py); None: unbounded.
    pypi_cache_max_bytes: int | None = Field(default=None, ge=0)

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.embedded_database_path}"

    @property
    def embedded_database_path(self) -> Path:
        """Where the embedded database lives (used when no database URL is set)."""
        return self.resolved_data_dir / "packyard.sqlite3"

    @property
    def effective_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return (self.resolved_data_dir / "blobs").as_uri()

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def staging_dir(self) -> Path:
        return self.resolved_data_dir / "staging"
