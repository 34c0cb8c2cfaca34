"""How long the web UI's pages take server-side with many packages in one registry.

Usage: python bench/ui_pages.py [--packages 10000] [--rounds 30]

Builds the embedded default (SQLite, local folder) in a temporary directory, inserts the
packages as rows (realistic metadata and member lists, no blobs), signs a user in, and
times each page through the ASGI app in-process (no network): median and 95th percentile.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from packyard.bootstrap import build_services
from packyard.core.permissions import OPERATOR
from packyard.core.registries import RegistryFields
from packyard.db.tables import PackageRow
from packyard.settings import Settings
from packyard.web.app import create_app


def _rows(registry_id: str, count: int) -> list[PackageRow]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for number in range(count):
        project = f"project-{number // 5:05d}"
        version = f"1.{number % 5}.0"
        filename = f"{project.replace('-', '_')}-{version}-py3-none-any.whl"
        rows.append(
            PackageRow(
                id=str(uuid.uuid4()),
                registry_id=registry_id,
                project=project,
                name=project,
                version=version,
                filename=filename,
                filetype="bdist_wheel",
                python_version="py3",
                size=10_000 + number,
                md5="0" * 32,
                sha1="0" * 40,
                sha256=f"{number:064x}",
                sha512="0" * 128,
                blake2b_256="0" * 64,
                metadata_json={
                    "summary": "A package",
                    "requires_dist": ["httpx>=0.27", "packaging"],
                    "license": "MIT",
                    "description_content_type": "text/markdown",
                },
                description="# Title\n\nSome *markdown* with a [link](https://example.com).\n" * 20,
                members_json=[[f"{project}/module_{i}.py", 1000] for i in range(40)],
                downloads_count=0,
                created_at=start + timedelta(seconds=number),
            )
        )
    return rows


async def _time(client: httpx.AsyncClient, url: str, rounds: int) -> tuple[float, float]:
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        response = await client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


async def main(packages: int, rounds: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="packyard-ui-bench-"))
    services = build_services(Settings(data_dir=data))
    services.registries.create_organization("acme")
    registry = services.registries.create(OPERATOR, "acme", RegistryFields.every("Big"))
    sessions = services.packages._sessions
    with sessions.begin() as session:
        session.add_all(_rows(registry.id, packages))
    services.users.create_user("admin@acme.example", "acme", "benchmark-password", admin=True)
    new_session = services.users.sign_in("admin@acme.example", "benchmark-password")
    middle = services.packages.releases(registry, before=packages // 2 + 1).releases[0]
    app = create_app(services)
    transport = httpx.ASGITransport(app=app)
    base = "/organizations/acme/packages"
    pages = {
        "registries": base,
        "registry (releases, page 1)": f"{base}/registries/big",
        "registry (page in the middle)": f"{base}/registries/big?before={packages // 2}",
        "registry (filter, common)": f"{base}/registries/big?q=project-0",
        "registry (filter, rare)": f"{base}/registries/big?q=project-01999",
        "registry (filter, no match)": f"{base}/registries/big?q=nothing",
        "registry (filter, one letter)": f"{base}/registries/big?q=p",
        "package": f"{base}/registries/big/packages/{middle.id}",
        "package (details tab)": f"{base}/registries/big/packages/{middle.id}?tab=details",
        "tokens": "/organizations/acme/tokens",
    }
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://bench",
        cookies={"packyard_session": new_session.secret},
    ) as client:
        print(f"{packages} packages in one registry, {rounds} rounds; milliseconds")
        print(f"{'page':34} {'median':>8} {'p95':>8}")
        for name, url in pages.items():
            await client.get(url)  # warm caches and the connection
            median, p95 = await _time(client, url, rounds)
            print(f"{name:34} {median:8.1f} {p95:8.1f}")
    services.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.packages, arguments.rounds))
