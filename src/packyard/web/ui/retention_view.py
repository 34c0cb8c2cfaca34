"""What a source registry's Retention sections show (``templates/_retention.html``): the
storage it uses, in all and per project against its quota, the policy, a preview when one
was asked for, and the latest runs. The Retention page and the registry page's Retention
tab show the same sections, built here."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from packyard.core.models import Principal, Registry
from packyard.core.retention import ProjectUsage, RetentionPolicy, RetentionRun, StorageUsage
from packyard.services.retention import RetentionPreview
from packyard.web.deps import services_of

RETENTION_SUFFIX = "/retention"  # the Retention page and its forms, under the registry's
CONFIRM = "delete"  # what the Run form's confirmation box sends
PROJECTS_SHOWN = 50  # the largest projects listed; the REST usage lists every one


@dataclass(frozen=True)
class RetentionView:
    url: str  # where the forms post (the Retention page's routes)
    policy: RetentionPolicy
    has_policy: bool
    usage: StorageUsage
    projects: list[ProjectUsage]
    runs: list[RetentionRun]
    preview: RetentionPreview | None
    confirm: str = CONFIRM


async def retention_view(
    request: Request,
    registry: Registry,
    principal: Principal,
    registry_page: str,
    *,
    preview: RetentionPreview | None = None,
    form: RetentionPolicy | None = None,
) -> RetentionView:
    """The sections for ``registry`` as ``principal`` may see them (``write_registries``;
    raises PermissionDenied otherwise); ``registry_page`` is the registry page's URL, under
    which the forms post; ``form`` is a policy sent back with an error."""
    retention = services_of(request).retention
    overview = await run_in_threadpool(
        retention.overview, principal, registry.organization_slug, registry.slug
    )
    return RetentionView(
        url=registry_page + RETENTION_SUFFIX,
        policy=form or overview.policy or RetentionPolicy(),
        has_policy=overview.policy is not None,
        usage=overview.usage,
        projects=list(overview.usage.projects[:PROJECTS_SHOWN]),
        runs=list(overview.runs),
        preview=preview,
    )
