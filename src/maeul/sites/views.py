from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import ValidationError

from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.protection import disclosure
from maeul.sites import services
from maeul.sites.models import Site
from maeul.sites.settings_schema import SiteSettings


class SettingsForm(forms.Form):
    inactivity_alert_hours = forms.FloatField(label=gettext_lazy("Hours without activity before a check"))
    escalation_minutes = forms.CharField(label=gettext_lazy("Escalation steps (minutes, comma-separated)"))
    inactivity_ceiling_hours = forms.FloatField(label=gettext_lazy("Longest wait without activity (hours)"))
    inactivity_night_ceiling_hours = forms.FloatField(
        label=gettext_lazy("Longest wait without activity at night, once a household's nights are learned (hours)")
    )
    inactivity_missing_sensor_hold_hours = forms.FloatField(
        label=gettext_lazy("Wait for a missing sensor before an inactivity alert, at most (hours; 0: never)")
    )
    office_hours_start = forms.IntegerField(label=gettext_lazy("Office hours begin (hour)"), min_value=0, max_value=23)
    office_hours_end = forms.IntegerField(label=gettext_lazy("Office hours end (hour)"), min_value=1, max_value=24)
    round_the_clock_contact_name = forms.CharField(
        label=gettext_lazy("24-hour contact for unanswered critical alerts"), required=False
    )
    round_the_clock_contact_phone = forms.CharField(label=gettext_lazy("24-hour duty line"), required=False)
    indoor_heat_alert_celsius = forms.FloatField(label=gettext_lazy("Indoor heat alert (°C)"))
    indoor_cold_alert_celsius = forms.FloatField(label=gettext_lazy("Indoor cold alert (°C)"))
    audit_retention_days = forms.IntegerField(label=gettext_lazy("Keep access records (days, at least 730)"))
    personal_data_retention_days = forms.IntegerField(
        label=gettext_lazy("Keep personal data after a household leaves (days)")
    )
    check_in_reminder_days = forms.IntegerField(label=gettext_lazy("Check-in reminder interval (days)"))


def _as_form(values: SiteSettings) -> dict[str, object]:
    data = values.model_dump()
    data["escalation_minutes"] = ", ".join(str(m) for m in values.escalation_minutes)
    return data


@requires(Resource.SITE_SETTINGS, Action.CHANGE)
def site_settings(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    site = get_object_or_404(Site, pk=principal.site_id)
    current = services.settings_of(site)
    form = SettingsForm(request.POST or None, initial=_as_form(current))
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        try:
            values["escalation_minutes"] = [int(x) for x in str(values["escalation_minutes"]).split(",") if x.strip()]
        except ValueError:
            form.add_error("escalation_minutes", _("Enter whole minutes separated by commas, e.g. 15, 30, 60."))
        else:
            try:
                services.update_settings(Actor.from_request(request, principal), site, values)
            except ValidationError as exc:
                for err in exc.errors():
                    name = str(err["loc"][0]) if err["loc"] else None
                    form.add_error(name if name in form.fields else None, err["msg"].removeprefix("Value error, "))
            else:
                messages.success(request, _("Site settings saved."))
                return redirect("site_settings")
    return render(request, "sites/settings.html", {"form": form, "site": site})


@requires(Resource.SITE, Action.VIEW)
def site_list(request: HttpRequest) -> HttpResponse:
    from maeul.accounts.policy import Scope
    from maeul.events.services import counts_by_site

    principal = request_principal(request)
    sites = services.sites_visible_to(principal.site_id, principal.scope(Resource.SITE, Action.VIEW) == Scope.ALL)
    counts = counts_by_site("household.")
    rows = [
        {
            "site": s,
            "areas": s.areas.count(),
            # Seen across sites (the ministry), a count of 1 to 4 is not shown.
            "registered": disclosure.shown_count(counts.get((s.pk, "household.registered"), 0)),
            "settings": json.dumps(s.settings, ensure_ascii=False),
        }
        for s in sites
    ]
    return render(request, "sites/site_list.html", {"rows": rows})
