"""The upload form's checks, alone: what a tool sends is compared with the file received."""

from __future__ import annotations

from pathlib import Path

import pytest

from packyard.core.errors import InvalidRequest
from packyard.core.models import Digests
from packyard.dists.metadata import CoreMetadata
from packyard.services.staging import StagedFile
from packyard.services.uploads import (
    UploadForm,
    check_action,
    check_attestations,
    check_digests,
    check_release,
)

STAGED = StagedFile(
    path=Path("/nonexistent"),
    filename="demo-1.0-py3-none-any.whl",
    size=3,
    digests=Digests(
        md5="a" * 32, sha1="b" * 40, sha256="c" * 64, sha512="d" * 128, blake2b_256="e" * 64
    ),
)
METADATA = CoreMetadata(name="Demo.App", version="1.0")


def test_repeated_keys_keep_their_first_value_and_empty_digests_are_not_claims() -> None:
    form = UploadForm.from_fields(
        [("name", "demo"), ("name", "other"), ("md5_digest", ""), ("sha256_digest", " C ")]
    )
    assert form.name == "demo"
    assert form.digests == {"sha256_digest": "C"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([], ":action"),
        ([(":action", "submit")], "registration"),
        ([(":action", "remove_pkg")], "remove_pkg"),
        ([(":action", "file_upload"), ("protocol_version", "2")], "protocol_version"),
    ],
)
def test_only_file_upload_in_protocol_1_is_spoken(
    fields: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        check_action(UploadForm.from_fields(fields))


def test_matching_digests_in_any_case_pass() -> None:
    check_digests(
        UploadForm(digests={"md5_digest": "A" * 32, "blake2_256_digest": "e" * 64}), STAGED
    )


def test_a_wrong_digest_is_named() -> None:
    with pytest.raises(InvalidRequest, match=r"^sha256_digest does not match"):
        check_digests(UploadForm(digests={"sha256_digest": "0" * 64}), STAGED)


@pytest.mark.parametrize(
    ("name", "version"),
    [("demo-app", "1.0"), ("DEMO_APP", "1.0"), ("demo.app", "1.0"), (None, None)],
)
def test_names_and_versions_agreeing_after_normalization_pass(
    name: str | None, version: str | None
) -> None:
    check_release(UploadForm(name=name, version=version), METADATA)


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [("other", "1.0", "name"), ("demo-app", "1.1", "version"), ("demo-app", "one", "PEP 440")],
)
def test_a_form_contradicting_the_metadata_is_refused(
    name: str, version: str, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        check_release(UploadForm(name=name, version=version), METADATA)


def test_attestations_must_be_a_json_array_of_objects() -> None:
    check_attestations(UploadForm())
    check_attestations(UploadForm(attestations="[]"))
    with pytest.raises(InvalidRequest, match="not a JSON array"):
        check_attestations(UploadForm(attestations='[{"version": 1}, 2]'))
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        check_attestations(UploadForm(attestations="[{"))


def test_attestations_that_are_not_pep_740_objects_are_refused_before_verifying() -> None:
    with pytest.raises(InvalidRequest, match=r"^Invalid attestations .*attestation 1 is malformed"):
        check_attestations(UploadForm(attestations='[{"version": 1}]'))
