"""Issue 8's (with issue 18's retention rows) and issue 20's targets, checked against one
run's results: (target, figure, verdict)."""

from __future__ import annotations

from typing import Any

from bench.report import (
    DEFAULT_SERVER,
    NGINX,
    PACKYARD,
    PEERS,
    POSTGRES,
    POSTGRES_S3,
    QUIET,
    UVICORN,
    WITHOUT_FSYNC,
    _load_for,
    ceiling_key,
)  # fmt: skip

Row = tuple[str, str, str]


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def _reads(results: dict[str, Any], kind: str) -> list[Row]:
    c = max(results["sizes"]["concurrencies"])
    ours = _load_for(results, PACKYARD, kind, c)
    theirs = _load_for(results, "pypiserver", kind, c)
    if ours is None:
        return []
    rows: list[Row] = []
    if theirs:
        ratio = ours["rps"] / theirs["rps"] if theirs["rps"] else float("inf")
        figure = f"{ratio:.1f}x ({ours['rps']:,.0f} vs {theirs['rps']:,.0f} req/s)"
        bare = results.get("ceiling", {}).get(kind)
        if bare and theirs["rps"]:
            figure += (
                f"; the bare server's ceiling is {bare['rps']:,.0f} req/s, "
                f"{bare['rps'] / theirs['rps']:.1f}x"
            )
        rows.append(
            (f"{kind} pages at c={c}: ≥ 10x pypiserver's req/s", figure, _verdict(ratio >= 10))
        )
    else:
        rows.append((f"{kind} pages at c={c}: ≥ 10x pypiserver's req/s", "peer not run", "n/a"))
    rows.append(
        (f"{kind} pages at c={c}: p99 ≤ 25 ms", f"{ours['p99_ms']:.1f} ms",
         _verdict(ours["p99_ms"] <= 25)),
    )  # fmt: skip
    return rows


def _publishing(results: dict[str, Any]) -> Row:
    ours = results["servers"].get(PACKYARD, {}).get("publish", {})
    theirs = results["servers"].get("pypiserver", {}).get("publish", {}).get("twine", {})
    mine = ours.get("twine") if "files_per_second" in ours.get("twine", {}) else ours.get("REST")
    label = "twine" if mine is ours.get("twine") else "REST (twine API not merged)"
    if not mine or "files_per_second" not in mine or "files_per_second" not in theirs:
        return ("publishing ≥ 3x pypiserver's files/s (twine)", "not measured", "n/a")
    ratio = mine["files_per_second"] / theirs["files_per_second"]
    return (
        "publishing ≥ 3x pypiserver's files/s (twine)",
        f"{ratio:.1f}x via {label} ({mine['files_per_second']:.0f} vs "
        f"{theirs['files_per_second']:.0f} files/s)",
        _verdict(ratio >= 3),
    )


def _installs(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for client in ("pip", "uv"):
        ours = results["servers"].get(PACKYARD, {}).get("installs", {}).get(client, {})
        peers = {
            name: data.get("installs", {}).get(client, {}).get("median_seconds")
            for name, data in results["servers"].items()
            if name in PEERS
        }
        mine = ours.get("median_seconds")
        known = {k: v for k, v in peers.items() if v}
        if mine is None or not known:
            rows.append((f"`{client} install` faster than with either peer", "not measured", "n/a"))
            continue
        text = f"{mine:.2f} s vs " + ", ".join(f"{k} {v:.2f} s" for k, v in known.items())
        rows.append(
            (f"`{client} install` faster than with either peer", text,
             _verdict(all(mine < v for v in known.values()))),
        )  # fmt: skip
    return rows


def _scale(results: dict[str, Any]) -> list[Row]:
    scale = results.get("scale")
    if not scale:
        return []
    c = scale["project_load"]["concurrency"]
    small = _load_for(results, PACKYARD, "project", c)
    rows: list[Row] = []
    if small:
        ratio = scale["project_load"]["p50_ms"] / small["p50_ms"] if small["p50_ms"] else 0.0
        rows.append(
            (f"at {scale['projects']:,} projects: project page p50 ≤ 1.5x the small "
             f"corpus's (c={c})",
             f"{ratio:.2f}x ({scale['project_load']['p50_ms']:.2f} vs {small['p50_ms']:.2f} ms)",
             _verdict(ratio <= 1.5)),
        )  # fmt: skip
    rows.append(
        ("start to ready < 2 s", f"{scale['start_to_ready_seconds']:.2f} s",
         _verdict(scale["start_to_ready_seconds"] < 2)),
    )  # fmt: skip
    # Judged as the last load ends (the highest figure); what the server keeps once the
    # burst is over is shown beside it.
    rss = max(scale["rss_idle_mib"], scale["rss_after_mib"])
    shown = f"{rss * 1.048576:.0f} MB"
    if "rss_settled_mib" in scale:
        shown += (
            f" ({scale['rss_settled_mib'] * 1.048576:.0f} MB {scale['settle_seconds']:.0f} s later)"
        )
    rows.append(("RSS < 300 MB", shown, _verdict(rss * 1.048576 < 300)))
    return rows


def _retention(results: dict[str, Any]) -> list[Row]:
    """Issue 18: a policy applied to a large registry takes seconds and does not stall
    index reads."""
    retention = results.get("retention")
    if not retention:
        return []
    files, run = retention["files"], retention["run_seconds"]
    p99_without = retention["reads_without"]["p99_ms"]
    p99_during = retention["reads_during"]["p99_ms"]
    ratio = p99_during / p99_without if p99_without else 0.0
    return [
        (f"retention run at {files:,} files takes seconds (< 60 s), deleting the preview's list",
         f"{run:.1f} s, {retention['run_files_deleted']:,} files",
         _verdict(run < 60 and bool(retention["run_equals_preview"]))),
        ("index p99 during a retention run ≤ 2x without",
         f"{ratio:.2f}x ({p99_during:.1f} vs {p99_without:.1f} ms)", _verdict(ratio <= 2)),
    ]  # fmt: skip


def _rps(results: dict[str, Any], server: str, kind: str, c: int) -> float | None:
    row = _load_for(results, server, kind, c)
    return row["rps"] if row else None


def _download_rps(results: dict[str, Any], server: str, c: int) -> float | None:
    rows = results["servers"].get(server, {}).get("downloads", [])
    return next((row["rps"] for row in rows if row["concurrency"] == c), None)


def _at_least(name: str, ours: float | None, theirs: float | None, factor: float,
              unit: str) -> Row:  # fmt: skip
    if not ours or not theirs:
        return (name, "not measured", "n/a")
    ratio = ours / theirs
    return (name, f"{ratio:.2f}x ({ours:,.0f} vs {theirs:,.0f} {unit})", _verdict(ratio >= factor))


def evaluate_issue_20(results: dict[str, Any]) -> list[Row]:
    c = max(results["sizes"]["concurrencies"])
    rows: list[Row] = []
    for kind in ("project", "root"):
        for server in (POSTGRES, POSTGRES_S3):
            rows.append(_at_least(
                f"{server}: {kind} pages at c={c} ≥ 80% of the embedded default's",
                _rps(results, server, kind, c), _rps(results, PACKYARD, kind, c), 0.8,
                "req/s"))  # fmt: skip
    for kind in ("project", "root"):
        for server, ours in ((DEFAULT_SERVER, PACKYARD), ("uvicorn", UVICORN)):
            bare = results.get(ceiling_key(server), {}).get(kind)
            rows.append(_at_least(
                f"embedded, default configuration on {server}: {kind} pages at c={c} ≥ 70% of "
                f"the do-nothing ceiling on {server}", _rps(results, ours, kind, c),
                bare["rps"] if bare else None, 0.7, "req/s"))  # fmt: skip
        rows.append(_at_least(
            f"access log on costs ≤ 10% of {kind} page reads (c={c}, one run after the other)",
            _rps(results, PACKYARD, kind, c), _rps(results, QUIET, kind, c), 0.9,
            "req/s"))  # fmt: skip
    rows += _operating_costs(results)
    for client in ("pip", "uv"):
        nginx = results["servers"].get(NGINX, {}).get("installs", {}).get(client, {})
        for server in (PACKYARD, POSTGRES, POSTGRES_S3):
            ours = results["servers"].get(server, {}).get("installs", {}).get(client, {})
            name = f"{server}: `{client} install` no slower than from nginx's static files"
            if "median_seconds" not in ours or "median_seconds" not in nginx:
                rows.append((name, "not measured", "n/a"))
                continue
            mine, floor = ours["median_seconds"], nginx["median_seconds"]
            rows.append((name, f"{mine:.2f} s vs {floor:.2f} s", _verdict(mine <= floor)))
    probe_medians = results.get("install_probe", {}).get("median_seconds", {})
    for client in ("pip", "uv"):
        mine = probe_medians.get(PACKYARD, {}).get(client)
        floor = probe_medians.get(NGINX, {}).get(client)
        name = (f"{PACKYARD}: `{client} install` no slower than from nginx's static files "
                "(taking turns, bench/install_probe.py)")  # fmt: skip
        if mine is None or floor is None:
            rows.append((name, "not measured", "n/a"))
        else:
            rows.append((name, f"{mine:.2f} s vs {floor:.2f} s", _verdict(mine <= floor)))
    for server in (PACKYARD, POSTGRES, POSTGRES_S3, WITHOUT_FSYNC):
        ours = results["servers"].get(server, {}).get("publish", {}).get("twine", {})
        theirs = results["servers"].get("pypiserver", {}).get("publish", {}).get("twine", {})
        rows.append(_at_least(
            f"{server}: twine ≥ 1x pypiserver's files/s", ours.get("files_per_second"),
            theirs.get("files_per_second"), 1.0, "files/s"))  # fmt: skip
    probe = results.get("publish_probe", {}).get("summary", {})
    pypiserver = probe.get("pypiserver", {}).get("median_files_per_second")
    for server, measure in (
        (PACKYARD, "packyard-twine"),
        (WITHOUT_FSYNC, "packyard-twine-nofsync"),
    ):
        rows.append(_at_least(
            f"{server}: twine ≥ 1x pypiserver's files/s (taking turns, bench/publish_probe.py)",
            probe.get(measure, {}).get("median_files_per_second"), pypiserver, 1.0, "files/s",
        ))  # fmt: skip
    for server in (PACKYARD, UVICORN, POSTGRES, POSTGRES_S3):
        rows.append(_at_least(
            f"{server}: file downloads at c={c} ≥ 5x pypiserver's req/s",
            _download_rps(results, server, c), _download_rps(results, "pypiserver", c), 5.0,
            "req/s"))  # fmt: skip
    return rows


def _operating_costs(results: dict[str, Any]) -> list[Row]:
    """The access log's and the scrapes' costs from bench/operations_cost.py, whose cases
    take turns round after round (steadier than two runs one after the other): server CPU
    per request and req/s, each as plain ÷ case (1.0: free)."""
    cases = results.get("operations", {}).get("cases", {})
    plain = cases.get("plain")
    rows: list[Row] = []
    for case, budget, issue in (("access log (text)", 0.10, 20), ("scraped", 0.02, 21)):
        figures = cases.get(case)
        what = ("the access log on (the default)" if issue == 20
                else "/metrics scraped every second")  # fmt: skip
        for key, unit in (("cpu_ms_per_request", "CPU"), ("rps", "req/s")):
            name = (f"issue {issue}: {what} costs ≤ {budget:.0%} of project page reads "
                    f"({unit}, alternated rounds)")  # fmt: skip
            if plain is None or figures is None:
                rows.append((name, "not measured", "n/a"))
                continue
            # CPU per request: lower is better, so the ratio is plain ÷ case as for req/s's
            # case ÷ plain.
            ratio = (plain[key] / figures[key] if key == "cpu_ms_per_request"
                     else figures[key] / plain[key])  # fmt: skip
            shown = (f"{figures[key] * 1000:.1f} vs {plain[key] * 1000:.1f} µs"
                     if key == "cpu_ms_per_request" else
                     f"{figures[key]:,.0f} vs {plain[key]:,.0f} req/s")  # fmt: skip
            rows.append((name, f"{ratio:.3f}x ({shown})", _verdict(ratio >= 1 - budget)))
    measured = results.get("operations", {})
    if plain is not None and measured.get("scrape_cpu_ms") is not None:
        from bench.operations_cost import scrape_share

        share = scrape_share(measured)
        rows.append((
            "issue 21: /metrics scraped every second costs ≤ 2% of project page reads "
            "(the scrape's own server CPU against the read load's)",
            f"{share:.2%} ({measured['scrape_cpu_ms']:.2f} ms CPU per scrape)",
            _verdict(share <= 0.02),
        ))  # fmt: skip
    hooks = results.get("webhooks", {})
    if "with hook" in hooks and "without hook" in hooks:
        # "Not measurably slower": within 5%, about the spread of one round to the next.
        rows.append(_at_least(
            "issue 16: publishing with a webhook ≥ 95% of the files/s without (taking turns, "
            "bench/webhook_cost.py)", hooks["with hook"]["files_per_second"],
            hooks["without hook"]["files_per_second"], 0.95, "files/s"))  # fmt: skip
    return rows


def evaluate(results: dict[str, Any]) -> list[Row]:
    rows = _reads(results, "project") + _reads(results, "root")
    c = max(results["sizes"]["concurrencies"])
    cpu = _load_for(results, PACKYARD, "project", c)
    if cpu:
        rows.append(
            ("server CPU per cached index request ≤ 0.1 ms",
             f"{cpu['cpu_ms_per_request']:.3f} ms (project pages, c={c})",
             _verdict(cpu["cpu_ms_per_request"] <= 0.1)),
        )  # fmt: skip
    rows.append(_publishing(results))
    rows += _installs(results)
    rows += _scale(results)
    rows += _retention(results)
    huge = results["servers"].get(PACKYARD, {}).get("huge", {})
    if "rss_growth_mib" in huge:
        growth_mb = huge["rss_growth_mib"] * 1.048576
        rows.append(
            (
                "huge upload: peak RSS growth < 50 MB",
                f"{growth_mb:.1f} MB",
                _verdict(growth_mb < 50),
            )
        )
    composite = results.get("composite", {})
    if composite.get("status") == "measured":
        ratio = composite["composite"]["p50_ms"] / composite["source"]["p50_ms"]
        rows.append(
            ("composite page (cached) ≤ 2x a source registry's (p50)", f"{ratio:.2f}x",
             _verdict(ratio <= 2)),
        )  # fmt: skip
    else:
        rows.append(
            (
                "composite page (cached) ≤ 2x a source registry's",
                composite.get("status", "—"),
                "n/a",
            )
        )
    return rows
