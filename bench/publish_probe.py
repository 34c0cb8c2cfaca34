"""Publishing throughput alone, with a ceiling: ``python3 bench/publish_probe.py``.

Issue 8 asks Packyard to publish through ``twine upload`` at 3x pypiserver's files/s. This
probe answers whether that is reachable and how far off we are, in one run on one machine:

- ``null``: the do-nothing ASGI app of ``bench/ceiling.py`` on uvicorn (uvloop, httptools,
  one worker), which reads each body and answers 200. twine against it is the ceiling:
  what twine itself can do, the server costing (almost) nothing.
- ``pypiserver``: started as ``bench/peers.py`` does (gunicorn, 2 gevent workers).
- ``packyard-twine`` and ``packyard-rest``: ``packyard serve --workers 2 --no-access-log``
  on SQLite and a local blob folder, as ``bench/servers.py`` runs it; each round on a fresh
  server and folder, as pypiserver's, so every file and every blob is new.
- ``packyard-twine-nofsync``: ``packyard-twine`` with every fsync made a no-op (Debian's
  eatmydata in ``LD_PRELOAD``, as the full run's "without fsync" server; never a way to run
  it). Set beside ``packyard-twine`` round by round it gives what durability costs per
  file: the wall-clock milliseconds (twine sends one file after another, so that is the
  server's latency) and the server's CPU milliseconds (``fsync_cost`` in the summary).
- ``base-twine`` and ``base-rest`` (with ``--baseline REVISION``): the same, running the
  ``src`` of another git revision, to compare before and after a change in the same rounds.

The same corpus as the full benchmark (``bench/corpus.py``, 402 files), uploaded by one
``twine upload`` process (or the REST client of ``bench/scenarios.py``); the servers take
turns within each round, so machine noise spreads over all of them. Besides files/s it
reports the CPU milliseconds per file of the server (its whole process tree, from
``/proc``) and of the client: on a loaded machine they vary less than the wall clock.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

Measure = Callable[[int], dict[str, Any]]
MEASURES = [
    "null",
    "pypiserver",
    "packyard-twine",
    "packyard-twine-nofsync",
    "packyard-rest",
    "base-twine",
    "base-rest",
]


def _client_cpu_seconds() -> float:
    """This process's CPU time plus that of its finished children (twine, once waited for)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(pid: int, run: Callable[[], dict[str, Any]], files: int) -> dict[str, Any]:
    """Runs one upload of ``files`` files, once the server has settled (its start-up work
    done); adds the CPU ms per file of the server's process tree and of the client (twine's
    process, or this one for the REST client), and the server's CPU ms while settling."""
    from bench import procs

    warming_up = procs.settle(pid)  # a fresh server's start-up work is not a publish's
    server_before, client_before = procs.cpu_seconds(pid), _client_cpu_seconds()
    outcome = run()
    if "error" in outcome:
        raise RuntimeError(outcome["error"])
    server, client = procs.cpu_seconds(pid), _client_cpu_seconds()
    outcome["server_cpu_ms_per_file"] = (server - server_before) * 1000 / files
    outcome["client_cpu_ms_per_file"] = (client - client_before) * 1000 / files
    outcome["server_cpu_ms_warming_up"] = warming_up * 1000
    return outcome


def _measures(args: argparse.Namespace, workdir: Path, files: list[Path]) -> dict[str, Measure]:
    from bench import peers, scenarios

    twine = args.venvs / "twine" / "bin" / "twine"
    wanted = set(args.only or MEASURES)
    measures: dict[str, Measure] = {}
    if "null" in wanted:
        from bench.ceiling import null_target

        null = null_target(workdir, 1)
        atexit_stops.append(null.stop)
        measures["null"] = lambda _round: _timed(
            null.pid, lambda: scenarios.twine_upload(twine, null, files), len(files)
        )

    def pypiserver(round_number: int) -> dict[str, Any]:
        target = peers.start_pypiserver(
            args.venvs / "pypiserver" / "bin", _fresh(workdir / f"pypiserver-{round_number}")
        )
        try:
            return _timed(
                target.pid, lambda: scenarios.twine_upload(twine, target, files), len(files)
            )
        finally:
            target.stop()

    if "pypiserver" in wanted:
        measures["pypiserver"] = pypiserver
    if wanted & {"packyard-twine", "packyard-rest"}:
        measures.update(_packyard_measures("packyard", workdir, twine, files, {}))
    if "packyard-twine-nofsync" in wanted:
        from bench.servers import eatmydata_library

        library = eatmydata_library()
        if library is None:
            print("packyard-twine-nofsync not run: eatmydata is not installed", flush=True)
        else:
            without = _packyard_measures(
                "packyard-nofsync", workdir, twine, files, {"LD_PRELOAD": library}
            )
            measures["packyard-twine-nofsync"] = without["packyard-nofsync-twine"]
    if args.baseline and wanted & {"base-twine", "base-rest"}:
        source = _baseline_source(args.baseline, workdir)
        measures.update(
            _packyard_measures("base", workdir, twine, files, {"PYTHONPATH": str(source)})
        )
    return {name: measures[name] for name in MEASURES if name in measures and name in wanted}


def _packyard_measures(
    label: str, workdir: Path, twine: Path, files: list[Path], env: dict[str, str]
) -> dict[str, Measure]:
    """Packyard as the bench runs it; ``env`` may point PYTHONPATH at another source tree.
    Each round starts a fresh server on a fresh folder, as pypiserver's rounds do: in a
    folder used before, every blob is already stored and a publish skips writing and
    flushing it."""
    from bench import scenarios
    from bench.servers import Packyard, Target

    def fresh_server(round_number: int, kind: str) -> Target:
        yard = Packyard(_fresh(workdir / f"{label}-{kind}-{round_number}"), extra_env=env)
        target = yard.start(*yard.setup_data())
        atexit_stops.append(target.stop)
        return target

    def with_twine(round_number: int) -> dict[str, Any]:
        target = fresh_server(round_number, "twine")
        try:
            return _timed(
                target.pid, lambda: scenarios.twine_upload(twine, target, files), len(files)
            )
        finally:
            target.stop()

    def with_rest(round_number: int) -> dict[str, Any]:
        target = fresh_server(round_number, "rest")
        try:
            return _timed(target.pid, lambda: scenarios.rest_publish(target, files), len(files))
        finally:
            target.stop()

    return {f"{label}-twine": with_twine, f"{label}-rest": with_rest}


def _baseline_source(revision: str, workdir: Path) -> Path:
    """``src`` of ``revision`` (git archive), for a Packyard to compare with in each round."""
    import subprocess

    folder = _fresh(workdir / "baseline-source")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


atexit_stops: list[Callable[[], None]] = []


def _fresh(path: Path) -> Path:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.corpus import build_corpus
    from bench.run import FULL

    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    corpus = build_corpus(workdir / "corpus", FULL.projects, FULL.versions, FULL.install_deps)
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        measures = _measures(args, workdir, corpus.files)
        for round_number in range(args.rounds):
            for name, measure in measures.items():
                outcome = measure(round_number)
                results.setdefault(name, []).append(outcome)
                print(
                    f"round {round_number} {name:22} {outcome['files_per_second']:7.1f} files/s"
                    f"  CPU ms/file: server {outcome['server_cpu_ms_per_file']:5.2f}"
                    f" client {outcome['client_cpu_ms_per_file']:5.2f}"
                    f" (warming up: {outcome['server_cpu_ms_warming_up']:.0f} ms)",
                    flush=True,
                )
    finally:
        for stop in reversed(atexit_stops):
            stop()
    summary = {
        name: {
            "median_files_per_second": statistics.median(r["files_per_second"] for r in runs),
            "files_per_second": [round(r["files_per_second"], 1) for r in runs],
            "best_files_per_second": max(r["files_per_second"] for r in runs),
            "median_server_cpu_ms_per_file": statistics.median(
                r["server_cpu_ms_per_file"] for r in runs
            ),
            "median_client_cpu_ms_per_file": statistics.median(
                r["client_cpu_ms_per_file"] for r in runs
            ),
        }
        for name, runs in results.items()
    }
    return {
        "files": len(corpus.files),
        "rounds": args.rounds,
        "summary": summary,
        **_fsync_cost(results),
    }


def _fsync_cost(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """What fsync costs Packyard per file, from the rounds where it ran with and without:
    each round's difference in wall-clock ms per file (the server's latency, twine sending
    one file after another) and in server CPU ms per file, and their medians."""
    durable, without = results.get("packyard-twine"), results.get("packyard-twine-nofsync")
    if not durable or not without:
        return {}
    pairs = list(zip(durable, without, strict=False))
    wall = [1000 / d["files_per_second"] - 1000 / w["files_per_second"] for d, w in pairs]
    cpu = [d["server_cpu_ms_per_file"] - w["server_cpu_ms_per_file"] for d, w in pairs]
    return {
        "fsync_cost": {
            "wall_ms_per_file": [round(value, 2) for value in wall],
            "server_cpu_ms_per_file": [round(value, 2) for value in cpu],
            "median_wall_ms_per_file": statistics.median(wall),
            "median_server_cpu_ms_per_file": statistics.median(cpu),
        }
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=MEASURES, help="measure only these")
    parser.add_argument("--baseline", metavar="REVISION",
                        help="also run Packyard's src at this git revision as base-*")  # fmt: skip
    parser.add_argument("--venvs", type=Path, default=ROOT / "bench" / ".work" / "venvs",
                        help="where bench/peers.py installed twine and pypiserver")  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "probe")
    args = parser.parse_args()
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        python = ROOT / ".venv" / "bin" / "python"
        os.execv(str(python), [str(python), *sys.argv])  # noqa: S606
    from bench import peers

    for name in ("twine", "pypiserver"):
        peers.ensure_venv(args.venvs, name)
    print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
