"""Forms of the officials' safety-net pages; they only collect input, the schemas validate it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from maeul.safetynet.models import (
    AssignmentRole,
    CheckInKind,
    DayPart,
    HelperKind,
    RecordKind,
    Skill,
    Weekday,
)
from maeul.safetynet.schemas import LANGUAGE_CODES

SLOT_CHOICES = [(f"{day.value}:{part.value}", f"{day.label} {part.label}") for day in Weekday for part in DayPart]


def _choices(form: forms.Form, name: str, choices: list[tuple[Any, Any]]) -> None:
    """Choices known only per request (the actor's areas, the site's accounts)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class HelperForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=HelperKind.choices)
    name = forms.CharField(label=_("Name"), max_length=60)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    area_codes = forms.MultipleChoiceField(label=_("Areas covered"), widget=forms.CheckboxSelectMultiple)
    skills = forms.MultipleChoiceField(
        label=_("Skills"), choices=Skill.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=[(c, c) for c in LANGUAGE_CODES],
        initial=["ko"],
        widget=forms.CheckboxSelectMultiple,
    )
    availability = forms.MultipleChoiceField(
        label=_("Available"), choices=SLOT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    max_households = forms.IntegerField(label=_("Maximum households"), min_value=1, max_value=60, initial=5)
    latitude = forms.FloatField(label=_("Home latitude"), required=False)
    longitude = forms.FloatField(label=_("Home longitude"), required=False)
    consent_given_on = forms.DateField(
        label=_("Consent given on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    account_id = forms.TypedChoiceField(label=_("Login account"), coerce=int, required=False, empty_value=None)
    coordinator_id = forms.TypedChoiceField(
        label=_("Coordinating official"), coerce=int, required=False, empty_value=None
    )

    def __init__(
        self,
        *args: Any,
        areas: list[tuple[str, str]],
        accounts: list[tuple[int, str]],
        officials: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        none: list[tuple[Any, Any]] = [("", _("None"))]
        _choices(self, "area_codes", areas)
        _choices(self, "account_id", [*none, *accounts])
        _choices(self, "coordinator_id", [*none, *officials])


class RecordForm(forms.Form):
    kind = forms.ChoiceField(label=_("Record"), choices=RecordKind.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    completed_on = forms.DateField(label=_("Completed on"), widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class AssignForm(forms.Form):
    helper_id = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("Role"), choices=AssignmentRole.choices)


class ScheduleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CheckInKind.choices)
    interval_days = forms.IntegerField(label=_("Every (days)"), min_value=1, max_value=90, initial=7)
    first_due_on = forms.DateField(
        label=_("First due on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class HandoverForm(forms.Form):
    from_user_id = forms.TypedChoiceField(label=_("Official leaving the post"), coerce=int)
    to_user_id = forms.TypedChoiceField(label=_("Successor"), coerce=int)

    def __init__(self, *args: Any, officials: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "from_user_id", officials)
        _choices(self, "to_user_id", officials)
