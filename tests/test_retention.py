"""Retention policies of a source registry, through REST (docs/retention.md): each rule,
the exemptions, the newest release and young files never deleted, the preview equal to the
real run, and the run's deletions taking the user's delete path."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support.builders import Dist, wheel_bytes, write_wheel
from tests.support.driver import Api, Organization, api
from tests.support.retention import filenames, import_aged, index_files, preview, run, set_policy
from tests.support.waiting import eventually


def _wheels(name: str, *versions: str) -> list[str]:
    return sorted(Dist(name, v).wheel_filename for v in versions)


def test_keep_latest_deletes_older_releases_and_keeps_the_newest_n(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    dists = [(Dist("app", v), 10) for v in ("1.0", "1.1", "2.0", "3.0")]
    import_aged(admin.registry(registry), tmp_path, dists)
    set_policy(admin, registry, keep_latest=2)

    planned = preview(admin, registry)
    assert filenames(planned) == _wheels("app", "1.0", "1.1")
    assert {f["reason"] for f in planned["files"]} == {"keep_latest"}
    done = run(admin, registry)
    assert filenames(done) == filenames(planned)
    assert index_files(admin, registry, "app") == _wheels("app", "2.0", "3.0")


def test_the_dry_run_lists_exactly_what_the_real_run_deletes(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    dists = [
        *[(Dist("web", v), 40) for v in ("1.0", "1.1", "1.2", "2.0.dev1", "2.0a1")],
        *[(Dist("cli", v), 90) for v in ("0.1", "0.2", "0.3rc1")],
        (Dist("cli", "0.4"), 2),
    ]
    import_aged(admin.registry(registry), tmp_path, dists)
    set_policy(admin, registry, keep_latest=3, prereleases_max_age_days=30)

    planned = preview(admin, registry)
    assert planned["files_count"] == len(planned["files"]) > 0
    done = run(admin, registry)
    assert [f["id"] for f in done["files"]] == [f["id"] for f in planned["files"]]
    assert done["files_deleted"] == planned["files_count"]
    assert done["bytes_deleted"] == planned["bytes"]
    survivors = index_files(admin, registry, "web") + index_files(admin, registry, "cli")
    assert set(survivors).isdisjoint(filenames(planned))
    assert len(survivors) + planned["files_count"] == len(dists)
    assert preview(admin, registry)["files"] == []  # nothing left for the policy
    [latest, *_] = admin.call("GET", f"/registries/{registry}/retention/runs").json()
    assert latest["trigger"] == "request"
    assert (latest["files_deleted"], latest["bytes_deleted"]) == (
        planned["files_count"],
        planned["bytes"],
    )


def test_old_prereleases_and_dev_releases_are_deleted(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    dists = [
        (Dist("lib", "1.0"), 100),
        (Dist("lib", "2.0.dev3"), 40),
        (Dist("lib", "2.0a1"), 40),
        (Dist("lib", "2.0a2"), 5),
        (Dist("lib", "2.0b1"), 60),  # the newest release: kept, however old
    ]
    import_aged(admin.registry(registry), tmp_path, dists)
    set_policy(admin, registry, prereleases_max_age_days=30)
    assert filenames(preview(admin, registry)) == _wheels("lib", "2.0.dev3", "2.0a1")


def test_releases_not_downloaded_for_d_days_are_deleted(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    dists = [(Dist("tool", v), 60) for v in ("1.0", "1.1", "2.0")]
    import_aged(admin.registry(registry), tmp_path, dists)
    fetched = admin.registry(registry).yard.base_url + (
        f"/{admin.organization}/{registry}/pypi/files/{Dist('tool', '1.0').wheel_filename}"
    )
    download = httpx.get(fetched, auth=("x", str(admin.token)))
    assert download.content == wheel_bytes(Dist("tool", "1.0"))
    set_policy(admin, registry, not_downloaded_days=30)
    # Downloads are counted in memory and written every couple of seconds.
    eventually(
        lambda: filenames(preview(admin, registry)) == _wheels("tool", "1.1"),
        30,
        lambda: f"preview: {filenames(preview(admin, registry))}",
    )


def test_exempt_projects_and_versions_are_kept(admin: Api, registry: str, tmp_path: Path) -> None:
    dists = [
        *[(Dist("internal-core", v), 30) for v in ("1.0", "2.0")],
        *[(Dist("app", v), 30) for v in ("0.9", "1.0", "1.1", "2.0")],
    ]
    import_aged(admin.registry(registry), tmp_path, dists)
    set_policy(admin, registry, keep_latest=1, exempt=["internal-*", "app==1.*"])
    assert filenames(preview(admin, registry)) == _wheels("app", "0.9")


def test_files_younger_than_min_age_are_never_deleted(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    for version in ("1.0", "2.0", "3.0"):
        path = tmp_path / version
        path.mkdir()
        admin.publish(registry, write_wheel(Dist("fresh", version), path))
    set_policy(admin, registry, keep_latest=1)  # min_age_hours defaults to 1
    assert preview(admin, registry)["files"] == []
    set_policy(admin, registry, keep_latest=1, min_age_hours=0)
    assert filenames(preview(admin, registry)) == _wheels("fresh", "1.0", "2.0")


def test_a_run_deletes_as_a_user_would_and_the_audit_log_says_so(
    organization: Organization, admin: Api, registry: str, tmp_path: Path
) -> None:
    dists = [(Dist("logged", v), 10) for v in ("1.0", "2.0")]
    import_aged(admin.registry(registry), tmp_path, dists)
    set_policy(admin, registry, keep_latest=1)
    auditor = api(organization, organization.token("read_registries", "read_audit_events"))
    run(admin, registry)

    doomed = Dist("logged", "1.0").wheel_filename
    assert index_files(admin, registry, "logged") == _wheels("logged", "2.0")
    found = auditor.call(
        "GET",
        f"/v2/organizations/{organization.slug}/audit-events",
        params={"type": "PACKAGE_DELETED", "registry": registry},
    ).json()["items"]
    assert [e["subject"]["name"] for e in found] == [doomed], found


def test_a_policy_with_a_bad_rule_is_refused_with_what_to_fix(admin: Api, registry: str) -> None:
    answer = set_policy(admin, registry, expect=422, keep_latest=0)
    assert "keep_latest" in str(answer)
    answer = set_policy(admin, registry, expect=422, exempt=["app=="])
    assert "exempt" in str(answer)
    assert admin.call("GET", f"/registries/{registry}/retention").json()["keep_latest"] is None


def test_a_reader_may_not_preview_or_run_retention(
    organization: Organization, admin: Api, registry: str
) -> None:
    reader = api(organization, organization.token("read_registries", "read_packages"))
    set_policy(admin, registry, keep_latest=1)
    reader.call("POST", f"/registries/{registry}/retention/run", expect=403)
    reader.call("POST", f"/registries/{registry}/retention/preview", expect=403)
    assert reader.call("GET", f"/registries/{registry}/retention").json()["keep_latest"] == 1


def test_the_command_line_sets_previews_and_runs_a_policy(
    admin: Api, registry: str, tmp_path: Path
) -> None:
    yard = admin.yard
    import_aged(admin.registry(registry), tmp_path, [(Dist("cmd", v), 9) for v in "123"])
    org = admin.organization
    yard.cli("retention", "set", org, registry, "--keep-latest", "1", "--exempt", "other-*")
    rest = admin.call("GET", f"/registries/{registry}/retention").json()
    assert (rest["keep_latest"], rest["exempt"]) == (1, ["other-*"])

    planned = json.loads(yard.cli("retention", "preview", org, registry, "--json").stdout)
    assert planned["files"] == preview(admin, registry)["files"]
    assert filenames(planned) == _wheels("cmd", "1", "2")
    done = json.loads(yard.cli("retention", "run", org, registry, "--json").stdout)
    assert filenames(done) == filenames(planned)
    assert done["files_deleted"] == 2
    assert index_files(admin, registry, "cmd") == _wheels("cmd", "3")

    refused = yard.cli("retention", "set", org, registry, "--keep-latest", "0", check=False)
    assert refused.returncode == 1
    assert "keep_latest must be at least 1" in refused.stderr
