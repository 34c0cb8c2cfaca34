#!/usr/bin/env python3
"""The README's second command: set up .venv with the test tools and run every check:
format, lint, types (``src``, then ``tests`` strictly), import contracts, then the whole
test suite twice, both passes at once: on the embedded default (SQLite, local folder) and
on the scale-out stack (PostgreSQL, S3).

Usage: python3 scripts/test.py [pytest arguments]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _system import ensure_system_packages
from _venv import ROOT, VENV, ensure_venv

LOGS = ROOT / "test-output" / "logs"

SCALE_OUT = ("--database", "postgresql", "--storage", "s3")
# The default pass leaves the few long backend-independent tests marked for it to the
# scale-out pass, which is minutes shorter (tests/support/backends.py, SCALE_OUT_PASS).
LEAVE = ("--leave-to-scale-out",)


def run(step: str, *args: str) -> None:
    print(f"==> {step}", flush=True)
    result = subprocess.run(args, cwd=ROOT)
    if result.returncode != 0:
        print(f"FAILED: {step} (exit {result.returncode})", flush=True)
        sys.exit(result.returncode)


def run_together(passes: dict[str, list[str]]) -> None:
    """Run the two passes at once, each into a log of its own, then print each log whole.
    Most of a pass's time is spent waiting on servers, installers and the browser, so on two
    cores the two together take little more than the longer one alone (CI must stay well
    under 20 minutes). PACKYARD_TEST_SERIAL=1 runs them one after the other instead."""
    LOGS.mkdir(parents=True, exist_ok=True)
    started: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    for number, (step, command) in enumerate(passes.items()):
        log = LOGS / f"pass-{number + 1}.log"
        print(f"==> {step} (started; output in {log.relative_to(ROOT)})", flush=True)
        with log.open("wb") as out:
            started[step] = (
                subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT),
                log,
            )
    failed: list[str] = []
    for step, (process, log) in started.items():
        returncode = process.wait()
        print(f"==> {step}", flush=True)
        sys.stdout.write(log.read_text(encoding="utf-8", errors="replace"))
        if returncode != 0:
            print(f"FAILED: {step} (exit {returncode})", flush=True)
            failed.append(step)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    ensure_system_packages()
    python = str(ensure_venv("test"))
    bin_dir = VENV / "bin"
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    run("format", str(bin_dir / "ruff"), "format", "--check", "src", "tests", "scripts", "bench")
    run("lint", str(bin_dir / "ruff"), "check", "src", "tests", "scripts", "bench")
    run("types", str(bin_dir / "mypy"), "src")
    run("types of the tests", str(bin_dir / "mypy"), "--strict", "tests")
    run("import contracts", str(bin_dir / "lint-imports"))
    pytest_args = sys.argv[1:]
    passes = {
        "tests on SQLite and the local folder": [python, "-m", "pytest", *LEAVE, *pytest_args],
        "tests on PostgreSQL and S3": [python, "-m", "pytest", *SCALE_OUT, *pytest_args],
    }
    if os.environ.get("PACKYARD_TEST_SERIAL"):
        for step, command in passes.items():
            run(step, *command)
    else:
        run_together(passes)
