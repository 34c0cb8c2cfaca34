"""The benchmark harness's smoke mode runs in CI so it cannot rot. It asserts that the
report is produced with every section, never how fast anything was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.backends import SCALE_OUT_PASS

# The harness starts its own servers on every backend it measures, whatever the pass.
# A minute and a half of the default pass's time: run on the scale-out pass, the shorter.
pytestmark = pytest.mark.backend_independent(on_pass=SCALE_OUT_PASS)

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_smoke_mode_writes_a_complete_report(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--output", str(report),
         "--workdir", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    text = report.read_text()
    for heading in ("## Targets", "## Index reads", "## File downloads", "## Publishing",
                    "## One huge upload", "## pip and uv", "## Scale",
                    "## Retention at scale", "## Composite registry"):  # fmt: skip
        assert heading in text
    assert "| project | Packyard | 8 |" in text
    assert "| Packyard | REST | 14 |" in text
    assert "| Packyard | 14 | 8 |" in text  # downloads of every file the pages link to
    for server in ("granian", "uvicorn"):  # the ceilings, in the read and download tables
        assert f"| project | do-nothing ASGI app on {server} (ceiling) | 8 |" in text
        assert f"| do-nothing ASGI app on {server} (ceiling) | 1 | 8 |" in text
    assert "failed" not in text


def test_search_benchmark_measures_every_kind_of_query() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.search_speed", "--projects", "300"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    measured = json.loads(result.stdout)
    assert measured["projects"] == 300
    for kind in ("exact name", "name prefix", "name substring", "summary word"):
        assert measured[kind]["p50_ms"] > 0
