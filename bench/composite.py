"""The composite case: a project page through a composite registry (two source registries
and a PyPI stand-in as upstreams), cached, against the same page from a source registry.

The PyPI stand-in answers PEP 691 JSON, as PyPI does, and has a higher "public" version
of every corpus project, which the composite must hide (a private name wins): each page
read through the composite merges both source upstreams and PyPI's cached answer.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.support.fake_pypi import FakeFile, FakePypi

from bench.load import run_load
from bench.servers import ORGANIZATION, Packyard, Target

NOT_MERGED = "not measured: composite registries not yet merged"


class PypiStandIn:
    """A PEP 691 simple index on loopback standing in for the public PyPI (the tests'
    ``FakePypi``, in a thread of the harness: Packyard asks it once per project and TTL)."""

    def __init__(self, workdir: Path, projects: list[str]) -> None:
        self._pypi = FakePypi()
        for project in projects:
            filename = f"{project.replace('-', '_')}-99.0.0-py3-none-any.whl"
            self._pypi.add(project, FakeFile(filename, f"public {project}".encode()))
        self._pypi.start()
        self.url = self._pypi.url

    def stop(self) -> None:
        self._pypi.stop()


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
