"""The composite case: a project page through a composite registry (two source registries
and a PyPI stand-in as upstreams), cached, against the same page from a source registry.

Composite registries are issue 5, built in parallel; until ``packyard registry create``
has ``--composite`` this reports a clearly marked "not measured". The PyPI stand-in is a
static PEP 503 tree served by ``python -m http.server``, where every corpus project also
has a higher "public" version that the composite must hide (a private name wins).
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.load import run_load
from bench.servers import ORGANIZATION, Packyard, Target, free_port, spawn, stop_process, wait_ready

NOT_MERGED = "not measured: composite registries not yet merged"


class PypiStandIn:
    """A static simple index on loopback standing in for the public PyPI."""

    def __init__(self, workdir: Path, projects: list[str]) -> None:
        root = workdir / "pypi-stand-in"
        simple = root / "simple"
        for project in projects:
            page = simple / project
            page.mkdir(parents=True, exist_ok=True)
            module = project.replace("-", "_")
            filename = f"{module}-99.0.0-py3-none-any.whl"
            (page / "index.html").write_text(
                f'<!DOCTYPE html><html><body><a href="../../files/{filename}#sha256='
                f'{"0" * 64}">{filename}</a></body></html>\n'
            )
        self.port = free_port()
        self.process = spawn(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory",
             str(root), str(self.port)],
            workdir / "pypi-stand-in.log",
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}/simple/"
        wait_ready(self.url, self.process, workdir / "pypi-stand-in.log", 30)

    def stop(self) -> None:
        stop_process(self.process)


def composite_supported(yard: Packyard) -> bool:
    help_text = yard.server.cli("registry", "create", "--help", check=False).stdout
    return "--composite" in help_text


def run_composite(
    yard: Packyard, target: Target, source_slug: str, projects: list[str],
    concurrency: int, seconds: float, workdir: Path, use_wrk: bool,
) -> dict[str, Any]:  # fmt: skip
    if not composite_supported(yard):
        return {"status": NOT_MERGED}
    try:
        yard.server.cli("registry", "create", ORGANIZATION, "Team B")
        composite = yard.server.cli(
            "registry", "create", ORGANIZATION, "Everything", "--composite",
            "--upstream", source_slug, "--upstream", "team-b", "--upstream", "pypi",
        ).stdout.strip()  # fmt: skip
        headers = {"Authorization": f"Bearer {target.rest_token}"}
        source_paths = [target.project_path(p) for p in projects]
        composite_prefix = f"/{ORGANIZATION}/{composite}/pypi/simple/"
        composite_paths = [f"{composite_prefix}{p}/" for p in projects]
        results = {}
        for label, paths in (("source", source_paths), ("composite", composite_paths)):
            run_load(target.base_url, paths, headers, 1, 1, target.pid, workdir, use_wrk)
            result = run_load(
                target.base_url, paths, headers, concurrency, seconds, target.pid, workdir, use_wrk
            )
            results[label] = asdict(result) | {"rps": result.rps}
        return {"status": "measured", **results}
    except Exception as error:  # the slot must never break the run
        return {"status": f"not measured: {error}".splitlines()[0][:300]}
