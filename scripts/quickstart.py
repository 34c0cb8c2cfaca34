#!/usr/bin/env python3
"""The README's first command: set up .venv and start Packyard on the embedded default
(SQLite and a local folder) with a demo organization, registry and token.

Usage: python3 scripts/quickstart.py [--port 8080] [--host 127.0.0.1]
"""

from __future__ import annotations

import os
import sys

from _venv import ROOT, ensure_venv

if __name__ == "__main__":
    python = ensure_venv()
    os.chdir(ROOT)
    args = [str(python), "-m", "packyard.cli.main", "quickstart", *sys.argv[1:]]
    os.execv(args[0], args)
