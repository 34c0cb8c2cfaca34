"""Responses for files a composite registry takes from PyPI: a redirect to where the file
lives (``pypi_files=link``) or the cached bytes (``pypi_files=cache``), served from the
blob store like any other file. Files of source upstreams are answered by ``routes``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from packyard.core.errors import NotFound
from packyard.services.composite_index import PypiDownload
from packyard.services.downloads import DownloadService
from packyard.web.simple.files import ServedFile, file_response


async def composite_download(
    request: Request, downloads: DownloadService, download: PypiDownload
) -> Response:
    if download.redirect_url is not None:
        return RedirectResponse(download.redirect_url, status_code=302)
    if download.blob_key is None:
        raise NotFound(f"The cached bytes of {download.filename!r} are missing")
    filename = download.filename + (".metadata" if download.is_metadata else "")
    served = ServedFile(download.blob_key, filename, download.is_metadata)
    return await file_response(request, downloads, served, public=False)
