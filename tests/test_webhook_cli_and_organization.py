"""Webhooks from the command line, and organization-wide hooks (issue 16): ``packyard
webhooks ...`` manages a registry's hooks (``ORG REGISTRY``) and the organization's
(``ORG --org-wide``) through the same service as REST; an organization-wide hook hears
every registry of the organization and only its admins manage it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks

from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Api, Organization, api, new_organization
from tests.support.rest import ALL_SCOPES
from tests.support.server import PackyardServer
from tests.support.teams import PASSWORD, create_user, user_token
from tests.support.waiting import eventually
from tests.support.web_forms import WebSession, form_to
from tests.support.webhook_receiver import TEST_ENV, Received, WebhookReceiver

EVERY_SCOPE = (*ALL_SCOPES, "read_audit_events")


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[PackyardServer]:
    server = backend.new_server(tmp_path_factory.mktemp("hooks-cli"), extra_env=TEST_ENV)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def org(yard: PackyardServer) -> Organization:
    return new_organization(yard, "hooks-cli")


@pytest.fixture
def root(org: Organization) -> Api:
    return api(org, org.token(*EVERY_SCOPE))


def cli_json(yard: PackyardServer, *args: str) -> Any:
    return json.loads(yard.admin("webhooks", *args, "--json"))


def of_event(receiver: WebhookReceiver, event: str) -> list[Received]:
    return [r for r in receiver.received if r.headers.get("X-Packyard-Event") == event]


def publish(root: Api, registry: str, tmp_path: Path, name: str = "told") -> dict[str, Any]:
    published: dict[str, Any] = root.publish(
        registry, write_wheel(Dist(name, "1.0"), tmp_path)
    ).json()
    return published


def audit_types(root: Api) -> list[tuple[str, str]]:
    url = f"/v2/organizations/{root.organization}/audit-events"
    items = root.call("GET", url, params={"per_page": 100}).json()["items"]
    return [(e["type"], e["actor"]["kind"]) for e in items]


def test_a_hook_made_at_the_prompt_is_told_of_a_publish_and_its_secret_signs_it(
    yard: PackyardServer, root: Api, tmp_path: Path
) -> None:
    registry = root.create_registry("Prompted")["slug"]
    with WebhookReceiver() as receiver:
        made = yard.cli(
            "webhooks", "create", root.organization, registry, "--url", receiver.url,
            "--event", "package.created", "--description", "CI",
        )  # fmt: skip
        hook_id, secret_line = made.stdout.splitlines()
        secret = secret_line.removeprefix("secret (shown once): ")
        assert secret.startswith("whsec_")
        package = publish(root, registry, tmp_path)
        [delivery] = eventually(lambda: of_event(receiver, "package.created"), 30, "no delivery")
        told = standardwebhooks.Webhook(secret).verify(delivery.body, delivery.headers)
        assert told["package"]["id"] == package["id"]

        listed = cli_json(yard, "list", root.organization, registry)
        assert [h["id"] for h in listed] == [hook_id]
        assert secret not in json.dumps(listed)
        assert secret not in yard.admin("webhooks", "show", root.organization, registry, hook_id)

        def sent() -> list[dict[str, Any]]:
            found = cli_json(yard, "deliveries", root.organization, registry, hook_id)
            return [d for d in found if d["state"] == "succeeded"]

        [first] = eventually(sent, 30, "the delivery is not shown as succeeded")
        assert first["attempts"][0]["status"] == 200
        again = yard.admin(
            "webhooks", "redeliver", root.organization, registry, hook_id, first["id"]
        ).strip()
        yard.admin("webhooks", "ping", root.organization, registry, hook_id)
        eventually(lambda: of_event(receiver, "ping"), 30, "the ping did not come")
        eventually(
            lambda: len(of_event(receiver, "package.created")) == 2, 30, "no redelivery came"
        )
        redelivered = of_event(receiver, "package.created")[1]
    assert redelivered.body == delivery.body
    assert redelivered.headers["webhook-id"] == again
    text = yard.admin("webhooks", "deliveries", root.organization, registry, hook_id)
    assert f"{first['id']}\tpackage.created\tsucceeded" in text


def test_the_prompt_changes_and_deletes_a_hook_and_the_log_names_the_operator(
    yard: PackyardServer, root: Api
) -> None:
    registry = root.create_registry("Changed At The Prompt")["slug"]
    org = root.organization
    hook = cli_json(
        yard, "create", org, registry, "--url", "http://127.0.0.1:9/", "--event", "package.created"
    )
    changed = json.loads(
        yard.admin(
            "webhooks", "update", org, registry, hook["id"], "--inactive",
            "--event", "package.deleted", "--event", "package.yanked",
        )
    )  # fmt: skip
    assert changed["active"] is False
    assert changed["events"] == ["package.deleted", "package.yanked"]
    over_rest = root.call("GET", f"/registries/{registry}/webhooks/{hook['id']}").json()
    assert (over_rest["active"], over_rest["events"]) == (False, changed["events"])
    yard.admin("webhooks", "delete", org, registry, hook["id"])
    assert cli_json(yard, "list", org, registry) == []
    logged = audit_types(root)
    for event in ("CREATED", "UPDATED", "DELETED"):
        assert (f"NOTIFICATION_SERVICE_{event}", "operator") in logged


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("list", "{org}", "nowhere"), 1, "No registry 'nowhere'"),
        (("show", "{org}", "{registry}", "not-a-hook"), 1, "No webhook 'not-a-hook'"),
        (("list", "{org}"), 2, "or ORGANIZATION with --org-wide"),
        (("create", "{org}", "{registry}", "--url", "ftp://x/", "--event", "package.created"),
         1, "http:// or https://"),
        (("create", "{org}", "{registry}", "--url", "http://x/", "--event", "package.eaten"),
         2, "package.eaten"),
    ],
)  # fmt: skip
def test_the_prompt_says_what_is_wrong(
    yard: PackyardServer, root: Api, args: tuple[str, ...], code: int, message: str
) -> None:
    registry = root.create_registry("Wrongly Asked")["slug"]
    filled = [a.format(org=root.organization, registry=registry) for a in args]
    result = yard.cli("webhooks", *filled, check=False)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert root.call("GET", f"/registries/{registry}/webhooks").json() == []


def test_an_organization_wide_hook_hears_every_registry(root: Api, tmp_path: Path) -> None:
    public = root.create_registry("Open Shelf", public=True)["slug"]
    private = root.create_registry("Back Room")["slug"]
    org_hooks = f"/v2/organizations/{root.organization}/webhooks"
    with WebhookReceiver() as receiver:
        body = {"url": receiver.url, "events": ["package.created"], "description": "all"}
        hook = root.call("POST", org_hooks, expect=201, json=body).json()
        publish(root, public, tmp_path, "first")
        publish(root, private, tmp_path, "second")
        eventually(
            lambda: len(of_event(receiver, "package.created")) == 2, 30, "not both were told"
        )
        told = of_event(receiver, "package.created")
        root.call("POST", f"{org_hooks}/{hook['id']}/ping", expect=202)
        eventually(lambda: of_event(receiver, "ping"), 30, "the ping did not come")
    slugs = {json.loads(r.body)["package"]["registry"]["slug"] for r in told}
    assert slugs == {public, private}
    assert all(standardwebhooks.Webhook(hook["secret"]).verify(r.body, r.headers) for r in told)
    assert [h["id"] for h in root.call("GET", org_hooks).json()] == [hook["id"]]
    # It is the organization's: not listed, nor reachable, as one of a registry's.
    assert root.call("GET", f"/registries/{public}/webhooks").json() == []
    root.call("GET", f"/registries/{public}/webhooks/{hook['id']}", expect=404)
    history = root.call("GET", f"{org_hooks}/{hook['id']}/deliveries").json()
    assert sorted(d["event"] for d in history) == ["package.created", "package.created", "ping"]
    changed = root.call("PATCH", f"{org_hooks}/{hook['id']}", json={"active": False}).json()
    assert changed["active"] is False
    root.call("DELETE", f"{org_hooks}/{hook['id']}", expect=204)
    assert root.call("GET", org_hooks).json() == []


def test_only_admins_and_organization_tokens_manage_organization_wide_hooks(
    org: Organization, root: Api
) -> None:
    org_hooks = f"/v2/organizations/{org.slug}/webhooks"
    body = {"url": "http://127.0.0.1:9/", "events": ["package.created"]}
    admin = api(org, user_token(org, create_user(org, "hook-admin", admin=True)))
    member = api(org, user_token(org, create_user(org, "hook-member")))
    reader = api(org, org.token("read_registries"))
    stranger = new_organization(org.yard, "stranger")
    outsider = api(stranger, stranger.token(*EVERY_SCOPE))
    assert admin.call("POST", org_hooks, expect=None, json=body).status_code == 201
    assert root.call("POST", org_hooks, expect=None, json=body).status_code == 201
    refused = member.call("POST", org_hooks, expect=403, json=body)
    assert "admins" in refused.json()["message"]
    member.call("GET", org_hooks, expect=403)
    reader.call("POST", org_hooks, expect=403, json=body)
    outsider.call("GET", org_hooks, expect=404)
    api(org, None).call("GET", org_hooks, expect=401)
    assert len(root.call("GET", org_hooks).json()) == 2


def test_the_prompt_manages_organization_wide_hooks(
    yard: PackyardServer, root: Api, tmp_path: Path
) -> None:
    registry = root.create_registry("Anywhere")["slug"]
    org = root.organization
    with WebhookReceiver() as receiver:
        hook = cli_json(
            yard, "create", org, "--org-wide", "--url", receiver.url, "--event", "package.created"
        )
        publish(root, registry, tmp_path)
        [delivery] = eventually(lambda: of_event(receiver, "package.created"), 30, "no delivery")
    assert standardwebhooks.Webhook(hook["secret"]).verify(delivery.body, delivery.headers)
    assert [h["id"] for h in cli_json(yard, "list", org, "--org-wide")] == [hook["id"]]
    assert cli_json(yard, "list", org, registry) == []
    shown = json.loads(yard.admin("webhooks", "show", org, "--org-wide", hook["id"]))
    assert shown["url"] == receiver.url
    yard.admin("webhooks", "delete", org, "--org-wide", hook["id"])
    assert root.call("GET", f"/v2/organizations/{org}/webhooks").json() == []


def test_admins_manage_organization_wide_hooks_on_their_page(
    yard: PackyardServer, org: Organization, root: Api
) -> None:
    page_path = f"/organizations/{org.slug}/webhooks"
    admin, member = WebSession(yard.base_url), WebSession(yard.base_url)
    try:
        admin.sign_in(
            create_user(org, "page-admin", admin=True), PASSWORD, f"/organizations/{org.slug}"
        )
        member.sign_in(create_user(org, "page-member"), PASSWORD, f"/organizations/{org.slug}")
        teams = admin.get(f"/organizations/{org.slug}/teams").text
        assert f'href="{page_path}"' in teams
        form = form_to(admin.get(page_path).text, page_path)
        assert form is not None
        shown = admin.submit(
            form, url="http://127.0.0.1:9/everywhere", description="all registries"
        )
        assert shown.status_code == 200, shown.text
        [hook] = root.call("GET", f"/v2/organizations/{org.slug}/webhooks").json()
        assert hook["url"] == "http://127.0.0.1:9/everywhere"
        assert 'id="new-webhook-secret"' in shown.text
        page = admin.get(page_path).text
        assert "http://127.0.0.1:9/everywhere" in page
        assert 'id="new-webhook-secret"' not in page  # shown once, in the answer to the form
        refused = member.get(page_path)
        assert refused.status_code == 403
        assert "everywhere" not in refused.text
        assert f'href="{page_path}"' not in member.get(f"/organizations/{org.slug}/teams").text
        delete = form_to(page, f"{page_path}/{hook['id']}/delete")
        assert delete is not None
        assert admin.submit(delete).status_code == 303
        assert root.call("GET", f"/v2/organizations/{org.slug}/webhooks").json() == []
    finally:
        admin.close()
        member.close()
