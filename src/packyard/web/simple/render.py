"""Rendering index data as PEP 503 HTML or PEP 691 JSON, from the same structures.

api-version 1.4: PEP 700's ``versions``, ``size`` and ``upload-time`` are always present,
and a project page carries its PEP 792 status (``project-status`` in JSON, the
``pypi:project-status`` meta tags in HTML).
File URLs are relative to the page, so they live under the registry's own path (clients
send their credentials there) and need no knowledge of the public host name.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import datetime
from html import escape
from json.encoder import encode_basestring
from typing import Any
from urllib.parse import quote

from packyard.core.index import IndexFile, ProjectList, ProjectPage
from packyard.core.lifecycle import ACTIVE
from packyard.core.simple_api import JSON_V1

API_VERSION = "1.4"
FILES_FROM_PROJECT_PAGE = "../../files/"
# Where a composite registry's file came from: an upstream's slug, or "pypi".
SOURCE_KEY = "_upstream"
SOURCE_ATTRIBUTE = "data-upstream"


def file_href(filename: str) -> str:
    return FILES_FROM_PROJECT_PAGE + quote(filename, safe="")


# Characters that neither quote(), escape() nor a JSON string changes: a name made only of
# them is its own href, text and JSON string. Normalised names always are.
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9_.~\n-]*")
# Names rendered per chunk: the page is written chunk by chunk, so that rendering holds the
# page and one chunk's strings, never one string per project.
LIST_CHUNK = 2_000


def render_project_list(projects: ProjectList, media_type: str) -> bytes:
    """The project list page (``web.simple.pages`` renders it once however many requests
    ask at the same time)."""
    names = projects.projects
    # The page around an empty list or body, split there: the same bytes as one
    # _json or _html call over every entry would make.
    if media_type == JSON_V1:
        head, tail = _json({"meta": {"api-version": API_VERSION}, "projects": []}).split(b"[]")
        return _chunked(head + b"[", names, _json_entries, b",", b"]" + tail)
    head, tail = _html("Simple index", "\0").split(b"\0")
    return _chunked(head, names, _html_anchors, b"", tail)


def _chunked(
    head: bytes,
    names: list[str],
    render: Callable[[list[str]], str],
    separator: bytes,
    tail: bytes,
) -> bytes:
    page = io.BytesIO()
    page.write(head)
    for start in range(0, len(names), LIST_CHUNK):
        if start:
            page.write(separator)
        page.write(render(names[start : start + LIST_CHUNK]).encode())
    page.write(tail)
    return page.getvalue()


def _all_plain(names: list[str]) -> bool:
    joined = "\n".join(names)
    # The count rules out a name that itself holds a newline.
    return bool(_PLAIN_TEXT.fullmatch(joined)) and joined.count("\n") == len(names) - 1


def _html_anchors(names: list[str]) -> str:
    if _all_plain(names):
        return "".join([f'    <a href="{name}/">{name}</a>\n' for name in names])
    return "".join(
        [f'    <a href="{escape(quote(name, safe=""))}/">{escape(name)}</a>\n' for name in names]
    )


def _json_entries(names: list[str]) -> str:
    if _all_plain(names):
        return ",".join([f'{{"name":"{name}"}}' for name in names])
    # What json.dumps(..., ensure_ascii=False) writes for a string.
    return ",".join([f'{{"name":{encode_basestring(name)}}}' for name in names])


def render_project_page(page: ProjectPage, media_type: str, integrity: str = "") -> bytes:
    """The page; ``integrity`` is the absolute URL of the registry's Integrity API, which
    PEP 740 ``provenance`` links point into."""
    status = page.status or ACTIVE
    provenance = [_provenance_url(integrity, page.name, f) for f in page.files]
    if media_type == JSON_V1:
        project_status = {"status": status.status.value}
        if status.reason:
            project_status["reason"] = status.reason
        return _json(
            {
                "meta": {"api-version": API_VERSION},
                "name": page.name,
                "project-status": project_status,
                "versions": page.versions,
                "files": [_file_json(f, p) for f, p in zip(page.files, provenance, strict=True)],
            }
        )
    links = "".join(_file_anchor(f, p) for f, p in zip(page.files, provenance, strict=True))
    meta = f'    <meta name="pypi:project-status" content="{status.status.value}">\n'
    if status.reason:
        meta += f'    <meta name="pypi:project-status-reason" content="{escape(status.reason)}">\n'
    return _html(f"Links for {page.name}", links, meta)


def upload_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _provenance_url(integrity: str, project: str, file: IndexFile) -> str | None:
    if not file.has_provenance:
        return file.provenance  # PyPI's own, for its files in a composite
    parts = (project, file.version, file.filename)
    return f"{integrity}/{'/'.join(quote(p, safe='') for p in parts)}/provenance"


def _file_json(file: IndexFile, provenance: str | None) -> dict[str, Any]:
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
    if provenance is not None:
        document["provenance"] = provenance
    if file.source is not None:
        # PEP 691 reserves keys with a leading underscore for the index's own use.
        document[SOURCE_KEY] = file.source
    return document


def _file_anchor(file: IndexFile, provenance: str | None) -> str:
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
    if provenance is not None:
        attributes.append(f'data-provenance="{escape(provenance)}"')
    if file.source is not None:
        attributes.append(f'{SOURCE_ATTRIBUTE}="{escape(file.source)}"')
    return f"    <a {' '.join(attributes)}>{escape(file.filename)}</a><br/>\n"


def _html(title: str, body: str, meta: str = "") -> bytes:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n{meta}'
        f"    <title>{escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{escape(title)}</h1>\n{body}  </body>\n</html>\n"
    ).encode()


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
