"""The OpenAPI document describes the REST API accurately: schemathesis generates requests
from it against a live server and finds no server error, no undocumented status, and no
response that contradicts the schema.

Path parameters name real objects, so that generated requests reach the code behind the
404s, and each DELETE gets an object of its own. Bounded: a few examples per operation
and no stateful phase; the run takes seconds. It uses the schemathesis CLI, the tool's
primary interface (its lazy pytest fixture loader does not run under pytest 9).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.builders import Dist, write_wheel
from tests.support.driver import Api, api, new_organization
from tests.support.rest import ALL_SCOPES
from tests.support.server import PackyardServer

MAX_EXAMPLES = int(os.environ.get("PACKYARD_TEST_SCHEMATHESIS_EXAMPLES", "25"))
SEED = int(os.environ.get("PACKYARD_TEST_SCHEMATHESIS_SEED", "20261124"))
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "unsupported_method",
    "allow_header_conformance",
)
RUN_TIMEOUT_SECONDS = 240


def _toml_table(name: str, values: dict[str, str]) -> str:
    # JSON strings are valid TOML basic strings.
    lines = [f"[{name}]"] + [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def _operation(method: str, path_regex: str, parameters: dict[str, str]) -> str:
    inline = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in parameters.items())
    lines = [
        "[[operations]]",
        f"include-method = {json.dumps(method)}",
        f"include-path-regex = {json.dumps(path_regex)}",
        f"parameters = {{ {inline} }}",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def config_file(yard: PackyardServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Api]:
    organization = new_organization(yard, "openapi")
    admin = api(organization, organization.token(*ALL_SCOPES))
    tmp = tmp_path_factory.mktemp("openapi")
    for name in ("Main", "Destination", "Deletable"):
        admin.create_registry(name)
    package = admin.publish("main", write_wheel(Dist("described", "1.0"), tmp)).json()["id"]
    doomed_package = admin.publish("main", write_wheel(Dist("doomed", "1.0"), tmp)).json()["id"]
    token = admin.call("POST", "/registries/main/tokens", json={}).json()["id"]
    doomed_token = admin.call("POST", "/registries/main/tokens", json={}).json()["id"]
    common = {
        "path.organization": organization.slug,
        "path.registry": "main",
        "path.package_id": package,
        "path.token_id": token,
        "query.to": "destination",
    }
    checks = "".join(f"[checks.{name}]\nenabled = true\n" for name in CHECKS)
    text = (
        f"max-failures = 20\nseed = {SEED}\n"
        + _toml_table("headers", {"Authorization": f"Bearer {admin.token}"})
        + _toml_table("parameters", common)
        + f"[generation]\nmax-examples = {MAX_EXAMPLES}\n"
        + "[phases.stateful]\nenabled = false\n"
        + "[checks]\nenabled = false\n"
        + checks
        + _operation(
            "DELETE", r"/registries/\{registry\}$", {**common, "path.registry": "deletable"}
        )
        + _operation(
            "DELETE", r"/packages/\{package_id\}$", {**common, "path.package_id": doomed_package}
        )
        + _operation("DELETE", r"/tokens/\{token_id\}$", {**common, "path.token_id": doomed_token})
    )
    path = tmp / "schemathesis.toml"
    path.write_text(text)
    return path, admin


def test_api_conforms_to_its_openapi_document(
    yard: PackyardServer, config_file: tuple[Path, Api]
) -> None:
    path, admin = config_file
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(path),
            "--no-color",
            "run",
            f"{yard.base_url}/openapi.json",
            "--workers",
            "1",
            # Revoking the token under test would leave every later request
            # unauthenticated; revocation has tests of its own.
            "--exclude-operation-id",
            "revoke_access_token",
            "--generation-database",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        cwd=path.parent,
    )
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
    # The run reached real objects: each DELETE removed the one set aside for it.
    admin.call("GET", "/registries/deletable", expect=404)
    admin.call("GET", "/registries/main")


def test_openapi_document_and_interactive_docs_are_served(yard: PackyardServer) -> None:
    document = httpx.get(f"{yard.base_url}/openapi.json").json()
    paths = document["paths"]
    base = "/v2/packages/organizations/{organization}/registries"
    assert set(paths) >= {
        base,
        f"{base}/{{registry}}",
        f"{base}/{{registry}}/packages",
        f"{base}/{{registry}}/packages/{{package_id}}",
        f"{base}/{{registry}}/packages/{{package_id}}/copy",
        f"{base}/{{registry}}/tokens",
        f"{base}/{{registry}}/tokens/{{token_id}}",
        "/v2/access-token",
    }
    assert not any(path.startswith("/{organization}") for path in paths), "index is not API"
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    docs = httpx.get(f"{yard.base_url}/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text


@pytest.mark.parametrize(
    ("path", "schema"),
    [("setup", "Installation"), ("publish-instructions", "PublishInstructions")],
)
def test_snippet_endpoints_are_typed_and_declare_the_bearer_credential(
    yard: PackyardServer, path: str, schema: str
) -> None:
    document = httpx.get(f"{yard.base_url}/openapi.json").json()
    url = f"/v2/packages/organizations/{{organization}}/registries/{{registry}}/{path}"
    operation = document["paths"][url]["get"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": f"#/components/schemas/{schema}"}
    assert operation["security"] == [{"HTTPBearer": []}]
    snippet = document["components"]["schemas"]["Snippet"]
    assert set(snippet["properties"]) == {"key", "title", "language", "text"}
