#!/usr/bin/env python3
"""The README's second command: set up .venv with the test tools and run every check:
format, lint, types (``src``, then ``tests`` strictly), import contracts, then the whole
test suite twice: on the embedded default (SQLite, local folder) and on the scale-out
stack (PostgreSQL, S3).

Usage: python3 scripts/test.py [pytest arguments]
"""

from __future__ import annotations

import os
import subprocess
import sys

from _system import ensure_system_packages
from _venv import ROOT, VENV, ensure_venv

SCALE_OUT = ("--database", "postgresql", "--storage", "s3")


def run(step: str, *args: str) -> None:
    print(f"==> {step}", flush=True)
    result = subprocess.run(args, cwd=ROOT)
    if result.returncode != 0:
        print(f"FAILED: {step} (exit {result.returncode})", flush=True)
        sys.exit(result.returncode)


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
    run("tests on SQLite and the local folder", python, "-m", "pytest", *pytest_args)
    run("tests on PostgreSQL and S3", python, "-m", "pytest", *SCALE_OUT, *pytest_args)
