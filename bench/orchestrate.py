"""Runs every server through the scenarios, one server at a time, and fills ``results``."""

from __future__ import annotations

import contextlib
import shutil
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from tests.support.clients import uv_executable

from bench import ceiling, composite, peers, sampling, scale, scenarios
from bench.corpus import Corpus, build_corpus, build_huge_wheel
from bench.load import run_load
from bench.run import Sizes
from bench.servers import ORGANIZATION, Packyard, Target


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
    log(f"{target.name}: pip and uv installs")
    installs = scenarios.installs(target, corpus.app_requirement, sizes.install_runs)
    return {"reads": reads, "installs": installs}


def _run_packyard(
    results: dict[str, Any], corpus: Corpus, huge: Path, sizes: Sizes, workdir: Path,
    twine: Path | None, use_wrk: bool,
) -> None:  # fmt: skip
    stand_in = composite.PypiStandIn(workdir, corpus.projects)
    yard = Packyard(_fresh(workdir / "packyard"), extra_env={"PACKYARD_PYPI_URL": stand_in.url})
    try:
        slug, write, read = yard.setup_data()
        target = yard.start(slug, write, read)
        entry: dict[str, Any] = {"version": target.version, "mode": target.mode}
        results["servers"]["Packyard"] = entry
        try:
            entry["start_to_ready_seconds"] = target.started_in_seconds
            log("Packyard: publishing (REST)")
            entry["publish"] = {"REST": scenarios.rest_publish(target, corpus.files)}
            if twine is not None and scenarios.packyard_accepts_twine(target):
                log("Packyard: publishing (twine)")
                other = yard.server.cli("registry", "create", ORGANIZATION, "Twine").stdout.strip()
                twine_target = Target(**{**target.__dict__, "twine_url": target.twine_url.replace(  # type: ignore[union-attr]
                    f"/{slug}/", f"/{other}/")})  # fmt: skip
                with _profiled(sizes, target, workdir / "profile-twine.txt") as sampled:
                    entry["publish"]["twine"] = scenarios.twine_upload(
                        twine, twine_target, corpus.files
                    )
                entry.setdefault("profiles", {})["twine publishing"] = sampled
            else:
                entry["publish"]["twine"] = {"error": "not measured: upload API not yet merged"}
            entry.update(_common(target, corpus, sizes, workdir, use_wrk))
            if sizes.profile:
                log("Packyard: project pages under py-spy")
                paths = [target.project_path(p) for p in corpus.projects]
                c = max(sizes.concurrencies)
                with _profiled(sizes, target, workdir / "profile-reads.txt") as sampled:
                    run_load(target.base_url, paths, target.read_headers, c, sizes.read_seconds,
                             target.pid, workdir / "load", use_wrk)  # fmt: skip
                entry.setdefault("profiles", {})[f"project pages at c={c}"] = sampled
            log("ceiling: a bare ASGI app on the same server settings")
            results["ceiling"] = ceiling.run_ceiling(
                _page_sizes(target, corpus.projects[0]), target.read_headers,
                max(sizes.concurrencies), sizes.read_seconds, workdir / "load", use_wrk,
            )  # fmt: skip
            log("Packyard: composite")
            results["composite"] = composite.run_composite(
                yard, target, slug, corpus.projects[: min(50, len(corpus.projects))],
                max(sizes.concurrencies), sizes.read_seconds, workdir / "load", use_wrk,
            )  # fmt: skip
            log("Packyard: huge upload")
            entry["huge"] = scenarios.huge_upload(target, huge, None)
        finally:
            target.stop()
    finally:
        stand_in.stop()


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
    """The sizes of the pages the reads measured (the ceiling serves bodies this big)."""
    sizes = {}
    with httpx.Client(base_url=target.base_url, headers=target.read_headers) as client:
        for kind, path in (("root", target.root_path), ("project", target.project_path(project))):
            sizes[kind] = len(client.get(path).raise_for_status().content)
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


def run_all(
    results: dict[str, Any], sizes: Sizes, workdir: Path, venvs: Path, with_peers: bool,
    use_wrk: bool,
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
    _run_packyard(results, corpus, huge, sizes, workdir, twine, use_wrk)
    if with_peers:
        assert twine is not None
        for name in ("pypiserver", "devpi-server"):
            try:
                _run_peer(results, name, corpus, huge, sizes, workdir, venvs, twine, use_wrk)
            except Exception:
                results["notes"].append(f"{name} failed: {traceback.format_exc(limit=2)[-600:]}")
                log(f"{name} failed:\n{traceback.format_exc()}")
    else:
        results["notes"].append("peers not run (smoke mode): no ratios")
    log("scale case")
    results["scale"] = scale.run_scale(
        _fresh(workdir / "scale"), sizes.scale_projects, sizes.scale_sample,
        max(sizes.concurrencies), sizes.read_seconds, use_wrk,
    )  # fmt: skip


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
