"""Pydantic models of the REST API's request bodies and responses. They are the OpenAPI
document's source, so every field a route answers is declared here; shapes.py fills them
from ``core`` and service data.

To add a field: declare it here, fill it in shapes.py, and the schema follows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from packyard.core.models import RegistryType
from packyard.core.registries import (
    MAX_DESCRIPTION_LENGTH,
    MAX_EMOJI_LENGTH,
    MAX_NAME_LENGTH,
)
from packyard.core.snippets import Language
from packyard.services.tokens import MAX_DESCRIPTION_LENGTH as MAX_TOKEN_DESCRIPTION_LENGTH

NAME_MAX = MAX_NAME_LENGTH
DESCRIPTION_MAX = MAX_DESCRIPTION_LENGTH
TOKEN_DESCRIPTION_MAX = MAX_TOKEN_DESCRIPTION_LENGTH
EMOJI_MAX = MAX_EMOJI_LENGTH
COLOR_MAX = 7  # #rrggbb


class ErrorBody(BaseModel):
    message: str = Field(description="What went wrong, for a person to act on")


class ValidationErrorBody(ErrorBody):
    errors: list[str] = Field(description="Each problem with the request, one per entry")


class OrganizationRef(BaseModel):
    id: str
    slug: str
    url: str
    web_url: str


class RegistryRef(BaseModel):
    id: str
    slug: str
    url: str
    web_url: str


class RegistryOut(RegistryRef):
    name: str
    ecosystem: str
    description: str
    emoji: str | None
    color: str | None
    public: bool
    type: RegistryType
    quota_bytes: int | None = None
    created_at: datetime
    # Composite registries only (null for source registries).
    upstreams: list[str] | None = None
    public_overrides: list[str] | None = None
    pypi_files: Literal["link", "cache"] | None = None
    min_release_age: int | None = Field(default=None, description="Seconds; null for none")
    cooldown_exempt: list[str] | None = None
    oidc_policy: str | None = Field(
        default=None, description="Trusted publishing policy (YAML or JSON); null for none"
    )


_OIDC_POLICY = Field(
    default=None,
    max_length=64 * 1024,
    description="Trusted publishing: OIDC policy statements {iss, scopes, claims} as YAML "
    "or JSON (docs/trusted-publishing.md); empty removes it",
)


_NAMES = Field(default=None, max_length=1000)
_AGE = Field(
    default=None,
    description='A duration such as "7 days" or "12 hours", or seconds; null for none',
    examples=["7 days"],
)


class CompositeSettingsIn(BaseModel):
    """Settings of a composite registry; on a source registry they are refused (400)."""

    public_overrides: list[str] | None = _NAMES
    pypi_files: Literal["link", "cache"] | None = None
    min_release_age: int | str | None = _AGE
    cooldown_exempt: list[str] | None = _NAMES


class RegistryCreate(CompositeSettingsIn):
    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["My Python packages"])
    ecosystem: Literal["python"] = "python"
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    emoji: str | None = Field(
        default=None, max_length=EMOJI_MAX, description="A single emoji", examples=["🐍"]
    )
    color: str | None = Field(
        default=None, max_length=COLOR_MAX, description="#rrggbb", examples=["#f0ccff"]
    )
    public: bool = False
    type: RegistryType = RegistryType.SOURCE
    quota_bytes: StrictInt | None = Field(
        default=None, ge=0, description="Source only: bytes its files may take; null for none"
    )
    upstreams: list[str] | None = Field(
        default=None,
        max_length=100,
        description='Composite only: source registry slugs and "pypi", in order',
    )
    team_ids: list[str] | None = Field(
        default=None,
        max_length=100,
        description="Teams granted read_and_write on the new registry (the creator's too)",
    )
    oidc_policy: str | None = _OIDC_POLICY


class RegistryUpdate(CompositeSettingsIn):
    """Only the fields sent change; a new name gives the registry a new slug."""

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    ecosystem: Literal["python"] | None = Field(
        default=None, description="Accepted only unchanged: the ecosystem cannot change"
    )
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    emoji: str | None = Field(default=None, max_length=EMOJI_MAX)
    color: str | None = Field(default=None, max_length=COLOR_MAX)
    public: bool | None = None
    quota_bytes: StrictInt | None = Field(default=None, ge=0, description="null removes the quota")
    oidc_policy: str | None = _OIDC_POLICY


class PublishedBy(BaseModel):
    issuer: str = Field(description="The OIDC issuer that vouched for the job")
    claims: dict[str, str] = Field(description="The job's identifying claims")
    description: str = Field(examples=["GitHub Actions: acme/app, release.yml @ refs/tags/v1"])


class Digests(BaseModel):
    md5: str
    sha1: str
    sha256: str
    sha512: str
    blake2b_256: str


class PackageSummary(BaseModel):
    """A package as lists show it."""

    id: str
    url: str
    web_url: str
    name: str
    version: str
    filename: str
    created_at: datetime
    yanked: bool = Field(
        default=False, description="Whether the file is yanked: installers skip it unless pinned"
    )
    yanked_reason: str | None = Field(
        default=None, description='Why it was yanked ("" when no reason was given)'
    )


class PublishedPackage(PackageSummary):
    """What publishing answers."""

    size: int
    digests: Digests
    organization: OrganizationRef
    registry: RegistryRef


class Distribution(BaseModel):
    name: str
    version: str
    filetype: Literal["bdist_wheel", "sdist"]
    python_version: str
    requires_python: str | None


class Metadata(BaseModel):
    """Core metadata fields as the file declares them (absent ones are null or empty)."""

    model_config = ConfigDict(extra="allow")

    metadata_version: str | None = None
    summary: str | None = None
    homepage: str | None = None
    project_urls: dict[str, str] = Field(default_factory=dict)
    license: str | None = None
    license_expression: str | None = None
    author: str | None = None
    author_email: str | None = None
    maintainer: str | None = None
    keywords: list[str] = Field(default_factory=list)
    classifiers: list[str] = Field(default_factory=list)
    requires_dist: list[str] = Field(default_factory=list)
    requires_python: str | None = None
    description_content_type: str | None = None


class ArchiveFile(BaseModel):
    path: str
    size: int


class Snippet(BaseModel):
    """One ready-made command or configuration file; the token appears only as the
    placeholder its parent names."""

    key: str = Field(description="Stable identifier of the form, e.g. pip_conf or twine")
    title: str
    language: Language
    text: str


class Installation(BaseModel):
    """How to install from a registry with pip and uv. ``token_placeholder`` marks where a
    token goes (None for a public registry, whose snippets need none)."""

    index_url: str
    token_placeholder: str | None
    user_name: str = Field(description="The user name the snippets give with the token")
    snippets: list[Snippet]


class PublishInstructions(BaseModel):
    """How to publish to a registry with curl, twine, uv, poetry, pdm and hatch."""

    upload_url: str = Field(description="What the upload tools POST to")
    index_url: str = Field(description="The simple index, for --check-url and installs")
    repository_name: str = Field(description="The name the snippets give this registry")
    token_variable: str = Field(description="The environment variable the snippets read")
    token_placeholder: str
    user_name: str
    snippets: list[Snippet]


class PackageOut(PublishedPackage):
    """Everything the package details page shows."""

    distribution: Distribution
    metadata: Metadata
    dependencies_count: int
    files: list[ArchiveFile]
    total_files: int
    downloads_count: int
    visibility: Literal["private", "public"]
    installation: Installation
    imported_from: str | None = Field(
        default=None,
        description="Where `packyard import` brought this file from; null for a publish",
    )
    published_by: PublishedBy | None = Field(
        default=None, description="The CI job that published it (trusted publishing)"
    )


class Links(BaseModel):
    self: str
    next: str | None = Field(description="The next page (older packages), if any")
    prev: str | None = Field(description="The previous page (newer packages), if any")


class PackageList(BaseModel):
    items: list[PackageSummary]
    links: Links


class TokenCreator(BaseModel):
    id: str = Field(description="The API access token that created this token (its uuid)")


class TokenOut(BaseModel):
    id: str
    description: str
    url: str
    created_at: datetime
    created_by: TokenCreator | None = Field(
        description="The API access token that made this token through the REST API; null "
        "when a person made it in the web UI or an operator at the command line"
    )
    organization: OrganizationRef
    registry: RegistryRef
    last_used_at: datetime | None = Field(
        description="Recorded at most once a minute per token and process"
    )


class NewTokenOut(TokenOut):
    token: str = Field(description="The secret: shown in this response only")


class TokenCreate(BaseModel):
    description: str = Field(default="", max_length=TOKEN_DESCRIPTION_MAX)


class TokenUpdate(BaseModel):
    description: str = Field(max_length=TOKEN_DESCRIPTION_MAX)


class AccessTokenOut(BaseModel):
    uuid: str
    scopes: list[str]
    description: str
    created_at: datetime
    acts_for: Literal["user", "organization"] = Field(
        description="user: at most what its owner may do, re-checked on every request; "
        "organization: its scopes alone, on every registry of the organization"
    )
    user_id: str | None = Field(default=None, description="The owner, for a user's token")


class YankRequest(BaseModel):
    reason: str = Field(
        default="", max_length=1_000, description="Why: installers that pin the file show it"
    )


class ReleaseFiles(BaseModel):
    """A release after a yank or an unyank."""

    name: str
    version: str
    yanked: bool
    yanked_reason: str | None
    files: list[PackageSummary]


class ProjectStatusBody(BaseModel):
    """A project's status (PEP 792), as set and as read."""

    status: Literal["active", "archived", "deprecated", "quarantined"] = Field(
        description="archived and quarantined refuse uploads; quarantined serves no files"
    )
    reason: str = Field(default="", max_length=1_000, description="Shown to installers")


class Deleted(BaseModel):
    id: str
    deleted: Literal[True] = True


class RetentionPolicyIn(BaseModel):
    """A registry's retention policy (docs/retention.md); any rule may be null (off)."""

    # Strict: true is not a number of days.
    model_config = ConfigDict(extra="forbid", strict=True)

    keep_latest: int | None = Field(
        default=None, ge=1, description="Keep the newest N releases of each project"
    )
    prereleases_max_age_days: int | None = Field(
        default=None, ge=0, description="Delete pre-releases and dev releases older than D days"
    )
    not_downloaded_days: int | None = Field(
        default=None, ge=0, description="Delete releases not downloaded for D days"
    )
    exempt: list[str] = Field(
        default_factory=list,
        max_length=100,
        description='Project name globs, or "glob==version-glob", never deleted',
    )
    min_age_hours: float = Field(
        default=1.0, ge=0, description="Never delete a file younger than this"
    )


class RetentionPolicyOut(RetentionPolicyIn):
    pass


class RetentionFileOut(BaseModel):
    id: str
    project: str
    version: str
    filename: str
    size: int
    reason: str = Field(description="The rule that deletes it")


class RetentionPreviewOut(BaseModel):
    policy: RetentionPolicyOut | None
    files_count: int
    bytes: int
    files: list[RetentionFileOut]


class RetentionRunOut(BaseModel):
    trigger: Literal["schedule", "request"]
    started_at: datetime
    finished_at: datetime
    files_deleted: int
    bytes_deleted: int


class ProjectUsageOut(BaseModel):
    name: str
    bytes: int
    files: int


class StorageUsageOut(BaseModel):
    bytes: int = Field(description="What the registry's files take")
    files: int
    quota_bytes: int | None
    projects: list[ProjectUsageOut] = Field(description="Largest first")


class RetentionRunResult(RetentionRunOut):
    files: list[RetentionFileOut]
