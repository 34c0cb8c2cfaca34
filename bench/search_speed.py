"""Search at scale: ``projects`` projects (with summaries and keywords) in one registry,
loaded in bulk into Packyard's SQLite database with their search rows (what publishing
writes), then queries through the REST API one at a time: exact names, name prefixes,
name substrings and summary words. Reports each kind's p50 and p95.

    python -m bench.search_speed --projects 100000
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.scale import bulk_load
from bench.servers import ORGANIZATION, Packyard

WORDS = (
    "parser", "client", "async", "toolkit", "widget", "crypto", "plot", "schema", "cache",
    "queue", "stream", "config", "graph", "vector", "image", "audio", "table", "report",
)  # fmt: skip


def add_search_rows(database: Path, registry_slug: str) -> None:
    """The rows ``db/search.py`` keeps for each project, with made-up summaries."""
    words = random.Random(11)
    with sqlite3.connect(database) as connection:
        (registry_id,) = connection.execute(
            "SELECT id FROM registries WHERE slug = ?", (registry_slug,)
        ).fetchone()
        projects = [p for (p,) in connection.execute("SELECT DISTINCT project FROM packages")]
        connection.executemany(
            "INSERT INTO search_projects (registry_id, project, name, version, summary, keywords)"
            " VALUES (?, ?, ?, '1.1.0', ?, ?)",
            (
                (
                    registry_id, project, project,
                    f"A {words.choice(WORDS)} for {words.choice(WORDS)} work",
                    f"{words.choice(WORDS)} {words.choice(WORDS)}",
                )
                for project in projects
            ),
        )  # fmt: skip


def _queries(projects: int) -> dict[str, list[str]]:
    pick = random.Random(5)
    numbers = [pick.randrange(projects) for _ in range(40)]
    return {
        "exact name": [f"scale-{n:06d}" for n in numbers],
        "name prefix": [f"scale-{n:06d}"[:10] for n in numbers],
        "name substring": [f"{n:06d}"[1:5] for n in numbers],
        "summary word": [pick.choice(WORDS) for _ in numbers],
    }


def _timed(client: httpx.Client, path: str, query: str) -> float:
    started = time.perf_counter()
    response = client.get(path, params={"q": query, "per_page": 30})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    return elapsed


def run_search(workdir: Path, projects: int) -> dict[str, Any]:
    yard = Packyard(workdir, name="Packyard (search)")
    slug, write, read = yard.setup_data()
    database = yard.server.data_dir / "packyard.sqlite3"
    bulk_load(database, slug, projects)
    add_search_rows(database, slug)
    target = yard.start(slug, write, read)
    path = f"/v2/packages/organizations/{ORGANIZATION}/search"
    results: dict[str, Any] = {"projects": projects}
    try:
        headers = {"Authorization": f"Bearer {write}"}
        with httpx.Client(base_url=target.base_url, headers=headers, timeout=60) as client:
            for kind, queries in _queries(projects).items():
                for query in queries[:5]:
                    _timed(client, path, query)  # warm the page cache and the connection
                times = sorted(_timed(client, path, q) for q in queries)
                results[kind] = {
                    "p50_ms": statistics.median(times) * 1000,
                    "p95_ms": times[int(len(times) * 0.95) - 1] * 1000,
                }
    finally:
        target.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=100_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="packyard-search-") as folder:
        print(json.dumps(run_search(Path(folder), arguments.projects), indent=2))


if __name__ == "__main__":
    main()
