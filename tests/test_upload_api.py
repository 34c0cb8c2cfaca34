"""The upload API twine, uv, poetry, pdm and hatch speak, exercised by hand: paths, the
form's promises (action, digests, name and version), re-runs, and every refusal a person
must be able to act on. The clients themselves are in test_publish_with_tools.py."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.builders import Dist, write_sdist, write_wheel
from tests.support.driver import Organization, Registry, new_organization
from tests.support.server import PackyardServer
from tests.support.uploads import form_for, legacy_upload, upload_url

JSON_INDEX = {"Accept": "application/vnd.pypi.simple.v1+json"}
UPLOAD_SUFFIXES = ["pypi", "pypi/", "pypi/legacy", "pypi/legacy/"]


# Setting up through the CLI costs seconds, so the module shares one organization and one
# registry; every test uses project names of its own.
@pytest.fixture(scope="module")
def org(yard: PackyardServer) -> Organization:
    return new_organization(yard, "upload")


@pytest.fixture(scope="module")
def registry(org: Organization) -> Registry:
    return org.registry("Uploads")


@pytest.fixture(scope="module")
def writer(org: Organization) -> str:
    return org.token("read_packages", "write_packages")


def _files_of(registry: Registry, token: str, project: str) -> list[dict[str, object]]:
    page = registry.get(f"{project}/", token, headers=JSON_INDEX)
    if page.status_code == 404:
        return []
    files: list[dict[str, object]] = page.json()["files"]
    return files


def _assert_nothing_published(registry: Registry, token: str, project: str) -> None:
    assert _files_of(registry, token, project) == []
    assert not list((registry.yard.data_dir / "staging").iterdir())


@pytest.mark.parametrize("suffix", UPLOAD_SUFFIXES)
def test_upload_is_answered_at_every_upload_path_without_redirect(
    registry: Registry, writer: str, tmp_path: Path, suffix: str
) -> None:
    project = "path-" + suffix.replace("/", "-").strip("-")
    path = write_wheel(Dist(project, "1.0"), tmp_path)
    response = legacy_upload(registry, path, writer, form_for(path, project, "1.0"), suffix=suffix)
    assert response.json()["filename"] == path.name
    assert [f["filename"] for f in _files_of(registry, writer, project)] == [path.name]


@pytest.mark.parametrize("suffix", UPLOAD_SUFFIXES)
def test_get_on_an_upload_path_is_405_with_a_hint(
    registry: Registry, writer: str, suffix: str
) -> None:
    response = httpx.get(upload_url(registry, suffix), auth=("__token__", writer))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert registry.simple_url in response.text


def test_an_sdist_uploads_like_a_wheel(registry: Registry, writer: str, tmp_path: Path) -> None:
    path = write_sdist(Dist("sdist-up", "2.0"), tmp_path)
    legacy_upload(registry, path, writer, form_for(path, "sdist-up", "2.0"))
    assert [f["filename"] for f in _files_of(registry, writer, "sdist-up")] == [path.name]


def test_any_user_name_carries_the_token(registry: Registry, writer: str, tmp_path: Path) -> None:
    path = write_wheel(Dist("any-user", "1.0"), tmp_path)
    response = httpx.post(
        upload_url(registry),
        data=dict(form_for(path, "any-user", "1.0")),
        files={"content": (path.name, path.read_bytes())},
        auth=("buildkite", writer),
    )
    assert response.status_code == 200, response.text


def test_upload_without_credentials_is_401_asking_for_basic_auth(
    registry: Registry, tmp_path: Path
) -> None:
    path = write_wheel(Dist("anon", "1.0"), tmp_path)
    response = legacy_upload(registry, path, None, form_for(path, "anon", "1.0"), expect=401)
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.headers["content-type"].startswith("text/plain")
    assert "token" in response.text


def test_upload_with_a_read_only_registry_token_is_403(registry: Registry, tmp_path: Path) -> None:
    path = write_wheel(Dist("ro", "1.0"), tmp_path)
    response = legacy_upload(
        registry, path, registry.token(), form_for(path, "ro", "1.0"), expect=403
    )
    assert "read-only" in response.text


def test_upload_without_write_scope_is_403_naming_the_scope(
    org: Organization, registry: Registry, tmp_path: Path
) -> None:
    path = write_wheel(Dist("ro", "1.0"), tmp_path)
    reader = org.token("read_packages")
    response = legacy_upload(registry, path, reader, form_for(path, "ro", "1.0"), expect=403)
    assert "write_packages" in response.text


@pytest.mark.parametrize(
    ("action", "word"), [("submit", "registration"), ("doc_upload", "file_upload")]
)
def test_upload_with_an_unknown_action_is_400(
    registry: Registry, writer: str, tmp_path: Path, action: str, word: str
) -> None:
    path = write_wheel(Dist("act", "1.0"), tmp_path)
    fields = [(k, action if k == ":action" else v) for k, v in form_for(path, "act", "1.0")]
    response = legacy_upload(registry, path, writer, fields, expect=400)
    assert action in response.text
    assert word in response.text
    _assert_nothing_published(registry, writer, "act")


def test_upload_without_an_action_is_400(registry: Registry, writer: str, tmp_path: Path) -> None:
    path = write_wheel(Dist("act", "1.0"), tmp_path)
    fields = [(k, v) for k, v in form_for(path, "act", "1.0") if k != ":action"]
    response = legacy_upload(registry, path, writer, fields, expect=400)
    assert ":action" in response.text


@pytest.mark.parametrize("digest", ["md5_digest", "sha256_digest", "blake2_256_digest"])
def test_a_digest_that_does_not_match_the_bytes_is_400_naming_it(
    registry: Registry, writer: str, tmp_path: Path, digest: str
) -> None:
    path = write_wheel(Dist("damaged", "1.0"), tmp_path)
    fields = [(k, "0" * len(v) if k == digest else v) for k, v in form_for(path, "damaged", "1.0")]
    response = legacy_upload(registry, path, writer, fields, expect=400)
    assert response.text.startswith(f"{digest} does not match")
    _assert_nothing_published(registry, writer, "damaged")


def test_digests_in_upper_case_are_accepted(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("upper", "1.0"), tmp_path)
    form = form_for(path, "upper", "1.0")
    fields = [(k, v.upper() if k.endswith("_digest") else v) for k, v in form]
    legacy_upload(registry, path, writer, fields)
    (listed,) = _files_of(registry, writer, "upper")
    assert listed["filename"] == path.name
    assert listed["hashes"] == {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


@pytest.mark.parametrize(
    ("field", "value", "word"),
    [("name", "someone-else", "name"), ("version", "2.0", "version"), ("version", "x!y", "PEP")],
)
def test_a_form_that_contradicts_the_files_metadata_is_400(
    registry: Registry, writer: str, tmp_path: Path, field: str, value: str, word: str
) -> None:
    path = write_wheel(Dist("claimed", "1.0"), tmp_path)
    fields = [(k, value if k == field else v) for k, v in form_for(path, "claimed", "1.0")]
    response = legacy_upload(registry, path, writer, fields, expect=400)
    assert word in response.text
    assert value in response.text
    _assert_nothing_published(registry, writer, "claimed")


def test_form_name_and_version_are_compared_normalized(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("Norm.Me", "1.0"), tmp_path)
    legacy_upload(registry, path, writer, form_for(path, "norm_me", "1.0"))
    path2 = write_wheel(Dist("Norm.Me", "2.0a1"), tmp_path)
    legacy_upload(registry, path2, writer, form_for(path2, "NORM-ME", "2.0.alpha1"))
    assert len(_files_of(registry, writer, "norm-me")) == 2


def test_every_field_tools_send_is_accepted_and_metadata_comes_from_the_file(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("fields", "1.0", requires_python=">=3.8"), tmp_path)
    fields = [
        *form_for(path, "fields", "1.0"),
        ("requires_python", ">=3.99"),  # a lie: the file says >=3.8
        ("classifiers", "Programming Language :: Python :: 3"),
        ("classifiers", "License :: OSI Approved :: MIT License"),
        ("requires_dist", "idna"),
        ("requires_dist", "rich>=13"),
        ("project_urls", "Homepage, https://example.invalid"),
        ("project_urls", "Source, https://example.invalid/src"),
        ("import_names", "fields"),
        ("import_name", "fields"),
        ("import_namespaces", "fields"),
        ("dynamic", "Requires-Dist"),
        ("license_expression", "MIT"),
        ("license_file", "LICENSE"),
        ("provides_extra", "cli"),
        ("platform", "any"),
        ("comment", "uploaded by the test suite"),
        ("description", "# Long\n\ntext " * 1000),
    ]
    legacy_upload(registry, path, writer, fields)
    (file,) = _files_of(registry, writer, "fields")
    assert file["requires-python"] == ">=3.8"


def test_a_twine_signature_part_is_accepted_and_ignored(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("signed", "1.0"), tmp_path)
    signature = ("gpg_signature", (f"{path.name}.asc", b"-----BEGIN PGP SIGNATURE-----\n"))
    legacy_upload(registry, path, writer, form_for(path, "signed", "1.0"), extra_files=[signature])
    (listed,) = _files_of(registry, writer, "signed")  # the wheel alone, no .asc beside it
    assert listed["filename"] == path.name
    assert "gpg-sig" not in listed
    file_url = str(httpx.URL(f"{registry.simple_url}signed/").join(str(listed["url"])))
    assert httpx.get(file_url, auth=("x", writer)).content == path.read_bytes()
    assert httpx.get(f"{file_url}.asc", auth=("x", writer)).status_code == 404


def test_an_upload_without_content_is_400(registry: Registry, writer: str) -> None:
    response = httpx.post(
        upload_url(registry),
        data={":action": "file_upload", "protocol_version": "1"},
        files={"other": ("x.txt", b"")},
        auth=("__token__", writer),
    )
    assert response.status_code == 400
    assert "content" in response.text


def test_pep_740_attestations_that_cannot_be_verified_are_refused_and_nothing_stored(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("attested", "1.0"), tmp_path)
    attestations = json.dumps([{"version": 1, "verification_material": {}, "envelope": {}}])
    fields = [*form_for(path, "attested", "1.0"), ("attestations", attestations)]
    response = legacy_upload(registry, path, writer, fields, expect=400)
    assert "Invalid attestations supplied during upload" in response.text
    _assert_nothing_published(registry, writer, "attested")


def test_an_empty_attestations_array_is_accepted(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("unattested", "1.0"), tmp_path)
    fields = [*form_for(path, "unattested", "1.0"), ("attestations", "[]")]
    legacy_upload(registry, path, writer, fields)


@pytest.mark.parametrize("attestations", ["not json", '{"a": 1}', "[1, 2]"])
def test_attestations_that_are_not_a_json_array_of_objects_are_400(
    registry: Registry, writer: str, tmp_path: Path, attestations: str
) -> None:
    path = write_wheel(Dist("badatt", "1.0"), tmp_path)
    fields = [*form_for(path, "badatt", "1.0"), ("attestations", attestations)]
    response = legacy_upload(registry, path, writer, fields, expect=400)
    assert "Invalid attestations supplied during upload" in response.text
    _assert_nothing_published(registry, writer, "badatt")


def test_upload_answers_the_file_as_the_rest_api_describes_it(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("described", "1.0"), tmp_path)
    response = legacy_upload(registry, path, writer, form_for(path, "described", "1.0"))
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    described = httpx.get(
        answer["url"], headers={"Authorization": f"Bearer {writer}"}, timeout=30
    ).json()
    assert {key: described[key] for key in answer} == answer
    assert answer["digests"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert answer["registry"]["slug"] == registry.slug


def test_uploading_the_same_bytes_again_is_200_and_adds_nothing(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("rerun", "1.0"), tmp_path)
    first = legacy_upload(registry, path, writer, form_for(path, "rerun", "1.0")).json()
    again = legacy_upload(registry, path, writer, form_for(path, "rerun", "1.0")).json()
    assert again["id"] == first["id"]
    assert len(_files_of(registry, writer, "rerun")) == 1


def test_other_bytes_under_a_taken_name_are_409_file_already_exists(
    registry: Registry, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("taken", "1.0"), tmp_path)
    legacy_upload(registry, path, writer, form_for(path, "taken", "1.0"))
    changed_dir = tmp_path / "changed"
    changed_dir.mkdir()
    changed = write_wheel(Dist("taken", "1.0", summary="other bytes"), changed_dir)
    response = legacy_upload(
        registry, changed, writer, form_for(changed, "taken", "1.0"), expect=409
    )
    assert response.text.startswith("File already exists")
    assert response.headers["content-type"].startswith("text/plain")


def test_upload_to_an_unknown_registry_is_404(
    org: Organization, writer: str, tmp_path: Path
) -> None:
    path = write_wheel(Dist("lost", "1.0"), tmp_path)
    missing = Registry(org.yard, org.slug, "no-such-registry")
    response = legacy_upload(missing, path, writer, form_for(path, "lost", "1.0"), expect=404)
    assert "no-such-registry" in response.text


def test_upload_to_a_composite_is_400_naming_its_sources(
    org: Organization, registry: Registry, writer: str, tmp_path: Path
) -> None:
    composite = org.composite("Uploads all", registry.slug)
    path = write_wheel(Dist("nowhere", "1.0"), tmp_path)
    response = legacy_upload(composite, path, writer, form_for(path, "nowhere", "1.0"), expect=400)
    assert response.text.startswith(f"{composite.slug!r} is a composite registry")
    assert registry.slug in response.text
    _assert_nothing_published(registry, writer, "nowhere")


@pytest.fixture(scope="module")
def small_limit_yard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackyardServer]:
    root = tmp_path_factory.mktemp("small-upload")
    server = PackyardServer(
        root / "data", root / "server.log", extra_env={"PACKYARD_MAX_UPLOAD_BYTES": str(64 * 1024)}
    )
    server.start()
    yield server
    server.stop()


def test_upload_past_the_size_limit_is_413(
    small_limit_yard: PackyardServer, tmp_path: Path
) -> None:
    org = new_organization(small_limit_yard)
    registry = org.registry("Small")
    token = org.token("read_packages", "write_packages")
    noise = random.Random(0).randbytes(256 * 1024)
    path = write_wheel(Dist("large", "1.0", extra_files={"large/blob.bin": noise}), tmp_path)
    response = legacy_upload(registry, path, token, form_for(path, "large", "1.0"), expect=413)
    assert "65536" in response.text
    _assert_nothing_published(registry, token, "large")
