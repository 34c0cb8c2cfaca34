"""The upload API that twine, uv publish, poetry, pdm and hatch speak (PyPI's ``/legacy/``).

An upload is a multipart form: ``:action=file_upload``, ``protocol_version=1``, the file in
``content``, and the metadata the tool read from the file. The file goes through the same
pipeline as every publish (``PublishService.publish``); this module adds only what the form
itself promises, each check a function of its own:

    check_action -> check_digests (against the staged bytes) -> check_attestations (their form)
                 -> publish, with check_release against the metadata read from the file
                    and the attestations verified (``services.attestations``)

The metadata recorded is always the file's own; the form's copy is only compared. Fields a
tool sends that are not checked here are accepted and ignored, repeated keys included, so a
tool that learns a new metadata field (``import_names``, ``import_name``, ...) keeps working.
To check another field, add a function here and call it from ``publish_upload``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from packyard.core.errors import InvalidRequest
from packyard.core.models import Principal, Registry
from packyard.core.names import normalize_project, normalize_version
from packyard.dists.metadata import CoreMetadata
from packyard.services.attestations import parse_attestations
from packyard.services.publishing import PublishResult, PublishService
from packyard.services.staging import StagedFile

FILE_UPLOAD = "file_upload"
CONTENT_FIELD = "content"
# Sent as a file part by twine --sign; PyPI ignores signatures now, and so do we.
SIGNATURE_FIELD = "gpg_signature"
PROTOCOL_VERSION = "1"

# Form field -> the attribute of ``core.models.Digests`` it must equal.
DIGEST_FIELDS = {
    "md5_digest": "md5",
    "sha256_digest": "sha256",
    "blake2_256_digest": "blake2b_256",
}


@dataclass(frozen=True, slots=True)
class UploadForm:
    """The text fields of an upload, as sent (first value wins for single-valued keys)."""

    action: str | None = None
    protocol_version: str | None = None
    name: str | None = None
    version: str | None = None
    digests: dict[str, str] = field(default_factory=dict)
    attestations: str | None = None

    @classmethod
    def from_fields(cls, fields: Iterable[tuple[str, str]]) -> UploadForm:
        first: dict[str, str] = {}
        for key, value in fields:
            first.setdefault(key, value)
        digests = {key: first[key].strip() for key in DIGEST_FIELDS if first.get(key, "").strip()}
        return cls(
            action=first.get(":action"),
            protocol_version=first.get("protocol_version"),
            name=first.get("name"),
            version=first.get("version"),
            digests=digests,
            attestations=first.get("attestations") or None,
        )


def check_action(form: UploadForm) -> None:
    """Raise InvalidRequest unless the form asks for a file upload in protocol version 1."""
    if form.action is None:
        raise InvalidRequest(
            'Missing ":action" form field: this is an upload endpoint, send ":action=file_upload"'
        )
    if form.action == "submit":
        raise InvalidRequest(
            'Unsupported ":action" "submit": projects need no registration here, '
            "upload the files instead"
        )
    if form.action != FILE_UPLOAD:
        raise InvalidRequest(
            f'Unsupported ":action" {form.action!r}: this endpoint accepts only "file_upload"'
        )
    if form.protocol_version not in (None, PROTOCOL_VERSION):
        raise InvalidRequest(
            f"Unsupported protocol_version {form.protocol_version!r}: only version 1 is spoken"
        )


def check_digests(form: UploadForm, staged: StagedFile) -> None:
    """Raise InvalidRequest naming the first digest sent that the received bytes do not have."""
    for key, value in form.digests.items():
        received = getattr(staged.digests, DIGEST_FIELDS[key])
        if value.lower() != received:
            raise InvalidRequest(
                f"{key} does not match the file received: the form says {value}, the "
                f"{staged.size} bytes received hash to {received}; the upload was damaged "
                "or the form describes another file"
            )


def check_attestations(form: UploadForm) -> None:
    """Raise InvalidRequest for ``attestations`` that are not PEP 740 attestation objects,
    before the file is inspected; ``PublishService.publish`` verifies them (none, or an
    empty array, is accepted)."""
    if form.attestations is not None:
        parse_attestations(form.attestations)


def check_release(form: UploadForm, metadata: CoreMetadata) -> None:
    """Raise InvalidRequest when the form's name or version disagrees with the file's own.

    Both are compared normalised (PEP 503 names, PEP 440 versions); a form without them is
    not contradicted, since the file's metadata is what gets recorded.
    """
    if form.name and normalize_project(form.name) != metadata.project:
        raise InvalidRequest(
            f"The form says name {form.name!r} but the file's metadata says {metadata.name!r}"
        )
    if not form.version:
        return
    version = normalize_version(form.version)
    if version is None:
        raise InvalidRequest(f"The form's version {form.version!r} is not a valid PEP 440 version")
    if version != metadata.version:
        raise InvalidRequest(
            f"The form says version {form.version!r} but the file's metadata says "
            f"{metadata.version!r}"
        )


def publish_upload(
    publishing: PublishService,
    registry: Registry,
    form: UploadForm,
    staged: StagedFile,
    by: Principal,
) -> PublishResult:
    """Check what the form promises about ``staged``, then publish it; ``staged`` is consumed.

    Raises InvalidRequest for a form that does not describe the file, and whatever
    ``PublishService.publish`` raises.
    """
    try:
        check_action(form)
        check_digests(form, staged)
        check_attestations(form)
    except BaseException:
        publishing.staging.discard(staged)
        raise
    return publishing.publish(
        registry,
        staged,
        verify=lambda metadata: check_release(form, metadata),
        attestations=form.attestations,
        by=by,
    )
