"""Retention at scale (issue 18): a source registry of ``files`` files (projects of ten
releases, a wheel and an sdist each, uploaded long ago), loaded in bulk into Packyard's
SQLite database (rows only, as ``bench/scale.py`` does: deleting a file removes its row,
and its blob later goes to the garbage collector). Then, through the REST API, the real use
case: a policy ``keep_latest=3`` (70% of the files), its preview, and the real run,
timed; meanwhile project pages are read at ``concurrency`` (wrk or bench/loadgen.py), and
their p99 is compared with the same reads without a run.

    python -m bench.retention_scale --files 100000
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from bench.load import LoadResult, run_load
from bench.scale import Release, bulk_load
from bench.scenarios import warm_up
from bench.servers import ORGANIZATION, Packyard, Target

VERSIONS = 10
KEEP_LATEST = 3
RELEASES: tuple[Release, ...] = tuple(
    (f"1.{minor}.0", suffix, filetype, pyversion)
    for minor in range(VERSIONS)
    for suffix, filetype, pyversion in (
        ("-py3-none-any.whl", "bdist_wheel", "py3"),
        (".tar.gz", "sdist", "source"),
    )
)
ALL_SCOPES = (
    "read_registries", "write_registries", "delete_registries", "read_packages",
    "write_packages", "delete_packages",
)  # fmt: skip


LEAD_SECONDS = 1.0
MAX_WINDOW_SECONDS = 90.0


def _load(target: Target, paths: list[str], concurrency: int, seconds: float, workdir: Path,
          use_wrk: bool) -> LoadResult:  # fmt: skip
    return run_load(
        target.base_url, paths, target.read_headers, concurrency, seconds, target.pid,
        workdir / "load", use_wrk,
    )  # fmt: skip


def _timed_post(client: httpx.Client, path: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    answer = client.post(path)
    elapsed = time.perf_counter() - started
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return elapsed, body


def run_retention_scale(
    workdir: Path, files: int, sample: int, concurrency: int, seconds: float, use_wrk: bool
) -> dict[str, Any]:
    """Set up, measure, and return the figures (the report's "Retention at scale")."""
    yard = Packyard(
        workdir,
        name="Packyard (retention)",
        # The scheduled run must not start on its own while the run on demand is timed.
        extra_env={"PACKYARD_MAINTENANCE_INTERVAL": "86400"},
    )
    slug, write, read = yard.setup_data()
    scopes = [arg for scope in ALL_SCOPES for arg in ("--scope", scope)]
    admin = yard.server.cli("token", "create", ORGANIZATION, *scopes).stdout.strip()
    projects = max(1, files // len(RELEASES))
    started = time.monotonic()
    loaded = bulk_load(yard.server.data_dir / "packyard.sqlite3", slug, projects, RELEASES)
    load_seconds = time.monotonic() - started
    target = yard.start(slug, write, read)
    base = f"/v2/packages/organizations/{ORGANIZATION}/registries/{slug}/retention"
    chosen = random.Random(7).sample(range(projects), min(sample, projects))
    paths = [target.project_path(f"scale-{n:06d}") for n in chosen]
    headers = {"Authorization": f"Bearer {admin}"}
    try:
        with httpx.Client(base_url=target.base_url, headers=headers, timeout=600) as client:
            client.put(base, json={"keep_latest": KEEP_LATEST}).raise_for_status()
            preview_seconds, preview = _timed_post(client, base + "/preview")
            # Both windows as long as the run is expected to take (a run took 6 to 11 times
            # its preview), so the p99 during it covers all of its batches.
            window = min(MAX_WINDOW_SECONDS, max(seconds, LEAD_SECONDS + 12 * preview_seconds))
            warm_up(target, paths)
            without = _load(target, paths, concurrency, window, workdir, use_wrk)
            warm_up(target, paths)
            outcome: dict[str, Any] = {}

            def run() -> None:
                time.sleep(LEAD_SECONDS)  # the readers are at full speed first
                outcome["seconds"], outcome["body"] = _timed_post(client, base + "/run")

            runner = threading.Thread(target=run)
            runner.start()
            during = _load(target, paths, concurrency, window, workdir, use_wrk)
            runner.join()
            left = client.post(base + "/preview").json()["files_count"]
    finally:
        target.stop()
    done = outcome["body"]
    return {
        "files": loaded,
        "projects": projects,
        "policy": f"keep_latest={KEEP_LATEST} of {VERSIONS} releases",
        "bulk_load_seconds": load_seconds,
        "preview_seconds": preview_seconds,
        "preview_files": preview["files_count"],
        "run_seconds": outcome["seconds"],
        "run_files_deleted": done["files_deleted"],
        "run_bytes_deleted": done["bytes_deleted"],
        "run_equals_preview": done["files_deleted"] == preview["files_count"]
        and [f["id"] for f in done["files"]] == [f["id"] for f in preview["files"]],
        "left_for_the_policy": left,
        "read_window_seconds": window,
        # The share of the run the "during" window saw (1: all of it).
        "run_covered": min(1.0, (window - LEAD_SECONDS) / outcome["seconds"]),
        "reads_without": asdict(without) | {"rps": without.rps},
        "reads_during": asdict(during) | {"rps": during.rps},
        "sampled_projects": len(paths),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-wrk", action="store_true")
    arguments = parser.parse_args()
    if arguments.concurrency > 16:
        parser.error("at most 16 concurrent readers on a shared machine")
    with tempfile.TemporaryDirectory(prefix="packyard-retention-") as folder:
        figures = run_retention_scale(
            Path(folder), arguments.files, arguments.sample, arguments.concurrency,
            arguments.seconds, not arguments.no_wrk,
        )  # fmt: skip
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
