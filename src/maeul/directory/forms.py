"""Web forms for the directory. They collect input; the pydantic schemas and the services validate it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from maeul.directory.models import DisabilityRule, NeedDomain, ServiceStatus

UPLOAD_LIMIT = 20 * 1024 * 1024


class SearchForm(forms.Form):
    need = forms.ChoiceField(label=_("Need"), required=False)
    area = forms.ChoiceField(label=_("Eup/myeon/dong"), required=False)
    age = forms.IntegerField(label=_("Age"), required=False, min_value=0, max_value=150)
    income = forms.IntegerField(
        label=_("Income (percent of median)"),
        required=False,
        min_value=0,
        max_value=1000,
        help_text=_("Household income as a percentage of the national median income (기준 중위소득)"),
    )
    disability = forms.ChoiceField(
        label=_("Disability"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Has a disability")), ("no", _("No disability"))],
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args: Any, area_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        need_field = self.fields["need"]
        area_field = self.fields["area"]
        assert isinstance(need_field, forms.ChoiceField) and isinstance(area_field, forms.ChoiceField)
        need_field.choices = [("", _("Any")), *NeedDomain.choices]
        area_field.choices = [("", _("Any")), *area_choices]


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    alternate_name = forms.CharField(label=_("Other name"), max_length=300, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    website = forms.URLField(label=_("Website"), max_length=500, required=False, assume_scheme="https")


class ServiceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=ServiceStatus.choices)
    needs = forms.MultipleChoiceField(
        label=_("Needs it meets"), choices=NeedDomain.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    minimum_age = forms.IntegerField(label=_("Minimum age"), required=False, min_value=0, max_value=150)
    maximum_age = forms.IntegerField(label=_("Maximum age"), required=False, min_value=0, max_value=150)
    income_ceiling_percent = forms.IntegerField(
        label=_("Income ceiling (percent of median)"),
        required=False,
        min_value=0,
        max_value=1000,
        help_text=_("Empty when income does not matter"),
    )
    disability = forms.ChoiceField(label=_("Disability"), choices=DisabilityRule.choices)
    area_codes = forms.MultipleChoiceField(
        label=_("Areas served"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the whole site"),
    )
    capacity = forms.IntegerField(label=_("Places"), required=False, min_value=0, help_text=_("Empty when not limited"))
    eligibility_description = forms.CharField(
        label=_("Who is eligible"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    application_process = forms.CharField(
        label=_("How to apply"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, area_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area_field = self.fields["area_codes"]
        assert isinstance(area_field, forms.MultipleChoiceField)
        area_field.choices = area_choices


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("HSDS file"),
        help_text=_(
            "JSON (a record, a _list page, a _package or the tabular package as JSON) or a zip of the CSV data package"
        ),
    )
    kind = forms.ChoiceField(
        label=_("Records in the JSON"),
        required=False,
        choices=[
            ("", _("Recognise automatically")),
            ("organization", _("Organizations")),
            ("service", _("Services")),
            ("service_at_location", _("Services at locations")),
            ("location", _("Locations")),
            ("taxonomy", _("Taxonomies")),
            ("taxonomy_term", _("Taxonomy terms")),
        ],
    )


class StaffForm(forms.Form):
    user_id = forms.TypedChoiceField(label=_("Partner staff account"), coerce=int)

    def __init__(self, *args: Any, accounts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = accounts
