"""A small story driver: ``org = yard.organization("acme"); reg = org.registry("Dev");
reg.publish(wheel, token, expect=403)`` reads like the user story it tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import PackyardServer

_counter = itertools.count()


@dataclass
class Registry:
    yard: PackyardServer
    organization: str
    slug: str

    @property
    def publish_url(self) -> str:
        return (
            f"{self.yard.base_url}/v2/packages/organizations/{self.organization}"
            f"/registries/{self.slug}/packages"
        )

    @property
    def simple_url(self) -> str:
        return f"{self.yard.base_url}/{self.organization}/{self.slug}/pypi/simple/"

    def index_url(self, token: str, user: str = "x") -> str:
        host = self.yard.base_url.split("://", 1)[1]
        return f"http://{user}:{token}@{host}/{self.organization}/{self.slug}/pypi/simple/"

    def publish(
        self, path: Path, token: str | None, expect: int = 200, field: str = "file"
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with path.open("rb") as handle:
            response = httpx.post(
                self.publish_url, headers=headers, files={field: (path.name, handle)}, timeout=60
            )
        assert response.status_code == expect, (response.status_code, response.text)
        return response

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        auth = ("x", token) if token else None
        return httpx.get(f"{self.simple_url}{path}", auth=auth, timeout=30, **kwargs)

    def token(self) -> str:
        """A read-only registry token for this registry."""
        return self.yard.admin(
            "token", "create", self.organization, "--registry", self.slug
        ).strip()


@dataclass
class Organization:
    yard: PackyardServer
    slug: str

    def registry(self, name: str, *, public: bool = False) -> Registry:
        args = ["registry", "create", self.slug, name] + (["--public"] if public else [])
        slug = self.yard.admin(*args).strip()
        return Registry(self.yard, self.slug, slug)

    def composite(self, name: str, *upstreams: str, options: tuple[str, ...] = ()) -> Registry:
        """A composite registry over ``upstreams`` (slugs or "pypi"), in order; ``options``
        are more CLI options such as ``("--pypi-files", "cache")``."""
        args = ["registry", "create", self.slug, name, "--composite", *options]
        for upstream in upstreams:
            args += ["--upstream", upstream]
        slug = self.yard.admin(*args).strip()
        return Registry(self.yard, self.slug, slug)

    def token(self, *scopes: str) -> str:
        args = ["token", "create", self.slug]
        for scope in scopes:
            args += ["--scope", scope]
        return self.yard.admin(*args).strip()


def new_organization(yard: PackyardServer, prefix: str = "org") -> Organization:
    slug = f"{prefix}-{next(_counter)}"
    yard.admin("org", "create", slug)
    return Organization(yard, slug)


@dataclass
class Api:
    """The REST API of one organization as one token sees it:
    ``api.call("POST", "/registries", json={...}, expect=200).json()``."""

    yard: PackyardServer
    organization: str
    token: str | None

    @property
    def base(self) -> str:
        return f"{self.yard.base_url}/v2/packages/organizations/{self.organization}"

    def call(
        self, method: str, path: str, expect: int | None = 200, **kwargs: Any
    ) -> httpx.Response:
        """Send ``method`` to ``path`` (under the organization, or absolute when it starts
        with ``/v2/access-token``); assert the status when ``expect`` is given."""
        url = f"{self.yard.base_url}{path}" if path.startswith("/v2/") else f"{self.base}{path}"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(kwargs.pop("headers", {}))
        response = httpx.request(method, url, headers=headers, timeout=60, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (
                method,
                path,
                response.status_code,
                response.text,
            )
        return response

    def create_registry(self, name: str, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.call(
            "POST", "/registries", json={"name": name, "ecosystem": "python", **fields}
        ).json()
        return body

    def publish(self, registry: str, path: Path, expect: int = 200) -> httpx.Response:
        with path.open("rb") as handle:
            return self.call(
                "POST",
                f"/registries/{registry}/packages",
                expect=expect,
                files={"file": (path.name, handle)},
            )

    def registry(self, slug: str) -> Registry:
        return Registry(self.yard, self.organization, slug)


def api(organization: Organization, token: str | None) -> Api:
    return Api(organization.yard, organization.slug, token)
