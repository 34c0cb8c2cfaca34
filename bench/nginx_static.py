"""nginx serving the same index as static files: the floor no dynamic index can beat.

The pages are Packyard's own, saved to disk at their own paths once the corpus is
published (the root page, every project page, every file and every PEP 658 ``.metadata``
file they link to), so pip and uv see the same index, metadata included, and the links
(relative, ``../../files/...``) resolve the same way. nginx (Debian's ``nginx-light``,
installed for the benchmark when missing) runs as a production server would: a worker a
core, sendfile, keep-alive, its access log on (its default), reads anonymous.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from bench.scenarios import linked_paths
from bench.servers import Target, free_port, spawn, stop_process, wait_ready

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")


def nginx_binary(install: bool) -> str | None:
    """nginx from Debian's packages; installed when missing and allowed (root, full run)."""
    found = shutil.which("nginx") or next((c for c in NGINX_CANDIDATES if os.path.exists(c)), None)
    if found or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, timeout=300, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "nginx-light"], check=False, timeout=600, env=env
    )
    return shutil.which("nginx") or next((c for c in NGINX_CANDIDATES if os.path.exists(c)), None)


def mirror(target: Target, projects: list[str], root: Path) -> int:
    """Save ``target``'s root page, project pages and the files (and metadata) they link to
    under ``root`` at their URL paths; returns the number of files written."""
    shutil.rmtree(root, ignore_errors=True)
    written = 0
    with httpx.Client(base_url=target.base_url, headers=target.read_headers, timeout=60) as c:
        pages = [target.root_path, *(target.project_path(p) for p in projects)]
        for page in pages:
            body = c.get(page, headers={"Accept": "text/html"}).raise_for_status().content
            _write(root, page + "index.html", body)
            written += 1
        for project in projects:
            for path in linked_paths(c, target.project_path(project), with_metadata=True):
                _write(root, path, c.get(path).raise_for_status().content)
                written += 1
    return written


def _write(root: Path, url_path: str, body: bytes) -> None:
    path = root / url_path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


_CONFIG = """
worker_processes {workers};
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
user root;
events {{ worker_connections 4096; }}
http {{
    include {mime_types};
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    access_log {workdir}/access.log;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""


def start_nginx(
    nginx: str, root: Path, workdir: Path, root_path: str, project_prefix: str, workers: int = 2
) -> Target:
    """nginx serving ``root`` (a ``mirror`` of an index whose pages are at ``root_path`` and
    ``project_prefix``) on a free port."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = workdir / "nginx.conf"
    config.write_text(
        _CONFIG.format(
            workers=workers, workdir=workdir, port=port, root=root,
            mime_types="/etc/nginx/mime.types",
        )
    )  # fmt: skip
    started = time.monotonic()
    process = spawn(
        [nginx, "-p", str(workdir), "-c", str(config), "-g", "daemon off;"],
        workdir / "server.log",
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}{root_path}", process, workdir / "server.log", 30)
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
    return Target(
        name="nginx (static files)",
        version=version.rpartition("/")[2] or version,
        mode=f"{workers} worker processes, sendfile, access log on; Packyard's pages, files and "
        ".metadata saved as files",
        base_url=base,
        root_path=root_path,
        project_prefix=project_prefix,
        pid=process.pid,
        index_url=f"{base}{root_path}",
        stop_callback=lambda: stop_process(process),
        started_in_seconds=time.monotonic() - started,
    )
