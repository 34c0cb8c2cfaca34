"""``docs/benchmarks.md`` from one run's results: machine, date, versions, every figure,
ratios Packyard ÷ peer from the same run, and the issue's targets, met or missed."""

from __future__ import annotations

import math
import statistics
from typing import Any

PACKYARD = "Packyard"  # the embedded default, as a new user runs it (access log on)
QUIET = "Packyard, no access log"
# The embedded default on the alternative HTTP server (packyard serve --server uvicorn).
UVICORN = "Packyard on uvicorn"
POSTGRES = "Packyard on PostgreSQL"
POSTGRES_S3 = "Packyard on PostgreSQL + S3"
VARIANTS = (QUIET, UVICORN, POSTGRES, POSTGRES_S3)
DEFAULT_SERVER = "granian"  # packyard serve's: the rows named PACKYARD and QUIET run on it


def ceiling_key(server: str) -> str:
    """Where the do-nothing app's figures on ``server`` live in the results."""
    return "ceiling" if server == DEFAULT_SERVER else f"ceiling_{server}"


NGINX = "nginx (static files)"
WITHOUT_FSYNC = "Packyard without fsync (eatmydata)"
PEERS = ("pypiserver", "devpi-server")


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs:
        return "—"
    return f"{ours / theirs:.2f}x"


def _load_for(results: dict[str, Any], server: str, kind: str, c: int) -> dict[str, Any] | None:
    for row in results["servers"].get(server, {}).get("reads", {}).get(kind, []):
        if row["concurrency"] == c:
            return dict(row)
    return None


def _reads_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Index reads",
        "",
        f"wrk for {results['sizes']['read_seconds']} s per cell, paths cycling over "
        f"{results['corpus']['projects']} project pages (or the root page); caches warmed by "
        "one pass first. CPU/request is the server's user+system CPU time (every process of "
        "it, from `/proc`) divided by the requests answered. Packyard is read with a "
        "registry token (HTTP basic, checked on every request); the peers are read "
        "anonymously (their default).",
        "",
        "| page | server | concurrency | req/s | p50 ms | p99 ms | non-2xx | errors | CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    servers = list(results["servers"])
    for kind in ("root", "project"):
        for server in servers:
            for row in results["servers"][server].get("reads", {}).get(kind, []):
                lines.append(
                    f"| {kind} | {server} | {row['concurrency']} | {_num(row['rps'])} | "
                    f"{_num(row['p50_ms'], 2)} | {_num(row['p99_ms'], 2)} | {row['non_2xx']} | "
                    f"{row['errors']} | {_num(row['cpu_ms_per_request'], 3)} |"
                )
    lines += _variant_ratios(results, "reads")
    peers = [p for p in (*PEERS, NGINX) if p in results["servers"]]
    if peers:
        lines += ["", "Ratios, Packyard ÷ peer (req/s: higher is better; p99 and CPU: lower).", ""]
        lines += [
            "| page | concurrency | peer | req/s | p99 | CPU/req |",
            "|---|---:|---|---:|---:|---:|",
        ]
        for kind in ("root", "project"):
            for c in results["sizes"]["concurrencies"]:
                ours = _load_for(results, PACKYARD, kind, c)
                for peer in peers:
                    theirs = _load_for(results, peer, kind, c)
                    if ours and theirs:
                        lines.append(
                            f"| {kind} | {c} | {peer} | {_ratio(ours['rps'], theirs['rps'])} | "
                            f"{_ratio(ours['p99_ms'], theirs['p99_ms'])} | "
                            f"{_ratio(ours['cpu_ms_per_request'], theirs['cpu_ms_per_request'])} |"
                        )
    return lines


def _variant_ratios(results: dict[str, Any], what: str) -> list[str]:
    """req/s of each Packyard variant ÷ the embedded default's, cell by cell."""
    variants = [v for v in VARIANTS if v in results["servers"]]
    if PACKYARD not in results["servers"] or not variants:
        return []
    lines = ["", f"Packyard's variants ÷ the embedded default (req/s, {what}).", ""]
    lines += ["| variant | cell | ratio |", "|---|---|---:|"]
    for variant in variants:
        for cell, base in _cells(results, PACKYARD, what).items():
            theirs = _cells(results, variant, what).get(cell)
            if theirs is not None:
                lines.append(f"| {variant} | {cell} | {_ratio(theirs, base)} |")
    return lines


def _cells(results: dict[str, Any], server: str, what: str) -> dict[str, float]:
    """req/s by cell ("project c=64") of the reads or downloads of ``server``."""
    data = results["servers"].get(server, {}).get(what, {})
    if what == "downloads":
        return {f"files c={row['concurrency']}": row["rps"] for row in data}
    return {f"{kind} c={row['concurrency']}": row["rps"] for kind, rows in data.items()
            for row in rows}  # fmt: skip


def _downloads_section(results: dict[str, Any]) -> list[str]:
    servers = [s for s, data in results["servers"].items() if data.get("downloads")]
    if not servers:
        return []
    lines = [
        "## File downloads",
        "",
        "wrk over every file the project pages link to (wheels and sdists of a few KiB), as "
        "pip fetches them, with each server's read credentials; one pass first.",
        "",
        "| server | files | concurrency | req/s | p50 ms | p99 ms | non-2xx | errors | "
        "CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for server in servers:
        for row in results["servers"][server]["downloads"]:
            lines.append(
                f"| {server} | {row['paths']} | {row['concurrency']} | {_num(row['rps'])} | "
                f"{_num(row['p50_ms'], 2)} | {_num(row['p99_ms'], 2)} | {row['non_2xx']} | "
                f"{row['errors']} | {_num(row['cpu_ms_per_request'], 3)} |"
            )
    theirs = _cells(results, "pypiserver", "downloads")
    if theirs:
        lines += ["", "Ratios, req/s ÷ pypiserver's.", "", "| server | cell | ratio |",
                  "|---|---|---:|"]  # fmt: skip
        for server in servers:
            if server == "pypiserver":
                continue
            for cell, rps in _cells(results, server, "downloads").items():
                lines.append(f"| {server} | {cell} | {_ratio(rps, theirs.get(cell))} |")
    return lines


def _ceiling_section(results: dict[str, Any]) -> list[str]:
    ceilings = {
        server: results[ceiling_key(server)]
        for server in (DEFAULT_SERVER, "uvicorn")
        if results.get(ceiling_key(server))
    }
    if not ceilings:
        return []
    lines = [
        "## Ceiling: the same server with an application that does nothing",
        "",
        "A bare ASGI app answering every GET with a constant body of the page's (or the "
        "file's) size, on each HTTP server Packyard runs on with Packyard's settings (2 "
        "workers, no access log; uvicorn with uvloop and httptools, granian with uvloop), "
        "read by the same load generator with the same headers (bench/ceiling.py). No Python "
        "application served this way answers faster; Packyard's share of it on the same "
        "server is what its own code costs.",
        "",
        "| server | what | body bytes | concurrency | req/s | p50 ms | p99 ms | CPU ms/req | "
        "Packyard's share (default: access log on) | without access log |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for server, bare in ceilings.items():
        ours = (PACKYARD, QUIET) if server == DEFAULT_SERVER else (UVICORN,)
        for kind, row in bare.items():
            if kind not in ("root", "project", "file"):
                continue
            shares = [_share(results, name, kind, row) for name in ours] + ["—"]
            lines.append(
                f"| {server} | {kind} | {row['body_bytes']:,} | {row['concurrency']} | "
                f"{_num(row['rps'])} | {_num(row['p50_ms'], 2)} | {_num(row['p99_ms'], 2)} | "
                f"{_num(row['cpu_ms_per_request'], 3)} | {shares[0]} | {shares[1]} |"
            )
    return lines


def _share(results: dict[str, Any], server: str, kind: str, bare: dict[str, Any]) -> str:
    """``server``'s req/s as a share of the ceiling's, for pages or files (``kind``)."""
    if kind == "file":
        rows = results["servers"].get(server, {}).get("downloads", [])
        ours = next((r for r in rows if r["concurrency"] == bare["concurrency"]), None)
    else:
        ours = _load_for(results, server, kind, bare["concurrency"])
    return f"{ours['rps'] / bare['rps']:.0%}" if ours and bare["rps"] else "—"


def _profile_section(results: dict[str, Any]) -> list[str]:
    profiles = results["servers"].get(PACKYARD, {}).get("profiles", {})
    if not profiles:
        return []
    lines = [
        "## Profiles: where the Packyard server's time goes",
        "",
        "py-spy samples every process of the server while the load runs (bench/sampling.py); "
        "shares are of their busy samples (idle threads left out), by the function running at "
        "the time.",
    ]
    for case, summary in profiles.items():
        lines += ["", f"### {case}", ""]
        if "error" in summary:
            lines.append(f"Not profiled: {summary['error']}.")
            continue
        owners = ", ".join(f"{owner} {share:.0%}" for owner, share in summary["owners"].items())
        lines += [f"{summary['samples']:,} busy samples: {owners}.", ""]
        lines += ["| function (own time) | share |", "|---|---:|"]
        lines += [
            f"| `{name.replace('|', '/')}` | {share:.1%} |"
            for name, share in summary["functions"].items()
        ]
    return lines


def _publish_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Publishing",
        "",
        f"The whole corpus ({results['corpus']['files']} files) in one client run: "
        "`twine upload` of every file (one process, files one after another), and for "
        "Packyard its REST endpoint from one keep-alive HTTP client, one file after another. "
        f"{WITHOUT_FSYNC} is the embedded default with every fsync made a no-op "
        "(`LD_PRELOAD` of Debian's eatmydata; never a way to run it): what durability costs.",
        "",
        "| server | client | files | seconds | files/s |",
        "|---|---|---:|---:|---:|",
    ]
    for server, data in results["servers"].items():
        for client, outcome in data.get("publish", {}).items():
            if "files_per_second" in outcome:
                lines.append(
                    f"| {server} | {client} | {outcome['files']} | {_num(outcome['seconds'], 2)} | "
                    f"{_num(outcome['files_per_second'])} |"
                )
            else:
                lines.append(f"| {server} | {client} | — | — | {outcome.get('error', '—')} |")
    null = results.get("ceiling", {}).get("twine", {})
    if "files_per_second" in null:
        lines.append(
            f"| do-nothing ASGI app (ceiling) | twine | {null['files']} | "
            f"{_num(null['seconds'], 2)} | {_num(null['files_per_second'])} |"
        )
    if results.get("fsync"):
        f = results["fsync"]
        lines += [
            "",
            f"fsync on this disk: {_num(f['file_ms'], 2)} ms a file, "
            f"{_num(f['folder_ms'], 2)} ms a folder, one after another; a file and its metadata "
            f"flushed together, renamed and their folders flushed together: "
            f"{_num(f['pair_together_ms'], 2)} ms; one after the other: "
            f"{_num(f['pair_one_by_one_ms'], 2)} ms (bench/fsync_cost.py, medians of "
            f"{f['rounds']}). Packyard waits for the "
            "disk before it answers 200 (the file, its metadata, their folders, the database "
            "commit); pypiserver and devpi answer without flushing.",
        ]
    huge = results["sizes"]["huge_bytes"] / 1024**2
    lines += [
        "",
        f"## One huge upload ({huge:,.0f} MiB wheel)",
        "",
        "Packyard through its REST endpoint, the peers through twine. RSS growth is the peak "
        "resident memory of the server's process tree (sampled every 50 ms) minus its value "
        "before the upload.",
        "",
        "| server | seconds | MiB/s | peak RSS growth MiB |",
        "|---|---:|---:|---:|",
    ]
    for server, data in results["servers"].items():
        outcome = data.get("huge")
        if not outcome:
            continue
        if "error" in outcome:
            lines.append(f"| {server} | — | — | {outcome['error']} |")
        else:
            lines.append(
                f"| {server} | {_num(outcome['seconds'], 2)} | {_num(outcome['mib_per_second'])} "
                f"| {_num(outcome['rss_growth_mib'])} |"
            )
    return lines


def _install_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "## pip and uv, end to end",
        "",
        f"`{results['corpus']['app_requirement']}` with {results['corpus']['install_deps']} "
        "dependencies (chains three deep) into a fresh virtual environment, no client cache "
        f"(`--no-cache-dir`, `--no-cache`): median of {results['sizes']['install_runs']} runs, "
        "seconds.",
        "",
        "| server | pip | uv |",
        "|---|---:|---:|",
    ]
    for server, data in results["servers"].items():
        if "installs" not in data:
            continue  # the ceilings
        cells = []
        for client in ("pip", "uv"):
            outcome = data.get("installs", {}).get(client, {})
            cells.append(_num(outcome.get("median_seconds"), 2) if outcome else "—")
            if "error" in outcome:
                cells[-1] = f"failed: {outcome['error'][:120]}"
        lines.append(f"| {server} | {cells[0]} | {cells[1]} |")
    return lines


def _warmed(scale: dict[str, Any]) -> str:
    rounds = scale.get("warm_rounds")
    if rounds is None:
        return "one pass over one connection"
    concurrency = scale["project_load"]["concurrency"]
    return f"{rounds} round(s) of 2 s at c={concurrency}, the last rendering no page"


def _scale_section(results: dict[str, Any]) -> list[str]:
    scale = results.get("scale")
    if not scale:
        return []
    p, r = scale["project_load"], scale["root_load"]
    f = scale.get("project_first_touch", p)
    return [
        "## Scale",
        "",
        f"Packyard with {scale['projects']:,} projects and {scale['files']:,} files in one "
        f"registry, bulk-loaded into SQLite in {_num(scale['bulk_load_seconds'])} s (rows only; "
        "no blobs, as only index pages are read).",
        "",
        "| figure | value |",
        "|---|---:|",
        "| start to ready (`packyard serve` → first 200) | "
        f"{_num(scale['start_to_ready_seconds'], 2)} s |",
        f"| root page, first (uncached, {scale['root_bytes'] / 1024**2:,.1f} MiB) | "
        f"{_num(scale['root_first_seconds'] * 1000)} ms |",
        f"| root page, second (cached) | {_num(scale['root_cached_seconds'] * 1000)} ms |",
        f"| root page under load c={r['concurrency']}: req/s, p50, p99 | {_num(r['rps'])}, "
        f"{_num(r['p50_ms'], 2)} ms, {_num(r['p99_ms'], 2)} ms |",
        f"| project pages over {scale['sampled_projects']:,} projects c={f['concurrency']}, "
        f"first touches included: req/s, p50, p99 | {_num(f['rps'])}, {_num(f['p50_ms'], 2)} ms, "
        f"{_num(f['p99_ms'], 2)} ms |",
        f"| project pages over {scale['sampled_projects']:,} projects c={p['concurrency']}, "
        f"every worker warm ({_warmed(scale)}): "
        f"req/s, p50, p99 | {_num(p['rps'])}, {_num(p['p50_ms'], 2)} ms, "
        f"{_num(p['p99_ms'], 2)} ms |",
        f"| RSS idle after start / as the runs end / {_num(scale.get('settle_seconds'))} s later | "
        f"{_num(scale['rss_idle_mib'])} MiB / {_num(scale['rss_after_mib'])} MiB / "
        f"{_num(scale.get('rss_settled_mib'))} MiB |",
    ]


def _retention_section(results: dict[str, Any]) -> list[str]:
    retention = results.get("retention")
    if not retention:
        return []
    w, d = retention["reads_without"], retention["reads_during"]
    return [
        "## Retention at scale",
        "",
        f"A source registry of {retention['files']:,} files ({retention['projects']:,} "
        f"projects), bulk-loaded into SQLite (rows only); policy {retention['policy']}, "
        "previewed and then run through the REST API (the real delete use case: serials, "
        "search rows, audit events). Project pages of "
        f"{retention['sampled_projects']:,} projects read meanwhile at c={d['concurrency']}, "
        f"for {_num(retention.get('read_window_seconds', 0), 1)} s from 1 s before the run "
        f"started (covering {_num(100 * retention.get('run_covered', 0))}% of it), and as "
        "long without a run.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| preview (dry run), {retention['preview_files']:,} files listed | "
        f"{_num(retention['preview_seconds'], 2)} s |",
        f"| run, {retention['run_files_deleted']:,} files deleted | "
        f"{_num(retention['run_seconds'], 2)} s |",
        f"| the run deleted exactly the preview's list | {retention['run_equals_preview']} |",
        f"| project pages without a run: req/s, p50, p99 | {_num(w['rps'])}, "
        f"{_num(w['p50_ms'], 2)} ms, {_num(w['p99_ms'], 2)} ms |",
        f"| project pages during the run: req/s, p50, p99 | {_num(d['rps'])}, "
        f"{_num(d['p50_ms'], 2)} ms, {_num(d['p99_ms'], 2)} ms |",
    ]


def _composite_section(results: dict[str, Any]) -> list[str]:
    composite = results.get("composite", {})
    lines = ["## Composite registry", ""]
    if composite.get("status") != "measured":
        return [*lines, f"**{composite.get('status', 'not measured')}.**"]
    s, c = composite["source"], composite["composite"]
    return [
        *lines,
        "| page | req/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        f"| source registry | {_num(s['rps'])} | {_num(s['p50_ms'], 2)} | {_num(s['p99_ms'], 2)} |",
        f"| composite (2 sources + PyPI stand-in) | {_num(c['rps'])} | {_num(c['p50_ms'], 2)} | "
        f"{_num(c['p99_ms'], 2)} |",
    ]


def _operations_section(results: dict[str, Any]) -> list[str]:
    measured = results.get("operations")
    if not measured:
        return []
    from bench.operations_cost import report_lines

    return [
        "## What operating it costs: access log, metrics scrapes",
        "",
        "bench/operations_cost.py: four servers side by side (`packyard serve --workers 2`, "
        "embedded default): no access log; the access log on (text, the default); JSON lines; "
        "metrics off. The cases take turns round after round so the machine's other load "
        "falls on each alike; `scraped` is the first server while `/metrics` is fetched every "
        "second. Server CPU per request is the steadier figure.",
        "",
        *report_lines(measured),
    ]


def _publish_probe_section(results: dict[str, Any]) -> list[str]:
    probe = results.get("publish_probe")
    if not probe:
        return []
    names = {"null": "do-nothing ASGI app (twine's ceiling)", "pypiserver": "pypiserver",
             "packyard-twine": "Packyard (embedded default)",
             "packyard-twine-nofsync": WITHOUT_FSYNC}  # fmt: skip
    lines = [
        "## Publishing, servers taking turns",
        "",
        f"bench/publish_probe.py: `twine upload` of the same {probe['files']} files, one "
        f"process, into each server in turn, {probe['rounds']} round(s) (each round on a "
        "fresh server and folder, so every file is stored anew), so the machine's other load "
        "falls on each alike. CPU ms/file: the server's whole process tree and twine's process.",
        "",
        "| server | files/s (median) | each round | server CPU ms/file | twine CPU ms/file |",
        "|---|---:|---|---:|---:|",
    ]
    for name, row in probe["summary"].items():
        rounds = ", ".join(f"{value:,.1f}" for value in row["files_per_second"])
        lines.append(
            f"| {names.get(name, name)} | {_num(row['median_files_per_second'])} | {rounds} | "
            f"{_num(row['median_server_cpu_ms_per_file'], 2)} | "
            f"{_num(row['median_client_cpu_ms_per_file'], 2)} |"
        )
    cost = probe.get("fsync_cost")
    if cost:
        wall = ", ".join(f"{value:.2f}" for value in cost["wall_ms_per_file"])
        cpu = ", ".join(f"{value:.2f}" for value in cost["server_cpu_ms_per_file"])
        lines += [
            "",
            "What fsync costs Packyard per file (with minus without, round by round): "
            f"{_num(cost['median_wall_ms_per_file'], 2)} ms of wall clock per file (twine "
            f"sends one file after another, so this is the server's latency; each round: "
            f"{wall}) and {_num(cost['median_server_cpu_ms_per_file'], 2)} ms of server CPU "
            f"per file (each round: {cpu}).",
        ]
    return lines


def _install_probe_section(results: dict[str, Any]) -> list[str]:
    probe = results.get("install_probe")
    if not probe:
        return []
    lines = [
        "## Installing, servers taking turns",
        "",
        f"bench/install_probe.py: `pip install` and `uv pip install` of `{probe['requirement']}` "
        f"({probe['distributions']} distributions) into fresh virtual environments with no "
        f"cache, from Packyard (embedded default, a private registry read with a token) and "
        f"from nginx serving Packyard's pages, files and `.metadata` as static files, one "
        f"after the other, {probe['rounds']} round(s), which goes first alternating, so the "
        "machine's other load falls on both alike.",
        "",
        "| client | server | median s | each install (s) |",
        "|---|---|---:|---|",
    ]
    for client in ("pip", "uv"):
        for server, by_client in probe["seconds"].items():
            each = ", ".join(f"{value:.2f}" for value in by_client[client])
            median = probe["median_seconds"][server][client]
            lines.append(f"| {client} | {server} | {median:.2f} | {each} |")
    return lines


def _webhooks_section(results: dict[str, Any]) -> list[str]:
    measured = results.get("webhooks")
    if not measured:
        return []
    lines = [
        "## Publishing with a webhook",
        "",
        f"bench/webhook_cost.py: {measured['files_per_round']} new files a round published "
        f"through REST at c={measured['concurrency']} into a fresh registry without hooks and "
        f"one whose `package.created` hook posts to a receiver on loopback, taking turns, "
        f"{measured['rounds']} round(s), each after a hooked round's deliveries, a WAL "
        f"checkpoint and a rest of 1-1.5 s; medians. Server CPU per file is the server's "
        f"(every process) over the round's publishes. Deliveries "
        f"received: {measured['deliveries_received']} of {measured['deliveries_expected']}.",
        "",
        "| registry | files/s | p50 ms | p95 ms | server CPU ms/file | each round, files/s |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for kind in ("without hook", "with hook"):
        row = measured[kind]
        each = ", ".join(f"{value:.0f}" for value in row.get("each_round_files_per_second", []))
        cpu = row.get("server_cpu_ms_per_file")
        lines.append(
            f"| {kind} | {_num(row['files_per_second'])} | {_num(row['p50_ms'])} | "
            f"{_num(row['p95_ms'])} | {_num(cpu, 2)} | {each} |"
        )
    ratios = measured.get("each_round_ratio")
    if ratios:
        lines += [
            "",
            f"With a hook against without, round by round (the two ran back to back): "
            f"{', '.join(f'{r:.2f}' for r in ratios)}; median "
            f"{statistics.median(ratios):.2f}.",
        ]
    after = measured.get("deliveries_done_after_round_s")
    if after:
        lines += [
            "",
            f"The sender makes way for requests: a hooked round's last delivery came "
            f"{_num(after['median'], 2)} s after the round's last answer (median; at most "
            f"{_num(after['max'], 2)} s; "
            f"{measured.get('deliveries_during_rounds', '—')} came before the round ended)"
            + (
                f", and sending and recording it cost the server "
                f"{_num(measured['delivery_cpu_ms'], 2)} ms of CPU per delivery."
                if "delivery_cpu_ms" in measured
                else "."
            ),
        ]
    idle = measured.get("idle_delivery_ms")
    if idle:
        lines += [
            "",
            f"On the idle server, one publish at a time, a delivery reached the receiver "
            f"{_num(idle['median'])} ms after the publish's answer (median; at most "
            f"{_num(idle['max'])} ms).",
        ]
    return lines


def render(
    results: dict[str, Any],
    targets: list[tuple[str, str, str]],
    issue_20: list[tuple[str, str, str]] | None = None,
) -> str:
    machine = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python3 bench/run.py` (see README, Benchmarks); do not edit by hand. "
        "Every figure comes from one run on one machine, with the load generator on the same "
        "machine: compare the ratios, not the absolute numbers.",
        "",
        f"- Date: {results['date']} (run took {_num(results['duration_seconds'] / 60)} min"
        f"{', smoke mode' if results['smoke'] else ''})",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, "
        f"{machine['os']}",
        f"- Python {machine['python']}; load generator: {results['load_generator']}",
        "- Clients: " + ", ".join(f"{k} {v}" for k, v in results["clients"].items()),
        "",
        "| server | version | mode |",
        "|---|---|---|",
    ]
    for server, data in results["servers"].items():
        lines.append(f"| {server} | {data['version']} | {data['mode']} |")
    for note in results.get("notes", []):
        lines += ["", f"Note: {note}"]
    if issue_20:
        lines += ["", "## Targets (issue 20)", "", "| target | result | met |", "|---|---|---|"]
        lines += [f"| {name} | {value} | {met} |" for name, value, met in issue_20]
    lines += ["", "## Targets (issue 8)", "", "| target | result | met |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {met} |" for name, value, met in targets]
    lines += [""]
    for section in (_reads_section, _ceiling_section, _downloads_section, _publish_section,
                    _install_section, _scale_section, _retention_section, _composite_section,
                    _publish_probe_section, _install_probe_section, _operations_section,
                    _webhooks_section, _profile_section):  # fmt: skip
        part = section(results)
        if part:
            lines += [*part, ""]
    return "\n".join(lines).rstrip() + "\n"
