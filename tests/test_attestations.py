"""PEP 740 attestations: real, publicly verifiable attestations with the exact files they
attest (tests/fixtures/attestations, from pypi-attestations' sdist) are published through
twine --attestations, uv publish and the REST API, verified by the server offline against
Sigstore's trust root, and served as provenance (index pages and the Integrity API); every
damaged variant is refused with nothing stored."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser
from pypi_attestations import Distribution, Provenance
from pypi_simple import PyPISimple

from tests.support.backends import Backend
from tests.support.browser import PASSWORD, browser, create_user, new_page, sign_in
from tests.support.builders import Dist, write_sdist
from tests.support.clients import uv_executable
from tests.support.driver import Organization, Registry, api, new_organization
from tests.support.oidc_issuer import OidcIssuer, registry_with_policy, server_trusting
from tests.support.publishers import TEST_BIN, Publisher
from tests.support.server import PackyardServer
from tests.support.uploads import form_for, legacy_upload, upload_url

pytestmark = pytest.mark.timeout(300)
__all__ = ["browser"]  # the fixture, imported for this module

FIXTURES = Path(__file__).parent / "fixtures" / "attestations"
GITHUB_SDIST = "pypi_attestations-0.0.19.tar.gz"  # trailofbits/pypi-attestations, release.yml
GITLAB_SDIST = "gitlab_oidc_project-0.0.3.tar.gz"
BUNDLED_SDIST = "pypi_attestation_models-0.0.4a2.tar.gz"  # with a Sigstore bundle
JSON_INDEX = {"Accept": "application/vnd.pypi.simple.v1+json"}
INTEGRITY = "application/vnd.pypi.integrity.v1+json"
PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"
SLSA_V1 = "https://slsa.dev/provenance/v1"
REFUSED = "Invalid attestations supplied during upload"


@pytest.fixture(scope="module")
def org(yard: PackyardServer) -> Organization:
    return new_organization(yard, "attest")


@pytest.fixture(scope="module")
def writer(org: Organization) -> str:
    return org.token("read_packages", "write_packages")


_registries = itertools.count()


@pytest.fixture
def registry(org: Organization) -> Registry:
    return org.registry(f"Attested {next(_registries)}")


@pytest.fixture
def dist_dir(tmp_path: Path) -> Path:
    """A dist/ folder holding the fixture files a test copies in."""
    path = tmp_path / "dist"
    path.mkdir()
    return path


def _copy(dist_dir: Path, *names: str) -> Path:
    for name in names:
        shutil.copy(FIXTURES / name, dist_dir / name)
    return dist_dir / names[0]


def _json_files(registry: Registry, token: str, project: str) -> dict[str, dict[str, Any]]:
    page = registry.get(f"{project}/", token, headers=JSON_INDEX)
    assert page.status_code == 200, page.text
    return {f["filename"]: f for f in page.json()["files"]}


def _provenance(url: str, token: str, accept: str = INTEGRITY) -> httpx.Response:
    return httpx.get(url, auth=("x", token), headers={"Accept": accept}, timeout=30)


def _assert_verifies_as_a_client_would(provenance: dict[str, Any], dist: Path) -> list[str]:
    """What docs/lifecycle.md tells a user to do with the served provenance: every
    attestation verifies, offline, against the very file and the publisher its bundle
    names; returns their predicate types."""
    parsed = Provenance.model_validate(provenance)
    distribution = Distribution.from_file(dist)
    types = []
    for bundle in parsed.attestation_bundles:
        for attestation in bundle.attestations:
            predicate_type, _ = attestation.verify(bundle.publisher, distribution, offline=True)
            types.append(predicate_type)
    return types


def _assert_nothing_stored(registry: Registry, token: str, project: str) -> None:
    assert registry.get(f"{project}/", token).status_code == 404


def test_twine_attestations_are_verified_and_served_as_provenance(
    registry: Registry, writer: str, dist_dir: Path
) -> None:
    dist = _copy(
        dist_dir,
        GITHUB_SDIST,
        f"{GITHUB_SDIST}.publish.attestation",
        f"{GITHUB_SDIST}.slsa.attestation",
    )
    run = Publisher(dist_dir.parent / "home")
    (dist_dir.parent / "home").mkdir()
    run.run(
        str(TEST_BIN / "twine"),
        "upload",
        "--attestations",
        "--repository-url",
        upload_url(registry),
        "-u",
        "__token__",
        "-p",
        writer,
        "--non-interactive",
        # As "dist/*" expands: twine pairs each dist with its "<dist>.*.attestation" files.
        *sorted(str(path) for path in dist_dir.iterdir()),
        cwd=dist_dir.parent,
    )

    entry = _json_files(registry, writer, "pypi-attestations")[GITHUB_SDIST]
    url = entry["provenance"]
    assert url == (
        f"{registry.yard.base_url}/{registry.organization}/{registry.slug}/pypi/integrity/"
        f"pypi-attestations/0.0.19/{GITHUB_SDIST}/provenance"
    )
    answer = _provenance(url, writer)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == INTEGRITY
    provenance = answer.json()
    assert provenance["attestation_bundles"][0]["publisher"] == {
        "kind": "GitHub",
        "repository": "trailofbits/pypi-attestations",
        "workflow": "release.yml",
        "environment": None,
    }
    assert sorted(_assert_verifies_as_a_client_would(provenance, dist)) == [PUBLISH_V1, SLSA_V1]
    html = registry.get("pypi-attestations/", writer).text
    assert f'data-provenance="{url}"' in html


def test_the_integrity_api_negotiates_and_answers_404_without_provenance(
    registry: Registry, writer: str, dist_dir: Path
) -> None:
    dist = _copy(dist_dir, GITLAB_SDIST, f"{GITLAB_SDIST}.publish.attestation")
    attestation = (dist_dir / f"{GITLAB_SDIST}.publish.attestation").read_text()
    fields = [*form_for(dist, "gitlab-oidc-project", "0.0.3"), ("attestations", f"[{attestation}]")]
    legacy_upload(registry, dist, writer, fields)
    plain = _copy(dist_dir, BUNDLED_SDIST)
    registry.publish(plain, writer)

    url = _json_files(registry, writer, "gitlab-oidc-project")[GITLAB_SDIST]["provenance"]
    assert _provenance(url, writer, "text/html").status_code == 406
    assert _provenance(url, writer, "*/*").status_code == 200
    assert _provenance(url, "").status_code == 401
    unattested = _json_files(registry, writer, "pypi-attestation-models")[BUNDLED_SDIST]
    assert "provenance" not in unattested
    missing = url.replace(GITLAB_SDIST, BUNDLED_SDIST).replace(
        "gitlab-oidc-project/0.0.3", "pypi-attestation-models/0.0.4a2"
    )
    assert _provenance(missing, writer).status_code == 404
    publisher = _provenance(url, writer).json()["attestation_bundles"][0]["publisher"]
    assert publisher["kind"] == "GitLab"
    assert publisher["repository"] == "facutuesca/gitlab-oidc-project"


def test_a_renamed_registry_links_provenance_at_its_new_url(
    org: Organization, registry: Registry, writer: str, dist_dir: Path
) -> None:
    """The page was cached before the rename, and no file changed since: its links must
    still move with the registry's new slug (the old URL stops answering)."""
    dist = _copy(dist_dir, GITLAB_SDIST, f"{GITLAB_SDIST}.publish.attestation")
    attestation = (dist_dir / f"{GITLAB_SDIST}.publish.attestation").read_text()
    fields = [*form_for(dist, "gitlab-oidc-project", "0.0.3"), ("attestations", f"[{attestation}]")]
    legacy_upload(registry, dist, writer, fields)
    for _ in range(2):  # the second answer comes from the page cache
        before = _json_files(registry, writer, "gitlab-oidc-project")[GITLAB_SDIST]["provenance"]

    admin = api(org, org.token("write_registries"))
    renamed = admin.call(
        "PATCH", f"/registries/{registry.slug}", json={"name": f"{registry.slug} moved"}
    ).json()["slug"]
    moved = Registry(registry.yard, registry.organization, renamed)
    after = _json_files(moved, writer, "gitlab-oidc-project")[GITLAB_SDIST]["provenance"]

    assert after == before.replace(f"/{registry.slug}/", f"/{renamed}/")
    assert _provenance(after, writer).status_code == 200


def test_pypi_simple_reads_provenance_from_both_page_kinds(
    registry: Registry, writer: str, dist_dir: Path
) -> None:
    dist = _copy(dist_dir, GITHUB_SDIST)
    attestation = (FIXTURES / f"{GITHUB_SDIST}.publish.attestation").read_text()
    fields = [*form_for(dist, "pypi-attestations", "0.0.19"), ("attestations", f"[{attestation}]")]
    legacy_upload(registry, dist, writer, fields)
    for accept in ("application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.v1+html"):
        with PyPISimple(registry.simple_url, accept=accept, auth=("x", writer)) as client:
            page = client.get_project_page("pypi-attestations")
            (package,) = page.packages
            assert package.provenance_url is not None
            provenance = client.get_provenance(package)
        assert _assert_verifies_as_a_client_would(provenance, dist) == [PUBLISH_V1]


def test_uv_publish_sends_the_attestations_lying_next_to_the_dist(
    registry: Registry, writer: str, dist_dir: Path
) -> None:
    _copy(dist_dir, GITLAB_SDIST, f"{GITLAB_SDIST}.publish.attestation")
    run = Publisher(dist_dir.parent / "home")
    (dist_dir.parent / "home").mkdir()
    run.run(
        uv_executable(),
        "publish",
        "--publish-url",
        upload_url(registry),
        "--token",
        writer,
        # As "dist/*" expands: uv groups "<dist>.*.attestation" files with their dist.
        *sorted(str(path) for path in dist_dir.iterdir()),
        cwd=dist_dir.parent,
    )
    entry = _json_files(registry, writer, "gitlab-oidc-project")[GITLAB_SDIST]
    assert _provenance(entry["provenance"], writer).status_code == 200


def test_a_sigstore_bundle_is_accepted_by_the_rest_publish(
    registry: Registry, writer: str, dist_dir: Path
) -> None:
    dist = _copy(dist_dir, BUNDLED_SDIST, f"{BUNDLED_SDIST}.sigstore")
    with dist.open("rb") as handle:
        response = httpx.post(
            registry.publish_url,
            headers={"Authorization": f"Bearer {writer}"},
            files={
                "file": (dist.name, handle),
                "attestation_bundle": (
                    "bundle.json",
                    (dist_dir / f"{BUNDLED_SDIST}.sigstore").read_bytes(),
                ),
            },
            timeout=60,
        )
    assert response.status_code == 200, response.text
    entry = _json_files(registry, writer, "pypi-attestation-models")[BUNDLED_SDIST]
    provenance = _provenance(entry["provenance"], writer).json()
    assert _assert_verifies_as_a_client_would(provenance, dist) == [PUBLISH_V1]


def _statement_with(attestation: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    statement = json.loads(base64.b64decode(attestation["envelope"]["statement"]))
    statement["subject"][0].update(change)
    envelope = {
        **attestation["envelope"],
        "statement": base64.b64encode(json.dumps(statement).encode()).decode(),
    }
    return {**attestation, "envelope": envelope}


def _tampered_byte(attestation: dict[str, Any]) -> dict[str, Any]:
    signature = bytearray(base64.b64decode(attestation["envelope"]["signature"]))
    signature[10] ^= 0x01
    envelope = {**attestation["envelope"], "signature": base64.b64encode(bytes(signature)).decode()}
    return {**attestation, "envelope": envelope}


# Each damage, and what the refusal says.
DAMAGED: dict[str, tuple[Callable[[dict[str, Any]], str], str]] = {
    "a tampered byte": (lambda a: json.dumps([_tampered_byte(a)]), "invalid signature"),
    "a swapped subject name": (
        lambda a: json.dumps([_statement_with(a, {"name": "pypi_attestations-0.0.20.tar.gz"})]),
        "invalid signature",
    ),
    "a truncated bundle": (lambda a: json.dumps([a])[: len(json.dumps([a])) // 2], "JSON"),
    "an attestation of another file": (
        lambda _: json.dumps(
            [json.loads((FIXTURES / f"{GITLAB_SDIST}.publish.attestation").read_text())]
        ),
        "subject does not match distribution name",
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGED))
def test_damaged_attestations_are_refused_and_nothing_is_stored(
    registry: Registry, writer: str, dist_dir: Path, damage: str
) -> None:
    dist = _copy(dist_dir, GITHUB_SDIST)
    genuine = json.loads((FIXTURES / f"{GITHUB_SDIST}.publish.attestation").read_text())
    fields = [
        *form_for(dist, "pypi-attestations", "0.0.19"),
        ("attestations", DAMAGED[damage][0](genuine)),
    ]
    response = legacy_upload(registry, dist, writer, fields, expect=400)
    assert response.text.startswith(REFUSED), response.text
    assert DAMAGED[damage][1] in response.text
    _assert_nothing_stored(registry, writer, "pypi-attestations")


def test_the_rest_publish_refuses_an_attestation_of_another_file(
    registry: Registry, writer: str, dist_dir: Path
) -> None:
    dist = _copy(dist_dir, GITHUB_SDIST)
    other = (FIXTURES / f"{GITLAB_SDIST}.publish.attestation").read_bytes()
    with dist.open("rb") as handle:
        response = httpx.post(
            registry.publish_url,
            headers={"Authorization": f"Bearer {writer}"},
            files={"file": (dist.name, handle), "attestation_bundle": ("a.json", other)},
            timeout=60,
        )
    assert response.status_code == 400, response.text
    assert REFUSED in response.json()["message"]
    _assert_nothing_stored(registry, writer, "pypi-attestations")


GITHUB_JOB = {
    "repository": "trailofbits/pypi-attestations",
    "ref": "refs/tags/v0.0.19",
    "sub": "repo:trailofbits/pypi-attestations:ref:refs/tags/v0.0.19",
}


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer() as running:
        yield running


@pytest.fixture(scope="module")
def trusting(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, issuer: OidcIssuer
) -> Iterator[PackyardServer]:
    with server_trusting(backend, tmp_path_factory.mktemp("trusting"), issuer) as server:
        yield server


@pytest.mark.parametrize(("workflow", "accepted"), [("release.yml", True), ("nightly.yml", False)])
def test_a_trusted_publisher_must_be_who_signed_the_attestations(
    trusting: PackyardServer, issuer: OidcIssuer, dist_dir: Path, workflow: str, accepted: bool
) -> None:
    org = new_organization(trusting, "tp-attest")
    policy_text = f"""
- iss: {issuer.url}
  scopes: [read_packages, write_packages]
  claims:
    repository: trailofbits/pypi-attestations
"""
    registry = registry_with_policy(org, "Trusted", policy_text)
    audience = f"{trusting.base_url}/{registry.organization}/{registry.slug}"
    workflow_ref = f"trailofbits/pypi-attestations/.github/workflows/{workflow}@refs/tags/v0.0.19"
    token = issuer.token(audience, {**GITHUB_JOB, "workflow_ref": workflow_ref})
    dist = _copy(dist_dir, GITHUB_SDIST)
    attestation = (FIXTURES / f"{GITHUB_SDIST}.publish.attestation").read_text()
    fields = [*form_for(dist, "pypi-attestations", "0.0.19"), ("attestations", f"[{attestation}]")]

    response = legacy_upload(registry, dist, token, fields, expect=200 if accepted else 400)

    if accepted:
        url = _json_files(registry, token, "pypi-attestations")[GITHUB_SDIST]["provenance"]
        publisher = _provenance(url, token).json()["attestation_bundles"][0]["publisher"]
        assert publisher["workflow"] == "release.yml"
    else:
        assert response.text.startswith(REFUSED)
        assert "nightly.yml" in response.text
        _assert_nothing_stored(registry, token, "pypi-attestations")


def test_attestations_of_a_tampered_file_are_refused(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    """The same name with other bytes: the subject's SHA256 is not the file's."""
    # Built by the test suite, named like the attested file: a valid sdist, other bytes.
    dist = write_sdist(Dist("pypi-attestations", "0.0.19"), tmp_path)
    assert dist.name == GITHUB_SDIST
    attestation = (FIXTURES / f"{GITHUB_SDIST}.publish.attestation").read_text()
    fields = [*form_for(dist, "pypi-attestations", "0.0.19"), ("attestations", f"[{attestation}]")]
    response = legacy_upload(registry, dist, writer, fields, expect=400)
    assert "digest" in response.text
    _assert_nothing_stored(registry, writer, "pypi-attestations")


def test_the_package_page_shows_the_attestations_tab(
    yard: PackyardServer,
    org: Organization,
    registry: Registry,
    writer: str,
    dist_dir: Path,
    browser: Browser,
) -> None:
    dist = _copy(dist_dir, GITHUB_SDIST)
    attestation = (FIXTURES / f"{GITHUB_SDIST}.publish.attestation").read_text()
    fields = [*form_for(dist, "pypi-attestations", "0.0.19"), ("attestations", f"[{attestation}]")]
    attested = legacy_upload(registry, dist, writer, fields).json()
    plain = registry.publish(_copy(dist_dir, BUNDLED_SDIST), writer).json()
    page = new_page(browser)
    sign_in(page, yard.base_url, create_user(yard, org, admin=False), PASSWORD)

    page.goto(attested["web_url"] + "?tab=attestations")
    shown = page.inner_text("#attestation-1")
    assert PUBLISH_V1 in shown
    assert page.inner_text("#attestation-1 .repository") == (
        "https://github.com/trailofbits/pypi-attestations"
    )
    assert page.inner_text("#attestation-1 .workflow").endswith("/.github/workflows/release.yml")
    assert "@refs/tags/v0.0.19" in page.inner_text("#attestation-1 .identity")
    link = page.get_attribute("#attestation-1 .log-index", "href")
    assert link is not None
    assert link.startswith("https://search.sigstore.dev/?logIndex=")
    page.goto(plain["web_url"] + "?tab=attestations")
    assert page.is_visible("#no-attestations")
    page.context.close()
