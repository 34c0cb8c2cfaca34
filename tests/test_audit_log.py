"""The audit log (issue 16): every state change is recorded with who did it, from where,
and what changed, and only admins and their tokens read it (REST, CLI)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.driver import Api, Organization, api
from tests.support.server import PackyardServer
from tests.support.teams import PASSWORD, create_user, org_call, user_token

AGENT = "audit-test/1.0"
EVERY_SCOPE = (
    "read_registries",
    "write_registries",
    "delete_registries",
    "read_packages",
    "write_packages",
    "delete_packages",
    "read_teams",
    "write_teams",
    "read_audit_events",
)


@pytest.fixture
def root(org: Organization) -> Api:
    """An organization token holding every scope, the audit log's included."""
    return api(org, org.token(*EVERY_SCOPE))


def events(root: Api, expect: int = 200, **params: Any) -> list[dict[str, Any]]:
    url = f"/v2/organizations/{root.organization}/audit-events"
    response = root.call("GET", url, expect=expect, params=params)
    items: list[dict[str, Any]] = response.json()["items"] if expect == 200 else []
    return items


def of_type(found: list[dict[str, Any]], event_type: str) -> dict[str, Any]:
    matching = [e for e in found if e["type"] == event_type]
    assert len(matching) == 1, (event_type, [e["type"] for e in found])
    return matching[0]


def token_id(root: Api) -> str:
    found: str = root.call("GET", "/v2/access-token").json()["uuid"]
    return found


def test_registry_changes_name_the_token_its_address_and_the_fields(root: Api) -> None:
    headers = {"User-Agent": AGENT}
    slug = root.call(
        "POST", "/registries", json={"name": "Audited", "ecosystem": "python"}, headers=headers
    ).json()["slug"]
    root.call(
        "PATCH",
        f"/registries/{slug}",
        json={"description": "now described", "public": True},
        headers=headers,
    )
    root.call("DELETE", f"/registries/{slug}", headers=headers)
    found = events(root, registry=slug)
    assert [e["type"] for e in found] == [
        "REGISTRY_DELETED",
        "REGISTRY_VISIBILITY_CHANGED",
        "REGISTRY_UPDATED",
        "REGISTRY_CREATED",
    ]
    updated = of_type(found, "REGISTRY_UPDATED")
    assert updated["changes"] == {"description": ["", "now described"], "public": [False, True]}
    assert updated["actor"]["kind"] == "api_token"
    assert updated["actor"]["id"] == token_id(root)
    assert updated["client_address"] == "127.0.0.1"
    assert updated["user_agent"] == AGENT
    assert updated["subject"] == {"type": "registry", "id": updated["subject"]["id"], "name": slug}
    assert of_type(found, "REGISTRY_CREATED")["changes"]["name"] == [None, "Audited"]


def test_packages_published_copied_yanked_and_deleted_are_recorded(
    root: Api, tmp_path: Path
) -> None:
    from tests.support.builders import Dist, write_wheel

    source = root.create_registry("Audit Source")["slug"]
    target = root.create_registry("Audit Target")["slug"]
    wheel = write_wheel(Dist("audited", "1.0"), tmp_path)
    package = root.publish(source, wheel).json()
    root.call("POST", f"/registries/{source}/packages/{package['id']}/copy?to={target}")
    root.call("POST", f"/registries/{source}/packages/{package['id']}/yank", json={})
    root.call("DELETE", f"/registries/{source}/packages/{package['id']}")
    found = events(root, registry=source)
    types = [e["type"] for e in found]
    assert types == ["PACKAGE_DELETED", "PACKAGE_YANKED", "PACKAGE_CREATED", "REGISTRY_CREATED"]
    created = of_type(found, "PACKAGE_CREATED")
    assert created["subject"]["name"] == wheel.name
    assert created["changes"]["version"] == [None, "1.0"]
    assert of_type(found, "PACKAGE_DELETED")["changes"]["filename"] == [wheel.name, None]
    copied = of_type(events(root, registry=target), "PACKAGE_COPIED")
    assert copied["changes"]["from"] == [None, source]


def test_tokens_are_recorded_by_description_never_by_secret(org: Organization, root: Api) -> None:
    registry = root.create_registry("Audit Tokens")["slug"]
    made = root.call(
        "POST", f"/registries/{registry}/tokens", json={"description": "ci reader"}
    ).json()
    root.call("PATCH", f"/registries/{registry}/tokens/{made['id']}", json={"description": "ci"})
    root.call("DELETE", f"/registries/{registry}/tokens/{made['id']}")
    minted = org.token("read_packages")
    found = events(root)
    created = of_type(found, "REGISTRY_TOKEN_CREATED")
    assert created["subject"] == {"type": "token", "id": made["id"], "name": "ci reader"}
    assert of_type(found, "REGISTRY_TOKEN_UPDATED")["changes"] == {
        "description": ["ci reader", "ci"]
    }
    assert of_type(found, "REGISTRY_TOKEN_DELETED")["subject"]["id"] == made["id"]
    newest = next(e for e in found if e["type"] == "API_ACCESS_TOKEN_CREATED")
    assert newest["changes"]["scopes"] == [None, ["read_packages"]]
    assert newest["actor"]["kind"] == "operator"
    everything = json.dumps(found)
    assert made["token"] not in everything
    assert minted not in everything


def test_only_admins_and_their_tokens_read_the_log(org: Organization, root: Api) -> None:
    without_scope = api(org, org.token("read_registries", "write_registries"))
    events(without_scope, expect=403)
    member = create_user(org, "audited-member")
    as_member = api(org, user_token(org, member, "read_registries"))
    events(as_member, expect=403)
    admin = create_user(org, "audited-admin", admin=True)
    as_admin = api(org, user_token(org, admin, "read_audit_events"))
    assert events(as_admin)  # the users' creation at least
    events(api(org, None), expect=401)


def test_filters_and_cursor_pages(root: Api) -> None:
    for n in range(3):
        root.create_registry(f"Paged {n}")
    first = root.call(
        "GET",
        f"/v2/organizations/{root.organization}/audit-events",
        params={"per_page": 2, "type": "REGISTRY_CREATED"},
    ).json()
    assert [e["subject"]["name"] for e in first["items"]] == ["paged-2", "paged-1"]
    second = httpx.get(
        first["links"]["next"], headers={"Authorization": f"Bearer {root.token}"}
    ).json()
    assert [e["subject"]["name"] for e in second["items"]] == ["paged-0"]
    assert second["links"]["next"] is None
    assert events(root, actor="0" * 36) == []
    assert events(root, until="2000-01-01T00:00:00Z") == []
    assert len(events(root, since="2000-01-01T00:00:00Z", type="REGISTRY_CREATED")) == 3


def test_team_and_switch_changes_are_recorded(root: Api) -> None:
    team = org_call(root, "POST", "/teams", expect=201, json={"name": "Auditors"})
    org_call(root, "PATCH", f"/teams/{team['id']}", json={"description": "they read logs"})
    org_call(root, "PATCH", "", json={"members_can_delete_packages": True})
    found = events(root)
    assert of_type(found, "TEAM_CREATED")["subject"]["name"] == "auditors"
    assert of_type(found, "TEAM_UPDATED")["changes"] == {"description": ["", "they read logs"]}
    switched = of_type(found, "ORGANIZATION_UPDATED")
    assert switched["changes"] == {"members_can_delete_packages": [False, True]}


def _sign_in(yard: PackyardServer, email: str, password: str, client: httpx.Client) -> int:
    page = client.get(f"{yard.base_url}/sign-in")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    form = {"csrf_token": found.group(1), "email": email, "password": password, "next": "/"}
    answer = client.post(f"{yard.base_url}/sign-in", data=form, headers={"User-Agent": AGENT})
    return answer.status_code


def test_sign_ins_and_failures_are_recorded_for_the_person(
    yard: PackyardServer, org: Organization, root: Api
) -> None:
    email = create_user(org, "signs-in")
    with httpx.Client() as client:
        assert _sign_in(yard, email, "not the password", client) == 401
        assert _sign_in(yard, email, PASSWORD, client) == 303
    found = events(root)
    failed = of_type(found, "USER_SIGN_IN_FAILED")
    signed_in = of_type(found, "USER_SIGNED_IN")
    assert failed["actor"]["name"] == email
    assert signed_in["actor"] == {"kind": "user", "id": failed["actor"]["id"], "name": email}
    assert signed_in["user_agent"] == AGENT
    assert of_type(found, "USER_CREATED")["actor"]["kind"] == "operator"


def test_the_command_line_prints_the_log(yard: PackyardServer, root: Api) -> None:
    root.create_registry("Shown At The Prompt")
    printed = json.loads(yard.admin("audit", root.organization, "--since", "1 hour", "--json"))
    assert printed[0]["type"] == "REGISTRY_CREATED"
    assert printed[0]["subject"]["name"] == "shown-at-the-prompt"
    text = yard.admin("audit", root.organization, "--type", "REGISTRY_CREATED")
    assert "REGISTRY_CREATED" in text
    assert "shown-at-the-prompt" in text


def test_repeated_failures_lock_the_account_and_say_so(
    yard: PackyardServer, org: Organization, root: Api
) -> None:
    email = create_user(org, "guessed-at")
    with httpx.Client() as client:
        for _ in range(5):
            assert _sign_in(yard, email, "wrong guess", client) == 401
    found = events(root)
    locked = of_type(found, "USER_LOCKED")
    assert locked["subject"]["name"] == email
    assert len([e for e in found if e["type"] == "USER_SIGN_IN_FAILED"]) == 5


def test_the_audit_page_shows_admins_the_filtered_log(
    yard: PackyardServer, org: Organization, root: Api
) -> None:
    root.create_registry("Seen On The Page")
    admin = create_user(org, "page-admin", admin=True)
    member = create_user(org, "page-member")
    with httpx.Client() as client:
        assert _sign_in(yard, admin, PASSWORD, client) == 303
        page = client.get(
            f"{yard.base_url}/organizations/{org.slug}/audit",
            params={"type": "REGISTRY_CREATED"},
        )
        assert page.status_code == 200
        assert "seen-on-the-page" in page.text
        assert "USER_CREATED" not in page.text.split('id="audit-events"', 1)[1]
    with httpx.Client() as client:
        assert _sign_in(yard, member, PASSWORD, client) == 303
        refused = client.get(f"{yard.base_url}/organizations/{org.slug}/audit")
        assert refused.status_code == 403
        assert "seen-on-the-page" not in refused.text
