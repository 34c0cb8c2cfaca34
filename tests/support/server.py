"""A real Packyard server in a subprocess on a free loopback port, with its own data
directory, and the CLI that sets it up (the way an administrator would)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.support.waiting import answers, eventually

STARTUP_TIMEOUT_SECONDS = 30


def worker_pids(supervisor: int) -> list[int]:
    """The worker processes of a server's supervisor: its children but multiprocessing's
    resource tracker (both servers spawn their workers here; the tracker is a child too)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PackyardServer:
    data_dir: Path
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    access_log: bool = False
    port: int = field(default_factory=free_port)
    # HTTPS: (certificate, key) for https://localhost (tests/support/tls.py).
    tls: tuple[Path, Path] | None = None
    server: str = "granian"  # packyard serve --server
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        if self.tls is not None:
            return f"https://localhost:{self.port}"
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PACKYARD_")}
        env.update(self.extra_env)
        env["PACKYARD_DATA_DIR"] = str(self.data_dir)
        return env

    def cli(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``packyard ARGS`` against this server's data; raise on failure if ``check``."""
        result = subprocess.run(
            [sys.executable, "-m", "packyard.cli.main", *args],
            input=input,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"packyard {' '.join(args)} failed: {result.stderr}")
        return result

    def admin(self, *args: str, input: str | None = None) -> str:
        """Run ``packyard ARGS`` in this process and return its stdout.

        The same CLI code as ``cli``, without starting a Python process each time (most
        tests set up an organization, a registry and tokens). ``test_cli.py`` covers the
        real command through ``cli``.
        """
        from click.testing import CliRunner

        from packyard.cli.main import main

        overrides: dict[str, str | None] = {
            k: None for k in os.environ if k.startswith("PACKYARD_")
        }
        overrides.update(self.extra_env)
        overrides["PACKYARD_DATA_DIR"] = str(self.data_dir)
        result = CliRunner().invoke(
            main, list(args), env=overrides, catch_exceptions=False, input=input
        )
        if result.exit_code != 0:
            raise AssertionError(f"packyard {' '.join(args)} failed: {result.output}")
        return result.stdout

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = self._spawn(log)
        self._wait_until_ready()

    def _spawn(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "packyard.cli.main",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--access-log" if self.access_log else "--no-access-log",
                "--server",
                self.server,
                *self._tls_options(),
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def _tls_options(self) -> list[str]:
        if self.tls is None:
            return []
        return ["--ssl-certfile", str(self.tls[0]), "--ssl-keyfile", str(self.tls[1])]

    def _wait_until_ready(self) -> None:
        process = self.process
        assert process is not None

        def healthy() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            return answers(f"{self.base_url}/healthz")

        try:
            eventually(
                healthy,
                STARTUP_TIMEOUT_SECONDS,
                lambda: f"server did not start:\n{self.log_path.read_text()}",
            )
        except AssertionError:
            self.stop()
            raise

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Kill the server outright, every process of it, as a crash or a power cut would:
        none finishes anything. (A supervisor SIGKILLed alone has its workers stop the
        graceful way: web/supervisor_bond.py.)"""
        process = self.process
        if process is None:
            return
        os.kill(process.pid, signal.SIGSTOP)  # starts no worker while they are killed
        for worker in worker_pids(process.pid):
            os.kill(worker, signal.SIGKILL)
        process.kill()
        process.wait(timeout=20)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
