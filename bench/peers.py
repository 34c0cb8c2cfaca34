"""pypiserver and devpi-server, installed at pinned versions into virtual environments of
their own under ``bench/.work/venvs``, and started in their recommended production modes:

- pypiserver on gunicorn with gevent workers (its documented way to serve many clients),
  2 workers for 2 cores, ``--timeout 600`` (gunicorn's default 30 s kills a worker in the
  middle of a large upload), the ``cached-dir`` backend (``pypiserver[cache]``: directory
  listings and digests cached, refreshed by watchdog), no fallback redirect to PyPI,
  uploads authenticated against an htpasswd file (SHA1, as ``htpasswd -s`` writes),
  reads anonymous (its default ``-a update``).
- devpi-server as its own waitress server (50 threads by default; one process: its keyfs
  and event processing live in it), initialised without the root/pypi mirror and run with
  ``--offline-mode`` so nothing leaves the machine; an index ``root/bench`` with no bases.
  devpi recommends nginx in front to serve files; index pages, uploads and metadata are
  served by devpi itself either way.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.servers import Target, free_port, spawn, stop_process, wait_ready

PINS = {
    "pypiserver": ["pypiserver[passlib,cache]==2.4.2", "gunicorn==23.0.0", "gevent==26.9.0"],
    "devpi": ["devpi-server==6.20.3", "devpi-client==7.3.0"],
    "twine": ["twine==6.2.0"],
}
PASSWORD = "bench-password"
SYSTEM_PYTHON = "/usr/bin/python3"


def venv_dir(venvs: Path, name: str) -> Path:
    return venvs / name


def ensure_venv(venvs: Path, name: str) -> Path:
    """Create the venv and install its pinned packages once; returns its bin folder."""
    path = venv_dir(venvs, name)
    stamp = path / ".bench-pins"
    wanted = "\n".join(PINS[name])
    if stamp.exists() and stamp.read_text() == wanted:
        return path / "bin"
    python = SYSTEM_PYTHON if Path(SYSTEM_PYTHON).exists() else sys.executable
    subprocess.run([python, "-m", "venv", "--clear", str(path)], check=True, timeout=300)
    subprocess.run(
        [str(path / "bin" / "python"), "-m", "pip", "install", "-q",
         "--disable-pip-version-check", *PINS[name]],
        check=True, timeout=900,
    )  # fmt: skip
    stamp.write_text(wanted)
    return path / "bin"


def installed_version(bin_dir: Path, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    return subprocess.run(
        [str(bin_dir / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def start_pypiserver(bin_dir: Path, workdir: Path, workers: int = 2) -> Target:
    packages = workdir / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    htpasswd = workdir / "htpasswd"
    subprocess.run(
        [str(bin_dir / "python"), "-c",
         "import sys; from passlib.apache import HtpasswdFile as H; "
         "f = H(sys.argv[1], new=True, default_scheme='ldap_sha1'); "
         "f.set_password('bench', sys.argv[2]); f.save()",
         str(htpasswd), PASSWORD],
        check=True,
    )  # fmt: skip
    port = free_port()
    app = (
        f"pypiserver:app(root={str(packages)!r}, password_file={str(htpasswd)!r}, "
        "authenticate=['update'], disable_fallback=True, backend_arg='cached-dir')"
    )
    command = [
        str(bin_dir / "gunicorn"), "--workers", str(workers), "--worker-class", "gevent",
        "--bind", f"127.0.0.1:{port}", "--timeout", "600", "--log-level", "warning", app,
    ]  # fmt: skip
    started = time_now()
    process = spawn(command, workdir / "server.log")
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/health", process, workdir / "server.log", 60)
    return Target(
        name="pypiserver",
        version=installed_version(bin_dir, "pypiserver"),
        mode=f"gunicorn {installed_version(bin_dir, 'gunicorn')}, {workers} gevent workers "
        f"(gevent {installed_version(bin_dir, 'gevent')}), cached-dir backend",
        base_url=base,
        root_path="/simple/",
        project_prefix="/simple/",
        pid=process.pid,
        index_url=f"{base}/simple/",
        twine_url=f"{base}/",
        twine_user="bench",
        twine_password=PASSWORD,
        stop_callback=lambda: stop_process(process),
        started_in_seconds=time_now() - started,
    )


def start_devpi(bin_dir: Path, workdir: Path) -> Target:
    serverdir = workdir / "server"
    if not (serverdir / ".serverversion").exists():
        subprocess.run(
            [str(bin_dir / "devpi-init"), "--serverdir", str(serverdir), "--no-root-pypi",
             "--root-passwd", PASSWORD],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    port = free_port()
    command = [
        str(bin_dir / "devpi-server"), "--serverdir", str(serverdir), "--host", "127.0.0.1",
        "--port", str(port), "--offline-mode",
    ]  # fmt: skip
    started = time_now()
    process = spawn(command, workdir / "server.log")
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/+api", process, workdir / "server.log", 120)
    elapsed = time_now() - started
    client = [str(bin_dir / "devpi"), "--clientdir", str(workdir / "client")]
    subprocess.run([*client, "use", base], check=True, capture_output=True, timeout=60)
    subprocess.run(
        [*client, "login", "root", "--password", PASSWORD],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    existing = subprocess.run(
        [*client, "index", "-l"], capture_output=True, text=True, timeout=60
    ).stdout
    if "root/bench" not in existing:
        subprocess.run(
            [*client, "index", "-c", "bench", "bases="], check=True, capture_output=True, timeout=60
        )
    return Target(
        name="devpi-server",
        version=installed_version(bin_dir, "devpi-server"),
        mode="devpi-server's own waitress server (default 50 threads), --offline-mode, "
        "index root/bench without bases",
        base_url=base,
        root_path="/root/bench/+simple/",
        project_prefix="/root/bench/+simple/",
        pid=process.pid,
        index_url=f"{base}/root/bench/+simple/",
        twine_url=f"{base}/root/bench/",
        twine_user="root",
        twine_password=PASSWORD,
        stop_callback=lambda: stop_process(process),
        started_in_seconds=elapsed,
    )


def time_now() -> float:
    import time

    return time.monotonic()
