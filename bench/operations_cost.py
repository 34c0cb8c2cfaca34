"""What operating Packyard costs on the index read path (issue 21), in one run.

``python bench/operations_cost.py [--seconds 4] [--rounds 7] [--concurrency 64]``

Four servers run side by side, as ``packyard serve --workers 2`` runs, but for the
access log and metrics: one without access log, one with the default (text) access log,
one with JSON lines, one with metrics switched off. All get the same corpus. Project-page
reads at one concurrency then alternate, round after round, so
that the machine's other load falls on every case alike:

- no access log, nobody scraping;
- no access log, ``/metrics`` scraped every second during the reads;
- the access log on (text, the default; then JSON), nobody scraping;
- no access log and ``PACKYARD_METRICS=false`` (what counting requests costs).

Each case's figures are medians over its rounds: requests per second, and the server's CPU
time per request (all its processes; steadier than throughput on a machine shared with
other work, and it includes the scrapes); the report gives the ratios to the first case
(scrape cost: budget 2%; access log: budget 10%, issue 20). Loopback only, bounded in time;
wrk when installed, else bench/loadgen.py.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import build_corpus  # noqa: E402
from bench.load import LoadResult, run_load, wrk_path  # noqa: E402
from bench.scenarios import rest_publish, warm_up  # noqa: E402
from bench.servers import Packyard, Target  # noqa: E402

WORK = ROOT / "bench" / ".work" / "operations"


class Scraper:
    """Scrapes ``/metrics`` once a second until stopped; remembers how long each took."""

    def __init__(self, base_url: str, enabled: bool = True) -> None:
        self._url = f"{base_url}/metrics"
        self._enabled = enabled
        self._stop = threading.Event()
        self.durations: list[float] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Scraper:
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._enabled:
            self._thread.join()

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                answer = client.get(self._url)
                answer.raise_for_status()
                self.durations.append(time.perf_counter() - started)
                self._stop.wait(max(0.0, 1.0 - (time.perf_counter() - started)))


def _start(
    workdir: Path, name: str, access_log: bool, corpus_files: list[Path], metrics: bool = True,
    log: str = "text",
) -> tuple[Packyard, Target]:  # fmt: skip
    env = {"PACKYARD_LOG_FORMAT": log, "PACKYARD_METRICS": "true" if metrics else "false"}
    packyard = Packyard(workdir / name, workers=2, name=name, extra_env=env)
    packyard.server.access_log = access_log
    target = packyard.start(*packyard.setup_data())
    published = rest_publish(target, corpus_files)
    if "error" in published:
        raise RuntimeError(published["error"])
    return packyard, target


def _reads(
    target: Target, paths: list[str], concurrency: int, seconds: float, workdir: Path
) -> LoadResult:
    result = run_load(
        target.base_url, paths, target.read_headers, concurrency, seconds, target.pid,
        workdir / "load", use_wrk=wrk_path() is not None,
    )  # fmt: skip
    if result.errors or result.non_2xx:
        raise RuntimeError(f"{target.name}: {result.errors} errors, {result.non_2xx} non-2xx")
    return result


SCRAPES = 200


def _cpu_per_scrape(target: Target) -> float:
    """Server CPU milliseconds one ``/metrics`` scrape costs, measured on the idle server:
    the CPU of SCRAPES scrapes one after another, less what the server spends idle over
    the same time (its timers), divided by SCRAPES. Unlike the alternated rounds, whose
    run-to-run spread on a shared 2-core machine is several percent, this resolves a cost
    well under 1%."""
    from bench import procs

    with httpx.Client(timeout=10) as client:
        client.get(f"{target.base_url}/metrics").raise_for_status()  # files opened once
        cpu_before, started = procs.cpu_seconds(target.pid), time.perf_counter()
        for _ in range(SCRAPES):
            client.get(f"{target.base_url}/metrics").raise_for_status()
        spent, elapsed = procs.cpu_seconds(target.pid) - cpu_before, time.perf_counter() - started
    idle_before = procs.cpu_seconds(target.pid)
    time.sleep(elapsed)
    idle = procs.cpu_seconds(target.pid) - idle_before
    return max(0.0, spent - idle) * 1000 / SCRAPES


def measure(
    workdir: Path, *, seconds: float = 4, rounds: int = 7, concurrency: int = 64,
    projects: int = 30, cases: Sequence[str] = (),
) -> dict[str, Any]:  # fmt: skip
    """Run the cases (all, or ``plain`` and ``cases``) round after round; returns each case's
    medians (``rps``, ``cpu_ms_per_request``), every round's figures and the scrapes'
    durations. bench/run.py puts this in its report; ``main`` prints it."""
    if workdir.exists():
        shutil.rmtree(workdir)
    corpus = build_corpus(workdir / "corpus", projects, 1, 0)
    servers: list[Packyard] = []
    try:
        plain, plain_target = _start(workdir, "no-access-log", False, corpus.files)
        servers.append(plain)
        logged, logged_target = _start(workdir, "access-log", True, corpus.files)
        servers.append(logged)
        json_logged, json_target = _start(
            workdir, "json-access-log", True, corpus.files, log="json"
        )
        servers.append(json_logged)
        bare, bare_target = _start(workdir, "no-metrics", False, corpus.files, metrics=False)
        servers.append(bare)
        targets = {
            "plain": plain_target, "scraped": plain_target, "access log (text)": logged_target,
            "access log (json)": json_target, "metrics off": bare_target,
        }  # fmt: skip
        if cases:
            chosen = {"plain", *cases}
            targets = {case: target for case, target in targets.items() if case in chosen}
        results: dict[str, list[LoadResult]] = {case: [] for case in targets}
        scrapes: list[float] = []
        paths = [plain_target.project_path(p) for p in corpus.projects]
        for target in {t.base_url: t for t in targets.values()}.values():
            warm_up(target, paths)
        order = list(targets)
        for round_number in range(rounds):
            # Each round starts with another case, so no case always follows the same one.
            shift = round_number % len(order)
            for case in order[shift:] + order[:shift]:
                with Scraper(targets[case].base_url, case == "scraped") as scraper:
                    result = _reads(targets[case], paths, concurrency, seconds, workdir)
                results[case].append(result)
                scrapes.extend(scraper.durations)
        scrape_cpu = _cpu_per_scrape(plain_target)
    finally:
        for server in servers:
            server.server.stop()
    return {
        "scrape_cpu_ms": scrape_cpu,
        "concurrency": concurrency, "rounds": rounds, "seconds": seconds,
        "tool": "wrk" if wrk_path() else "bench/loadgen.py",
        "cases": {
            case: {
                "rps": statistics.median(r.rps for r in figures),
                "cpu_ms_per_request": statistics.median(r.cpu_ms_per_request for r in figures),
                "each_round": [[r.rps, r.cpu_ms_per_request] for r in figures],
            }
            for case, figures in results.items()
        },
        "scrapes_ms": [d * 1000 for d in scrapes],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--projects", type=int, default=30)
    parser.add_argument(
        "--cases", default="", help="comma-separated subset of the cases (plain always runs)"
    )
    options = parser.parse_args()
    measured = measure(
        WORK, seconds=options.seconds, rounds=options.rounds, concurrency=options.concurrency,
        projects=options.projects, cases=[c for c in options.cases.split(",") if c],
    )  # fmt: skip
    print("\n".join(report_lines(measured)))


def scrape_share(measured: dict[str, Any]) -> float:
    """A scrape a second's CPU as a share of the CPU the server spent per second in the
    plain rounds (req/s x CPU per request): what it takes from a CPU-bound read load."""
    plain = measured["cases"]["plain"]
    busy_ms_per_second = float(plain["rps"]) * float(plain["cpu_ms_per_request"])
    return float(measured["scrape_cpu_ms"]) / busy_ms_per_second


def report_lines(measured: dict[str, Any]) -> list[str]:
    """The measurement as Markdown: medians with their ratios to ``plain``, then each round."""
    cases = measured["cases"]
    base_rps = cases["plain"]["rps"]
    base_cpu = cases["plain"]["cpu_ms_per_request"]
    lines = [
        f"Project pages, c={measured['concurrency']}, {measured['rounds']} rounds of "
        f"{measured['seconds']:g} s, `packyard serve --workers 2`, {measured['tool']}; medians:",
        "",
        "| case | req/s | vs plain | server CPU µs/request | vs plain |",
        "|---|---:|---:|---:|---:|",
    ]
    for case, figures in cases.items():
        rps, cpu = figures["rps"], figures["cpu_ms_per_request"]
        lines.append(
            f"| {case} | {rps:,.0f} | {rps / base_rps:.3f} | {cpu * 1000:.1f} "
            f"| {cpu / base_cpu:.3f} |"
        )
    lines += ["", "Each round, req/s (server CPU µs/request):", ""]
    for case, figures in cases.items():
        rounds = ", ".join(f"{rps:,.0f} ({cpu * 1000:.0f})" for rps, cpu in figures["each_round"])
        lines.append(f"- {case}: {rounds}")
    scrape_cpu = measured.get("scrape_cpu_ms")
    if scrape_cpu is not None:
        share = scrape_share(measured)
        lines += [
            "",
            f"One scrape costs the server {scrape_cpu:.2f} ms of CPU ({SCRAPES} scrapes on the "
            "idle server, its idle CPU over the same time subtracted); scraped every second "
            f"that is {share:.2%} of the CPU the server spent per second serving the plain "
            "rounds.",
        ]
    scrapes = measured["scrapes_ms"]
    if scrapes:
        lines += [
            "",
            f"/metrics scrapes: {len(scrapes)}, median {statistics.median(scrapes):.1f} ms, "
            f"max {max(scrapes):.1f} ms",
        ]
    return lines


if __name__ == "__main__":
    main()
