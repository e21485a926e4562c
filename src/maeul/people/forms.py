"""Web forms for the registry. They collect input; the pydantic schemas and the services validate it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maeul.people.models import CareLevel, ConsentMethod, ConsentPurpose, HouseholdStatus, HousingType, Sex
from maeul.people.schemas import CONDITION_CODES

CONDITION_LABELS = {
    "dementia": _("Dementia"),
    "disability_physical": _("Physical disability"),
    "disability_intellectual": _("Intellectual disability"),
    "disability_visual": _("Visual impairment"),
    "disability_hearing": _("Hearing impairment"),
    "chronic_heart": _("Heart disease"),
    "diabetes": _("Diabetes"),
    "hypertension": _("High blood pressure"),
    "stroke": _("Stroke"),
    "mental_health": _("Mental health"),
    "mobility": _("Limited mobility"),
    "hearing_loss": _("Hearing loss"),
    "other": _("Other"),
}
FLAG_LABELS = {
    "living_alone": _("Living alone"),
    "older_adult": _("Older adult (65+)"),
    "disability": _("Disability"),
    "chronic_illness": _("Chronic illness"),
    "bedridden": _("Bedridden"),
    "financial_crisis": _("Financial crisis"),
}


class HouseholdFieldsForm(forms.Form):
    area_code = forms.ChoiceField(label=_("Eup/myeon/dong"))
    address = forms.CharField(
        label=_("Address (road name)"), max_length=200, help_text=_("e.g. 서울특별시 종로구 자하문로 92")
    )
    address_detail = forms.CharField(label=_("Unit / floor"), max_length=100, required=False)
    latitude = forms.FloatField(label=_("Latitude"), required=False)
    longitude = forms.FloatField(label=_("Longitude"), required=False)
    housing_type = forms.ChoiceField(label=_("Housing type"), choices=HousingType.choices)
    living_alone = forms.BooleanField(label=FLAG_LABELS["living_alone"], required=False)
    older_adult = forms.BooleanField(label=FLAG_LABELS["older_adult"], required=False)
    disability = forms.BooleanField(label=FLAG_LABELS["disability"], required=False)
    chronic_illness = forms.BooleanField(label=FLAG_LABELS["chronic_illness"], required=False)
    bedridden = forms.BooleanField(label=FLAG_LABELS["bedridden"], required=False)
    financial_crisis = forms.BooleanField(label=FLAG_LABELS["financial_crisis"], required=False)
    care_level = forms.TypedChoiceField(label=_("Care level"), choices=CareLevel.choices, coerce=int)

    def __init__(self, *args: Any, area_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area_field = self.fields["area_code"]
        assert isinstance(area_field, forms.ChoiceField)
        area_field.choices = area_choices


class PersonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    birth_year = forms.IntegerField(label=_("Birth year"), required=False, min_value=1900)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False, help_text=_("e.g. 010-1234-5678"))
    conditions = forms.MultipleChoiceField(
        label=_("Conditions (sensitive)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(c, CONDITION_LABELS[c]) for c in CONDITION_CODES],
    )
    condition_note = forms.CharField(
        label=_("Condition note (sensitive)"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RegisterForm(HouseholdFieldsForm, PersonForm):
    guardian_name = forms.CharField(label=_("Guardian / emergency contact name"), max_length=60, required=False)
    guardian_relation = forms.CharField(label=_("Relation"), max_length=40, required=False)
    guardian_phone = forms.CharField(label=_("Guardian phone"), max_length=20, required=False)
    consent_given_on = forms.DateField(
        label=_("Consent to the care registry given on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    consent_method = forms.ChoiceField(label=_("How consent was given"), choices=ConsentMethod.choices)


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    relation = forms.CharField(label=_("Relation"), max_length=40)
    phone = forms.CharField(label=_("Phone"), max_length=20)
    receives_alerts = forms.BooleanField(label=_("Receives alerts"), required=False)


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    method = forms.ChoiceField(label=_("How consent was given"), choices=ConsentMethod.choices)
    given_on = forms.DateField(
        label=_("Given on"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=HouseholdStatus.choices)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


class ExportForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need this download?"),
        max_length=300,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
