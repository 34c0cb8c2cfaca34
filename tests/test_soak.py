"""A bounded soak of mixed traffic (index reads at high concurrency, downloads, publishes,
deletes) against one server on loopback: zero errors, memory flat (RSS at the end within
10% of after warm-up), latency percentiles reported.

Marked ``soak``: it runs only when selected, ``pytest -m soak tests/test_soak.py -s``.
``SOAK_TEST_SECONDS`` sets the length (60 by default); the full run of the issue is
``SOAK_TEST_SECONDS=300 pytest -m soak tests/test_soak.py -s``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.backends import Backend
from tests.support.builders import Dist, wheel_bytes, write_wheel
from tests.support.driver import new_organization

SOAK_SECONDS = int(os.environ.get("SOAK_TEST_SECONDS", "60"))
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.soak
@pytest.mark.timeout(SOAK_SECONDS + 180)
def test_mixed_traffic_soak_has_no_errors_and_flat_memory(tmp_path: Path, backend: Backend) -> None:
    (tmp_path / "soak").mkdir()
    yard = backend.new_server(tmp_path / "soak")
    yard.start()
    try:
        org = new_organization(yard)
        registry = org.registry("Soak")
        token = org.token("read_packages", "write_packages", "delete_packages")
        stable = Dist("stable", "1.0", extra_files={"stable/data.bin": bytes(256 * 1024)})
        registry.publish(write_wheel(stable, tmp_path), token)
        assert yard.process is not None
        config = {
            "simple_url": registry.simple_url,
            "files_url": registry.simple_url.replace("/simple/", "/files/"),
            "publish_url": registry.publish_url,
            "token": token,
            "stable_file": stable.wheel_filename,
            "stable_size": len(wheel_bytes(stable)),
            "readers": 16,
            "downloaders": 4,
            "seconds": SOAK_SECONDS,
            "warmup_seconds": max(SOAK_SECONDS // 4, 5),
            "server_pid": yard.process.pid,
        }
        config_path = tmp_path / "soak.json"
        config_path.write_text(json.dumps(config))
        result = subprocess.run(
            [sys.executable, "-m", "tests.support.soak_load", str(config_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=SOAK_SECONDS + 120,
        )
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        print(f"\nsoak ({SOAK_SECONDS} s): {json.dumps(summary, indent=1)}")
        (tmp_path / "soak-summary.json").write_text(json.dumps(summary))
        assert summary["errors"] == []
        assert summary["requests"] > SOAK_SECONDS * 10
        growth = summary["rss_end_kib"] / summary["rss_warm_kib"]
        assert growth <= 1.10, f"RSS grew {growth:.2f}x after warm-up"
        assert "Traceback" not in yard.log_path.read_text()
    finally:
        yard.stop()
