"""PEP 740 attestations: verified with ``pypi-attestations`` against Sigstore's trust root,
offline, before a file is stored; what is kept is the PEP 740 provenance object.

    parse_attestations (the upload's JSON, or a REST ``attestation_bundle``)
        -> verify_attestations (each: signature, transparency-log inclusion, exactly one
           subject naming this file and its SHA256, a known predicate type, and, for a
           trusted publisher, its repository and workflow)
        -> VerifiedProvenance (the provenance JSON served by the Integrity API)

The trust root is the production one that sigstore-python ships (``offline=True``: the
server never asks the network, so it verifies the same way on an air-gapped host). Any
failure raises InvalidRequest "Invalid attestations supplied during upload: ...", Warehouse's
wording, which the publishing tools print as is. To accept another CI system as a trusted
publisher with attestations, add its claims to ``_publisher_identity``.

pypi-attestations, sigstore and cryptography are imported by the functions that use them:
with what they pull in (TUF, securesystemslib, boto3, requests) they cost a worker about
55 MiB and most of a second at start, and most servers never receive an attestation.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from packyard.core.errors import InvalidRequest
from packyard.core.models import Publisher

if TYPE_CHECKING:
    import pypi_attestations as pa

# At most this many attestations per file (PyPI allows one per predicate type: two today).
MAX_ATTESTATIONS = 8
SIGSTORE_BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle"

# Fulcio's certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md).
_ISSUER = "1.3.6.1.4.1.57264.1.8"
_BUILD_SIGNER_URI = "1.3.6.1.4.1.57264.1.9"
_SOURCE_REPOSITORY_URI = "1.3.6.1.4.1.57264.1.12"
_SOURCE_REPOSITORY_REF = "1.3.6.1.4.1.57264.1.14"
_BUILD_CONFIG_URI = "1.3.6.1.4.1.57264.1.18"

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
GOOGLE_ISSUER = "https://accounts.google.com"
CIRCLECI_ISSUER = "https://oidc.circleci.com"

# sigstore-python warns on every offline verification and on the no-op identity policy
# used when no trusted publisher is to be matched; both are expected here.
logging.getLogger("sigstore").setLevel(logging.ERROR)


@dataclass(frozen=True, slots=True)
class AttestationSummary:
    """What a person is shown of one verified attestation (the UI's Attestations tab)."""

    predicate_type: str
    identity: str  # the certificate's subject: a workflow URI or an email address
    issuer: str
    repository: str | None
    workflow: str | None
    ref: str | None
    log_index: int | None


@dataclass(frozen=True, slots=True)
class VerifiedProvenance:
    provenance_json: str  # the PEP 740 provenance object, as served
    attestations: list[AttestationSummary]


def invalid_attestations(why: str) -> InvalidRequest:
    # Warehouse's wording, which publishing tools show as is.
    return InvalidRequest(f"Invalid attestations supplied during upload: {why}")


def parse_attestations(text: str) -> list[pa.Attestation]:
    """The attestations in ``text``: a JSON array of PEP 740 attestation objects (the upload
    API's ``attestations``), one such object, or one Sigstore bundle (a REST
    ``attestation_bundle``). Raises InvalidRequest naming what is wrong."""
    try:
        parsed = json.loads(text)
    except ValueError:
        raise invalid_attestations("not valid JSON (PEP 740 wants a JSON array)") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not all(isinstance(item, dict) for item in items):
        raise invalid_attestations("not a JSON array of attestation objects (PEP 740)")
    if len(items) > MAX_ATTESTATIONS:
        raise invalid_attestations(f"{len(items)} attestations, at most {MAX_ATTESTATIONS}")
    return [_attestation(item, position) for position, item in enumerate(items, 1)]


def _attestation(item: dict[str, Any], position: int) -> pa.Attestation:
    import pypi_attestations as pa
    from sigstore.models import Bundle

    try:
        if str(item.get("mediaType", "")).startswith(SIGSTORE_BUNDLE_MEDIA_TYPE):
            return pa.Attestation.from_bundle(Bundle.from_json(json.dumps(item)))
        return pa.Attestation.model_validate(item)
    except (ValidationError, ValueError, pa.ConversionError) as error:
        first = str(error).splitlines()[0][:300]
        raise invalid_attestations(f"attestation {position} is malformed: {first}") from None


def verify_attestations(
    attestations: list[pa.Attestation],
    filename: str,
    sha256: str,
    publisher: Publisher | None,
) -> VerifiedProvenance | None:
    """Each attestation verified for the file ``filename`` with digest ``sha256``; None for
    an empty list. A trusted ``publisher``'s identity must be the one that signed; without
    one, the certificate's identity is recorded as is. Raises InvalidRequest."""
    if not attestations:
        return None
    import pypi_attestations as pa
    from sigstore.verify import policy

    try:
        dist = pa.Distribution(name=filename, digest=sha256)
    except ValidationError:
        raise invalid_attestations(f"{filename!r} is not a distribution file name") from None
    identity = _publisher_identity(publisher)
    summaries = []
    for position, attestation in enumerate(attestations, 1):
        try:
            predicate_type, _ = attestation.verify(
                identity or policy.UnsafeNoOp(), dist, offline=True
            )
        except (pa.AttestationError, ValueError) as error:
            raise invalid_attestations(f"attestation {position}: {error}") from None
        summaries.append(_summary(attestation, predicate_type))
    published_as = identity or _certificate_publisher(attestations[0])
    return VerifiedProvenance(_provenance_json(published_as, attestations), summaries)


def _publisher_identity(
    publisher: Publisher | None,
) -> pa.GitHubPublisher | pa.GitLabPublisher | None:
    """The pypi-attestations identity a trusted publisher's attestations must carry."""
    if publisher is None:
        return None
    import pypi_attestations as pa

    claims = dict(publisher.claims)
    if "repository" in claims and "workflow_ref" in claims:
        # owner/repo/.github/workflows/release.yml@refs/tags/v1
        workflow = PurePosixPath(claims["workflow_ref"].partition("@")[0]).name
        return pa.GitHubPublisher(repository=claims["repository"], workflow=workflow)
    if "project_path" in claims and "//" in claims.get("ci_config_ref_uri", ""):
        # gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main
        path = claims["ci_config_ref_uri"].split("//", 1)[1].partition("@")[0]
        return pa.GitLabPublisher(repository=claims["project_path"], workflow_filepath=path)
    raise invalid_attestations(
        f"attestations from a trusted publisher of {publisher.issuer} cannot be matched to "
        "its identity (GitHub Actions and GitLab CI can); publish without them"
    )


def _claims(attestation: pa.Attestation) -> dict[str, str]:
    return attestation.certificate_claims


def _subject(attestation: pa.Attestation) -> str:
    from cryptography import x509

    certificate = x509.load_der_x509_certificate(attestation.verification_material.certificate)
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ""
    values = [str(v) for v in names.value.get_values_for_type(x509.UniformResourceIdentifier)]
    values += [str(v) for v in names.value.get_values_for_type(x509.RFC822Name)]
    return values[0] if values else ""


def _summary(attestation: pa.Attestation, predicate_type: str) -> AttestationSummary:
    claims = _claims(attestation)
    entry = attestation.verification_material.transparency_entries[0]
    log_index = entry.get("logIndex")
    repository = claims.get(_SOURCE_REPOSITORY_URI)
    config = claims.get(_BUILD_CONFIG_URI) or claims.get(_BUILD_SIGNER_URI)
    return AttestationSummary(
        predicate_type=predicate_type,
        identity=_subject(attestation),
        issuer=claims.get(_ISSUER, ""),
        repository=repository,
        workflow=None if config is None else config.partition("@")[0],
        ref=claims.get(_SOURCE_REPOSITORY_REF),
        log_index=None if log_index is None else int(log_index),
    )


def _certificate_publisher(attestation: pa.Attestation) -> pa.Publisher | dict[str, Any]:
    """The publisher as the signing certificate names it (no trusted publisher to match):
    one of PEP 740's known kinds where the claims allow, else the issuer and claims."""
    import pypi_attestations as pa

    claims = _claims(attestation)
    issuer = claims.get(_ISSUER, "")
    repository_uri = claims.get(_SOURCE_REPOSITORY_URI, "")
    config = claims.get(_BUILD_CONFIG_URI, "").partition("@")[0]
    if issuer == GITHUB_ISSUER and repository_uri.startswith("https://github.com/"):
        repository = repository_uri.removeprefix("https://github.com/")
        return pa.GitHubPublisher(repository=repository, workflow=PurePosixPath(config).name)
    if issuer == GITLAB_ISSUER and "//" in config.removeprefix("https://"):
        repository = repository_uri.removeprefix("https://gitlab.com/")
        path = config.removeprefix("https://").split("//", 1)[1]
        return pa.GitLabPublisher(repository=repository, workflow_filepath=path)
    if issuer == GOOGLE_ISSUER:
        return pa.GooglePublisher(email=_subject(attestation))
    return {"kind": issuer or "unknown", "claims": {"identity": _subject(attestation), **claims}}


def _provenance_json(
    publisher: pa.Publisher | dict[str, Any], attestations: list[pa.Attestation]
) -> str:
    described = publisher if isinstance(publisher, dict) else publisher.model_dump(mode="json")
    provenance = {
        "version": 1,
        "attestation_bundles": [
            {
                "publisher": described,
                "attestations": [a.model_dump(mode="json") for a in attestations],
            }
        ],
    }
    return json.dumps(provenance, separators=(",", ":"))


def summaries_from_provenance(provenance_json: str) -> list[AttestationSummary]:
    """The summaries of a stored provenance object (for pages that show it)."""
    import pypi_attestations as pa

    bundles = json.loads(provenance_json)["attestation_bundles"]
    summaries = []
    for bundle in bundles:
        for item in bundle["attestations"]:
            attestation = pa.Attestation.model_validate(item)
            predicate_type = str(json.loads(attestation.envelope.statement)["predicateType"])
            summaries.append(_summary(attestation, predicate_type))
    return summaries
