"""The audit log records every state change issue 16 lists, each with its actor, family by
family: organizations; upstreams and composite settings; OIDC policies; teams, their
members and access levels; packages unyanked and project statuses; token revocation;
retention policies and quotas. (Registries, registry tokens, publishing, copying, yanking,
deleting, sign-ins and webhooks are walked in test_audit_log.py, test_webhooks.py and
test_webhook_cli_and_organization.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.builders import Dist, write_wheel
from tests.support.driver import Api, Organization, api
from tests.support.server import PackyardServer
from tests.support.teams import create_user, org_call
from tests.test_audit_log import EVERY_SCOPE, events, of_type, token_id


@pytest.fixture
def root(org: Organization) -> Api:
    return api(org, org.token(*EVERY_SCOPE))


def by_token(entry: dict[str, Any], root: Api) -> bool:
    actor: dict[str, str] = entry["actor"]
    return actor["kind"] == "api_token" and actor["id"] == token_id(root)


def test_an_organization_created_at_the_prompt_names_the_operator(root: Api) -> None:
    created = of_type(events(root, type="ORGANIZATION_CREATED"), "ORGANIZATION_CREATED")
    assert created["actor"]["kind"] == "operator"
    assert created["changes"]["slug"] == [None, root.organization]


def test_upstreams_and_composite_settings_are_recorded(root: Api) -> None:
    first = root.create_registry("Upstream One")["slug"]
    second = root.create_registry("Upstream Two")["slug"]
    composite = root.create_registry("Merged", type="composite", upstreams=[first])["slug"]
    root.call("PUT", f"/registries/{composite}/upstreams", json={"upstreams": [first, second]})
    root.call("PATCH", f"/registries/{composite}", json={"min_release_age": "7 days"})
    found = events(root, type="REGISTRY_UPSTREAMS_UPDATED", registry=composite)
    assert all(by_token(e, root) for e in found)
    changes = [e["changes"] for e in found]
    assert {"upstreams": [[first], [first, second]]} in changes
    assert {"min_release_age": [None, 7 * 24 * 3600]} in changes


def test_oidc_policy_changes_are_recorded(root: Api) -> None:
    registry = root.create_registry("Trusting")["slug"]
    policy = "- iss: https://issuer.example\n  scopes: [read_packages]\n  claims: {sub: ci}\n"
    root.call("PATCH", f"/registries/{registry}", json={"oidc_policy": policy})
    root.call("PATCH", f"/registries/{registry}", json={"oidc_policy": ""})
    found = events(root, type="REGISTRY_OIDC_POLICY_UPDATED", registry=registry)
    assert [e["changes"]["oidc_policy"][1] for e in found] == [None, policy]
    assert found[1]["changes"]["oidc_policy"][0] is None
    assert all(by_token(e, root) for e in found)


def test_teams_members_and_access_levels_are_recorded(org: Organization, root: Api) -> None:
    registry = root.create_registry("Granted")["slug"]
    email = create_user(org, "joiner")
    user_id = next(u["id"] for u in org_call(root, "GET", "/users") if u["email"] == email)
    team = org_call(root, "POST", "/teams", expect=201, json={"name": "Movers"})["id"]
    members = f"/teams/{team}/members"
    org_call(root, "POST", members, expect=201, json={"user_id": user_id, "role": "member"})
    org_call(root, "PATCH", f"{members}/{user_id}", json={"role": "maintainer"})
    grant = f"/registries/{registry}/teams/{team}"
    root.call("PUT", grant, json={"access_level": "read_only"})
    root.call("PUT", grant, json={"access_level": "read_and_write"})
    root.call("DELETE", grant, expect=None)
    org_call(root, "DELETE", f"{members}/{user_id}", expect=None)
    org_call(root, "DELETE", f"/teams/{team}", expect=None)
    found = [e for e in events(root) if e["type"].startswith("TEAM_")]
    assert [e["type"] for e in reversed(found)] == [
        "TEAM_CREATED",
        "TEAM_MEMBER_CREATED",
        "TEAM_MEMBER_UPDATED",
        "TEAM_REGISTRY_CREATED",
        "TEAM_REGISTRY_CREATED",
        "TEAM_REGISTRY_DELETED",
        "TEAM_MEMBER_DELETED",
        "TEAM_DELETED",
    ]
    assert all(by_token(e, root) for e in found)
    levels = [e["changes"].get("access_level") for e in reversed(found)][3:6]
    assert levels == [
        [None, "read_only"],
        ["read_only", "read_and_write"],
        ["read_and_write", None],
    ]
    assert of_type(found, "TEAM_MEMBER_UPDATED")["changes"]["role"] == ["member", "maintainer"]


def test_unyanks_project_statuses_and_token_revocations_are_recorded(
    org: Organization, root: Api, tmp_path: Path
) -> None:
    registry = root.create_registry("Lifecycle")["slug"]
    package = root.publish(registry, write_wheel(Dist("revived", "1.0"), tmp_path)).json()
    files = f"/registries/{registry}/packages/{package['id']}"
    root.call("POST", f"{files}/yank", json={"reason": "broken"})
    root.call("POST", f"{files}/unyank")
    status = {"status": "deprecated", "reason": "use revived2"}
    root.call("PUT", f"/registries/{registry}/projects/revived/status", json=status)
    doomed = api(org, org.token("read_registries"))
    doomed_id = token_id(doomed)
    doomed.call("DELETE", "/v2/access-token", expect=None)
    found = events(root)
    unyanked = of_type(found, "PACKAGE_UNYANKED")
    assert unyanked["changes"]["yanked_reason"] == ["broken", None]
    assert by_token(unyanked, root)
    changed = of_type(found, "PROJECT_STATUS_CHANGED")
    assert changed["changes"]["status"] == ["active", "deprecated"]
    assert by_token(changed, root)
    revoked = of_type(found, "API_ACCESS_TOKEN_DELETED")
    assert revoked["subject"]["id"] == doomed_id
    assert revoked["actor"]["id"] == doomed_id


def test_retention_policies_and_quotas_are_recorded(yard: PackyardServer, root: Api) -> None:
    registry = root.create_registry("Kept Small")["slug"]
    root.call("PUT", f"/registries/{registry}/retention", json={"keep_latest": 3})
    yard.admin("retention", "set", root.organization, registry, "--keep-latest", "5")
    root.call("PATCH", f"/registries/{registry}", json={"quota_bytes": 1_000_000})
    found = events(root, registry=registry)
    policies = [e for e in found if e["type"] == "REGISTRY_RETENTION_POLICY_UPDATED"]
    assert [e["changes"]["keep_latest"] for e in policies] == [[3, 5], [None, 3]]
    assert policies[0]["actor"]["kind"] == "operator"
    assert by_token(policies[1], root)
    quota = of_type(found, "REGISTRY_UPDATED")
    assert quota["changes"] == {"quota_bytes": [None, 1_000_000]}
    assert by_token(quota, root)
