"""Typed inputs for registry actions, shared by the web forms, the CSV import and the API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from maeul.people.models import CareLevel, ConsentMethod, ConsentPurpose, HouseholdStatus, HousingType, Sex
from maeul.protection.phone import checked_phone

CONDITION_CODES = (
    "dementia",
    "disability_physical",
    "disability_intellectual",
    "disability_visual",
    "disability_hearing",
    "chronic_heart",
    "diabetes",
    "hypertension",
    "stroke",
    "mental_health",
    "mobility",
    "hearing_loss",
    "other",
)


def _phone(value: str | None) -> str | None:
    if value is None or value.strip() == "":
        return None
    return checked_phone(value)


class PersonInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=60)
    birth_year: int | None = Field(None, ge=1900, le=2100)
    sex: Sex = Sex.OTHER
    phone: str | None = None
    conditions: list[str] = Field(default_factory=list)
    condition_note: str = Field("", max_length=500)

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, value: str | None) -> str | None:
        return _phone(value)

    @field_validator("birth_year")
    @classmethod
    def _not_future(cls, value: int | None) -> int | None:
        if value is not None and value > date.today().year:
            raise ValueError("birth year is in the future")
        return value

    @field_validator("conditions")
    @classmethod
    def _known_conditions(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(CONDITION_CODES))
        if unknown:
            raise ValueError(f"unknown condition code(s) {unknown}; known: {', '.join(CONDITION_CODES)}")
        return sorted(set(value))


class ContactInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=60)
    relation: str = Field(min_length=1, max_length=40)
    phone: str
    receives_alerts: bool = False

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, value: str) -> str:
        result = _phone(value)
        if result is None:
            raise ValueError("a contact needs a phone number")
        return result


class ConsentInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: ConsentPurpose
    method: ConsentMethod = ConsentMethod.WRITTEN
    given_on: date

    @field_validator("given_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("consent cannot be dated in the future")
        return value


class HouseholdFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    area_code: str = Field(pattern=r"^\d{10}$")
    address: str = Field(min_length=4, max_length=200)
    address_detail: str = Field("", max_length=100)
    latitude: float | None = Field(None, ge=33.0, le=38.7)
    longitude: float | None = Field(None, ge=124.5, le=132.0)
    housing_type: HousingType = HousingType.OTHER
    living_alone: bool = False
    older_adult: bool = False
    disability: bool = False
    chronic_illness: bool = False
    bedridden: bool = False
    financial_crisis: bool = False
    care_level: CareLevel = CareLevel.LOW


class HouseholdInput(HouseholdFields):
    primary_person: PersonInput
    contacts: list[ContactInput] = Field(default_factory=list, max_length=5)
    consents: list[ConsentInput] = Field(default_factory=list)


class HouseholdChange(BaseModel):
    """A partial update: only the fields given change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    area_code: str | None = Field(None, pattern=r"^\d{10}$")
    address: str | None = Field(None, min_length=4, max_length=200)
    address_detail: str | None = Field(None, max_length=100)
    latitude: float | None = Field(None, ge=33.0, le=38.7)
    longitude: float | None = Field(None, ge=124.5, le=132.0)
    housing_type: HousingType | None = None
    living_alone: bool | None = None
    older_adult: bool | None = None
    disability: bool | None = None
    chronic_illness: bool | None = None
    bedridden: bool | None = None
    financial_crisis: bool | None = None
    care_level: CareLevel | None = None


class StatusInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: HouseholdStatus
    reason: str = Field("", max_length=200)
