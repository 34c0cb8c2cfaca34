"""The upload API of each registry, the one PyPI serves at ``/legacy/``: what ``twine upload``,
``uv publish``, ``poetry publish``, ``pdm publish`` and ``hatch publish`` speak.

``POST /{org}/{registry}/pypi`` and ``/{org}/{registry}/pypi/legacy``, each with and without
the trailing slash, answered in place and never redirected (twine and poetry abort on a
3xx). The request goes through the same pipeline as the REST publish: authorize before a
byte of the body is read, stream the form into staging, then ``services.uploads``. Errors
are plain text, since these tools print the body as it is; ``GET`` answers 405 with a hint.

A ``POST`` is answered by ``upload`` below the framework (``web.simple.upload_path``); the
routes here serve the rest.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response

from packyard.core.errors import InvalidRequest, PackyardError
from packyard.core.models import Principal, Registry
from packyard.core.scopes import Scope
from packyard.services.publishing import PublishResult
from packyard.services.uploads import CONTENT_FIELD, SIGNATURE_FIELD, UploadForm, publish_upload
from packyard.web.api.shapes import package_json
from packyard.web.auth import resolved
from packyard.web.deps import base_url, services_of
from packyard.web.errors import plain_error_response
from packyard.web.multipart import ReceivedForm, receive_form_then

router = APIRouter(include_in_schema=False)
JSON = "application/json"

UPLOAD_PATHS = (
    "/{organization}/{registry}/pypi",
    "/{organization}/{registry}/pypi/",
    "/{organization}/{registry}/pypi/legacy",
    "/{organization}/{registry}/pypi/legacy/",
)


async def upload(request: Request, organization: str, registry: str) -> Response:
    try:
        return await _upload(request, organization, registry)
    except PackyardError as error:
        return plain_error_response(error)


async def _upload(request: Request, organization: str, registry: str) -> Response:
    services = services_of(request)
    publishing = services.publishing

    def authorize(secret: str | None, base: str) -> tuple[tuple[Registry, Principal], Principal]:
        # One query for the token and the registry (services.access).
        target, principal = services.access.registry_and_principal(
            secret, organization, registry, Scope.WRITE_PACKAGES, base
        )
        return (publishing.uploadable(target), principal), principal

    target, principal = await resolved(request, authorize)

    def publish(received: ReceivedForm) -> PublishResult:
        if received.file is None:
            raise InvalidRequest(
                f'No file in the upload: send it as the form field "{CONTENT_FIELD}"'
            )
        form = UploadForm.from_fields(received.fields)
        return publish_upload(publishing, target, form, received.file, principal)

    # The body's last bytes are parsed and the file published in one worker-thread trip.
    result = await receive_form_then(
        request,
        publishing.staging,
        frozenset({CONTENT_FIELD}),
        publish,
        frozenset({SIGNATURE_FIELD}),
    )
    return Response(package_json(base_url(request), target, result.package), media_type=JSON)


async def upload_page(request: Request, organization: str, registry: str) -> Response:
    index = f"{base_url(request)}/{organization}/{registry}/pypi/simple/"
    return PlainTextResponse(
        "This is the upload URL of the registry: tools POST files here (twine upload, uv "
        f"publish, poetry publish). To install, use the index at {index}",
        status_code=405,
        headers={"Allow": "POST"},
    )


for _path in UPLOAD_PATHS:
    router.add_api_route(_path, upload, methods=["POST"])
    router.add_api_route(_path, upload_page, methods=["GET", "HEAD"])
