"""Responses for files a composite registry takes from PyPI: a redirect to where the file
lives (``pypi_files=link``) or the cached bytes (``pypi_files=cache``). Files of source
upstreams are answered like any registry's, by ``routes``."""

from __future__ import annotations

from starlette.responses import FileResponse, RedirectResponse, Response

from packyard.core.errors import NotFound
from packyard.services.composite_index import PypiDownload

WHEEL_OR_ZIP = "application/zip"


def composite_download(download: PypiDownload) -> Response:
    if download.redirect_url is not None:
        return RedirectResponse(download.redirect_url, status_code=302)
    if download.local_path is None or not download.local_path.exists():
        raise NotFound(f"The cached bytes of {download.filename!r} are missing")
    if download.is_metadata:
        media_type = "application/octet-stream"
    elif download.filename.endswith(".tar.gz"):
        media_type = "application/x-tar"
    else:
        media_type = WHEEL_OR_ZIP
    return FileResponse(
        download.local_path,
        media_type=media_type,
        headers={
            "ETag": f'"{download.blob_key}"',
            "Cache-Control": "private, max-age=31536000, immutable",
        },
        content_disposition_type="attachment",
        filename=None if download.is_metadata else download.filename,
    )
