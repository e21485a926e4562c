"""Per-site settings: one typed, validated document shared by the web form and the API."""

from __future__ import annotations

from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from maeul.protection.phone import checked_phone

# PIPA: access records of systems holding sensitive data are kept at least two years.
AUDIT_RETENTION_FLOOR_DAYS = 730


class SiteSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inactivity_alert_hours: float = Field(8.0, ge=1, le=48, description="Hours without activity before a check")
    escalation_minutes: list[int] = Field(
        default_factory=lambda: [15, 30, 60],
        description="Minutes after an unacknowledged alert at which it moves to the next person in the chain",
    )
    inactivity_ceiling_hours: float = Field(
        12.0, ge=2, le=48, description="Never wait longer than this without activity, whatever a household's habits"
    )
    inactivity_night_ceiling_hours: float = Field(
        16.0,
        ge=2,
        le=48,
        description="The same for a silence that is a household's usual night, once its nights are learned",
    )
    inactivity_missing_sensor_hold_hours: float = Field(
        12.0,
        ge=0,
        le=48,
        description="While one activity sensor is missing and the rest of the home reports, inactivity counts only "
        "what every sensor saw, for a spell of at most this long (0: never wait for a missing sensor)",
    )
    office_hours_start: int = Field(9, ge=0, le=23, description="Office hours on working days begin (hour)")
    office_hours_end: int = Field(
        18, ge=1, le=24, description="Office hours end (hour); outside them, the on-call roster is reached"
    )
    round_the_clock_contact_name: str = Field(
        "", max_length=80, description="Who is reached when nobody acknowledges a critical alert (24 hours)"
    )
    round_the_clock_contact_phone: str = Field(
        "", max_length=20, description="The duty line reachable 24 hours (an office number, not a person's own)"
    )
    indoor_heat_alert_celsius: float = Field(32.0, ge=20, le=45)
    indoor_cold_alert_celsius: float = Field(10.0, ge=-10, le=25)
    audit_retention_days: int = Field(AUDIT_RETENTION_FLOOR_DAYS, ge=AUDIT_RETENTION_FLOOR_DAYS, le=3650)
    personal_data_retention_days: int = Field(
        1825, ge=30, le=3650, description="Days a moved, deceased or withdrawn household's personal data is kept"
    )
    check_in_reminder_days: int = Field(7, ge=1, le=90)
    hazard_target_days: int = Field(7, ge=1, le=60, description="Days to process a hazard report (Safety e-Report: 7)")
    hazard_contact_retention_days: int = Field(
        365, ge=30, le=3650, description="Days a closed hazard report keeps its reporter's and followers' contacts"
    )
    hazard_duplicate_radius_m: int = Field(
        50, ge=10, le=500, description="Open reports of the same category this close are offered as duplicates"
    )

    @field_validator("escalation_minutes")
    @classmethod
    def _strictly_increasing(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("at least one escalation step is needed")
        if any(m <= 0 or m > 24 * 60 for m in value):
            raise ValueError("each step must be between 1 and 1440 minutes")
        if any(b <= a for a, b in pairwise(value)):
            raise ValueError("steps must be strictly increasing")
        return value

    @field_validator("round_the_clock_contact_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return checked_phone(value) if value.strip() else ""

    @model_validator(mode="after")
    def _night_ceiling(self) -> SiteSettings:
        if self.inactivity_night_ceiling_hours < self.inactivity_ceiling_hours:
            raise ValueError("the night ceiling cannot be shorter than the ceiling")
        return self

    @model_validator(mode="after")
    def _office_hours(self) -> SiteSettings:
        if self.office_hours_end <= self.office_hours_start:
            raise ValueError("office hours must end after they begin")
        return self

    @model_validator(mode="after")
    def _heat_above_cold(self) -> SiteSettings:
        if self.indoor_cold_alert_celsius >= self.indoor_heat_alert_celsius:
            raise ValueError("the cold threshold must be below the heat threshold")
        return self
