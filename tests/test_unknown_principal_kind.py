"""A kind of principal that ``core.permissions`` does not name is refused on every route:
REST, both publish doors, the index and files, and the web UI.

No credential can produce such a principal today, which is the point: when teams or OIDC
publishers add a kind, it must fail closed until the predicate names it. So the two places
that turn a credential into a Principal (a token row, a signed-in user) are made to answer
a kind of their own, holding every scope of the organization, and every route is walked.
The same walk with a named kind succeeds, so the refusals come from the decision alone.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import packyard.db.tokens
from packyard.bootstrap import Services, build_services
from packyard.core.models import Organization, Principal, PrincipalKind
from packyard.core.permissions import OPERATOR
from packyard.core.scopes import Scope
from packyard.services.users import SignedIn, UserService
from packyard.settings import Settings
from packyard.web.app import create_app
from packyard.web.ui.common import CSRF_FIELD, SESSION_COOKIE
from tests.support.builders import Dist, write_wheel
from tests.support.operator import create_registry

pytestmark = pytest.mark.backend_independent  # in-process, on the embedded default

UNNAMED = cast(PrincipalKind, "team")  # a kind the predicate has never heard of
REFUSED = {401, 403, 404}
ORG = "/v2/packages/organizations/acme"
UI = "/organizations/acme/packages"


@dataclass
class World:
    client: TestClient
    services: Services
    secret: str
    session: str
    csrf: str
    package_id: str
    filename: str
    wheel: Path


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    services = build_services(Settings(data_dir=tmp_path / "data"))
    services.registries.create_organization("acme")
    registry = create_registry(services, "acme", "Private")
    create_registry(services, "acme", "Dest")
    wheel = write_wheel(Dist("present", "1.0"), tmp_path)
    writer = services.publishing.staging.open(wheel.name)
    writer.write(wheel.read_bytes())
    package = services.publishing.publish(registry, writer.finish()).package
    issued = services.tokens.create_access_token(OPERATOR, "acme", frozenset(Scope))
    services.users.create_user("ann@example.com", "acme", "a-long-password", admin=True)
    session = services.users.sign_in("ann@example.com", "a-long-password").secret
    signed_in = services.users.signed_in(session)
    assert signed_in is not None
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        client.cookies.set(SESSION_COOKIE, session)
        yield World(
            client,
            services,
            issued.secret,
            session,
            signed_in.csrf_token,
            package.id,
            package.filename,
            wheel,
        )


def _as_kind(monkeypatch: pytest.MonkeyPatch, kind: PrincipalKind) -> None:
    """Tokens and signed-in users become principals of ``kind`` with every scope."""

    def of_token(
        session: Session,
        token_id: str,
        organization_id: str,
        registry_id: str | None,
        user_id: str | None,
        scopes: Sequence[str],
    ) -> Principal:
        return Principal(
            kind=kind, organization_id=organization_id, token_id=token_id, scopes=frozenset(Scope)
        )

    def of_user(signed_in: SignedIn | None, organization: Organization) -> Principal:
        assert signed_in is not None
        return Principal(
            kind=kind,
            organization_id=organization.id,
            user_id=signed_in.user.id,
            scopes=frozenset(Scope),
        )

    monkeypatch.setattr(packyard.db.tokens, "principal_of", of_token)
    monkeypatch.setattr(UserService, "principal", staticmethod(of_user))


Call = Callable[[World], int]  # the status the route answers


def _rest(method: str, path: str, **kwargs: Any) -> Call:
    def call(w: World) -> int:
        headers = {"Authorization": f"Bearer {w.secret}"}
        url = ORG + path.format(package=w.package_id)
        return w.client.request(method, url, headers=headers, **kwargs).status_code

    return call


def _publish(w: World) -> int:
    headers = {"Authorization": f"Bearer {w.secret}"}
    files = {"file": (w.wheel.name, w.wheel.read_bytes())}
    url = f"{ORG}/registries/private/packages"
    return w.client.post(url, headers=headers, files=files).status_code


def _upload(w: World) -> int:
    data = w.wheel.read_bytes()
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": "present",
        "version": "1.0",
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "sha256_digest": hashlib.sha256(data).hexdigest(),
    }
    return w.client.post(
        "/acme/private/pypi/",
        data=fields,
        files={"content": (w.wheel.name, data)},
        headers=_basic(w),
    ).status_code


def _basic(w: World) -> dict[str, str]:
    pair = base64.b64encode(f"__token__:{w.secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def _index(path: str) -> Call:
    return lambda w: (
        w.client.get(
            "/acme/private/pypi/" + path.format(filename=w.filename), headers=_basic(w)
        ).status_code
    )


def _page(path: str) -> Call:
    return lambda w: w.client.get(UI + path.format(package=w.package_id)).status_code


def _form(path: str, **fields: str) -> Call:
    return lambda w: (
        w.client.post(
            path.format(package=w.package_id), data={CSRF_FIELD: w.csrf, **fields}
        ).status_code
    )


READS: dict[str, Call] = {
    "REST list registries": _rest("GET", "/registries"),
    "REST get registry": _rest("GET", "/registries/private"),
    "REST list packages": _rest("GET", "/registries/private/packages"),
    "REST get package": _rest("GET", "/registries/private/packages/{package}"),
    "REST list tokens": _rest("GET", "/registries/private/tokens"),
    "REST setup": _rest("GET", "/registries/private/setup"),
    "REST publish instructions": _rest("GET", "/registries/private/publish-instructions"),
    "index root": _index("simple/"),
    "index project": _index("simple/present/"),
    "file": _index("files/{filename}"),
    "file metadata": _index("files/{filename}.metadata"),
    "UI registry page": _page("/registries/private"),
    "UI package page": _page("/registries/private/packages/{package}"),
    "UI download": _page("/registries/private/packages/{package}/download"),
}
CHANGES: dict[str, Call] = {
    "REST create registry": _rest("POST", "/registries", json={"name": "New"}),
    "REST update registry": _rest("PATCH", "/registries/private", json={"description": "x"}),
    "REST delete registry": _rest("DELETE", "/registries/dest"),
    "REST publish": _publish,
    "REST delete package": _rest("DELETE", "/registries/private/packages/{package}"),
    "REST copy package": _rest("POST", "/registries/private/packages/{package}/copy?to=dest"),
    "REST create token": _rest("POST", "/registries/private/tokens", json={}),
    "REST put upstreams": _rest("PUT", "/registries/private/upstreams", json={"upstreams": []}),
    "upload API": _upload,
    "UI create registry": _form(UI + "/registries", name="New"),
    "UI settings": _form(UI + "/registries/private/settings", name="Private", description="x"),
    "UI registry token": _form(UI + "/registries/private/tokens", description="x"),
    "UI delete package": _form(UI + "/registries/private/packages/{package}/delete"),
    "UI delete registry": _form(UI + "/registries/dest/delete", confirm_name="Dest"),
    "UI tokens page": lambda w: w.client.get("/organizations/acme/tokens").status_code,
    "UI create access token": _form(
        "/organizations/acme/tokens", scope="read_packages", description="x"
    ),
}


def test_an_unnamed_kind_of_principal_is_refused_on_every_route(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_kind(monkeypatch, UNNAMED)
    answers = {name: call(world) for name, call in {**READS, **CHANGES}.items()}
    assert {name: status for name, status in answers.items() if status not in REFUSED} == {}
    # Nothing changed: the package and the other registry are still there.
    monkeypatch.undo()
    assert _rest("GET", "/registries/private/packages/{package}")(world) == 200
    assert _rest("GET", "/registries/dest")(world) == 200


@pytest.mark.parametrize("kind", [PrincipalKind.API_TOKEN, PrincipalKind.USER])
def test_a_named_kind_with_the_same_scopes_may_read_every_route(
    world: World, monkeypatch: pytest.MonkeyPatch, kind: PrincipalKind
) -> None:
    _as_kind(monkeypatch, kind)
    answers = {name: call(world) for name, call in READS.items()}
    assert {name: status for name, status in answers.items() if status != 200} == {}
