"""The documented nginx configuration (deploy/nginx.conf) in front of two app processes:
publish and install through it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.builders import Dist, write_sdist, write_wheel
from tests.support.clients import Venv
from tests.support.driver import Registry, new_organization
from tests.support.server import PackyardServer, free_port
from tests.support.uploads import form_for, legacy_upload
from tests.support.waiting import answers, eventually

pytestmark = pytest.mark.backend_independent

CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"


@pytest.fixture(scope="module")
def balancer(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, PackyardServer]]:
    if not Path(shutil.which("nginx") or "/usr/sbin/nginx").exists():
        raise RuntimeError("nginx is not installed: apt-get install nginx-light")
    root = tmp_path_factory.mktemp("lb")
    behind = {"PACKYARD_TRUSTED_PROXIES": "127.0.0.1"}  # as docs/deployment.md says
    first = PackyardServer(root / "data", root / "a.log", extra_env=behind)
    second = PackyardServer(root / "data", root / "b.log", extra_env=behind)  # same data
    first.start()
    try:
        second.start()
        yield from _nginx_in_front_of(root, first, second)
    finally:
        first.stop()
        second.stop()


def _nginx_in_front_of(
    root: Path, first: PackyardServer, second: PackyardServer
) -> Iterator[tuple[str, PackyardServer]]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    upstreams = "\n        ".join(f"server {s.base_url.split('://')[1]};" for s in (first, second))
    config = (
        CONFIG.read_text()
        .replace("@LISTEN@", f"127.0.0.1:{port}")
        .replace("@UPSTREAMS@", upstreams)
        .replace("@PREFIX@", str(root))
    )
    (root / "nginx.conf").write_text(config)
    subprocess.run([nginx, "-p", str(root), "-c", str(root / "nginx.conf")], check=True)
    base = f"http://127.0.0.1:{port}"
    eventually(
        lambda: answers(f"{base}/healthz"),
        20,
        lambda: f"nginx did not answer:\n{(root / 'error.log').read_text(errors='replace')}",
    )
    yield base, first
    subprocess.run(
        [nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-s", "stop"], check=False
    )
    first.stop()
    second.stop()


def test_publish_and_install_through_nginx(
    balancer: tuple[str, PackyardServer], tmp_path: Path, pip_venv: Venv, uv_venv: Venv
) -> None:
    base, app = balancer
    org = new_organization(app)
    token = org.token("read_packages", "write_packages")
    slug = org.registry("Behind nginx").slug
    through_nginx = Registry(app, org.slug, slug)
    through_nginx.yard = _Front(base)  # type: ignore[assignment]
    dist = Dist("balanced", "1.0")
    for path in (write_wheel(dist, tmp_path), write_sdist(dist, tmp_path)):
        body = through_nginx.publish(path, token).json()
        assert body["url"].startswith(base)  # the Host header reaches the app
    pip_venv.pip_install(through_nginx.index_url(token), "balanced==1.0")
    assert pip_venv.installed_version("balanced") == "1.0"
    uv_venv.uv_pip_install(
        through_nginx.index_url(token), "balanced==1.0", extra=("--no-binary", "balanced")
    )
    assert uv_venv.installed_version("balanced") == "1.0"


def test_only_upload_routes_take_large_bodies_through_nginx(
    balancer: tuple[str, PackyardServer], tmp_path: Path
) -> None:
    base, app = balancer
    org = new_organization(app)
    token = org.token("read_packages", "write_packages", "write_registries")
    slug = org.registry("Large").slug
    through_nginx = Registry(app, org.slug, slug)
    through_nginx.yard = _Front(base)  # type: ignore[assignment]
    big = Dist("large", "1.0", extra_files={"large/blob.bin": os.urandom(3 << 20)})
    assert through_nginx.publish(write_wheel(big, tmp_path), token).status_code == 200
    sdist = write_sdist(
        Dist("large", "2.0", extra_files={"blob.bin": os.urandom(3 << 20)}), tmp_path
    )
    legacy_upload(through_nginx, sdist, token, form_for(sdist, "large", "2.0"))
    json_body = httpx.post(
        f"{base}/v2/packages/organizations/{org.slug}/registries",
        headers={"Authorization": f"Bearer {token}"},
        json={"name": "x", "description": "d" * (2 * 1024 * 1024)},
    )
    assert json_body.status_code == 413


class _Front:
    """Stands in for the server in the driver: only its base URL is used."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
