"""An organization with teams, as the access tables need it: people of every standing,
each with an API token acting for them, and one private registry granted to teams at each
access level. ``people(org)`` builds it through the CLI and the REST API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.driver import Api, Organization, Registry, api
from tests.support.rest import ALL_SCOPES as REST_SCOPES

PASSWORD = "correct horse battery"
ALL_SCOPES = (*REST_SCOPES, "read_teams", "write_teams")
# Each person, and the team (and its level on the registry) that gives them their access.
# The maintainer maintains the read-only team: a role in a team gives no registry level.
PEOPLE = {
    "admin": None,
    "maintainer": ("readers", "read_only", "maintainer"),
    "full": ("platform", "read_write_and_admin", "member"),
    "read_and_write": ("data", "read_and_write", "member"),
    "read_only": ("readers", "read_only", "member"),
    "no_team_access": ("bystanders", None, "member"),
}


@dataclass
class People:
    organization: Organization
    root: Api  # an organization token with every scope
    registry: Registry
    tokens: dict[str, str]  # person -> an all-scopes token acting for them
    emails: dict[str, str]
    user_ids: dict[str, str]
    teams: dict[str, str] = field(default_factory=dict)  # slug -> id

    def as_person(self, person: str) -> Api:
        return api(self.organization, self.tokens[person])


def create_user(org: Organization, person: str, *, admin: bool = False) -> str:
    email = f"{person.replace('_', '-')}@{org.slug}.example.com"
    args = ["user", "create", email, "--org", org.slug, "--password-stdin"]
    org.yard.admin(*args, *(["--admin"] if admin else []), input=PASSWORD + "\n")
    return email


def user_token(org: Organization, email: str, *scopes: str) -> str:
    args = ["token", "create", org.slug, "--user", email]
    for scope in scopes or ALL_SCOPES:
        args += ["--scope", scope]
    return org.yard.admin(*args).strip()


def org_call(root: Api, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> Any:
    """A call under ``/v2/organizations/{org}`` (teams, switches, users)."""
    url = f"/v2/organizations/{root.organization}{path}"
    response = root.call(method, url, expect=expect, **kwargs)
    return response.json() if response.content else None


def people(org: Organization, registry_name: str, *, teams_enabled: bool) -> People:
    root = api(org, org.token(*ALL_SCOPES))
    org_call(root, "PATCH", "", json={"teams_enabled": teams_enabled})
    registry = root.registry(root.create_registry(registry_name)["slug"])
    emails = {p: create_user(org, p, admin=p == "admin") for p in PEOPLE}
    users = {u["email"]: u["id"] for u in org_call(root, "GET", "/users")}
    user_ids = {p: users[e] for p, e in emails.items()}
    found = People(org, root, registry, {}, emails, user_ids)
    for person, standing in PEOPLE.items():
        if standing is None:
            continue
        team, level, role = standing
        if team not in found.teams:
            created = org_call(root, "POST", "/teams", expect=201, json={"name": team})
            found.teams[team] = created["id"]
            if level is not None:
                root.call(
                    "PUT",
                    f"/registries/{registry.slug}/teams/{created['id']}",
                    json={"access_level": level},
                )
        org_call(
            root,
            "POST",
            f"/teams/{found.teams[team]}/members",
            expect=201,
            json={"user_id": user_ids[person], "role": role},
        )
    found.tokens = {p: user_token(org, e) for p, e in emails.items()}
    return found
