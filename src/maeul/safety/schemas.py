"""Typed inputs shared by the web forms, the JSON API and Open311."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from maeul.protection.phone import checked_phone


def _phone_or_empty(value: str) -> str:
    return checked_phone(value) if value else ""


class AttributeValue(BaseModel):
    key: str
    name: str


class Attribute(BaseModel):
    """An extra question of a category: an Open311 service-definition attribute."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool = False
    variable: bool = True
    datatype_description: str = ""
    order: int = 1
    description: str
    values: list[AttributeValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lists_have_values(self) -> Attribute:
        if self.datatype.endswith("valuelist") and not self.values:
            raise ValueError(f"attribute {self.code}: a list needs values")
        return self


class ReportInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=5, max_length=2000)
    latitude: float | None = Field(None, ge=33.0, le=38.7)
    longitude: float | None = Field(None, ge=124.5, le=132.0)
    address: str = Field("", max_length=300)
    attributes: dict[str, str | list[str]] = Field(default_factory=dict)
    reporter_name: str = Field("", max_length=60)
    reporter_phone: str = Field("", max_length=20)
    reporter_email: str = Field("", max_length=200, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")

    @field_validator("reporter_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return _phone_or_empty(value)

    @model_validator(mode="after")
    def _both_coordinates(self) -> ReportInput:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class TriageInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    likelihood: int = Field(ge=1, le=5)
    severity: int = Field(ge=1, le=5)
    urgent: bool = False
    responder: str = Field(min_length=1, max_length=40)
    note: str = Field("", max_length=500)
    photos_public: bool = True


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["in_progress", "resolved", "rejected", "duplicate"]
    note: str = Field("", max_length=500)
    duplicate_of: str = ""

    @model_validator(mode="after")
    def _duplicate_needs_original(self) -> StatusChange:
        if self.status == "duplicate" and not self.duplicate_of:
            raise ValueError("say which report this one duplicates")
        if self.status in ("rejected", "resolved") and not self.note:
            raise ValueError("tell the reporter why, in a short public note")
        return self


class MemberInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    area_code: str = Field(pattern=r"^\d{10}$")
    name: str = Field(min_length=1, max_length=60)
    phone: str = Field("", max_length=20)
    email: str = Field("", max_length=200, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    kind: Literal["resident", "village_head", "shop_owner", "retired_official", "volunteer_firefighter", "other"]
    role: Literal["chair", "secretary", "member"] = "member"
    term_start: date
    term_end: date | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return _phone_or_empty(value)

    @model_validator(mode="after")
    def _term(self) -> MemberInput:
        if self.term_end is not None and self.term_end < self.term_start:
            raise ValueError("the term cannot end before it starts")
        return self


class MeetingInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    area_code: str = Field(pattern=r"^\d{10}$")
    held_at: datetime
    place: str = Field("", max_length=200)
    agenda: str = Field(min_length=1, max_length=5000)
    minutes: str = Field("", max_length=20000)
    attendee_ids: list[int] = Field(default_factory=list)
    decisions: list[str] = Field(default_factory=list, description="Each decision becomes an improvement task")

    @field_validator("held_at")
    @classmethod
    def _local_time(cls, value: datetime) -> datetime:
        # A form's datetime-local carries no zone: it is Korean time.
        return timezone.make_aware(value) if timezone.is_naive(value) else value

    @field_validator("decisions")
    @classmethod
    def _decisions(cls, value: list[str]) -> list[str]:
        cleaned = [d.strip() for d in value if d.strip()]
        if any(len(d) > 200 for d in cleaned):
            raise ValueError("a decision is a task title: at most 200 characters")
        return cleaned


class ActivityInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    area_code: str = Field(pattern=r"^\d{10}$")
    kind: Literal["patrol", "inspection", "campaign", "training", "other"]
    held_on: date
    hours: float = Field(gt=0, le=24)
    participant_ids: list[int] = Field(min_length=1)
    summary: str = Field("", max_length=5000)


class TaskInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    area_code: str = Field(pattern=r"^\d{10}$")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    source: Literal["report", "meeting", "inspection", "checklist", "review"]
    responder: str = Field("", max_length=40)
    budget_krw: int = Field(0, ge=0, le=100_000_000_000)
    plan_year: int = Field(ge=2020, le=2100)
    due_date: date | None = None
    report_references: list[str] = Field(default_factory=list)
    meeting_id: int | None = None
    activity_id: int | None = None


class TaskChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Literal["planned", "in_progress", "done", "cancelled"]
    responder: str = Field("", max_length=40)
    budget_krw: int = Field(0, ge=0, le=100_000_000_000)
    due_date: date | None = None
