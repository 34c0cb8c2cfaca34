"""Runs every server through the scenarios, one server at a time, and fills ``results``."""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from tests.support.clients import uv_executable

from bench import (
    ceiling,
    composite,
    fsync_cost,
    install_probe,
    nginx_static,
    operations_cost,
    peers,
    publish_probe,
    report,
    retention_scale,
    sampling,
    scale,
    scenarios,
    webhook_cost,
)  # fmt: skip
from bench.backends import ScaleOut, scale_out
from bench.corpus import Corpus, build_corpus, build_huge_wheel
from bench.load import run_load
from bench.run import Sizes
from bench.servers import ORGANIZATION, Packyard, Target, eatmydata_library


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _common(
    target: Target, corpus: Corpus, sizes: Sizes, workdir: Path, use_wrk: bool
) -> dict[str, Any]:
    log(f"{target.name}: index reads")
    reads = scenarios.index_reads(
        target, corpus.projects, sizes.concurrencies, sizes.read_seconds, workdir / "load", use_wrk
    )
    log(f"{target.name}: file downloads")
    downloads = scenarios.downloads(
        target, corpus.projects, _download_concurrencies(sizes), sizes.read_seconds,
        workdir / "load", use_wrk,
    )  # fmt: skip
    log(f"{target.name}: pip and uv installs")
    installs = scenarios.installs(target, corpus.app_requirement, sizes.install_runs)
    return {"reads": reads, "downloads": downloads, "installs": installs}


def _download_concurrencies(sizes: Sizes) -> list[int]:
    return sorted({min(sizes.concurrencies), max(sizes.concurrencies)})


@dataclass(frozen=True)
class Variant:
    """One way of running Packyard; ``full`` runs the issue-8 cases too (profiles, ceiling,
    composite, huge upload), on the embedded default only."""

    name: str
    database: str = "sqlite"
    storage: str = "local"
    access_log: bool = True
    full: bool = False
    # Publishing only, with every fsync made a no-op (eatmydata): what durability costs.
    without_fsync: bool = False
    server: str = report.DEFAULT_SERVER  # the HTTP server (packyard serve --server)


VARIANTS = (
    Variant("Packyard", full=True),
    Variant("Packyard, no access log", access_log=False),
    Variant(report.UVICORN, server="uvicorn"),
    Variant("Packyard on PostgreSQL", database="postgresql"),
    Variant("Packyard on PostgreSQL + S3", database="postgresql", storage="s3"),
    Variant(report.WITHOUT_FSYNC, without_fsync=True),
)


def _run_packyard(
    results: dict[str, Any], variant: Variant, corpus: Corpus, huge: Path, sizes: Sizes,
    workdir: Path, twine: Path | None, use_wrk: bool, backends: ScaleOut,
    static_root: Path | None,
) -> None:  # fmt: skip
    stand_in = composite.PypiStandIn(workdir, corpus.projects) if variant.full else None
    folder = _fresh(workdir / re.sub(r"[^a-z0-9]+", "-", variant.name.lower()))
    env = {"PACKYARD_PYPI_URL": stand_in.url} if stand_in else {}
    if variant.without_fsync:
        library = eatmydata_library()
        if library is None:
            results["notes"].append(f"{variant.name} not run: eatmydata is not installed")
            return
        env["LD_PRELOAD"] = library
    yard = Packyard(
        folder,
        name=variant.name,
        extra_env=env,
        access_log=variant.access_log,
        backend=backends.backend(variant.database, variant.storage),
        server=variant.server,
    )
    try:
        slug, write, read = yard.setup_data()
        target = yard.start(slug, write, read)
        entry: dict[str, Any] = {"version": target.version, "mode": target.mode}
        results["servers"][variant.name] = entry
        try:
            entry["start_to_ready_seconds"] = target.started_in_seconds
            log(f"{variant.name}: publishing (REST)")
            entry["publish"] = {"REST": scenarios.rest_publish(target, corpus.files)}
            if twine is not None and scenarios.packyard_accepts_twine(target):
                log(f"{variant.name}: publishing (twine)")
                other = yard.server.cli("registry", "create", ORGANIZATION, "Twine").stdout.strip()
                twine_target = Target(**{**target.__dict__, "twine_url": target.twine_url.replace(  # type: ignore[union-attr]
                    f"/{slug}/", f"/{other}/")})  # fmt: skip
                profiled = sizes if variant.full else replace(sizes, profile=False)
                with _profiled(profiled, target, workdir / "profile-twine.txt") as sampled:
                    entry["publish"]["twine"] = scenarios.twine_upload(
                        twine, twine_target, corpus.files
                    )
                if sampled:
                    entry.setdefault("profiles", {})["twine publishing"] = sampled
            else:
                entry["publish"]["twine"] = {"error": "not measured: upload API not yet merged"}
            if variant.without_fsync:
                return
            if static_root is not None:
                log(f"{variant.name}: saving its index as static files for nginx")
                nginx_static.mirror(target, corpus.projects, static_root)
                results["static_template"] = {
                    "root_path": target.root_path, "project_prefix": target.project_prefix,
                }  # fmt: skip
            entry.update(_common(target, corpus, sizes, workdir, use_wrk))
            if variant.full:
                _issue_8_cases(results, entry, yard, target, slug, corpus, huge, sizes, workdir,
                               use_wrk)  # fmt: skip
        finally:
            target.stop()
    finally:
        if stand_in is not None:
            stand_in.stop()


def _issue_8_cases(
    results: dict[str, Any], entry: dict[str, Any], yard: Packyard, target: Target, slug: str,
    corpus: Corpus, huge: Path, sizes: Sizes, workdir: Path, use_wrk: bool,
) -> None:  # fmt: skip
    if sizes.profile:
        log("Packyard: project pages under py-spy")
        paths = [target.project_path(p) for p in corpus.projects]
        c = max(sizes.concurrencies)
        with _profiled(sizes, target, workdir / "profile-reads.txt") as sampled:
            run_load(target.base_url, paths, target.read_headers, c, sizes.read_seconds,
                     target.pid, workdir / "load", use_wrk)  # fmt: skip
        entry.setdefault("profiles", {})[f"project pages at c={c}"] = sampled
    _ceilings(results, target, corpus, sizes, workdir, use_wrk)
    log("Packyard: composite")
    results["composite"] = composite.run_composite(
        yard, target, slug, corpus.projects[: min(50, len(corpus.projects))],
        max(sizes.concurrencies), sizes.read_seconds, workdir / "load", use_wrk,
    )  # fmt: skip
    log("Packyard: huge upload")
    entry["huge"] = scenarios.huge_upload(target, huge, None)


def _ceilings(
    results: dict[str, Any], target: Target, corpus: Corpus, sizes: Sizes, workdir: Path,
    use_wrk: bool,
) -> None:  # fmt: skip
    """The do-nothing app on each HTTP server Packyard runs on, with bodies of the sizes
    Packyard answered (pages and a file): ``results["ceiling"]`` (granian's, the default
    server's) and ``results["ceiling_uvicorn"]``, and a row of each in the read and
    download tables."""
    bodies = _page_sizes(target, corpus.projects[0])
    for server in ceiling.SERVERS:
        log(f"ceiling: a bare ASGI app on {server} with Packyard's settings")
        measured = ceiling.run_ceiling(
            bodies, target.read_headers, max(sizes.concurrencies), sizes.read_seconds,
            workdir / "load", use_wrk, server,
        )  # fmt: skip
        results[report.ceiling_key(server)] = measured
        results["servers"][ceiling.ceiling_name(server)] = ceiling.as_server_entry(measured, server)


@contextlib.contextmanager
def _profiled(sizes: Sizes, target: Target, output: Path) -> Iterator[dict[str, Any]]:
    """py-spy on the server's processes while the block runs (full runs only: a CI container
    may not allow ptrace, and the smoke run must stay seconds long)."""
    if not sizes.profile:
        yield {}
        return
    with sampling.sampled(target.pid, sizes.read_seconds, output) as sampled:
        yield sampled


def _page_sizes(target: Target, project: str) -> dict[str, int]:
    """The sizes of the pages the reads measured and of the project's first file (the
    ceiling serves bodies this big)."""
    sizes = {}
    with httpx.Client(base_url=target.base_url, headers=target.read_headers) as client:
        for kind, path in (("root", target.root_path), ("project", target.project_path(project))):
            sizes[kind] = len(client.get(path).raise_for_status().content)
        first = scenarios.linked_paths(client, target.project_path(project))[0]
        sizes["file"] = len(client.get(first).raise_for_status().content)
    return sizes


def _run_peer(
    results: dict[str, Any], name: str, corpus: Corpus, huge: Path, sizes: Sizes,
    workdir: Path, venvs: Path, twine: Path, use_wrk: bool,
) -> None:  # fmt: skip
    bin_dir = peers.ensure_venv(venvs, "pypiserver" if name == "pypiserver" else "devpi")
    peer_dir = _fresh(workdir / name)
    log(f"{name}: starting")
    if name == "pypiserver":
        target = peers.start_pypiserver(bin_dir, peer_dir)
    else:
        target = peers.start_devpi(bin_dir, peer_dir)
    entry: dict[str, Any] = {"version": target.version, "mode": target.mode}
    results["servers"][name] = entry
    try:
        log(f"{name}: publishing (twine)")
        entry["publish"] = {"twine": scenarios.twine_upload(twine, target, corpus.files)}
        entry.update(_common(target, corpus, sizes, workdir, use_wrk))
        log(f"{name}: huge upload")
        entry["huge"] = scenarios.huge_upload(target, huge, twine)
    finally:
        target.stop()


def _run_nginx(
    results: dict[str, Any], corpus: Corpus, sizes: Sizes, workdir: Path, static_root: Path,
    use_wrk: bool, install: bool,
) -> None:  # fmt: skip
    nginx = nginx_static.nginx_binary(install)
    template = results.get("static_template")
    if nginx is None or template is None:
        results["notes"].append("nginx not run: " + ("not installed" if nginx is None else
                                "no index was saved"))  # fmt: skip
        return
    log("nginx: serving the saved index")
    target = nginx_static.start_nginx(
        nginx, static_root, _fresh(workdir / "nginx"), template["root_path"],
        template["project_prefix"],
    )  # fmt: skip
    results["servers"][target.name] = {"version": target.version, "mode": target.mode}
    try:
        results["servers"][target.name].update(_common(target, corpus, sizes, workdir, use_wrk))
    finally:
        target.stop()


def _twine_ceiling(results: dict[str, Any], twine: Path, corpus: Corpus, workdir: Path) -> None:
    """twine against the do-nothing app: what the client alone allows, for the publish rows."""
    log("ceiling: twine against a do-nothing app")
    target = ceiling.null_target(workdir, 2)
    try:
        results.setdefault("ceiling", {})["twine"] = scenarios.twine_upload(
            twine, target, corpus.files
        )
    finally:
        target.stop()


def _slot(results: dict[str, Any], name: str, run: Callable[[], None]) -> None:
    """Run one server's slot; a failure is noted in the report and the run goes on."""
    try:
        run()
    except Exception:
        results["notes"].append(f"{name} failed: {traceback.format_exc(limit=2)[-600:]}")
        log(f"{name} failed:\n{traceback.format_exc()}")


def run_all(
    results: dict[str, Any], sizes: Sizes, workdir: Path, venvs: Path, with_peers: bool,
    use_wrk: bool, variants: Sequence[str] | None = None,
) -> None:  # fmt: skip
    workdir.mkdir(parents=True, exist_ok=True)
    results["servers"] = {}
    results["notes"] = []
    log("building the corpus")
    corpus = build_corpus(workdir / "corpus", sizes.projects, sizes.versions, sizes.install_deps)
    huge = build_huge_wheel(workdir / "huge", sizes.huge_bytes)
    results["corpus"] = {
        "projects": len(corpus.projects),
        "files": len(corpus.files),
        "app_requirement": corpus.app_requirement,
        "install_deps": sizes.install_deps,
    }
    twine: Path | None = None
    if with_peers:
        log("installing the peers and twine (pinned; once)")
        for name in ("pypiserver", "devpi", "twine"):
            peers.ensure_venv(venvs, name)
        twine = venvs / "twine" / "bin" / "twine"
    results["clients"] = _client_versions(venvs if with_peers else None)
    results["fsync"] = fsync_cost.measure(workdir / "fsync")
    static_root = workdir / "static-index"
    chosen = [v for v in VARIANTS if variants is None or v.name in variants]
    with scale_out(workdir / "backends") as backends:
        for variant in chosen:
            saves = static_root if with_peers and variant is VARIANTS[0] else None
            _slot(results, variant.name, lambda v=variant, s=saves: _run_packyard(  # type: ignore[misc]
                results, v, corpus, huge, sizes, workdir, twine, use_wrk, backends, s))  # fmt: skip
    if with_peers:
        assert twine is not None
        install = not results["smoke"]
        _slot(results, "nginx", lambda: _run_nginx(
            results, corpus, sizes, workdir, static_root, use_wrk, install))  # fmt: skip
        for name in ("pypiserver", "devpi-server"):
            _slot(results, name, lambda n=name: _run_peer(  # type: ignore[misc]
                results, n, corpus, huge, sizes, workdir, venvs, twine, use_wrk))  # fmt: skip
        _slot(results, "twine ceiling", lambda: _twine_ceiling(results, twine, corpus, workdir))
        log("publishing: twine into pypiserver and Packyard taking turns (bench/publish_probe.py)")
        _slot(results, "publish probe", lambda: results.update(publish_probe=publish_probe.run(
            argparse.Namespace(
                rounds=sizes.publish_rounds,
                only=["null", "pypiserver", "packyard-twine", "packyard-twine-nofsync"],
                baseline=None, venvs=venvs, workdir=_fresh(workdir / "publish-probe"),
            )
        )))  # fmt: skip
        log("installs: pip and uv from Packyard and nginx taking turns (bench/install_probe.py)")
        _slot(results, "install probe", lambda: results.update(install_probe=install_probe.run(
            _fresh(workdir / "install-probe"), sizes.install_probe_rounds, sizes.install_deps,
        )))  # fmt: skip
    else:
        results["notes"].append("peers not run (smoke mode): no ratios")
    log("scale case")
    _slot(results, "scale case", lambda: results.update(scale=scale.run_scale(
        _fresh(workdir / "scale"), sizes.scale_projects, sizes.scale_sample,
        max(sizes.concurrencies), sizes.read_seconds, use_wrk,
    )))  # fmt: skip
    log("retention at scale")
    _slot(results, "retention case", lambda: results.update(
        retention=retention_scale.run_retention_scale(
            _fresh(workdir / "retention"), sizes.retention_files, sizes.scale_sample,
            min(16, max(sizes.concurrencies)), sizes.read_seconds, use_wrk,
        )))  # fmt: skip
    if results["smoke"] and not with_peers:
        # CI's smoke run stays short; `--smoke --with-peers` runs these too.
        results["notes"].append("operating and webhook costs not measured (smoke mode)")
        return
    log("operating costs: access log, /metrics scrapes, metrics off (alternated rounds)")
    _slot(results, "operating costs", lambda: results.update(operations=operations_cost.measure(
        _fresh(workdir / "operations"), seconds=sizes.operations_seconds,
        rounds=sizes.operations_rounds, projects=min(30, sizes.projects),
    )))  # fmt: skip
    log("webhook cost: publishing with and without a hook")
    _slot(results, "webhook cost", lambda: results.update(webhooks=webhook_cost.measure(
        _fresh(workdir / "webhooks"), rounds=sizes.webhook_rounds,
        projects=min(60, sizes.projects),
    )))  # fmt: skip


def _client_versions(venvs: Path | None) -> dict[str, str]:
    import subprocess

    versions = {
        "pip": subprocess.run(
            [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True
        ).stdout.split()[1],
        "uv": subprocess.run([uv_executable(), "--version"], capture_output=True, text=True)
        .stdout.strip()
        .removeprefix("uv "),
    }
    if venvs is not None:
        versions["twine"] = peers.installed_version(venvs / "twine" / "bin", "twine")
    return versions
