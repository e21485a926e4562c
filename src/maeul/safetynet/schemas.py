"""Typed inputs for safety-net actions, shared by the web forms, the phone page and the API."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from maeul.protection.phone import checked_phone
from maeul.safetynet.models import (
    AssignmentRole,
    CheckInKind,
    CheckInResult,
    CrisisSign,
    DayPart,
    HelperKind,
    RecordKind,
    Skill,
)

# Identifiers fit a 64-bit key (larger numbers are refused as invalid, not passed to the database).
MAX_ID = 2**62

LANGUAGE_CODES = ("ko", "en", "zh", "vi", "ja", "ru", "th", "tl", "mn", "uz", "km", "ne", "id", "ksl")


def _slot(value: str) -> str:
    weekday, _sep, part = value.partition(":")
    if not weekday.isdigit() or not 0 <= int(weekday) <= 6 or part not in DayPart.values:
        raise ValueError(f"“{value}” is not a time slot (weekday 0–6 and morning, afternoon or evening)")
    return f"{int(weekday)}:{part}"


class HelperInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: HelperKind
    name: str = Field(min_length=1, max_length=60)
    phone: str | None = None
    area_codes: list[str] = Field(min_length=1)
    skills: list[Skill] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=lambda: ["ko"])
    availability: list[str] = Field(default_factory=list)
    max_households: int = Field(5, ge=1, le=60)
    latitude: float | None = Field(None, ge=33.0, le=39.0)
    longitude: float | None = Field(None, ge=124.0, le=132.0)
    consent_given_on: date | None = None
    account_id: int | None = Field(None, ge=1, le=MAX_ID)
    coordinator_id: int | None = Field(None, ge=1, le=MAX_ID)

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        return checked_phone(value)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(LANGUAGE_CODES))
        if unknown:
            raise ValueError(f"unknown language codes: {', '.join(unknown)}")
        return list(dict.fromkeys(value))

    @field_validator("availability")
    @classmethod
    def _slots(cls, value: list[str]) -> list[str]:
        return sorted({_slot(v) for v in value})

    @model_validator(mode="after")
    def _both_coordinates(self) -> HelperInput:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class HelperRecordInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: RecordKind
    title: str = Field(min_length=1, max_length=120)
    completed_on: date
    expires_on: date | None = None

    @model_validator(mode="after")
    def _expires_after(self) -> HelperRecordInput:
        if self.expires_on is not None and self.expires_on < self.completed_on:
            raise ValueError("the expiry date is before the completion date")
        return self


class AssignmentInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    helper_id: int = Field(ge=1, le=MAX_ID)
    role: AssignmentRole = AssignmentRole.PRIMARY


class ScheduleInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CheckInKind
    interval_days: int = Field(ge=1, le=90)
    first_due_on: date | None = None
    helper_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="A set helper; empty follows the household's primary helper"
    )


class CheckInInput(BaseModel):
    """One check-in as the phone page sends it; ``client_id`` is generated on the phone and makes a retry safe."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    client_id: UUID
    household_id: int = Field(ge=1, le=MAX_ID)
    schedule_id: int | None = Field(None, ge=1, le=MAX_ID)
    kind: CheckInKind
    result: CheckInResult
    crisis_signs: list[CrisisSign] = Field(default_factory=list)
    note: str = Field("", max_length=2000)
    occurred_at: datetime

    @field_validator("crisis_signs")
    @classmethod
    def _unique_signs(cls, value: list[CrisisSign]) -> list[CrisisSign]:
        return list(dict.fromkeys(value))

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("the time needs a time zone")
        return value
