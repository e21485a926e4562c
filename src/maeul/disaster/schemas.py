"""Typed inputs for disaster actions, shared by the web forms and the API."""

from __future__ import annotations

from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, field_validator

from maeul.disaster.catalogue import template_error
from maeul.disaster.models import Audience, ContactMethod, EntryStatus, Hazard, Level, Preparedness

MAX_ID = 2**62


class ManualActivation(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    hazard: Hazard
    level: Level = Level.NONE
    title: str = Field(min_length=1, max_length=200)
    area_codes: list[str] = Field(min_length=1, max_length=200)
    instruction: str = Field("", max_length=2000)

    @field_validator("area_codes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if len(c) != 10 or not c.isdigit()]
        if bad:
            raise ValueError(f"not 10-digit administrative codes: {', '.join(bad[:5])}")
        return sorted(set(value))


class ContactInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    result: EntryStatus
    method: ContactMethod = ContactMethod.PHONE
    note: str = Field("", max_length=1000)
    has_cooling: Preparedness | None = None
    has_heating: Preparedness | None = None
    needs_evacuation_help: bool | None = None

    @field_validator("result")
    @classmethod
    def _not_pending(cls, value: EntryStatus) -> EntryStatus:
        if value == EntryStatus.PENDING:
            raise ValueError("record what happened: reached and fine, needs help, evacuated, or not reached")
        return value


class PlanInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reach_within_minutes: int = Field(ge=10, le=7 * 24 * 60)
    escalation_minutes: list[int] = Field(min_length=1, max_length=3)
    indoor_celsius: float | None = Field(None, ge=-20, le=50)
    message_assignment: str = Field(min_length=1, max_length=1000)
    message_update: str = Field(min_length=1, max_length=1000)
    message_cancel: str = Field(min_length=1, max_length=1000)
    message_overdue: str = Field(min_length=1, max_length=1000)
    message_guardian: str = Field(min_length=1, max_length=1000)

    @field_validator("escalation_minutes")
    @classmethod
    def _steps(cls, value: list[int]) -> list[int]:
        if any(m < 0 or m > 24 * 60 for m in value):
            raise ValueError("each step is 0 to 1440 minutes after the deadline")
        if any(b <= a for a, b in pairwise(value)):
            raise ValueError("steps must be strictly increasing (officials, then guardians, then the duty line)")
        return value

    @field_validator("message_assignment", "message_update", "message_cancel", "message_overdue", "message_guardian")
    @classmethod
    def _template(cls, value: str) -> str:
        problem = template_error(value)
        if problem:
            raise ValueError(problem)
        return value


class PlanItemInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    audience: Audience
    text_ko: str = Field(min_length=1, max_length=300)
    text_en: str = Field("", max_length=300)


class ZoneInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str = Field(min_length=1, max_length=100)
    area_codes: list[str] = Field(min_length=1, max_length=200)


class SourceInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=80)
    kind: str = Field(pattern=r"^(push|poll)$")
    url: str = Field("", max_length=500)
    poll_minutes: int = Field(2, ge=1, le=1440)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("the feed address must start with https:// (or http:// for a server on this network)")
        return value


class LessonInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    area_code: str = Field(pattern=r"^\d{10}$")
    text: str = Field(min_length=1, max_length=200)
    make_task: bool = True
