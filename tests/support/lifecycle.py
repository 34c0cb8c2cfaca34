"""Reading a project's PEP 691 JSON page, as the yank and project status tests do."""

from __future__ import annotations

import httpx

from tests.support.driver import Registry

JSON_V1 = "application/vnd.pypi.simple.v1+json"


def project_json(registry: Registry, token: str, project: str) -> httpx.Response:
    return registry.get(f"{project}/", token, headers={"Accept": JSON_V1})
