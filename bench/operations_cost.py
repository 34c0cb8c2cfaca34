"""What operating Packyard costs on the index read path (issue 21), in one run.

``python bench/operations_cost.py [--seconds 5] [--rounds 3] [--concurrency 64]``

Three servers run side by side, as ``packyard serve --workers 2`` runs, but for the
access log and metrics: one with neither access log nor scrapes, one with the access log
(JSON lines to its log file), one with metrics switched off. All get the
same corpus. Project-page reads at one concurrency then alternate, round after round, so
that the machine's other load falls on every case alike:

- no access log, nobody scraping;
- no access log, ``/metrics`` scraped every second during the reads;
- the access log on, nobody scraping;
- no access log and ``PACKYARD_METRICS=false`` (what counting requests costs).

Each case's figure is the median over its rounds; the report gives the ratios to the first
case (scrape cost: budget 2%; access log: budget 10%, issue 20). Loopback only, bounded in
time; wrk when installed, else bench/loadgen.py.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import build_corpus  # noqa: E402
from bench.load import run_load, wrk_path  # noqa: E402
from bench.scenarios import rest_publish, warm_up  # noqa: E402
from bench.servers import Packyard, Target  # noqa: E402

WORK = ROOT / "bench" / ".work" / "operations"


class Scraper:
    """Scrapes ``/metrics`` once a second until stopped; remembers how long each took."""

    def __init__(self, base_url: str) -> None:
        self._url = f"{base_url}/metrics"
        self._stop = threading.Event()
        self.durations: list[float] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Scraper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
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
    name: str, access_log: bool, corpus_files: list[Path], metrics: bool = True
) -> tuple[Packyard, Target]:
    env = {"PACKYARD_LOG_FORMAT": "json", "PACKYARD_METRICS": "true" if metrics else "false"}
    packyard = Packyard(WORK / name, workers=2, name=name, extra_env=env)
    packyard.server.access_log = access_log
    target = packyard.start(*packyard.setup_data())
    published = rest_publish(target, corpus_files)
    if "error" in published:
        raise RuntimeError(published["error"])
    return packyard, target


def _reads(target: Target, paths: list[str], concurrency: int, seconds: float) -> float:
    result = run_load(
        target.base_url, paths, target.read_headers, concurrency, seconds, target.pid,
        WORK / "load", use_wrk=wrk_path() is not None,
    )  # fmt: skip
    if result.errors or result.non_2xx:
        raise RuntimeError(f"{target.name}: {result.errors} errors, {result.non_2xx} non-2xx")
    return result.rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--projects", type=int, default=30)
    options = parser.parse_args()
    if WORK.exists():
        shutil.rmtree(WORK)
    corpus = build_corpus(WORK / "corpus", options.projects, 1, 0)
    plain, plain_target = _start("no-access-log", False, corpus.files)
    logged, logged_target = _start("access-log", True, corpus.files)
    bare, bare_target = _start("no-metrics", False, corpus.files, metrics=False)
    cases: dict[str, list[float]] = {
        "plain": [], "scraped": [], "access log": [], "metrics off": []
    }  # fmt: skip
    scrapes: list[float] = []
    try:
        paths = [plain_target.project_path(p) for p in corpus.projects]
        warm_up(plain_target, paths)
        warm_up(logged_target, paths)
        warm_up(bare_target, paths)
        for _ in range(options.rounds):
            cases["plain"].append(_reads(plain_target, paths, options.concurrency, options.seconds))
            with Scraper(plain_target.base_url) as scraper:
                rps = _reads(plain_target, paths, options.concurrency, options.seconds)
            cases["scraped"].append(rps)
            scrapes.extend(scraper.durations)
            rps = _reads(logged_target, paths, options.concurrency, options.seconds)
            cases["access log"].append(rps)
            rps = _reads(bare_target, paths, options.concurrency, options.seconds)
            cases["metrics off"].append(rps)
    finally:
        plain.server.stop()
        logged.server.stop()
        bare.server.stop()
    base = statistics.median(cases["plain"])
    tool = "wrk" if wrk_path() else "bench/loadgen.py"
    print(f"Project pages, c={options.concurrency}, {options.rounds} rounds of "
          f"{options.seconds:g} s, `packyard serve --workers 2`, {tool}:")  # fmt: skip
    for case, figures in cases.items():
        median = statistics.median(figures)
        rounds = ", ".join(f"{x:,.0f}" for x in figures)
        print(f"- {case}: median {median:,.0f} req/s ({median / base:.3f} of plain; {rounds})")
    if scrapes:
        median_ms = statistics.median(scrapes) * 1000
        print(
            f"- /metrics scrapes: {len(scrapes)}, median {median_ms:.1f} ms, "
            f"max {max(scrapes) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
