"""Pydantic models of the webhook REST routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from packyard.core.webhooks import MAX_DESCRIPTION_LENGTH, MAX_URL_LENGTH


class WebhookCreate(BaseModel):
    url: str = Field(max_length=MAX_URL_LENGTH, description="http(s) URL the events are POSTed to")
    events: list[str] = Field(
        min_length=1,
        max_length=20,
        description="package.created, package.deleted, package.yanked, package.unyanked, "
        "registry.updated",
    )
    description: str = Field(default="", max_length=MAX_DESCRIPTION_LENGTH)
    secret: str | None = Field(
        default=None,
        max_length=200,
        description="whsec_ + base64 of 24-64 bytes; generated when left out",
    )


class WebhookUpdate(BaseModel):
    url: str | None = Field(default=None, max_length=MAX_URL_LENGTH)
    events: list[str] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_LENGTH)
    active: bool | None = Field(default=None, description="true turns a disabled hook back on")


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    disabled_reason: str | None = Field(description="Why it was turned off (410 Gone)")
    created_at: datetime


class NewWebhookOut(WebhookOut):
    secret: str = Field(description="The signing secret: shown in this response only")


class Queued(BaseModel):
    delivery_id: str


class AttemptOut(BaseModel):
    number: int
    at: datetime
    request_headers: dict[str, str]
    status: int | None = Field(description="The receiver's status; null when none came")
    response_headers: dict[str, str]
    response_body: str = Field(description="The first KiB of the answer")
    duration_ms: int
    error: str | None


class DeliveryOut(BaseModel):
    id: str = Field(description="The message id (webhook-id header)")
    event: str
    state: str = Field(description="pending, succeeded or failed")
    body: str = Field(description="The JSON sent")
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[AttemptOut]
