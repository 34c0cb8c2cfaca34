"""A source registry's retention policy: get and replace it, preview what it deletes, run
it now, and the summaries of past runs (docs/retention.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from packyard.core.permissions import Disclosure
from packyard.core.retention import Doomed, RetentionPolicy, RetentionRun
from packyard.web.api import schemas
from packyard.web.api.common import ERRORS, PREFIX, Caller, operation_id
from packyard.web.deps import services_of

router = APIRouter(
    prefix=f"{PREFIX}/registries/{{registry}}/retention",
    tags=["retention"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


def policy_out(policy: RetentionPolicy | None) -> schemas.RetentionPolicyOut:
    """The policy as REST shows it; no policy shows every rule off."""
    policy = policy or RetentionPolicy()
    return schemas.RetentionPolicyOut(
        keep_latest=policy.keep_latest,
        prereleases_max_age_days=policy.prereleases_max_age_days,
        not_downloaded_days=policy.not_downloaded_days,
        exempt=list(policy.exempt),
        min_age_hours=policy.min_age_hours,
    )


def files_out(files: list[Doomed]) -> list[schemas.RetentionFileOut]:
    return [
        schemas.RetentionFileOut(
            id=d.file.package_id,
            project=d.file.project,
            version=d.file.version,
            filename=d.file.filename,
            size=d.file.size,
            reason=d.reason,
        )
        for d in files
    ]


@router.get("", summary="Get the retention policy (read_registries)")
async def get_retention(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.RetentionPolicyOut:
    retention = services_of(request).retention
    policy = await run_in_threadpool(
        retention.policy, principal, organization, registry, Disclosure.API
    )
    return policy_out(policy)


@router.put("", summary="Set the retention policy (write_registries)")
async def put_retention(
    request: Request,
    organization: str,
    registry: str,
    body: schemas.RetentionPolicyIn,
    principal: Caller,
) -> schemas.RetentionPolicyOut:
    retention = services_of(request).retention
    policy = RetentionPolicy(**{**body.model_dump(), "exempt": tuple(body.exempt)})
    saved = await run_in_threadpool(
        retention.set_policy, principal, organization, registry, policy, Disclosure.API
    )
    return policy_out(saved)


@router.post("/preview", summary="List what the policy would delete now (write_registries)")
async def preview_retention(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.RetentionPreviewOut:
    retention = services_of(request).retention
    preview = await run_in_threadpool(
        retention.preview, principal, organization, registry, Disclosure.API
    )
    return schemas.RetentionPreviewOut(
        policy=policy_out(preview.policy) if preview.policy else None,
        files_count=len(preview.files),
        bytes=preview.bytes,
        files=files_out(preview.files),
    )


@router.post("/run", summary="Apply the policy now (write_registries and delete_packages)")
async def run_retention(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.RetentionRunResult:
    retention = services_of(request).retention
    outcome = await run_in_threadpool(
        retention.run, principal, organization, registry, Disclosure.API
    )
    return schemas.RetentionRunResult(**_run_fields(outcome.run), files=files_out(outcome.files))


@router.get("/runs", summary="Summaries of the latest runs, newest first (read_registries)")
async def retention_runs(
    request: Request, organization: str, registry: str, principal: Caller
) -> list[schemas.RetentionRunOut]:
    retention = services_of(request).retention
    runs = await run_in_threadpool(
        retention.runs, principal, organization, registry, Disclosure.API
    )
    return [schemas.RetentionRunOut(**_run_fields(run)) for run in runs]


def _run_fields(run: RetentionRun) -> dict[str, Any]:
    return {
        "trigger": run.trigger,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "files_deleted": run.files_deleted,
        "bytes_deleted": run.bytes_deleted,
    }


usage_router = APIRouter(
    prefix=f"{PREFIX}/registries/{{registry}}/usage",
    tags=["retention"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


@usage_router.get("", summary="Storage used, per project, and the quota (read_registries)")
async def registry_usage(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.StorageUsageOut:
    retention = services_of(request).retention
    usage = await run_in_threadpool(
        retention.usage, principal, organization, registry, Disclosure.API
    )
    return schemas.StorageUsageOut(
        bytes=usage.bytes,
        files=usage.files,
        quota_bytes=usage.quota_bytes,
        projects=[
            schemas.ProjectUsageOut(name=p.name, bytes=p.bytes, files=p.files)
            for p in usage.projects
        ],
    )
