"""The simple index and its files, as pip and uv read them: PEP 503 HTML, PEP 691 JSON,
PEP 658/714 metadata, PEP 700 fields, caching headers, ranges."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.builders import Dist, write_sdist, write_wheel
from tests.support.driver import Organization, Registry

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"


@pytest.fixture
def setup(org: Organization, tmp_path: Path) -> tuple[Registry, str, Dist]:
    registry = org.registry("Index")
    token = org.token("read_packages", "write_packages")
    dist = Dist("Index_Demo", "1.0", requires_python=">=3.8,<4")
    registry.publish(write_wheel(dist, tmp_path), token)
    registry.publish(write_sdist(dist, tmp_path), token)
    return registry, token, dist


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/html"),
        ("text/html", "text/html"),
        (JSON, JSON),
        (HTML, HTML),
        (f"{JSON}, {HTML};q=0.1, text/html;q=0.01", JSON),  # pip
        (f"{JSON};q=0.5, {HTML};q=0.9", HTML),
        ("*/*", "text/html"),
        ("text/html, application/xhtml+xml, */*;q=0.8", "text/html"),  # a browser
    ],
)
def test_index_pages_negotiate_the_media_type(
    setup: tuple[Registry, str, Dist], accept: str | None, expected: str
) -> None:
    registry, token, _ = setup
    headers = {"Accept": accept} if accept else {}
    for path in ("", "index-demo/"):
        response = registry.get(path, token, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == expected
        assert "Accept" in response.headers["vary"]


def test_unacceptable_media_type_is_406(setup: tuple[Registry, str, Dist]) -> None:
    registry, token, _ = setup
    response = registry.get("index-demo/", token, headers={"Accept": "application/xml"})
    assert response.status_code == 406
    assert JSON in response.json()["message"]


def test_project_page_json_carries_pep_691_700_and_658_fields(
    setup: tuple[Registry, str, Dist],
) -> None:
    registry, token, dist = setup
    page = registry.get("index-demo/", token, headers={"Accept": JSON}).json()
    assert page["meta"]["api-version"] == "1.4"
    assert page["name"] == "index-demo"
    assert page["versions"] == ["1.0"]
    by_name = {f["filename"]: f for f in page["files"]}
    wheel = by_name[dist.wheel_filename]
    assert wheel["requires-python"] == ">=3.8,<4"
    assert wheel["size"] > 0
    assert wheel["upload-time"].endswith("Z")
    assert wheel["core-metadata"] == wheel["dist-info-metadata"]
    assert set(wheel["core-metadata"]) == {"sha256"}
    assert wheel["yanked"] is False
    assert by_name[dist.sdist_filename]["core-metadata"] is False


def test_project_page_html_escapes_requires_python_and_links_metadata(
    setup: tuple[Registry, str, Dist],
) -> None:
    registry, token, _ = setup
    html = registry.get("index-demo/", token).text
    assert 'data-requires-python="&gt;=3.8,&lt;4"' in html
    assert 'data-core-metadata="sha256=' in html
    assert 'data-dist-info-metadata="sha256=' in html
    assert "#sha256=" in html
    assert '<meta name="pypi:repository-version" content="1.4">' in html


def test_root_page_lists_projects(setup: tuple[Registry, str, Dist]) -> None:
    registry, token, _ = setup
    projects = registry.get("", token, headers={"Accept": JSON}).json()["projects"]
    assert {"name": "index-demo"} in projects
    assert '<a href="index-demo/">index-demo</a>' in registry.get("", token).text


def test_index_pages_have_a_strong_etag_and_answer_304(
    setup: tuple[Registry, str, Dist], tmp_path: Path
) -> None:
    registry, token, _ = setup
    first = registry.get("index-demo/", token)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    # private: the page was answered to a credential (web/response_headers.py), so no shared
    # cache may keep it; no-cache: every client revalidates with the ETag.
    assert first.headers["cache-control"] == "private, no-cache"
    again = registry.get("index-demo/", token, headers={"If-None-Match": etag})
    assert again.status_code == 304
    registry.publish(write_wheel(Dist("Index_Demo", "1.1"), tmp_path), token)
    changed = registry.get("index-demo/", token, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "1.1" in changed.text


def test_non_normalized_project_name_redirects(setup: tuple[Registry, str, Dist]) -> None:
    registry, token, _ = setup
    response = registry.get("Index_Demo/", token)
    assert response.status_code == 301
    assert response.headers["location"].endswith("/pypi/simple/index-demo/")


def test_unknown_project_is_404(setup: tuple[Registry, str, Dist]) -> None:
    registry, token, _ = setup
    assert registry.get("does-not-exist/", token).status_code == 404


def _file_url(registry: Registry, token: str, filename: str) -> str:
    page = registry.get("index-demo/", token, headers={"Accept": JSON}).json()
    relative = next(f["url"] for f in page["files"] if f["filename"] == filename)
    return str(httpx.URL(f"{registry.simple_url}index-demo/").join(relative))


def test_files_download_with_headers_for_caches_and_ranges(
    setup: tuple[Registry, str, Dist], tmp_path: Path
) -> None:
    registry, token, dist = setup
    url = _file_url(registry, token, dist.wheel_filename)
    expected = (tmp_path / dist.wheel_filename).read_bytes()
    response = httpx.get(url, auth=("x", token))
    assert response.status_code == 200
    assert response.content == expected
    assert response.headers["content-length"] == str(len(expected))
    assert response.headers["accept-ranges"] == "bytes"
    assert "immutable" in response.headers["cache-control"]
    assert "content-encoding" not in response.headers
    assert response.headers["etag"] == f'"{hashlib.sha256(expected).hexdigest()}"'
    head = httpx.head(url, auth=("x", token))
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(expected))
    ranged = httpx.get(url, auth=("x", token), headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206
    assert ranged.content == expected[10:20]


def test_sdist_is_served_without_content_encoding(
    setup: tuple[Registry, str, Dist], tmp_path: Path
) -> None:
    registry, token, dist = setup
    url = _file_url(registry, token, dist.sdist_filename)
    response = httpx.get(url, auth=("x", token), headers={"Accept-Encoding": "gzip"})
    assert response.content == (tmp_path / dist.sdist_filename).read_bytes()
    assert "content-encoding" not in response.headers


def test_metadata_file_is_the_wheels_exact_metadata(
    setup: tuple[Registry, str, Dist], tmp_path: Path
) -> None:
    registry, token, dist = setup
    url = _file_url(registry, token, dist.wheel_filename) + ".metadata"
    response = httpx.get(url, auth=("x", token))
    assert response.status_code == 200
    with zipfile.ZipFile(tmp_path / dist.wheel_filename) as wheel:
        assert response.content == wheel.read("index_demo-1.0.dist-info/METADATA")


def test_file_paths_cannot_traverse(setup: tuple[Registry, str, Dist]) -> None:
    registry, token, _ = setup
    base = f"{registry.yard.base_url}/{registry.organization}/{registry.slug}/pypi/files/"
    for attempt in ("..%2F..%2Fpackyard.sqlite3", "%2E%2E", "..%5Cx"):
        response = httpx.get(base + attempt, auth=("x", token))
        assert response.status_code == 404
