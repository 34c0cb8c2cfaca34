"""Every index, file and upload route against every kind of credential answers as
``core/permissions.py`` documents; a caller who may not read a private registry cannot tell
an existing project or file from a missing one; failed authentications are rate-limited
per client; tokens never appear in responses or the server log. (The REST API's own table
is ``test_rest_scopes.py``.)"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Organization, Registry, api, new_organization
from tests.support.oidc_issuer import OidcIssuer
from tests.support.server import PackyardServer
from tests.support.uploads import form_for, legacy_upload

pytestmark = pytest.mark.backend_independent

CREDENTIALS = [
    "none",
    "wrong",
    "read",
    "write",
    "registry-token",
    "other-registry-token",
    "other-organization",
    "revoked",
    # Trusted publishing: a CI job's OIDC token whose claims match a policy statement with
    # read_packages, or with write_packages too; one whose audience is the other
    # registry; a token minted from one (write_packages only).
    "oidc-read",
    "oidc-write",
    "oidc-other-registry",
    "oidc-minted",
]
# What a GET of the private registry's index and files answers, per credential.
READ_STATUS = {
    "none": 401,
    "wrong": 401,
    "read": 200,
    "write": 200,
    "registry-token": 200,
    "other-registry-token": 403,
    "other-organization": 404,
    "revoked": 401,
    "oidc-read": 200,
    "oidc-write": 200,
    "oidc-other-registry": 403,
    "oidc-minted": 403,
}
# What an upload answers (REST publish and the upload API alike), per credential.
UPLOAD_STATUS = {
    "none": 401,
    "wrong": 401,
    "read": 403,
    "write": 200,
    "registry-token": 403,
    "other-registry-token": 403,
    "other-organization": 404,
    "revoked": 401,
    "oidc-read": 403,
    "oidc-write": 200,
    "oidc-other-registry": 403,
    "oidc-minted": 200,
}
# What search (REST ``/search?q=present``) answers, and the registries it shows, per
# credential: a registry token sees its own registry's projects only, another
# organization's token learns nothing.
# A minted OIDC token belongs to no organization (its grants may span several): 404.
SEARCH_STATUS = {
    **READ_STATUS,
    "other-registry-token": 200,
    "oidc-other-registry": 200,
    "oidc-minted": 404,
}
SEARCH_SEES = {
    "read": {"private", "other"},
    "write": {"private", "other"},
    "registry-token": {"private"},
    "other-registry-token": {"other"},
    "oidc-read": {"private"},
    "oidc-write": {"private"},
    "oidc-other-registry": {"other"},
}


def _policy(issuer: str) -> str:
    return f"""
- iss: {issuer}
  scopes: [read_packages]
  claims: {{pipeline_slug: reader}}
- iss: {issuer}
  scopes: [read_packages, write_packages]
  claims: {{pipeline_slug: writer}}
"""


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer() as running:
        yield running


def _oidc_tokens(org: Organization, issuer: OidcIssuer, *registries: Registry) -> dict[str, str]:
    """The OIDC credentials, once both registries trust ``issuer``."""
    admin = api(org, org.token("write_registries"))
    for registry in registries:
        admin.call(
            "PATCH", f"/registries/{registry.slug}", json={"oidc_policy": _policy(issuer.url)}
        )
    base = org.yard.base_url
    mine, theirs = (f"{base}/{org.slug}/{r.slug}" for r in registries)
    minted = httpx.post(
        f"{base}/_/oidc/mint-token",
        json={"token": issuer.token("127.0.0.1", {"pipeline_slug": "writer"})},
    )
    assert minted.status_code == 200, minted.text
    return {
        "oidc-read": issuer.token(mine, {"pipeline_slug": "reader"}),
        "oidc-write": issuer.token(mine, {"pipeline_slug": "writer"}),
        "oidc-other-registry": issuer.token(theirs, {"pipeline_slug": "writer"}),
        "oidc-minted": minted.json()["token"],
    }


@dataclass
class World:
    yard: PackyardServer
    registry: Registry
    tokens: dict[str, str | None]
    wheel: Path
    tmp: Path


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, issuer: OidcIssuer
) -> Iterator[World]:
    root = tmp_path_factory.mktemp("matrix")
    yard = backend.new_server(root, {"PACKYARD_OIDC_ISSUERS": issuer.url})
    yard.start()
    org = new_organization(yard)
    registry, other = org.registry("Private"), org.registry("Other")
    write = org.token("read_packages", "write_packages")
    wheel = write_wheel(Dist("present", "1.0"), root)
    registry.publish(wheel, write)
    other.publish(write_wheel(Dist("present-elsewhere", "1.0"), root), write)
    revoked = org.token("read_packages", "write_packages")
    response = httpx.delete(
        f"{yard.base_url}/v2/access-token", headers={"Authorization": f"Bearer {revoked}"}
    )
    assert response.status_code in (200, 204), response.text
    tokens: dict[str, str | None] = {
        "none": None,
        "wrong": "pky_" + "x" * 43,
        "read": org.token("read_packages"),
        "write": write,
        "registry-token": registry.token(),
        "other-registry-token": other.token(),
        "other-organization": new_organization(yard).token("read_packages", "write_packages"),
        "revoked": revoked,
        **_oidc_tokens(org, issuer, registry, other),
    }
    yield World(yard, registry, tokens, wheel, root)
    yard.stop()


def _read_routes(world: World, exists: bool) -> list[str]:
    project = "present" if exists else "absent"
    filename = world.wheel.name if exists else "absent-1.0-py3-none-any.whl"
    return [
        f"{project}/",
        f"../files/{filename}",
        f"../files/{filename}.metadata",
    ]


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_reads_answer_as_documented_and_hide_what_exists(world: World, credential: str) -> None:
    token = world.tokens[credential]
    root = world.registry.get("", token)
    assert root.status_code == READ_STATUS[credential]
    for path, missing in zip(_read_routes(world, True), _read_routes(world, False), strict=True):
        present = world.registry.get(path, token)
        absent = world.registry.get(missing, token)
        assert present.status_code == READ_STATUS[credential], (path, present.text)
        if READ_STATUS[credential] == 200:
            assert absent.status_code == 404
        else:
            # The same status and message whether or not the project or file exists.
            assert absent.status_code == present.status_code
            assert absent.json() == present.json()
            assert "present" not in present.text


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_search_shows_only_the_registries_the_credential_may_read(
    world: World, credential: str
) -> None:
    token = world.tokens[credential]
    response = httpx.get(
        f"{world.yard.base_url}/v2/packages/organizations/{world.registry.organization}/search",
        params={"q": "present"},
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )
    assert response.status_code == SEARCH_STATUS[credential], response.text
    if response.status_code == 200:
        assert {hit["registry"] for hit in response.json()} == SEARCH_SEES[credential]
    else:
        assert "present" not in response.text


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_uploads_answer_as_documented(world: World, credential: str) -> None:
    token = world.tokens[credential]
    # A project per credential: each that may upload publishes its own.
    name = f"uploaded-{credential}"
    dist = Dist(name, "1.0", summary=f"by {credential}")
    folder = world.tmp / credential
    folder.mkdir(exist_ok=True)
    path = write_wheel(dist, folder)
    if UPLOAD_STATUS[credential] == 200:
        world.registry.publish(path, token, expect=200)
        # Its REST twin would now find the name taken by other bytes: use another version.
        path = write_wheel(Dist(name, "2.0"), folder)
    else:
        world.registry.publish(path, token, expect=UPLOAD_STATUS[credential])
    auth = ("__token__", token) if token else None
    data = path.read_bytes()
    response = httpx.post(
        f"{world.yard.base_url}/{world.registry.organization}/{world.registry.slug}/pypi/",
        data={
            ":action": "file_upload",
            "protocol_version": "1",
            "name": name,
            "version": "2.0" if UPLOAD_STATUS[credential] == 200 else "1.0",
            "filetype": "bdist_wheel",
            "pyversion": "py3",
            "sha256_digest": hashlib.sha256(data).hexdigest(),
        },
        files={"content": (path.name, data)},
        auth=auth,
    )
    assert response.status_code == UPLOAD_STATUS[credential], response.text
    if response.status_code != 200:
        assert response.headers["content-type"].startswith("text/plain")


# What a GET of the registry's webhooks and of the organization-wide webhooks answers, per
# credential: none of these holds write_registries, and a hook's URL and history are for
# the registry's (or the organization's) admins alone; other organizations learn nothing.
WEBHOOK_STATUS = {
    "none": (401, 401),
    "wrong": (401, 401),
    "read": (403, 403),
    "write": (403, 403),
    "registry-token": (403, 403),
    "other-registry-token": (404, 403),
    "other-organization": (404, 404),
    "revoked": (401, 401),
    "oidc-read": (403, 403),
    "oidc-write": (403, 403),
    "oidc-other-registry": (404, 403),
    "oidc-minted": (403, 404),
}


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_webhooks_answer_only_those_who_administer_them(world: World, credential: str) -> None:
    token = world.tokens[credential]
    organization = world.registry.organization
    answered = tuple(
        httpx.get(
            world.yard.base_url + path,
            headers={"Authorization": f"Bearer {token}"} if token else {},
        ).status_code
        for path in (
            f"/v2/packages/organizations/{organization}/registries/{world.registry.slug}/webhooks",
            f"/v2/organizations/{organization}/webhooks",
        )
    )
    assert answered == WEBHOOK_STATUS[credential]


def test_tokens_never_appear_in_responses_or_the_log(world: World) -> None:
    secrets = [t for t in world.tokens.values() if t]
    for secret in secrets:
        for path in ("", "present/", "absent/", f"../files/{world.wheel.name}"):
            response = world.registry.get(path, secret)
            assert secret not in response.text
    log = world.yard.log_path.read_text(errors="replace")
    for secret in secrets:
        assert secret not in log
        assert secret[4:20] not in log


@pytest.fixture(scope="module")
def limited_yard(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Registry]:
    yard = backend.new_server(
        tmp_path_factory.mktemp("limited"), {"PACKYARD_AUTH_FAILURES_PER_MINUTE": "5"}
    )
    yard.start()
    registry = new_organization(yard).registry("Guarded")
    yield registry
    yard.stop()


def test_failed_authentications_are_rate_limited_per_client(limited_yard: Registry) -> None:
    registry = limited_yard
    good = registry.token()
    for attempt in range(5):
        assert registry.get("", f"pky_guess{attempt}").status_code == 401
    limited = registry.get("", "pky_guess-again")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Too many failed authentications" in limited.json()["message"]
    # Only failures are limited: a right token is served (probe F3), no credentials too.
    assert registry.get("", good).status_code == 200
    assert registry.get("", None).status_code == 401


@pytest.fixture(scope="module")
def upload_limited_yard(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend
) -> Iterator[Organization]:
    yard = backend.new_server(
        tmp_path_factory.mktemp("upload-limited"), {"PACKYARD_AUTH_FAILURES_PER_MINUTE": "3"}
    )
    yard.start()
    yield new_organization(yard)
    yard.stop()


def test_failed_authentications_on_the_upload_routes_are_rate_limited(
    upload_limited_yard: Organization, tmp_path: Path
) -> None:
    registry = upload_limited_yard.registry("Guarded uploads")
    writer = upload_limited_yard.token("read_packages", "write_packages")
    path = write_wheel(Dist("guarded", "1.0"), tmp_path)
    fields = form_for(path, "guarded", "1.0")
    legacy_upload(registry, path, "pky_guess-0", fields, expect=401)
    legacy_upload(registry, path, "pky_guess-1", fields, expect=401)
    registry.publish(path, "pky_guess-2", expect=401)
    limited = legacy_upload(registry, path, "pky_guess-3", fields, expect=429)
    assert limited.text.startswith("Too many failed authentications")
    assert int(limited.headers["retry-after"]) > 0
    # Only failures are limited: a right token publishes, on both upload routes (F3).
    legacy_upload(registry, path, writer, fields, expect=200)
    registry.publish(path, writer, expect=200)
