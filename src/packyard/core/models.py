"""Plain data passed between layers. Services build these from database rows; the web layer
renders them. They carry no behaviour that touches I/O."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from packyard.core.scopes import Scope


class RegistryType(enum.StrEnum):
    SOURCE = "source"
    COMPOSITE = "composite"


class FileType(enum.StrEnum):
    WHEEL = "bdist_wheel"
    SDIST = "sdist"


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    slug: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Registry:
    id: str
    organization_id: str
    organization_slug: str
    slug: str
    name: str
    ecosystem: str
    description: str
    emoji: str | None
    color: str | None
    public: bool
    type: RegistryType
    serial: int
    created_at: datetime
    # Bytes its files may take at most; None for no limit (docs/retention.md).
    quota_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Digests:
    md5: str
    sha1: str
    sha256: str
    sha512: str
    blake2b_256: str


@dataclass(frozen=True, slots=True)
class ArchiveMember:
    path: str
    size: int


@dataclass(frozen=True, slots=True)
class PackageFile:
    """One distribution file held by one registry (Buildkite calls this a package)."""

    id: str
    registry_id: str
    project: str  # PEP 503 normalised
    name: str  # as the metadata spells it
    version: str  # PEP 440 normalised
    filename: str
    filetype: FileType
    python_version: str
    size: int
    digests: Digests
    requires_python: str | None
    core_metadata_sha256: str | None
    yanked_reason: str | None
    created_at: datetime
    downloads_count: int = 0
    imported_from: str | None = None  # the source of an imported file, without credentials
    published_by: Publisher | None = None  # set for a publish through trusted publishing


class AccessLevel(enum.StrEnum):
    """What a team may do on a registry (Buildkite's names), weakest first."""

    READ_ONLY = "read_only"
    READ_AND_WRITE = "read_and_write"
    FULL = "read_write_and_admin"


LEVEL_ORDER = (AccessLevel.READ_ONLY, AccessLevel.READ_AND_WRITE, AccessLevel.FULL)


class TeamPrivacy(enum.StrEnum):
    VISIBLE = "visible"
    SECRET = "secret"


class TeamRole(enum.StrEnum):
    MEMBER = "member"
    MAINTAINER = "maintainer"


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    organization_id: str
    slug: str
    name: str
    description: str
    privacy: TeamPrivacy
    default: bool
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True, slots=True)
class TeamMember:
    user_id: str
    email: str
    name: str
    role: TeamRole
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TeamAccess:
    """One team's level on one registry."""

    team: Team
    registry: Registry
    access_level: AccessLevel
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrganizationSwitches:
    """What admins allow members in one organization (docs/security.md, "Teams")."""

    teams_enabled: bool = False
    members_can_create_registries: bool = True
    members_can_delete_packages: bool = False
    members_can_delete_registries: bool = False


@dataclass(frozen=True, slots=True)
class User:
    """A person who signs in to the web UI."""

    id: str
    email: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    """One organization a user belongs to."""

    organization_id: str
    organization_slug: str
    organization_name: str
    admin: bool


@dataclass(frozen=True, slots=True)
class OrganizationUser:
    """A member of an organization, as its admins see them."""

    id: str
    email: str
    name: str
    admin: bool
    created_at: datetime


@dataclass(frozen=True, slots=True, eq=False)
class MemberAccess:
    """A person's standing in one organization, loaded from the database for each request:
    their role, the organization's switches, their teams and the best level those teams
    hold on each registry. ``core.permissions`` decides over it and nothing else."""

    admin: bool
    switches: OrganizationSwitches
    levels: Mapping[str, AccessLevel]  # registry id -> the best level of the user's teams
    teams: frozenset[str] = frozenset()  # ids of the teams they belong to
    maintained: frozenset[str] = frozenset()  # ids of the teams they maintain


class PrincipalKind(enum.StrEnum):
    """Who can call. ``core.permissions`` names each kind it lets act; any other is refused."""

    ANONYMOUS = "anonymous"
    API_TOKEN = "api_token"
    REGISTRY_TOKEN = "registry_token"
    USER = "user"  # a signed-in web UI user
    OPERATOR = "operator"  # whoever runs the command line on the server's own database
    OIDC = "oidc"  # a CI job's OIDC identity, or a token minted from one (trusted publishing)


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who published through trusted publishing: the issuer and its identifying claims."""

    issuer: str
    claims: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as established from a credential.

    An API access token carries scopes over its whole organization; a registry token reads
    only its own registry; a signed-in user acts with the scopes of their role.
    ``anonymous`` callers have neither.
    """

    kind: PrincipalKind
    organization_id: str | None = None
    token_id: str | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    registry_id: str | None = None
    user_id: str | None = None  # a signed-in user, or the owner of a user's token
    # The person's standing, for a user and a token acting for one; None for an
    # organization token (its scopes alone decide) and for non-members.
    member: MemberAccess | None = None
    # OIDC principals only: (registry id, scope) pairs, from the matching policy statements.
    grants: frozenset[tuple[str, Scope]] = field(default_factory=frozenset)
    publisher: Publisher | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.kind is PrincipalKind.ANONYMOUS


ANONYMOUS = Principal(kind=PrincipalKind.ANONYMOUS)


@dataclass(frozen=True, slots=True)
class Token:
    """An organization access token (``registry_id`` None, with scopes) or a read-only
    registry token; never its secret."""

    id: str
    organization_id: str
    registry_id: str | None
    scopes: frozenset[Scope]
    description: str
    created_at: datetime
    last_used_at: datetime | None
    # Who made it: the token that called the REST API, or the web UI's user; neither for
    # a token made at the command line.
    created_by_token: str | None = None
    created_by_user: str | None = None
    # The person it acts for (at most what they may do); None for an organization token.
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """One file as a listing shows it: what a person scans for."""

    id: str
    name: str
    version: str
    filename: str
    filetype: str
    size: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RegistryStats:
    packages: int
    last_pushed_at: datetime | None
