"""Property-based tests: whatever bytes or text arrive, the metadata reader, the content
negotiation and the index renderer answer cleanly, and the HTML index escapes every field."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packyard.core.errors import InvalidDistribution
from packyard.core.index import IndexFile, ProjectList, ProjectPage
from packyard.core.lifecycle import ProjectState, ProjectStatus
from packyard.core.simple_api import JSON_V1
from packyard.dists.metadata import parse_core_metadata
from packyard.web.negotiation import SUPPORTED, choose_media_type
from packyard.web.simple.render import (
    API_VERSION,
    LIST_CHUNK,
    render_project_list,
    render_project_page,
)

pytestmark = pytest.mark.backend_independent

EXAMPLES = settings(max_examples=200, deadline=None)
HTML = "text/html"


@EXAMPLES
@given(st.binary(max_size=2000))
def test_any_bytes_are_metadata_or_a_clean_refusal(data: bytes) -> None:
    try:
        metadata = parse_core_metadata(data, "pkg/METADATA")
    except InvalidDistribution as error:
        refusal = error.message
    else:
        assert metadata.name
        assert metadata.version
        return
    assert "pkg/METADATA" in refusal


_FIELD = st.sampled_from(["Name", "Version", "Summary", "Requires-Dist", "Requires-Python"])


@EXAMPLES
@given(st.lists(st.tuples(_FIELD, st.text(max_size=40)), max_size=8))
def test_any_header_fields_are_metadata_or_a_clean_refusal(
    fields: list[tuple[str, str]],
) -> None:
    text = "Metadata-Version: 2.1\n" + "".join(f"{k}: {v}\n" for k, v in fields)
    with contextlib.suppress(InvalidDistribution):
        parse_core_metadata(text.encode("utf-8", "surrogatepass"), "METADATA")


@EXAMPLES
@given(st.text(max_size=12_000))
def test_any_accept_header_of_any_length_is_negotiated(accept: str) -> None:
    assert choose_media_type(accept) in (*SUPPORTED, None)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.anchors: list[dict[str, str | None]] = []
        self.texts: list[str] = []
        self.metas: dict[str | None, str | None] = {}
        self._in_anchor = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "meta":
            named = dict(attrs)
            self.metas[named.get("name")] = named.get("content")
        if tag == "a":
            self.anchors.append(dict(attrs))
            self._in_anchor = True
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_anchor = False

    def handle_data(self, data: str) -> None:
        if self._in_anchor:
            self.texts[-1] += data


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@st.composite
def _files(draw: st.DrawFn) -> IndexFile:
    return IndexFile(
        filename=draw(_TEXT),
        version=draw(_TEXT),
        sha256=draw(_TEXT),
        size=draw(st.integers(0, 2**40)),
        upload_time=datetime(2024, 1, 1, tzinfo=UTC),
        requires_python=draw(st.none() | _TEXT.filter(bool)),
        core_metadata_sha256=draw(st.none() | _TEXT.filter(bool)),
        yanked_reason=draw(st.none() | _TEXT),
        yanked=draw(st.booleans()),
        source=draw(st.none() | _TEXT),
        url=draw(st.none() | _TEXT.filter(bool)),
        provenance=draw(st.none() | _TEXT),
    )


@EXAMPLES
@given(_TEXT, st.lists(_files(), max_size=4), _TEXT)
def test_the_html_project_page_escapes_every_field(
    name: str, files: list[IndexFile], reason: str
) -> None:
    status = ProjectState(ProjectStatus.DEPRECATED, reason)
    page = ProjectPage(name=name, files=files, versions=[f.version for f in files], status=status)
    parser = _Collector()
    parser.feed(render_project_page(page, HTML).decode())
    # PEP 792's meta tags: the repository version, the status and, when given, its reason.
    head = ["html", "head", "meta", "meta"] + (["meta"] if reason else [])
    assert parser.tags == [*head, "title", "body", "h1"] + ["a", "br"] * len(files), (
        "a field's text became markup"
    )
    if reason:
        assert parser.metas["pypi:project-status-reason"] == reason
    for file, anchor, text in zip(files, parser.anchors, parser.texts, strict=True):
        assert text == file.filename
        assert anchor["href"] is not None
        assert anchor["href"].endswith(f"#sha256={file.sha256}")
        if file.requires_python:
            assert anchor["data-requires-python"] == file.requires_python
        if file.core_metadata_sha256:
            assert anchor["data-core-metadata"] == f"sha256={file.core_metadata_sha256}"
        if file.yanked:
            assert anchor["data-yanked"] == (file.yanked_reason or "")
        if file.provenance is not None:
            assert anchor["data-provenance"] == file.provenance
        if file.source is not None:
            assert anchor["data-upstream"] == file.source


@EXAMPLES
@given(st.lists(_TEXT, max_size=5))
def test_the_html_project_list_escapes_every_name(names: list[str]) -> None:
    parser = _Collector()
    parser.feed(render_project_list(ProjectList(names), HTML).decode())
    assert parser.tags == ["html", "head", "meta", "title", "body", "h1"] + ["a"] * len(names)
    assert parser.texts == names


def _one_pass_html(names: list[str]) -> bytes:
    """The project list as one string over every name, as Packyard first rendered it."""
    links = "".join(
        f'    <a href="{escape(quote(name, safe=""))}/">{escape(name)}</a>\n' for name in names
    )
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        "    <title>Simple index</title>\n  </head>\n  <body>\n"
        f"    <h1>Simple index</h1>\n{links}  </body>\n</html>\n"
    ).encode()


def _one_pass_json(names: list[str]) -> bytes:
    document = {"meta": {"api-version": API_VERSION}, "projects": [{"name": n} for n in names]}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


@EXAMPLES
@given(
    st.integers(min_value=0, max_value=2 * LIST_CHUNK + 1),
    st.lists(st.tuples(st.integers(min_value=0), _TEXT), max_size=4),
)
def test_project_lists_are_the_bytes_of_a_one_pass_rendering(
    plain: int, hostile: list[tuple[int, str]]
) -> None:
    """Rendered chunk by chunk, with a shortcut for plain names, the page is still byte for
    byte what one pass over every name gives: across chunks, plain or not."""
    names = [f"project-{number}" for number in range(plain)]
    for position, name in hostile:
        names.insert(position % (len(names) + 1), name)
    assert render_project_list(ProjectList(names), HTML) == _one_pass_html(names)
    assert render_project_list(ProjectList(names), JSON_V1) == _one_pass_json(names)
