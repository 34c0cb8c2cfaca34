"""Who published a file through trusted publishing (``Publisher``): stored as JSON with the
package, and described in one line for people ("GitHub Actions: acme/app, release.yml @
refs/tags/v1.2.0")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packyard.core.models import Publisher

# Issuers known by name; any other is shown by its URL.
KNOWN_ISSUERS = {
    "https://token.actions.githubusercontent.com": "GitHub Actions",
    "https://agent.buildkite.com": "Buildkite",
    "https://gitlab.com": "GitLab CI",
}


def publisher_json(publisher: Publisher | None) -> dict[str, Any] | None:
    if publisher is None:
        return None
    return {"issuer": publisher.issuer, "claims": dict(publisher.claims)}


def publisher_from_json(data: Mapping[str, Any] | None) -> Publisher | None:
    if not data:
        return None
    claims = data.get("claims") or {}
    return Publisher(str(data["issuer"]), tuple((str(k), str(v)) for k, v in claims.items()))


def describe_publisher(publisher: Publisher) -> str:
    """One line naming the CI system and the job that published."""
    claims = dict(publisher.claims)
    system = KNOWN_ISSUERS.get(publisher.issuer, publisher.issuer)
    if "workflow_ref" in claims and "repository" in claims:
        workflow = claims["workflow_ref"].split("@", 1)[0].rsplit("/", 1)[-1]
        ref = claims.get("ref") or claims["workflow_ref"].partition("@")[2]
        if publisher.issuer not in KNOWN_ISSUERS:
            system = f"GitHub Actions ({publisher.issuer})"
        return f"{system}: {claims['repository']}, {workflow} @ {ref}"
    if "pipeline_slug" in claims:
        build = f" build {claims['build_number']}" if "build_number" in claims else ""
        owner = f"{claims['organization_slug']}/" if "organization_slug" in claims else ""
        return f"{system}: {owner}{claims['pipeline_slug']}{build}"
    if "project_path" in claims:
        ref = f" @ {claims['ref']}" if "ref" in claims else ""
        return f"{system}: {claims['project_path']}{ref}"
    return f"{system}: {claims.get('sub', 'unknown job')}"
