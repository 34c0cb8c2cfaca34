"""OIDC policies (core.oidc_policy): every matcher, a missing claim, first match wins, and
what a policy may not contain."""

from __future__ import annotations

from typing import Any

import pytest

from packyard.core.errors import ValidationFailed
from packyard.core.models import Publisher
from packyard.core.oidc_policy import parse_policy
from packyard.core.publishers import describe_publisher
from packyard.core.scopes import Scope

ISS = "https://agent.buildkite.com"
POLICY = f"""
- iss: {ISS}
  scopes: [write_packages]
  claims:
    organization_slug: acme
    pipeline_slug: {{not_in: [sandbox]}}
    build_branch: {{matches: "release/v?.*"}}
    build_source: {{not_equals: schedule}}
    build_number: {{in: [1, 2, 42]}}
- iss: {ISS}/
  scopes: [read_packages]
  claims:
    organization_slug: {{equals: acme}}
"""
RELEASE: dict[str, Any] = {
    "organization_slug": "acme",
    "pipeline_slug": "app",
    "build_branch": "release/v1.2",
    "build_source": "ui",
    "build_number": "42",
}


@pytest.mark.parametrize(
    ("change", "scopes"),
    [
        ({}, {Scope.WRITE_PACKAGES}),
        ({"pipeline_slug": "sandbox"}, {Scope.READ_PACKAGES}),
        ({"build_branch": "release/v12.0"}, {Scope.READ_PACKAGES}),  # ? is one character
        ({"build_branch": "release/[v]1"}, {Scope.READ_PACKAGES}),  # [ is no class
        ({"build_source": "schedule"}, {Scope.READ_PACKAGES}),
        ({"build_number": 2}, {Scope.WRITE_PACKAGES}),  # numbers match their strings
        ({"build_number": "7"}, {Scope.READ_PACKAGES}),
        ({"organization_slug": "other"}, None),
    ],
)
def test_the_first_statement_whose_rules_all_hold_decides(
    change: dict[str, Any], scopes: set[Scope] | None
) -> None:
    found = parse_policy(POLICY).scopes_for(ISS, {**RELEASE, **change})
    assert (None if found is None else set(found)) == scopes


def test_a_missing_claim_fails_its_rule_even_not_equals() -> None:
    claims = {k: v for k, v in RELEASE.items() if k != "build_source"}
    assert parse_policy(POLICY).scopes_for(ISS, claims) == frozenset({Scope.READ_PACKAGES})


def test_another_issuer_matches_nothing() -> None:
    assert parse_policy(POLICY).scopes_for("https://gitlab.com", RELEASE) is None


def test_json_is_accepted() -> None:
    policy = parse_policy(
        f'[{{"iss": "{ISS}", "scopes": ["read_packages"], "claims": {{"a": true}}}}]'
    )
    assert policy.scopes_for(ISS, {"a": True}) == frozenset({Scope.READ_PACKAGES})
    assert policy.scopes_for(ISS, {"a": "true"}) is None  # booleans only as booleans


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("- &a {iss: x}", "line 1: anchors"),
        ("- iss: x\n  scopes: [write_packages]\n  claims: {a: *b}", "line 3: aliases"),
        ("- !!python/object:os.system {}", "line 1: tags"),
        ("- iss: x\n  scopes: [write_registries]\n  claims: {a: 1}", "unknown scope"),
        ("- iss: x\n  scopes: [read_packages]\n  claims: {a: {like: b}}", "unknown matcher"),
        ("- iss: x\n  scopes: [read_packages]\n  claims: {a: {matches: [1]}}", "strings"),
        ("- iss: x\n  scopes: [read_packages]", "needs claims"),
        ("iss: x", "must be a list"),
        ("- [", "does not parse: line"),
    ],
)
def test_a_policy_that_does_not_parse_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_policy(text)
    assert reason in refused.value.message


def test_publishers_are_described_per_ci_system() -> None:
    github = Publisher(
        "https://token.actions.githubusercontent.com",
        (
            ("repository", "acme/app"),
            ("workflow_ref", "acme/app/.github/workflows/release.yml@refs/tags/v1.2.0"),
            ("ref", "refs/tags/v1.2.0"),
        ),
    )
    assert describe_publisher(github) == "GitHub Actions: acme/app, release.yml @ refs/tags/v1.2.0"
    gitlab = Publisher("https://gitlab.com", (("project_path", "acme/app"), ("ref", "main")))
    assert describe_publisher(gitlab) == "GitLab CI: acme/app @ main"
