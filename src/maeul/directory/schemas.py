"""Typed inputs for directory actions, shared by the web forms and the API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from maeul.directory.models import DisabilityRule, NeedDomain, ServiceStatus


class OrganizationInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=300)
    alternate_name: str = Field("", max_length=300)
    description: str = Field("", max_length=5000)
    email: str = Field("", max_length=254, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")
    website: str = Field("", max_length=500, pattern=r"^(https?://\S+)?$")


class ServiceInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=5000)
    status: ServiceStatus = ServiceStatus.ACTIVE
    needs: list[NeedDomain] = Field(default_factory=list)
    minimum_age: int | None = Field(None, ge=0, le=150)
    maximum_age: int | None = Field(None, ge=0, le=150)
    income_ceiling_percent: int | None = Field(None, ge=0, le=1000)
    disability: DisabilityRule = DisabilityRule.ANY
    area_codes: list[str] = Field(default_factory=list)
    capacity: int | None = Field(None, ge=0)
    eligibility_description: str = Field("", max_length=5000)
    application_process: str = Field("", max_length=5000)

    @model_validator(mode="after")
    def _ages_in_order(self) -> ServiceInput:
        if self.minimum_age is not None and self.maximum_age is not None and self.minimum_age > self.maximum_age:
            raise ValueError("the minimum age is above the maximum age")
        return self
