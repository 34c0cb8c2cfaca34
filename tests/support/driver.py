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
