"""Rendering index data as PEP 503 HTML or PEP 691 JSON, from the same structures.

api-version 1.1: PEP 700's ``versions``, ``size`` and ``upload-time`` are always present.
File URLs are relative to the page, so they live under the registry's own path (clients
send their credentials there) and need no knowledge of the public host name.
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from packyard.services.index import IndexFile, ProjectList, ProjectPage
from packyard.web.negotiation import JSON_V1

API_VERSION = "1.1"
FILES_FROM_PROJECT_PAGE = "../../files/"
# Where a composite registry's file came from: an upstream's slug, or "pypi".
SOURCE_KEY = "_upstream"
SOURCE_ATTRIBUTE = "data-upstream"


def file_href(filename: str) -> str:
    return FILES_FROM_PROJECT_PAGE + quote(filename, safe="")


def render_project_list(projects: ProjectList, media_type: str) -> bytes:
    if media_type == JSON_V1:
        return _json(
            {
                "meta": {"api-version": API_VERSION},
                "projects": [{"name": name} for name in projects.projects],
            }
        )
    links = "".join(
        f'    <a href="{escape(quote(name, safe=""))}/">{escape(name)}</a>\n'
        for name in projects.projects
    )
    return _html("Simple index", links)


def render_project_page(page: ProjectPage, media_type: str) -> bytes:
    if media_type == JSON_V1:
        return _json(
            {
                "meta": {"api-version": API_VERSION},
                "name": page.name,
                "versions": page.versions,
                "files": [_file_json(f) for f in page.files],
            }
        )
    links = "".join(_file_anchor(f) for f in page.files)
    return _html(f"Links for {page.name}", links)


def upload_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _file_json(file: IndexFile) -> dict[str, Any]:
    metadata: dict[str, str] | bool = (
        {"sha256": file.core_metadata_sha256} if file.core_metadata_sha256 else False
    )
    document: dict[str, Any] = {
        "filename": file.filename,
        "url": file.url or file_href(file.filename),
        "hashes": {"sha256": file.sha256},
        "requires-python": file.requires_python,
        "core-metadata": metadata,
        "dist-info-metadata": metadata,
        "yanked": (file.yanked_reason or True) if file.yanked else False,
        "size": file.size,
    }
    if file.upload_time is not None:
        document["upload-time"] = upload_time(file.upload_time)
    if file.provenance is not None:
        document["provenance"] = file.provenance
    if file.source is not None:
        # PEP 691 reserves keys with a leading underscore for the index's own use.
        document[SOURCE_KEY] = file.source
    return document


def _file_anchor(file: IndexFile) -> str:
    href = file.url or file_href(file.filename)
    # Every value is escaped, hashes too: a composite's upstream supplies them.
    attributes = [f'href="{escape(href)}#sha256={escape(file.sha256)}"']
    if file.requires_python:
        attributes.append(f'data-requires-python="{escape(file.requires_python)}"')
    if file.core_metadata_sha256:
        value = escape(f"sha256={file.core_metadata_sha256}")
        attributes.append(f'data-core-metadata="{value}"')
        attributes.append(f'data-dist-info-metadata="{value}"')
    if file.yanked:
        attributes.append(f'data-yanked="{escape(file.yanked_reason or "")}"')
    if file.provenance is not None:
        attributes.append(f'data-provenance="{escape(file.provenance)}"')
    if file.source is not None:
        attributes.append(f'{SOURCE_ATTRIBUTE}="{escape(file.source)}"')
    return f"    <a {' '.join(attributes)}>{escape(file.filename)}</a><br/>\n"


def _html(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{escape(title)}</h1>\n{body}  </body>\n</html>\n"
    ).encode()


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
