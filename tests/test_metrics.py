"""``/metrics`` as Prometheus scrapes it from a server with two workers: each figure moves
when its event happens, whichever worker saw it; labels never carry a name, token or path;
``/readyz`` names the dependency that stopped answering; the token and the switch."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.backends import Backend
from tests.support.builders import Dist, write_wheel
from tests.support.driver import Organization, Registry, new_organization
from tests.support.fake_pypi import FakePypi, wheel_file
from tests.support.metrics import Scrape, scrape, settled_scrape
from tests.support.s3 import CREDENTIALS
from tests.support.server import PackyardServer, free_port

PROJECT_ROUTE = "/{organization}/{registry}/pypi/simple/{project}/"
FILES_ROUTE = "/{organization}/{registry}/pypi/files/{filename}"


@pytest.fixture(scope="module")
def yard(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, fake_pypi: FakePypi
) -> Iterator[PackyardServer]:
    """Two workers, PyPI faked, every upstream page revalidated (TTL 0)."""
    env = {
        "PACKYARD_PYPI_URL": fake_pypi.url,
        "PACKYARD_UPSTREAM_TTL": "0",
        "PACKYARD_UPSTREAM_TIMEOUT": "5",
    }
    server = backend.new_server(tmp_path_factory.mktemp("metrics"), env, workers=2)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def org(yard: PackyardServer) -> Organization:
    return new_organization(yard, "metrics")


def _scrapes_around_reads(
    yard: PackyardServer, org: Organization, tmp_path: Path, name: str, reads: int
) -> tuple[Scrape, Scrape]:
    """Scrapes before and after ``reads`` reads of a new project's page, each on a
    connection of its own so that the two workers share them."""
    registry, writer, _wheel = _published(org, name, tmp_path)
    before = settled_scrape(yard.base_url)
    for _ in range(reads):
        assert _fresh_get(f"{registry.simple_url}{name}/", writer).status_code == 200
    return before, settled_scrape(yard.base_url)


def _published(org: Organization, name: str, tmp_path: Path) -> tuple[Registry, str, Path]:
    registry = org.registry("main")
    writer = org.token("write_packages", "read_packages")
    wheel = write_wheel(Dist(name, "1.0"), tmp_path)
    registry.publish(wheel, writer)
    return registry, writer, wheel


def _fresh_get(url: str, token: str) -> httpx.Response:
    """A request on a connection of its own."""
    with httpx.Client(auth=("x", token), timeout=30) as client:
        return client.get(url)


def test_requests_are_counted_by_route_template_over_all_workers(
    yard: PackyardServer, org: Organization, tmp_path: Path
) -> None:
    before, after = _scrapes_around_reads(yard, org, tmp_path, "counted-app", 30)
    labels = {"route": PROJECT_ROUTE, "method": "GET", "status": "200"}
    name = "packyard_http_requests_total"
    assert after.value(name, **labels) - before.value(name, **labels) == 30
    latency = "packyard_http_request_duration_seconds_count"
    timed = after.value(latency, route=PROJECT_ROUTE) - before.value(latency, route=PROJECT_ROUTE)
    assert timed == 30
    served = "packyard_http_response_bytes_total"
    assert after.value(served, route=PROJECT_ROUTE) > before.value(served, route=PROJECT_ROUTE)


def test_labels_carry_no_names_paths_or_tokens(
    yard: PackyardServer, org: Organization, tmp_path: Path
) -> None:
    registry, writer, wheel = _published(org, "secretive-app", tmp_path)
    registry.get("secretive-app/", writer)
    registry.get("no-such-project-here/", writer)
    httpx.get(f"{yard.base_url}/{org.slug}/unknown-path/x", timeout=30)
    text = " ".join(settled_scrape(yard.base_url).label_values())
    for private in (org.slug, "secretive", "no-such-project", "unknown-path", writer, wheel.name):
        assert private not in text


def test_publishing_counts_files_and_bytes(
    yard: PackyardServer, org: Organization, tmp_path: Path
) -> None:
    before = scrape(yard.base_url)
    registry, writer, wheel = _published(org, "published-app", tmp_path)
    after = scrape(yard.base_url)
    assert _moved(before, after, "packyard_publishes_total", outcome="created") == 1
    assert _moved(before, after, "packyard_published_bytes_total") == wheel.stat().st_size
    registry.publish(wheel, writer)  # the same bytes again
    again = scrape(yard.base_url)
    assert _moved(after, again, "packyard_publishes_total", outcome="existing") == 1
    assert _moved(after, again, "packyard_published_bytes_total") == 0


def test_downloads_count_files_and_bytes_served(
    yard: PackyardServer, org: Organization, tmp_path: Path
) -> None:
    registry, writer, wheel = _published(org, "downloaded-app", tmp_path)
    url = f"{yard.base_url}/{org.slug}/{registry.slug}/pypi/files/{wheel.name}"
    before = settled_scrape(yard.base_url)
    assert _fresh_get(url, writer).content == wheel.read_bytes()
    after = settled_scrape(yard.base_url)
    assert _moved(before, after, "packyard_downloads_total") == 1
    served = _moved(before, after, "packyard_http_response_bytes_total", route=FILES_ROUTE)
    assert served == wheel.stat().st_size


def test_index_pages_count_one_miss_per_render_and_hits_after(
    yard: PackyardServer, org: Organization, tmp_path: Path
) -> None:
    before, after = _scrapes_around_reads(yard, org, tmp_path, "cached-app", 12)
    misses = _moved(before, after, "packyard_index_cache_lookups_total", result="miss")
    hits = _moved(before, after, "packyard_index_cache_lookups_total", result="hit")
    assert 1 <= misses <= 2  # each worker renders the page once at most
    assert hits == 12 - misses


def test_upstream_requests_errors_and_latency_are_counted(
    yard: PackyardServer, org: Organization, fake_pypi: FakePypi
) -> None:
    fake_pypi.add("upstream-app", wheel_file(Dist("upstream-app", "1.0")))
    composite = org.composite("everything", "pypi")
    reader = org.token("read_packages")
    before = scrape(yard.base_url)
    assert _fresh_get(f"{composite.simple_url}upstream-app/", reader).status_code == 200
    answered = scrape(yard.base_url)
    assert _moved(before, answered, "packyard_upstream_requests_total", status="2xx") >= 1
    assert _moved(before, answered, "packyard_upstream_request_duration_seconds_count") >= 1
    fake_pypi.failing = True
    try:
        _fresh_get(f"{composite.simple_url}upstream-app/", reader)
    finally:
        fake_pypi.failing = False
    failed = scrape(yard.base_url)
    assert _moved(answered, failed, "packyard_upstream_requests_total", status="5xx") >= 1
    assert _moved(answered, failed, "packyard_upstream_errors_total", kind="server") >= 1


def test_database_pool_and_disk_are_reported(yard: PackyardServer) -> None:
    taken = scrape(yard.base_url)
    assert taken.value("packyard_db_pool_connections_open") >= 1
    assert taken.value("packyard_db_pool_connections_in_use") >= 0
    assert taken.value("packyard_data_dir_free_bytes") > 0
    assert taken.value("packyard_data_dir_size_bytes") >= taken.value(
        "packyard_data_dir_free_bytes"
    )


def test_features_still_to_come_are_exported_at_zero(yard: PackyardServer) -> None:
    taken = scrape(yard.base_url)
    for name in (
        "packyard_webhook_deliveries_pending",
        "packyard_webhook_deliveries_failed_total",
        "packyard_retention_deletions_total",
    ):
        assert (name, frozenset()) in taken.samples
        assert taken.value(name) == 0


def _moved(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


# deploy/monitoring: the dashboard and the alert rules --------------------------------

MONITORING = Path(__file__).resolve().parent.parent / "deploy" / "monitoring"
METRIC_NAME = re.compile(r"\bpackyard_[a-z0-9_]+")


def _dashboard_expressions() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def _alert_expressions() -> list[str]:
    rules = yaml.safe_load((MONITORING / "packyard-alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


@pytest.mark.parametrize("source", [_dashboard_expressions, _alert_expressions])
def test_dashboard_and_alerts_use_only_exported_metrics(
    yard: PackyardServer, source: Callable[[], list[str]]
) -> None:
    httpx.get(f"{yard.base_url}/sign-in", timeout=30)  # a request, so requests are counted
    exported = settled_scrape(yard.base_url).sample_names()
    expressions = source()
    assert expressions
    referenced = {name for expression in expressions for name in METRIC_NAME.findall(expression)}
    assert referenced
    assert referenced <= exported, referenced - exported


def test_alerts_cover_errors_latency_upstream_webhooks_and_disk() -> None:
    alerts = " ".join(_alert_expressions())
    for metric in (
        'packyard_http_requests_total{status=~"5.."}',
        "packyard_http_request_duration_seconds_bucket",
        "packyard_upstream_errors_total",
        "packyard_webhook_deliveries_pending",
        "packyard_data_dir_free_bytes",
    ):
        assert metric in alerts


# Readiness, the token and the switch: servers of their own ------------------------------


def _own_server(tmp_path: Path, **env: str) -> PackyardServer:
    server = PackyardServer(tmp_path / "data", tmp_path / "server.log", extra_env=env)
    server.start()
    return server


@pytest.mark.backend_independent
def test_readyz_names_the_blob_store_when_its_folder_is_gone(tmp_path: Path) -> None:
    server = _own_server(tmp_path)
    try:
        ready = httpx.get(f"{server.base_url}/readyz", timeout=30)
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok", "checked": ["blob_store", "database"]}
        blobs = tmp_path / "data" / "blobs"
        shutil.move(blobs, tmp_path / "moved-away")
        unready = httpx.get(f"{server.base_url}/readyz", timeout=30)
        assert unready.status_code == 503
        assert list(unready.json()["failed"]) == ["blob_store"]
        assert scrape(server.base_url).value("packyard_readiness_failures_total") == 1
        assert (
            scrape(server.base_url).value("packyard_readiness_failures_total", check="blob_store")
            == 1
        )
        shutil.move(tmp_path / "moved-away", blobs)
        assert httpx.get(f"{server.base_url}/readyz", timeout=30).status_code == 200
    finally:
        server.stop()


@pytest.mark.backend_independent
def test_readyz_answers_503_within_its_deadline_when_s3_is_unreachable(tmp_path: Path) -> None:
    nowhere = f"s3://bucket/packyard?endpoint_url=http://127.0.0.1:{free_port()}&region=us-east-1"
    server = _own_server(
        tmp_path, PACKYARD_STORAGE_URL=nowhere, PACKYARD_READINESS_TIMEOUT="1", **CREDENTIALS
    )
    try:
        started = time.monotonic()
        unready = httpx.get(f"{server.base_url}/readyz", timeout=30)
        assert time.monotonic() - started < 5
        assert unready.status_code == 503
        assert list(unready.json()["failed"]) == ["blob_store"]
        assert httpx.get(f"{server.base_url}/healthz", timeout=30).status_code == 200
    finally:
        server.stop()


@pytest.mark.backend_independent
def test_metrics_token_is_required_when_set(tmp_path: Path) -> None:
    server = _own_server(tmp_path, PACKYARD_METRICS_TOKEN="scrape-me-please")
    try:
        anonymous = httpx.get(f"{server.base_url}/metrics", timeout=30)
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in anonymous.json()["detail"]
        wrong = httpx.get(
            f"{server.base_url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=30
        )
        assert wrong.status_code == 401
        assert "packyard_publishes" in scrape(server.base_url, "scrape-me-please").families
    finally:
        server.stop()


@pytest.mark.backend_independent
def test_metrics_can_be_switched_off(tmp_path: Path) -> None:
    server = _own_server(tmp_path, PACKYARD_METRICS="false")
    try:
        assert httpx.get(f"{server.base_url}/metrics", timeout=30).status_code == 404
        assert httpx.get(f"{server.base_url}/readyz", timeout=30).status_code == 200
    finally:
        server.stop()
