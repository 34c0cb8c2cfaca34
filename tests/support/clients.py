"""The clients people use, each in a fresh virtual environment, isolated from this
machine's own pip and uv configuration so only the registry under test is consulted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

CLIENT_TIMEOUT_SECONDS = 240

Installer = Literal["pip", "uv"]
INSTALLERS: tuple[Installer, ...] = ("pip", "uv")


def isolated_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "PACKYARD_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "UV_NO_CONFIG": "1",
            "UV_NO_CACHE": "1",
            "UV_PYTHON_DOWNLOADS": "never",
        }
    )
    env.update(extra or {})
    return env


def uv_executable() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("uv is not installed next to the test interpreter: install .[test]")
    return found


@dataclass
class Venv:
    path: Path

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            list(args),
            env=isolated_env(),
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT_SECONDS,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def pip_install(
        self, index_url: str, *requirements: str, check: bool = True, extra: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        """Install with the test environment's pinned pip into this venv (``pip --python``)."""
        return self.run(
            sys.executable,
            "-m",
            "pip",
            "--python",
            self.python,
            "install",
            "--no-cache-dir",
            "--index-url",
            index_url,
            *extra,
            *requirements,
            check=check,
        )

    def uv_pip_install(
        self, index_url: str, *requirements: str, check: bool = True, extra: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        return self.run(
            uv_executable(),
            "pip",
            "install",
            "--python",
            self.python,
            "--no-cache",
            "--index-url",
            index_url,
            *extra,
            *requirements,
            check=check,
        )

    def install(
        self,
        installer: Installer,
        index_url: str,
        *requirements: str,
        extra: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess[str]:
        """Install with ``installer`` (pip or uv), for tests that both must pass."""
        method = self.pip_install if installer == "pip" else self.uv_pip_install
        return method(index_url, *requirements, extra=extra)

    def installed_version(self, module: str) -> str:
        code = f"import {module}; print({module}.__version__)"
        return self.run(self.python, "-c", code).stdout.strip()


def make_venv(path: Path) -> Venv:
    """A fresh, empty virtual environment. pip and uv install into it from outside, each at
    the version pinned in the test requirements (a venv's bundled pip is whatever ensurepip
    shipped with this Python)."""
    subprocess.run(
        [uv_executable(), "venv", "--python", sys.executable, str(path)],
        check=True,
        capture_output=True,
        timeout=CLIENT_TIMEOUT_SECONDS,
        env=isolated_env(),
    )
    return Venv(path)
