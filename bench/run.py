"""The benchmark harness: ``python3 bench/run.py`` (full run, about 30 minutes, writes
``docs/benchmarks.md``) or ``python3 bench/run.py --smoke`` (tiny sizes, a few minutes,
Packyard only unless ``--with-peers``; writes ``bench/results/smoke.md``).

It sets up ``.venv`` like ``scripts/test.py`` and re-runs itself there, installs the peers
at pinned versions under ``bench/.work/venvs``, builds the corpus, then runs every server in
turn, alone on the machine's loopback, through the same scenarios: publish the corpus
(twine, and Packyard's REST endpoint), index reads under load, file downloads under load,
pip and uv installs. The servers: Packyard on the embedded default (access log on, its
default, and off), on PostgreSQL with local blobs and on PostgreSQL with an S3 protocol
server, and on uvicorn instead of granian (the default HTTP server); pypiserver,
devpi-server, nginx serving Packyard's index as static files, and a do-nothing ASGI app on
each of granian and uvicorn (the ceilings). Then issue 8's cases on the embedded
default: profiles, composite, one huge upload, 100,000 projects; issue 18's retention
run over 100,000 files; and what operating it costs (bench/operations_cost.py: access log,
/metrics scrapes; bench/webhook_cost.py: a publish with a hook). Results go to
``bench/results/<mode>.json`` and the Markdown report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Sizes:
    projects: int
    versions: int
    install_deps: int
    concurrencies: list[int]
    read_seconds: float
    huge_bytes: int
    install_runs: int
    scale_projects: int
    scale_sample: int
    retention_files: int  # files of the registry a retention policy is applied to
    profile: bool  # py-spy a worker where targets are measured
    # bench/operations_cost.py (access log, JSON log, /metrics scrapes, metrics off: issues
    # 20 and 21) and bench/webhook_cost.py (a publish with a hook, issue 16): their rounds.
    operations_rounds: int
    operations_seconds: float
    webhook_rounds: int
    # bench/publish_probe.py: twine into pypiserver and Packyard taking turns (with peers).
    publish_rounds: int
    # bench/install_probe.py: pip and uv from Packyard and nginx taking turns (with peers).
    install_probe_rounds: int


FULL = Sizes(
    projects=100, versions=2, install_deps=30, concurrencies=[1, 8, 64], read_seconds=6,
    huge_bytes=1024**3 - 1024**2, install_runs=3, scale_projects=100_000, scale_sample=5000,
    retention_files=100_000, profile=True, operations_rounds=5, operations_seconds=4,
    webhook_rounds=8, publish_rounds=3, install_probe_rounds=7,
)  # fmt: skip
SMOKE = Sizes(
    projects=6, versions=1, install_deps=4, concurrencies=[1, 8], read_seconds=1,
    huge_bytes=4 * 1024**2, install_runs=1, scale_projects=300, scale_sample=50,
    retention_files=400, profile=False, operations_rounds=1, operations_seconds=1,
    webhook_rounds=1, publish_rounds=1, install_probe_rounds=1,
)  # fmt: skip


def _in_project_venv() -> bool:
    return Path(sys.prefix).resolve() == (ROOT / ".venv").resolve()


def _reexec_in_venv() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from _venv import ensure_venv  # type: ignore[import-not-found]

    python = ensure_venv("test")
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606


def _machine() -> dict[str, str]:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kib / 1024**2:.0f} GiB RAM",
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def _tool_version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except OSError:
        return "missing"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    parser.add_argument("--with-peers", action="store_true", help="smoke: run the peers too")
    parser.add_argument("--skip-peers", action="store_true", help="full: Packyard alone")
    parser.add_argument("--no-wrk", action="store_true", help="use bench/loadgen.py, not wrk")
    parser.add_argument(
        "--packyard", nargs="*", metavar="VARIANT", default=None,
        help="run only these Packyard variants (names as in the report); the smoke run's "
        "default is 'Packyard' alone (the embedded default), the full run's all of them",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=None, help="where the report goes")
    parser.add_argument("--workdir", type=Path, default=None, help="default bench/.work/<mode>")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not _in_project_venv() and os.environ.get("BENCH_NO_REEXEC") != "1":
        _reexec_in_venv()
    from bench.orchestrate import run_all

    sizes = SMOKE if args.smoke else FULL
    mode = "smoke" if args.smoke else "full"
    workdir = (args.workdir or ROOT / "bench" / ".work" / mode).resolve()
    output = args.output or (
        ROOT / "bench" / "results" / "smoke.md" if args.smoke else ROOT / "docs" / "benchmarks.md"
    )
    with_peers = args.with_peers if args.smoke else not args.skip_peers
    if not args.smoke:
        _ensure_system_packages()
    use_wrk = not args.no_wrk and shutil.which("wrk") is not None
    _compile_sources()
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "smoke": args.smoke,
        "machine": _machine(),
        "sizes": asdict(sizes),
        "load_generator": _tool_version(["wrk", "-v"]) if use_wrk else "bench/loadgen.py",
    }
    run_all(
        results, sizes, workdir, ROOT / "bench" / ".work" / "venvs", with_peers, use_wrk,
        args.packyard if args.packyard is not None or not args.smoke else ["Packyard"],
    )  # fmt: skip
    results["duration_seconds"] = time.monotonic() - started
    from bench import report, targets

    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{mode}.json").write_text(json.dumps(results, indent=2, default=str))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        report.render(results, targets.evaluate(results), targets.evaluate_issue_20(results))
    )
    print(f"Report written to {output}")
    return 0


def _compile_sources() -> None:
    """Packyard's modules compiled ahead, as an installed package's are: with
    ``PYTHONDONTWRITEBYTECODE`` set (some shells and CI set it) every server start would
    otherwise compile them again, which start-up times would count."""
    import compileall

    compileall.compile_dir(ROOT / "src", quiet=1)


def _ensure_system_packages() -> None:
    """The benchmark's system packages (scripts/_system.py), installed when missing (a full
    run; the smoke run uses what is there)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from _system import BENCH_REQUIREMENTS, ensure_system_packages  # type: ignore[import-not-found]

    ensure_system_packages(BENCH_REQUIREMENTS, "The benchmark")


if __name__ == "__main__":
    sys.exit(main())
