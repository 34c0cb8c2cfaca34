"""``packyard fsck`` and ``gc`` run in-process against a test server's data, and the blob
store a test server uses, opened directly to damage it on purpose."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from click.testing import CliRunner

from packyard.blobs import make_blob_store
from packyard.blobs.base import BlobStore
from packyard.cli.main import main
from tests.support.server import PackyardServer

if TYPE_CHECKING:
    from packyard.bootstrap import Services


def run_cli(yard: PackyardServer, *args: str) -> tuple[int, str]:
    """Run ``packyard ARGS`` in this process; (exit code, stdout)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PACKYARD_")}
    env.update(yard.extra_env)
    env["PACKYARD_DATA_DIR"] = str(yard.data_dir)
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout


def fsck(yard: PackyardServer) -> tuple[int, dict[str, Any]]:
    code, out = run_cli(yard, "fsck", "--json")
    report: dict[str, Any] = json.loads(out)
    return code, report


def gc(yard: PackyardServer, grace: int) -> dict[str, Any]:
    code, out = run_cli(yard, "gc", "--grace", str(grace), "--json")
    assert code == 0, out
    report: dict[str, Any] = json.loads(out)
    return report


@contextmanager
def blob_store_of(yard: PackyardServer) -> Iterator[BlobStore]:
    """The server's blob store, with the S3 credentials in the environment while open."""
    url = yard.extra_env.get("PACKYARD_STORAGE_URL") or (yard.data_dir / "blobs").as_uri()
    saved = {k: os.environ.get(k) for k in yard.extra_env if k.startswith("AWS_")}
    os.environ.update({k: v for k, v in yard.extra_env.items() if k.startswith("AWS_")})
    try:
        yield make_blob_store(url)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def services_of(yard: PackyardServer) -> Iterator[Services]:
    """The services of ``yard``'s data built in this process (another process beside the
    server, as ``packyard gc`` is), for a test that must step into one of their calls."""
    from packyard.bootstrap import build_services
    from packyard.settings import Settings

    settings = Settings(
        data_dir=yard.data_dir,
        database_url=yard.extra_env.get("PACKYARD_DATABASE_URL"),
        storage_url=yard.extra_env.get("PACKYARD_STORAGE_URL"),
    )
    with blob_store_of(yard):  # its AWS credentials in the environment meanwhile
        services = build_services(settings, migrate=False)
        try:
            yield services
        finally:
            services.close()
