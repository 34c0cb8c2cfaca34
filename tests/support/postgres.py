"""A throwaway PostgreSQL cluster from the server binaries on this machine, on a loopback
port, removed afterwards. ``initdb`` refuses to run as root, so as root the cluster runs
as the ``postgres`` user."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.support.server import PackyardServer, free_port

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def database_address(server: PackyardServer) -> str:
    """What psycopg connects to for ``server``'s database: its setting names SQLAlchemy's
    driver (``postgresql+psycopg``), which libpq does not know."""
    url = server.extra_env["PACKYARD_DATABASE_URL"]
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def postgres_bin_dir() -> Path:
    candidates = sorted(glob.glob(PG_BIN_GLOB), reverse=True)
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise RuntimeError(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
        "install them with `apt-get install postgresql`"
    )


def _as_cluster_owner(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass
class PostgresCluster:
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="packyard-pg-")))
    # Tests trade durability for speed; the benchmark runs PostgreSQL as deployed (fsync on).
    durable: bool = False

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        bin_dir = postgres_bin_dir()
        data = self.root / "data"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        )
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
        if not self.durable:
            options += "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        options += "-c max_connections=300"
        self._run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(self.root / "server.log"),
                "-w",
                "start",
            ]
        )

    def _run(self, args: list[str]) -> None:
        result = subprocess.run(
            _as_cluster_owner(args), capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its SQLAlchemy URL for Packyard."""
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        bin_dir = postgres_bin_dir()
        subprocess.run(
            _as_cluster_owner(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(self.root / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ]
            ),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)
