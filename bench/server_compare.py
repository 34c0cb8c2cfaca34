"""Packyard on uvicorn and on granian, each beside a do-nothing app on the same server, in
one run (issue 20: the ratio to the ceiling on the same server, and whether another HTTP
server lifts it).

``python bench/server_compare.py [--seconds 5] [--rounds 3] [--concurrency 64]
[--with-pypiserver]``

Four servers run side by side (only one is read at a time), each with 2 workers: Packyard
as ``packyard serve --workers 2`` (access log on, its default) on uvicorn and with
``--server granian``, and the do-nothing ASGI app of ``bench/ceiling.py`` on each server
(bodies the size of a project page and of a file). With ``--with-pypiserver``, pypiserver
(bench/peers.py) serves the same files, for issue 20's ratio of downloads. Project pages,
then file downloads, take turns round after round at one concurrency, each round starting
with another server, so that the machine's other load falls on every case alike. Each
case's figures are medians over its rounds: requests per second and the server's CPU per
request (all its processes). Loopback only, bounded in time; wrk when installed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import ceiling, peers  # noqa: E402
from bench.corpus import build_corpus  # noqa: E402
from bench.load import LoadResult, run_load, wrk_path  # noqa: E402
from bench.scenarios import linked_paths, rest_publish, twine_upload, warm_up  # noqa: E402
from bench.servers import Packyard, Target, stop_process  # noqa: E402

WORK = ROOT / "bench" / ".work" / "server-compare"
RESULTS = ROOT / "bench" / "results" / "server_compare.json"
SCENARIOS = ("project pages", "file downloads")


@dataclass(frozen=True)
class Case:
    """One server as the rounds read it: where, and which paths for each scenario."""

    name: str
    base_url: str
    pid: int
    headers: dict[str, str]
    paths: dict[str, list[str]]  # by scenario


def _packyard_case(
    stack: ExitStack, workdir: Path, server: str, files: list[Path], projects: list[str]
) -> Case:
    name = f"Packyard on {server}"
    yard = Packyard(workdir / f"packyard-{server}", workers=2, name=name, server=server)
    target = yard.start(*yard.setup_data())
    stack.callback(target.stop)
    published = rest_publish(target, files)
    if "error" in published:
        raise RuntimeError(published["error"])
    return _case(name, target, projects)


def _case(name: str, target: Target, projects: list[str]) -> Case:
    with httpx.Client(base_url=target.base_url, headers=target.read_headers, timeout=60) as c:
        files = [f for p in projects for f in linked_paths(c, target.project_path(p))]
    pages = [target.project_path(p) for p in projects]
    warm_up(target, [*pages, *files])
    return Case(name, target.base_url, target.pid, target.read_headers,
                {"project pages": pages, "file downloads": files})  # fmt: skip


def _ceiling_cases(stack: ExitStack, workdir: Path, server: str, page: Case) -> list[Case]:
    """The do-nothing app on ``server``, once with a page's body and once with a file's."""
    cases = []
    for scenario, label in (("project pages", "page"), ("file downloads", "file")):
        with httpx.Client(base_url=page.base_url, headers=page.headers, timeout=60) as client:
            size = len(client.get(page.paths[scenario][0]).raise_for_status().content)
        process, base = ceiling.start_bare_server(workdir, size, 2, label, server)
        stack.callback(stop_process, process)
        cases.append(Case(ceiling.ceiling_name(server), base, process.pid, page.headers,
                          {scenario: [f"/{label}/"]}))  # fmt: skip
    return cases


def _pypiserver_case(
    stack: ExitStack, workdir: Path, files: list[Path], projects: list[str]
) -> Case:
    venvs = ROOT / "bench" / ".work" / "venvs"
    target = peers.start_pypiserver(peers.ensure_venv(venvs, "pypiserver"), workdir / "pypiserver")
    stack.callback(target.stop)
    outcome = twine_upload(peers.ensure_venv(venvs, "twine") / "twine", target, files)
    if "error" in outcome:
        raise RuntimeError(outcome["error"])
    case = _case("pypiserver", target, projects)
    return Case(case.name, case.base_url, case.pid, case.headers,
                {"file downloads": case.paths["file downloads"]})  # fmt: skip


@contextmanager
def _servers(workdir: Path, projects: int, with_pypiserver: bool) -> Iterator[list[Case]]:
    corpus = build_corpus(workdir / "corpus", projects, 1, 0)
    with ExitStack() as stack:
        cases: list[Case] = []
        for server in ceiling.SERVERS:
            ours = _packyard_case(stack, workdir, server, corpus.files, corpus.projects)
            cases += [ours, *_ceiling_cases(stack, workdir, server, ours)]
        if with_pypiserver:
            cases.append(_pypiserver_case(stack, workdir, corpus.files, corpus.projects))
        yield cases


def measure(
    workdir: Path, *, seconds: float = 5, rounds: int = 3, concurrency: int = 64,
    projects: int = 30, with_pypiserver: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Every (server, scenario) read ``rounds`` times, taking turns; returns the medians
    (``rps``, ``cpu_ms_per_request``) and every round's figures by scenario and server."""
    if workdir.exists():
        shutil.rmtree(workdir)
    runs: dict[str, dict[str, list[LoadResult]]] = {s: {} for s in SCENARIOS}
    with _servers(workdir, projects, with_pypiserver) as cases:
        for scenario in SCENARIOS:
            turns = [case for case in cases if scenario in case.paths]
            for round_number in range(rounds):
                shift = round_number % len(turns)
                for case in turns[shift:] + turns[:shift]:
                    result = run_load(
                        case.base_url, case.paths[scenario], case.headers, concurrency,
                        seconds, case.pid, workdir / "load", use_wrk=wrk_path() is not None,
                    )  # fmt: skip
                    if result.errors or result.non_2xx:
                        raise RuntimeError(f"{case.name}: {result.errors} errors, "
                                           f"{result.non_2xx} non-2xx")  # fmt: skip
                    runs[scenario].setdefault(case.name, []).append(result)
    return {
        "concurrency": concurrency, "rounds": rounds, "seconds": seconds,
        "tool": "wrk" if wrk_path() else "bench/loadgen.py",
        "scenarios": {scenario: {name: _medians(figures) for name, figures in by_case.items()}
                      for scenario, by_case in runs.items()},
    }  # fmt: skip


def _medians(figures: list[LoadResult]) -> dict[str, Any]:
    return {
        "rps": statistics.median(r.rps for r in figures),
        "cpu_ms_per_request": statistics.median(r.cpu_ms_per_request for r in figures),
        "p99_ms": statistics.median(r.p99_ms for r in figures),
        "each_round": [[r.rps, r.cpu_ms_per_request] for r in figures],
    }


def report_lines(measured: dict[str, Any]) -> list[str]:
    """The medians as Markdown, with Packyard's share of the ceiling on the same server."""
    lines = [
        f"c={measured['concurrency']}, {measured['rounds']} rounds of {measured['seconds']:g} s "
        f"taking turns, 2 workers each, {measured['tool']}; medians:",
        "",
        "| scenario | server | req/s | server CPU µs/request | p99 ms | ÷ ceiling on the same "
        "server |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for scenario, by_case in measured["scenarios"].items():
        for name, figures in by_case.items():
            share = _share(by_case, name)
            lines.append(
                f"| {scenario} | {name} | {figures['rps']:,.0f} | "
                f"{figures['cpu_ms_per_request'] * 1000:.1f} | {figures['p99_ms']:.1f} | {share} |"
            )
    pypiserver = measured["scenarios"]["file downloads"].get("pypiserver")
    if pypiserver:
        lines += ["", "File downloads ÷ pypiserver's req/s:", ""]
        for name, figures in measured["scenarios"]["file downloads"].items():
            if name.startswith("Packyard"):
                lines.append(f"- {name}: {figures['rps'] / pypiserver['rps']:.2f}x")
    lines += ["", "Each round, req/s (server CPU µs/request):", ""]
    for scenario, by_case in measured["scenarios"].items():
        for name, figures in by_case.items():
            each = ", ".join(f"{rps:,.0f} ({cpu * 1000:.0f})" for rps, cpu in figures["each_round"])
            lines.append(f"- {scenario}, {name}: {each}")
    return lines


def _share(by_case: dict[str, Any], name: str) -> str:
    server = name.removeprefix("Packyard on ")
    bare = by_case.get(ceiling.ceiling_name(server))
    if server == name or bare is None:
        return ""
    return f"{by_case[name]['rps'] / bare['rps']:.0%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--projects", type=int, default=30)
    parser.add_argument("--with-pypiserver", action="store_true")
    options = parser.parse_args()
    measured = measure(
        WORK, seconds=options.seconds, rounds=options.rounds, concurrency=options.concurrency,
        projects=options.projects, with_pypiserver=options.with_pypiserver,
    )  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(measured, indent=2))
    print("\n".join(report_lines(measured)))


if __name__ == "__main__":
    main()
