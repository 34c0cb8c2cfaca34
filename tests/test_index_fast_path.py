"""The fast path for cached index reads (web.simple.cached_reads) answers exactly what the
routes would, and leaves to them everything it cannot answer from cache.

Two views: over HTTP, a cached read (the fast path's) is compared with the first read of
the same page (the routes'), byte for byte and header for header, for source and composite
registries; in process, the fast path is put in front of an application that fails the
test when called, to show which reads it answers on its own and which it hands on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from packyard.bootstrap import Services, build_services
from packyard.settings import Settings
from packyard.web.app import create_framework_app
from packyard.web.body_pieces import PIECE_BYTES
from packyard.web.simple.cached_reads import IndexFastPath
from tests.support.asgi import Refusing, asgi_request, basic
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Organization
from tests.support.operator import (
    create_composite,
    create_registry,
    registry_token,
    write_as_another_process,
)

JSON = "application/vnd.pypi.simple.v1+json"
PIP_ACCEPT = f"{JSON}, application/vnd.pypi.simple.v1+html;q=0.1, text/html;q=0.01"
VOLATILE_HEADERS = {"date", "server", "x-request-id"}  # x-request-id: one per request

pytestmark = pytest.mark.backend_independent


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE_HEADERS}
    return response.status_code, headers, response.content


@pytest.mark.parametrize("accept", [None, "text/html", JSON, PIP_ACCEPT, "*/*"])
@pytest.mark.parametrize("page", ["", "fast-demo/"])
def test_cached_read_matches_the_first_read(
    org: Organization, tmp_path: Path, accept: str | None, page: str
) -> None:
    registry = org.registry("Fast")
    token = org.token("read_packages", "write_packages")
    registry.publish(write_wheel(Dist("fast-demo", "1.0"), tmp_path), token)
    headers = {"Accept": accept} if accept else {}
    first = registry.get(page, token, headers=headers)
    assert first.status_code == 200
    for _ in range(3):
        assert _comparable(registry.get(page, token, headers=headers)) == _comparable(first)
    etag = first.headers["etag"]
    revalidated = [
        registry.get(page, token, headers={**headers, "If-None-Match": f'"other", {etag}'})
        for _ in range(3)
    ]
    assert {r.status_code for r in revalidated} == {304}
    assert len({str(_comparable(r)) for r in revalidated}) == 1
    heads = [httpx.head(f"{registry.simple_url}{page}", auth=("x", token), headers=headers)]
    heads.append(httpx.head(f"{registry.simple_url}{page}", auth=("x", token), headers=headers))
    assert _comparable(heads[0])[:2] == _comparable(heads[1])[:2] == _comparable(first)[:2]


@pytest.mark.parametrize("accept", [None, JSON, PIP_ACCEPT])
@pytest.mark.parametrize("page", ["", "fast-demo/"])
def test_cached_composite_read_matches_the_first_read(
    org: Organization, tmp_path: Path, accept: str | None, page: str
) -> None:
    token = org.token("read_packages", "write_packages")
    org.registry("Team A").publish(write_wheel(Dist("fast-demo", "1.0"), tmp_path), token)
    org.registry("Team B").publish(write_wheel(Dist("fast-demo", "2.0"), tmp_path), token)
    composite = org.composite("All", "team-a", "team-b")
    headers = {"Accept": accept} if accept else {}
    first = composite.get(page, token, headers=headers)
    assert first.status_code == 200
    assert page == "" or "fast_demo-2.0-" in first.text
    for _ in range(3):
        assert _comparable(composite.get(page, token, headers=headers)) == _comparable(first)
    etag = first.headers["etag"]
    revalidated = composite.get(page, token, headers={**headers, "If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.headers["etag"] == etag


def test_a_cached_page_larger_than_a_piece_is_the_first_read_whole(
    org: Organization, tmp_path: Path
) -> None:
    """The front door sends a cached body larger than PIECE_BYTES in pieces
    (``web.body_pieces``): the page arrives whole, its Content-Length its length."""
    registry = org.registry("Long")
    token = org.token("read_packages", "write_packages")
    # Each file's entry holds its Requires-Python: a long one makes a long page of few files.
    requires_python = ">=3.8," + ",".join(f"!=3.8.{patch}" for patch in range(150))
    files = PIECE_BYTES // len(requires_python) + 1
    for minor in range(files):
        dist = Dist("long-demo", f"1.{minor}", requires_python=requires_python)
        registry.publish(write_wheel(dist, tmp_path), token)
    for headers in ({}, {"Accept": JSON}):
        first = registry.get("long-demo/", token, headers=headers)
        assert first.status_code == 200
        assert len(first.content) > PIECE_BYTES
        assert first.content.count(b"long_demo-1.") == 2 * files  # each file's URL and name
        for _ in range(3):
            cached = registry.get("long-demo/", token, headers=headers)
            assert _comparable(cached) == _comparable(first)
            assert int(cached.headers["content-length"]) == len(cached.content)


def test_new_upload_is_listed_by_the_next_read(org: Organization, tmp_path: Path) -> None:
    registry = org.registry("Fresh")
    token = org.token("read_packages", "write_packages")
    registry.publish(write_wheel(Dist("fresh-demo", "1.0"), tmp_path), token)
    for _ in range(3):
        assert "fresh_demo-1.0-" in registry.get("fresh-demo/", token).text
    registry.publish(write_wheel(Dist("fresh-demo", "2.0"), tmp_path), token)
    assert "fresh_demo-2.0-" in registry.get("fresh-demo/", token).text


def test_cached_reads_still_answer_errors_as_the_routes_do(
    org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("Errors")
    token = org.token("read_packages", "write_packages")
    registry.publish(write_wheel(Dist("error-demo", "1.0"), tmp_path), token)
    for _ in range(2):  # the second of each is asked with every cache warm
        assert registry.get("error-demo/", token).status_code == 200
        assert registry.get("Error_Demo/", token, follow_redirects=False).status_code == 301
        assert registry.get("error-demo/", token, headers={"Accept": "image/png"}).status_code == (
            406
        )
        assert registry.get("error-demo/", "wrong-token").status_code == 401
        assert registry.get("error-demo/").status_code == 401
        bad_basic = {"Authorization": "Basic not-base64!"}
        assert registry.get("error-demo/", headers=bad_basic).status_code == 401


# -- in process: which reads the fast path answers on its own -------------------------------


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    # A small failure budget, so that the rate-limit test reaches it quickly.
    built = build_services(Settings(data_dir=tmp_path, auth_failures_per_minute=5))
    built.registries.create_organization("acme")
    create_registry(built, "acme", "Dev")
    yield built
    built.close()


def _fast_paths(services: Services) -> tuple[FastAPI, IndexFastPath, Refusing]:
    app = create_framework_app(services)
    state = app.state
    refusing = Refusing()
    fast = IndexFastPath(refusing, services.access, state.index_pages)
    return app, fast, refusing


def test_a_warm_read_is_answered_without_the_application(services: Services) -> None:
    app, fast, refusing = _fast_paths(services)
    secret = registry_token(services, "acme", "dev")
    auth = basic(secret)
    warm = asgi_request(app, "/acme/dev/pypi/simple/", authorization=auth)
    assert warm.status_code == 200
    answered = asgi_request(fast, "/acme/dev/pypi/simple/", authorization=auth)
    assert refusing.reached == []
    assert _comparable(answered) == _comparable(warm)
    not_modified = asgi_request(
        fast,
        "/acme/dev/pypi/simple/",
        authorization=auth,
        **{"if-none-match": warm.headers["etag"]},
    )
    assert not_modified.status_code == 304
    assert refusing.reached == []


def test_a_page_rendered_for_one_host_name_is_not_served_for_another(
    services: Services,
) -> None:
    # Pages carry absolute URLs made from the Host the client asked for; the fast path
    # remembers base URLs per Host, and must not hand one host's page to another.
    app, fast, refusing = _fast_paths(services)
    auth = basic(registry_token(services, "acme", "dev"))
    path = "/acme/dev/pypi/simple/"
    assert asgi_request(app, path, authorization=auth, host="one.test").status_code == 200
    for _ in range(2):
        assert asgi_request(fast, path, authorization=auth, host="one.test").status_code == 200
    assert refusing.reached == []
    assert asgi_request(fast, path, authorization=auth, host="two.test").status_code == 599
    assert refusing.reached == [path]
    assert asgi_request(app, path, authorization=auth, host="two.test").status_code == 200
    assert asgi_request(fast, path, authorization=auth, host="two.test").status_code == 200
    assert asgi_request(fast, path, authorization=auth, host="one.test").status_code == 200
    assert refusing.reached == [path]


def test_reads_it_cannot_answer_go_to_the_application(services: Services) -> None:
    app, fast, refusing = _fast_paths(services)
    secret = registry_token(services, "acme", "dev")
    auth = basic(secret)
    assert asgi_request(app, "/acme/dev/pypi/simple/", authorization=auth).status_code == 200
    handed_on = [
        ("/acme/dev/pypi/simple/", {}),  # anonymous: never read before
        ("/acme/dev/pypi/simple/", {"authorization": "Basic !!"}),  # malformed
        ("/acme/dev/pypi/simple/", {"authorization": auth, "accept": "image/png"}),  # 406
        ("/acme/dev/pypi/simple/never-rendered/", {"authorization": auth}),
        ("/acme/dev/pypi/simple/Not_Normal/", {"authorization": auth}),
        ("/acme/dev/pypi/simple", {"authorization": auth}),
        ("/acme/dev/pypi/files/x-1.0.tar.gz", {"authorization": auth}),
        ("/acme/other/pypi/simple/", {"authorization": auth}),
    ]
    for path, headers in handed_on:
        assert asgi_request(fast, path, **headers).status_code == 599, (path, headers)
    assert len(refusing.reached) == len(handed_on)


def test_a_change_elsewhere_sends_the_next_read_to_the_application(
    services: Services,
) -> None:
    app, fast, _ = _fast_paths(services)
    secret = registry_token(services, "acme", "dev")
    auth = basic(secret)
    assert asgi_request(app, "/acme/dev/pypi/simple/", authorization=auth).status_code == 200
    assert asgi_request(fast, "/acme/dev/pypi/simple/", authorization=auth).status_code == 200
    write_as_another_process(services, "DELETE FROM tokens")
    assert asgi_request(fast, "/acme/dev/pypi/simple/", authorization=auth).status_code == 599


def _composite(services: Services, tmp_path: Path) -> str:
    """A composite over Dev, which has one project; returns a token that reads it."""
    wheel = write_wheel(Dist("fast-demo", "1.0"), tmp_path)
    writer = services.publishing.staging.open(wheel.name)
    writer.write(wheel.read_bytes())
    services.publishing.publish(services.registries.find_registry("acme", "dev"), writer.finish())
    create_composite(services, "acme", "All", ["dev"])
    return registry_token(services, "acme", "all")


@pytest.mark.parametrize("page", ["", "fast-demo/"])
def test_a_warm_composite_read_is_answered_without_the_application(
    services: Services, tmp_path: Path, page: str
) -> None:
    app, fast, refusing = _fast_paths(services)
    auth = basic(_composite(services, tmp_path))
    warm = asgi_request(app, f"/acme/all/pypi/simple/{page}", authorization=auth)
    assert warm.status_code == 200
    answered = asgi_request(fast, f"/acme/all/pypi/simple/{page}", authorization=auth)
    assert refusing.reached == []
    assert _comparable(answered) == _comparable(warm)


def test_a_composite_read_after_an_upload_to_its_upstream_goes_to_the_application(
    services: Services, tmp_path: Path
) -> None:
    app, fast, refusing = _fast_paths(services)
    auth = basic(_composite(services, tmp_path))
    path = "/acme/all/pypi/simple/fast-demo/"
    assert asgi_request(app, path, authorization=auth).status_code == 200
    assert asgi_request(fast, path, authorization=auth).status_code == 200
    assert (
        asgi_request(fast, "/acme/all/pypi/simple/never-read/", authorization=auth).status_code
        == 599
    )
    # As an upload in another worker would:
    write_as_another_process(
        services, "UPDATE registries SET serial = serial + 1 WHERE slug = 'dev'"
    )
    # Another page read meanwhile: the caller's access is cached again, the page's version
    # (computed before the change) must not be trusted.
    assert asgi_request(app, "/acme/all/pypi/simple/", authorization=auth).status_code == 200
    assert asgi_request(fast, path, authorization=auth).status_code == 599
    assert refusing.reached == ["/acme/all/pypi/simple/never-read/", path]


def test_a_rate_limited_client_with_a_valid_token_is_still_served(services: Services) -> None:
    app, fast, _refusing = _fast_paths(services)
    secret = registry_token(services, "acme", "dev")
    auth = basic(secret)
    assert asgi_request(app, "/acme/dev/pypi/simple/", authorization=auth).status_code == 200
    wrong = basic("wrong")
    statuses = [
        asgi_request(app, "/acme/dev/pypi/simple/", authorization=wrong).status_code
        for _ in range(6)
    ]
    assert statuses[-1] == 429
    # Only failures are limited (security probe F3): from the cache and from the app.
    assert asgi_request(fast, "/acme/dev/pypi/simple/", authorization=auth).status_code == 200
    assert asgi_request(app, "/acme/dev/pypi/simple/", authorization=auth).status_code == 200
