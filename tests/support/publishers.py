"""Publishing clients (twine, uv publish, poetry, pdm) run as a person runs them, each with a
home directory of its own: no ~/.pypirc, no keyring, no poetry or pdm configuration of this
machine, nothing but the registry under test.

twine, poetry and pdm are pinned in the ``test`` extra and run from the test environment;
twine 6.1 (the last whose ``--skip-existing`` works with indexes other than PyPI) lives in a
virtual environment of its own, made once per session by ``make_tool_venv``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.clients import (
    CLIENT_TIMEOUT_SECONDS,
    Venv,
    isolated_env,
    make_venv,
    uv_executable,
)

TEST_BIN = Path(sys.executable).parent
TWINE_FOR_SKIP_EXISTING = "twine==6.1.0"
_FOREIGN_PREFIXES = ("TWINE_", "POETRY_", "PDM_", "HATCH_", "XDG_", "KEYRING_")


@dataclass
class ToolRun:
    """One invocation's exit code and everything it printed (stdout then stderr)."""

    returncode: int
    output: str


@dataclass
class Publisher:
    """Runs commands with a private home; ``env`` adds variables such as credentials."""

    home: Path

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in isolated_env().items() if not k.startswith(_FOREIGN_PREFIXES)}
        env.update(
            {
                "HOME": str(self.home),
                "PATH": f"{TEST_BIN}{os.pathsep}{env.get('PATH', '')}",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
                "POETRY_VIRTUALENVS_CREATE": "false",
                "PDM_CHECK_UPDATE": "false",
                "PDM_USE_VENV": "false",
                "NO_COLOR": "1",
                "TERM": "dumb",
                "COLUMNS": "200",
            }
        )
        env.update(extra or {})
        return env

    def run(
        self,
        *args: str,
        cwd: Path,
        env: dict[str, str] | None = None,
        expect_success: bool = True,
    ) -> ToolRun:
        result = subprocess.run(
            list(args),
            cwd=cwd,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
        run = ToolRun(result.returncode, result.stdout + result.stderr)
        if expect_success and run.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {run.returncode}:\n{run.output}")
        if not expect_success and run.returncode == 0:
            raise AssertionError(f"{' '.join(args)} succeeded but should not have:\n{run.output}")
        return run

    def shell(self, script: str, *, cwd: Path, env: dict[str, str] | None = None) -> ToolRun:
        """Run a snippet as a user pastes it into bash (``set -e``)."""
        return self.run("bash", "-euc", script, cwd=cwd, env=env)


def make_tool_venv(path: Path, *requirements: str) -> Venv:
    """A fresh virtual environment holding ``requirements``, installed by the pinned uv."""
    venv = make_venv(path)
    subprocess.run(
        [uv_executable(), "pip", "install", "--python", venv.python, *requirements],
        check=True,
        capture_output=True,
        timeout=CLIENT_TIMEOUT_SECONDS,
        # The cache is welcome here: the tool is the same in every session.
        env={k: v for k, v in isolated_env().items() if k != "UV_NO_CACHE"},
    )
    return venv
