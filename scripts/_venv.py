"""Shared by the README's two commands: make ``.venv`` and install Packyard into it.

Only the standard library is used, so a machine with nothing but Python 3.11+ runs it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"


def ensure_venv(extras: str = "") -> Path:
    """Create .venv when missing and (re)install the project when its pyproject changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any check
        sys.exit(f"Packyard needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".{extras}" if not extras else f".[{extras}]"
    stamp = VENV / f".installed-{extras or 'base'}"
    fingerprint = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != fingerprint:
        print(
            f"Installing packyard{'[' + extras + ']' if extras else ''} into .venv ...", flush=True
        )
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        subprocess.run(
            [str(PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True, env=env
        )
        subprocess.run(
            [str(PYTHON), "-m", "pip", "install", "-q", "-e", target], check=True, cwd=ROOT, env=env
        )
        stamp.write_text(fingerprint)
    return PYTHON
