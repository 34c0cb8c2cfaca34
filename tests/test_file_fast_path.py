"""Files answered below the framework (web.simple.cached_files): a file already located,
read with a cached credential, is sent by the plain ASGI layer with the same status,
headers and bytes the route sends, ranges and HEAD included, and counted by the same
rule; anything it cannot answer without a query goes on to the application.

Over HTTP, repeated reads (the layer's) are compared with the first (the route's); in
process, the layer stands in front of an application that fails the test when called.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from packyard.bootstrap import Services, build_services
from packyard.settings import Settings
from packyard.web.app import create_framework_app
from packyard.web.simple.cached_files import FileFastPath
from tests.support.asgi import Refusing, asgi_request, basic
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Organization, api
from tests.support.operator import create_composite, create_registry, registry_token
from tests.support.waiting import eventually

VOLATILE_HEADERS = {"date", "server", "x-request-id"}


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE_HEADERS}
    return response.status_code, headers, response.content


@pytest.mark.parametrize("suffix", ["", ".metadata"])
def test_repeated_file_reads_match_the_first_read(
    org: Organization, tmp_path: Path, suffix: str
) -> None:
    registry = org.registry("Downloads")
    token = org.token("read_packages", "write_packages")
    wheel = write_wheel(Dist("file-demo", "1.0"), tmp_path)
    registry.publish(wheel, token)
    url = registry.simple_url.replace("/simple/", "/files/") + wheel.name + suffix
    auth = ("x", token)
    first = httpx.get(url, auth=auth)
    assert first.status_code == 200
    if not suffix:
        assert first.content == wheel.read_bytes()
    for _ in range(3):
        assert _comparable(httpx.get(url, auth=auth)) == _comparable(first)
    heads = [httpx.head(url, auth=auth) for _ in range(2)]
    assert {_comparable(h)[:2] == _comparable(first)[:2] for h in heads} == {True}
    ranged = httpx.get(url, auth=auth, headers={"Range": "bytes=10-29"})
    assert (ranged.status_code, ranged.content) == (206, first.content[10:30])


def test_whole_gets_answered_below_the_framework_are_counted(
    org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("Counted Fast")
    token = org.token("read_packages", "write_packages")
    wheel = write_wheel(Dist("counted-fast", "1.0"), tmp_path)
    package_id = registry.publish(wheel, token).json()["id"]
    url = registry.simple_url.replace("/simple/", "/files/") + wheel.name
    auth = ("x", token)
    statuses = [httpx.get(url, auth=auth).status_code for _ in range(3)]  # all count
    statuses += [httpx.get(f"{url}.metadata", auth=auth).status_code for _ in range(2)]
    statuses += [httpx.head(url, auth=auth).status_code]
    statuses += [httpx.get(url, auth=auth, headers={"Range": "bytes=0-9"}).status_code]
    assert statuses == [200, 200, 200, 200, 200, 200, 206]
    path = f"/registries/{registry.slug}/packages/{package_id}"

    def counted() -> int:
        found: int = api(org, token).call("GET", path).json()["downloads_count"]
        return found

    eventually(lambda: counted() >= 3, 30, lambda: f"counted {counted()}, not 3")
    assert counted() == 3


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(data_dir=tmp_path))
    built.registries.create_organization("acme")
    create_registry(built, "acme", "Dev")
    wheel = write_wheel(Dist("fast-file", "1.0"), tmp_path)
    writer = built.publishing.staging.open(wheel.name)
    writer.write(wheel.read_bytes())
    built.publishing.publish(built.registries.find_registry("acme", "dev"), writer.finish())
    create_composite(built, "acme", "All", ["dev"])
    yield built
    built.close()


WHEEL = "fast_file-1.0-py3-none-any.whl"


@pytest.mark.backend_independent  # in process, on SQLite
def test_a_located_file_is_answered_and_counted_without_the_application(
    services: Services,
) -> None:
    app = create_framework_app(services)
    refusing = Refusing()
    fast = FileFastPath(refusing, services.access, services.downloads, app.state.small_files)
    auth = basic(registry_token(services, "acme", "dev"))
    path = f"/acme/dev/pypi/files/{WHEEL}"
    warm = asgi_request(app, path, authorization=auth)
    assert warm.status_code == 200
    assert asgi_request(app, f"{path}.metadata", authorization=auth).status_code == 200
    located = services.downloads.cached(services.registries.find_registry("acme", "dev"), WHEEL)
    assert located is not None
    assert located.package_id is not None
    counted_before = services.downloads.counter.pending(located.package_id)

    answered = asgi_request(fast, path, authorization=auth)
    assert _comparable(answered) == _comparable(warm)
    assert asgi_request(fast, f"{path}.metadata", authorization=auth).status_code == 200
    assert asgi_request(fast, path, "HEAD", authorization=auth).status_code == 200
    assert asgi_request(fast, path, authorization=auth, range="bytes=0-9").status_code == 206
    assert refusing.reached == []
    assert services.downloads.counter.pending(located.package_id) == counted_before + 1


@pytest.mark.backend_independent  # in process, on SQLite
def test_files_it_cannot_answer_go_to_the_application(services: Services) -> None:
    app = create_framework_app(services)
    refusing = Refusing()
    fast = FileFastPath(refusing, services.access, services.downloads, app.state.small_files)
    auth = basic(registry_token(services, "acme", "dev"))
    assert asgi_request(app, f"/acme/dev/pypi/files/{WHEEL}", authorization=auth).status_code == 200
    composite_auth = basic(registry_token(services, "acme", "all"))
    assert asgi_request(
        app, f"/acme/all/pypi/files/{WHEEL}", authorization=composite_auth
    ).is_success
    handed_on = [
        (f"/acme/dev/pypi/files/{WHEEL}", {}),  # anonymous: never read before
        (f"/acme/dev/pypi/files/{WHEEL}", {"authorization": "Basic !!"}),  # malformed
        ("/acme/dev/pypi/files/other-1.0.tar.gz", {"authorization": auth}),  # not located
        (f"/acme/all/pypi/files/{WHEEL}", {"authorization": composite_auth}),  # composite
        (f"/acme/dev/pypi/files/{WHEEL}/", {"authorization": auth}),
    ]
    for path, headers in handed_on:
        assert asgi_request(fast, path, **headers).status_code == 599, (path, headers)
    assert len(refusing.reached) == len(handed_on)
