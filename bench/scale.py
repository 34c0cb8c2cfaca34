"""The scale case: a registry of ``projects`` projects with three files each, loaded in
bulk straight into Packyard's SQLite database (the rows ``packyard`` itself would write;
the blobs are not written, as only index pages are measured here).

Measured: time from ``packyard serve`` to the first answer, the root page (first, uncached,
and under load), project pages under load over a spread of projects, and the server's RSS.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from bench import procs
from bench.load import run_load
from bench.scenarios import warm_every_worker
from bench.servers import Packyard

CREATED_AT = "2024-01-01 00:00:00.000000"


# (version, file name suffix, filetype, python_version) of each project's files.
Release = tuple[str, str, str, str]
RELEASES: tuple[Release, ...] = (
    ("1.0.0", "-py3-none-any.whl", "bdist_wheel", "py3"),
    ("1.0.0", ".tar.gz", "sdist", "source"),
    ("1.1.0", "-py3-none-any.whl", "bdist_wheel", "py3"),
)


def _rows(registry_id: str, projects: int, releases: tuple[Release, ...]) -> Any:
    for number in range(projects):
        project = f"scale-{number:06d}"
        module = project.replace("-", "_")
        for version, suffix, filetype, pyversion in releases:
            filename = f"{module}-{version}{suffix}"
            digest = hashlib.sha256(filename.encode()).hexdigest()
            metadata = digest[::-1] if filetype == "bdist_wheel" else None
            yield (
                str(uuid.UUID(int=random.getrandbits(128))), registry_id, project, project,
                version, filename, filetype, pyversion, 4096, digest[:32], digest[:40], digest,
                digest * 2, digest, ">=3.8", metadata, "{}", None, "[]", 0, CREATED_AT,
            )  # fmt: skip


def bulk_load(
    database: Path, registry_slug: str, projects: int, releases: tuple[Release, ...] = RELEASES
) -> int:
    """Insert the rows (``releases`` for each project) and bump the registry's serial;
    returns the number of files."""
    random.seed(20240101)
    with sqlite3.connect(database) as connection:
        (registry_id,) = connection.execute(
            "SELECT id FROM registries WHERE slug = ?", (registry_slug,)
        ).fetchone()
        connection.executemany(
            "INSERT INTO packages (id, registry_id, project, name, version, filename, filetype,"
            " python_version, size, md5, sha1, sha256, sha512, blake2b_256, requires_python,"
            " core_metadata_sha256, metadata_json, description, members_json, downloads_count,"
            " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            _rows(registry_id, projects, releases),
        )
        connection.execute("UPDATE registries SET serial = serial + 1 WHERE id = ?", (registry_id,))
        (files,) = connection.execute("SELECT count(*) FROM packages").fetchone()
    return int(files)


SETTLE_SECONDS = 2.0


def run_scale(
    workdir: Path, projects: int, sample: int, concurrency: int, seconds: float, use_wrk: bool
) -> dict[str, Any]:
    yard = Packyard(workdir, name="Packyard (scale)")
    slug, write, read = yard.setup_data()
    started = time.monotonic()
    files = bulk_load(yard.server.data_dir / "packyard.sqlite3", slug, projects)
    load_seconds = time.monotonic() - started
    target = yard.start(slug, write, read)
    try:
        rss_idle = procs.rss_bytes(target.pid)
        with httpx.Client(base_url=target.base_url, headers=target.read_headers, timeout=120) as c:
            started = time.monotonic()
            first = c.get(target.root_path)
            root_first = time.monotonic() - started
            started = time.monotonic()
            c.get(target.root_path)
            root_cached = time.monotonic() - started
        chosen = random.Random(7).sample(range(projects), min(sample, projects))
        paths = [target.project_path(f"scale-{n:06d}") for n in chosen]
        first_touch = run_load(
            target.base_url, paths, target.read_headers, concurrency, seconds, target.pid,
            workdir / "load", use_wrk,
        )  # fmt: skip
        # Every worker holding every sampled page, as the small corpus's pages are by its
        # c=64 cell (after 12 s of c=1 and c=8 over 100 paths): p50s compare like for like.
        warm_rounds = warm_every_worker(target, paths, concurrency, workdir / "load", use_wrk)
        project_load = run_load(
            target.base_url, paths, target.read_headers, concurrency, seconds, target.pid,
            workdir / "load", use_wrk,
        )  # fmt: skip
        root_load = run_load(
            target.base_url, [target.root_path], target.read_headers, concurrency, seconds,
            target.pid, workdir / "load", use_wrk,
        )  # fmt: skip
        rss_after = procs.rss_bytes(target.pid)
        # What the server keeps once the burst is over: its allocators may give memory back
        # after a delay (granian's jemalloc: 100 ms, cli.serving), which the figure above,
        # taken as the last load ends, does not wait for.
        time.sleep(SETTLE_SECONDS)
        rss_settled = procs.rss_bytes(target.pid)
    finally:
        target.stop()
    return {
        "projects": projects,
        "files": files,
        "bulk_load_seconds": load_seconds,
        "start_to_ready_seconds": target.started_in_seconds,
        "root_status": first.status_code,
        "root_bytes": len(first.content),
        "root_first_seconds": root_first,
        "root_cached_seconds": root_cached,
        "sampled_projects": len(paths),
        "project_load": asdict(project_load) | {"rps": project_load.rps},
        "project_first_touch": asdict(first_touch) | {"rps": first_touch.rps},
        "warm_rounds": warm_rounds,
        "root_load": asdict(root_load) | {"rps": root_load.rps},
        "rss_idle_mib": rss_idle / 1024**2,
        "rss_after_mib": rss_after / 1024**2,
        "rss_settled_mib": rss_settled / 1024**2,
        "settle_seconds": SETTLE_SECONDS,
    }
