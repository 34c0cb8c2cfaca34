"""The measurements run against every server: index reads under load, publishing, one
huge upload, and pip/uv installs from cold caches. Each returns plain data for the report.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from tests.support.clients import make_venv
from tests.support.metrics import scrape

from bench import procs
from bench.load import LoadResult, run_load
from bench.servers import Target

TWINE_TIMEOUT_SECONDS = 900
# A load that reaches every worker of a multi-process server before the timed cells.
WARM_CONCURRENCY = 8
WARM_SECONDS = 2.0
_ANCHOR = re.compile(r"<a [^>]*>")
_HREF = re.compile(r'href="([^"]+)"')


def warm_up(target: Target, paths: list[str]) -> None:
    """One pass over every path, so each server starts the timed runs with warm caches.
    One keep-alive connection: one worker of a multi-process server sees the pass (see
    ``warm_every_worker``)."""
    with httpx.Client(base_url=target.base_url, headers=target.read_headers, timeout=60) as c:
        for path in paths:
            c.get(path)


def warm_every_worker(
    target: Target, paths: list[str], concurrency: int, workdir: Path, use_wrk: bool,
    rounds: int = 10,
) -> int:  # fmt: skip
    """Load ``paths`` until Packyard renders no page it had not: its rendered pages are
    kept per worker process, and a pass over one connection (``warm_up``) reaches one
    worker, so over thousands of projects the timed run would still render pages for the
    others. Each round is two seconds of the timed run's load; done when a round adds no
    miss to the server's own count (``packyard_index_cache_lookups{result="miss"}``,
    summed over its workers). Returns the rounds run."""
    for done in range(1, rounds + 1):
        before = _index_misses(target)
        run_load(
            target.base_url, paths, target.read_headers, concurrency, 2.0, target.pid,
            workdir, use_wrk,
        )  # fmt: skip
        if _index_misses(target) == before:
            return done
    return rounds


def _index_misses(target: Target) -> float:
    return scrape(target.base_url).value("packyard_index_cache_lookups_total", result="miss")


def index_reads(
    target: Target, projects: list[str], concurrencies: list[int], seconds: float,
    workdir: Path, use_wrk: bool,
) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    project_paths = [target.project_path(p) for p in projects]
    warm_up(target, [target.root_path, *project_paths])
    results: dict[str, list[dict[str, Any]]] = {"root": [], "project": []}
    for kind, paths in (("root", [target.root_path]), ("project", project_paths)):
        for concurrency in concurrencies:
            result = run_load(
                target.base_url, paths, target.read_headers, concurrency, seconds,
                target.pid, workdir / target.name, use_wrk,
            )  # fmt: skip
            results[kind].append(asdict(result) | {"rps": result.rps})
    return results


def linked_paths(client: httpx.Client, page_path: str, with_metadata: bool = False) -> list[str]:
    """The paths of the files a project page links to (on its own server), and with
    ``with_metadata`` their ``.metadata`` files where the page announces one."""
    page = client.get(page_path, headers={"Accept": "text/html"}).raise_for_status().text
    base = str(client.base_url).rstrip("/") + page_path
    paths: list[str] = []
    for anchor in _ANCHOR.findall(page):
        match = _HREF.search(anchor)
        if match is None:
            continue
        url = urlsplit(urljoin(base, match.group(1).replace("&amp;", "&")))
        paths.append(url.path)
        if with_metadata and "data-core-metadata=" in anchor:
            paths.append(url.path + ".metadata")
    return paths


def downloads(
    target: Target, projects: list[str], concurrencies: list[int], seconds: float,
    workdir: Path, use_wrk: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    """File downloads under load: every file the project pages link to, round-robin, as
    pip fetches them (the server's read credentials). Caches are warmed first in every
    worker of the server, as the index reads' c=8 cell warms them before the c=64 one: a
    pass over one connection reaches one worker, and on an S3 store the others would
    still read each small file from the bucket once in the timed cells."""
    with httpx.Client(base_url=target.base_url, headers=target.read_headers, timeout=60) as c:
        paths = [p for project in projects for p in linked_paths(c, target.project_path(project))]
    warm_up(target, paths)
    run_load(
        target.base_url, paths, target.read_headers, WARM_CONCURRENCY, WARM_SECONDS,
        target.pid, workdir / target.name, use_wrk,
    )  # fmt: skip
    rows = []
    for concurrency in concurrencies:
        result = run_load(
            target.base_url, paths, target.read_headers, concurrency, seconds, target.pid,
            workdir / target.name, use_wrk,
        )  # fmt: skip
        rows.append(asdict(result) | {"rps": result.rps, "paths": len(paths)})
    return rows


def load_result(data: dict[str, Any]) -> LoadResult:
    return LoadResult(**{k: v for k, v in data.items() if k != "rps"})


def twine_upload(twine: Path, target: Target, files: list[Path]) -> dict[str, Any]:
    """``twine upload`` of ``files`` in one run (as a release job does); files/s."""
    assert target.twine_url is not None
    started = time.monotonic()
    result = subprocess.run(
        [str(twine), "upload", "--non-interactive", "--disable-progress-bar",
         "--repository-url", target.twine_url, "-u", target.twine_user,
         "-p", target.twine_password, *map(str, files)],
        capture_output=True, text=True, timeout=TWINE_TIMEOUT_SECONDS,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        return {"error": f"twine exited {result.returncode}: {' / '.join(tail)}"}
    return {"files": len(files), "seconds": elapsed, "files_per_second": len(files) / elapsed}


def packyard_accepts_twine(target: Target) -> bool:
    """Whether this Packyard build has the upload API twine speaks (issue 4)."""
    assert target.twine_url is not None
    answer = httpx.get(target.twine_url, timeout=10)
    return answer.status_code in (401, 405)


def rest_publish(target: Target, files: list[Path]) -> dict[str, Any]:
    """Packyard's REST endpoint, one file after another over one keep-alive connection."""
    assert target.rest_url is not None
    headers = {"Authorization": f"Bearer {target.rest_token}"}
    started = time.monotonic()
    with httpx.Client(headers=headers, timeout=300) as client:
        for path in files:
            with path.open("rb") as handle:
                answer = client.post(target.rest_url, files={"file": (path.name, handle)})
            if answer.status_code != 200:
                return {"error": f"{path.name}: {answer.status_code} {answer.text[:200]}"}
    elapsed = time.monotonic() - started
    return {"files": len(files), "seconds": elapsed, "files_per_second": len(files) / elapsed}


def huge_upload(target: Target, path: Path, twine: Path | None) -> dict[str, Any]:
    """Upload one huge file (REST for Packyard, twine for the peers): throughput and the
    server's peak RSS growth, sampled every 50 ms over its whole process tree."""
    size = path.stat().st_size
    with procs.PeakRss(target.pid) as rss:
        started = time.monotonic()
        if target.rest_url is not None:
            outcome = rest_publish(target, [path])
        else:
            assert twine is not None
            outcome = twine_upload(twine, target, [path])
        elapsed = time.monotonic() - started
    if "error" in outcome:
        return outcome
    return {
        "bytes": size,
        "seconds": elapsed,
        "mib_per_second": size / elapsed / 1024**2,
        "rss_growth_mib": rss.growth / 1024**2,
        "rss_baseline_mib": rss.baseline / 1024**2,
    }


def install_seconds(index_url: str, requirement: str, client: str) -> float:
    """Seconds ``client`` (pip or uv) takes to install ``requirement`` from ``index_url``
    into a fresh venv with no cache; RuntimeError with the output's last lines if it fails."""
    with tempfile.TemporaryDirectory(prefix="bench-venv-") as tmp:
        venv = make_venv(Path(tmp) / "venv")
        install = venv.pip_install if client == "pip" else venv.uv_pip_install
        started = time.monotonic()
        outcome = install(index_url, requirement, check=False)
        elapsed = time.monotonic() - started
    if outcome.returncode != 0:
        tail = (outcome.stdout + outcome.stderr).strip().splitlines()[-3:]
        raise RuntimeError(" / ".join(tail))
    return elapsed


def installs(target: Target, requirement: str, runs: int) -> dict[str, Any]:
    """pip and uv install ``requirement`` into fresh venvs with no cache: median of ``runs``."""
    results: dict[str, Any] = {}
    for client in ("pip", "uv"):
        try:
            times = [install_seconds(target.index_url, requirement, client) for _ in range(runs)]
        except RuntimeError as error:
            results[client] = {"error": str(error)}
        else:
            results[client] = {"median_seconds": statistics.median(times), "runs": times}
    return results
