"""HTTP details the security probe found wrong (F9, F18): an organization a visitor cannot
see into answers like a missing one, 405 names the allowed methods, ``If-None-Match: *``
answers 304, the organization links of REST answers lead somewhere, and a file part
without a file name is named as such."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.builders import Dist, write_wheel
from tests.support.driver import Organization, new_organization
from tests.support.server import PackyardServer


def test_an_organization_without_public_registries_answers_like_a_missing_one(
    yard: PackyardServer,
) -> None:
    hidden = new_organization(yard, "hidden")
    hidden.registry("Private only")
    seen = httpx.get(f"{yard.base_url}/organizations/{hidden.slug}/packages")
    missing = httpx.get(f"{yard.base_url}/organizations/nope-{hidden.slug}/packages")
    assert seen.status_code == missing.status_code == 404
    assert seen.text.replace(hidden.slug, "SLUG") == missing.text.replace(
        f"nope-{hidden.slug}", "SLUG"
    )


def test_405_names_every_allowed_method(yard: PackyardServer) -> None:
    response = httpx.request("OPTIONS", f"{yard.base_url}/sign-in")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


def test_if_none_match_star_on_an_existing_page_is_304(
    yard: PackyardServer, org: Organization
) -> None:
    registry = org.registry("Starred", public=True)
    assert registry.get("", headers={"If-None-Match": "*"}).status_code == 304


def test_organization_links_lead_to_its_registries(
    yard: PackyardServer, org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("Linked", public=True)
    body = registry.publish(
        write_wheel(Dist("linked", "1.0"), tmp_path), org.token("write_packages")
    )
    page = httpx.get(body.json()["organization"]["web_url"], follow_redirects=True)
    assert page.status_code == 200
    assert "Linked" in page.text


def test_a_file_part_without_a_file_name_is_named(
    yard: PackyardServer, org: Organization, tmp_path: Path
) -> None:
    registry = org.registry("Nameless")
    wheel = write_wheel(Dist("nameless", "1.0"), tmp_path)
    response = httpx.post(
        registry.publish_url,
        headers={"Authorization": f"Bearer {org.token('write_packages')}"},
        files={"file": ("", wheel.read_bytes())},
    )
    assert response.status_code == 400
    assert "has no file name" in response.json()["message"]
