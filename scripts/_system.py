"""System packages the test suite needs beyond Python: the PostgreSQL server binaries,
nginx and Chromium; and those the benchmark needs (``bench/run.py``): PostgreSQL, nginx
(serving the index as static files), wrk (the load generator) and eatmydata (publishing
measured once without fsync, to show what durability costs). On Debian as root they are
installed when missing; elsewhere the message says how."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Callable

REQUIREMENTS: dict[str, Callable[[], bool]] = {
    "postgresql": lambda: bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")),
    "nginx-light": lambda: bool(shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")),
    # The UI tests drive it with Playwright; Playwright never downloads a browser of its own.
    "chromium": lambda: os.path.exists("/usr/bin/chromium"),
}

EATMYDATA = "/usr/lib/x86_64-linux-gnu/libeatmydata.so"
BENCH_REQUIREMENTS: dict[str, Callable[[], bool]] = {
    "postgresql": REQUIREMENTS["postgresql"],
    "nginx-light": REQUIREMENTS["nginx-light"],
    "wrk": lambda: bool(shutil.which("wrk")),
    "eatmydata": lambda: os.path.exists(EATMYDATA),
}


def ensure_system_packages(
    requirements: dict[str, Callable[[], bool]] = REQUIREMENTS, who: str = "The test suite"
) -> None:
    missing = [name for name, present in requirements.items() if not present()]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(
            f"{who} needs these system packages: {', '.join(missing)}. "
            "Install them with your package manager and run again."
        )
    print(f"Installing system packages: {', '.join(missing)} ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
