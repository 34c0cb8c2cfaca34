"""A registry's Retention page in the web UI, over HTTP with a signed-in admin's session
(the forms as a browser sends them): the storage it uses, the policy form, a preview that
lists exactly the files the confirmed run then deletes, and the run's summary."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.builders import Dist
from tests.support.driver import Api, Organization
from tests.support.retention import filenames, import_aged, index_files, preview, set_policy
from tests.support.teams import PASSWORD, create_user
from tests.support.web_forms import WebSession, form_to

REG = "/organizations/{org}/packages/registries/{registry}"


@pytest.fixture(scope="module")
def session(organization: Organization) -> Iterator[WebSession]:
    email = create_user(organization, "retention-admin", admin=True)
    web = WebSession(organization.yard.base_url)
    web.sign_in(email, PASSWORD, f"/organizations/{organization.slug}")
    yield web
    web.close()


def _page(organization: Organization, registry: str) -> str:
    return REG.format(org=organization.slug, registry=registry) + "/retention"


def _cells(html: str, css_class: str) -> list[str]:
    return re.findall(rf'<td class="{css_class}">([^<]*)</td>', html)


def test_the_registry_page_has_a_retention_tab_with_the_retention_sections(
    session: WebSession, organization: Organization, registry: str
) -> None:
    url = REG.format(org=organization.slug, registry=registry)
    page = session.get(f"{url}?tab=retention").text
    assert 'id="tab-retention"' in page
    assert 'id="panel-retention"' in page
    for section in ("storage-total", "retention-policy", "retention-preview", "retention-runs"):
        assert f'id="{section}"' in page
    # Its forms post to the Retention routes.
    assert form_to(page, _page(organization, registry)) is not None
    settings = session.get(f"{url}?tab=settings").text
    assert f'href="{_page(organization, registry)}" id="retention-link"' in settings


def test_saving_the_policy_form_sets_the_policy_rest_reads(
    session: WebSession, organization: Organization, admin: Api, registry: str
) -> None:
    page = _page(organization, registry)
    form = form_to(session.get(page).text, page)
    assert form is not None
    answer = session.submit(
        form,
        keep_latest="2",
        prereleases_max_age_days="30",
        not_downloaded_days="",
        exempt="core-*\nweb==1.*\n",
        min_age_hours="0",
    )
    assert answer.status_code == 303, answer.text
    policy = admin.call("GET", f"/registries/{registry}/retention").json()
    assert policy == {
        "keep_latest": 2,
        "prereleases_max_age_days": 30,
        "not_downloaded_days": None,
        "exempt": ["core-*", "web==1.*"],
        "min_age_hours": 0.0,
    }
    shown = session.get(page).text
    assert 'name="keep_latest" type="number" min="1" step="1" value="2"' in shown


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"keep_latest": "0"}, "keep_latest must be at least 1"),
        ({"keep_latest": "two"}, "keep_latest must be a whole number"),
        ({"min_age_hours": "soon"}, "min_age_hours must be a number of hours"),
    ],
)
def test_a_bad_policy_is_refused_with_the_problem_and_nothing_saved(
    session: WebSession,
    organization: Organization,
    admin: Api,
    registry: str,
    typed: dict[str, str],
    message: str,
) -> None:
    page = _page(organization, registry)
    form = form_to(session.get(page).text, page)
    assert form is not None
    answer = session.submit(form, **typed)
    assert answer.status_code == 422
    assert message in answer.text
    assert admin.call("GET", f"/registries/{registry}/retention").json()["keep_latest"] is None


def test_the_preview_lists_what_the_confirmed_run_deletes_and_the_summary_shows_it(
    session: WebSession, organization: Organization, admin: Api, registry: str, tmp_path: Path
) -> None:
    dists = [(Dist("app", v), 10) for v in ("1.0", "1.1", "2.0", "3.0")]
    import_aged(admin.registry(registry), tmp_path, dists)
    set_policy(admin, registry, keep_latest=2)
    expected = filenames(preview(admin, registry))
    page = _page(organization, registry)

    before = session.get(page).text
    assert "4 files" in before  # the storage card counts every file
    shown = form_to(before, page + "/preview")
    assert shown is not None
    previewed = session.submit(shown)
    assert previewed.status_code == 200
    assert sorted(_cells(previewed.text, "filename")) == expected
    assert "would delete <strong>2</strong> files" in previewed.text

    run = form_to(previewed.text, page + "/run")
    assert run is not None
    unconfirmed = session.submit(run)  # the box left unticked: nothing is deleted
    assert unconfirmed.status_code == 422
    assert "Tick the box" in unconfirmed.text
    assert index_files(admin, registry, "app") == sorted(
        Dist("app", v).wheel_filename for v in ("1.0", "1.1", "2.0", "3.0")
    )

    assert session.submit(run, confirm="delete").status_code == 303
    assert index_files(admin, registry, "app") == sorted(
        Dist("app", v).wheel_filename for v in ("2.0", "3.0")
    )
    after = session.get(page).text
    assert _cells(after, "files-deleted") == ["2"]
    assert "2 files" in after


def test_a_composite_registry_has_no_retention_page(
    session: WebSession, organization: Organization, admin: Api, registry: str
) -> None:
    composite = admin.create_registry("Retention composite", type="composite", upstreams=[registry])
    page = _page(organization, composite["slug"])
    assert session.get(page).status_code == 400
