"""Pydantic models of the teams, organization and registry-access REST routes (Buildkite's
shapes: its Teams REST API and its registry permissions)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool

from packyard.core.models import AccessLevel, TeamPrivacy, TeamRole

NAME_MAX = 200
DESCRIPTION_MAX = 10_000


class TeamOut(BaseModel):
    id: str
    name: str
    slug: str
    description: str
    privacy: TeamPrivacy
    default: bool
    created_at: datetime
    created_by: str | None = Field(description="The id of the user who created it")


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    privacy: TeamPrivacy = TeamPrivacy.VISIBLE
    default: StrictBool = False


class TeamUpdate(BaseModel):
    """Only the fields sent change; a new name gives the team a new slug."""

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    privacy: TeamPrivacy | None = None
    default: StrictBool | None = None


class TeamMemberOut(BaseModel):
    user_id: str
    email: str
    name: str
    role: TeamRole
    created_at: datetime


class TeamMemberIn(BaseModel):
    user_id: str = Field(max_length=64)
    role: TeamRole = TeamRole.MEMBER


class TeamMemberUpdate(BaseModel):
    role: TeamRole


class RegistryTeamOut(BaseModel):
    team_id: str
    team_slug: str
    team_name: str
    access_level: AccessLevel
    created_at: datetime


class RegistryTeamIn(BaseModel):
    access_level: AccessLevel


class OrganizationOut(BaseModel):
    id: str
    slug: str
    name: str
    created_at: datetime
    teams_enabled: bool
    members_can_create_registries: bool
    members_can_delete_packages: bool
    members_can_delete_registries: bool


class OrganizationUpdate(BaseModel):
    teams_enabled: StrictBool | None = None
    members_can_create_registries: StrictBool | None = None
    members_can_delete_packages: StrictBool | None = None
    members_can_delete_registries: StrictBool | None = None


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    admin: bool
    created_at: datetime


class Removed(BaseModel):
    id: str
    deleted: Literal[True] = True
