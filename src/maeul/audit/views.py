from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit import services
from maeul.audit.models import AuditAction, AuditEntry


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=gettext_lazy("User"), required=False)
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False, choices=[("", "—"), *AuditAction.choices])
    household = forms.IntegerField(label=gettext_lazy("Household ID"), required=False)
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ExportReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why do you need this download?"), min_length=5, max_length=300)


def _entries(request: HttpRequest, form: AuditFilterForm) -> QuerySet[AuditEntry]:
    principal = request_principal(request)
    d = form.cleaned_data if form.is_valid() else {}
    tz = timezone.get_current_timezone()
    since = datetime.combine(d["since"], time.min, tz) if d.get("since") else None
    until = datetime.combine(d["until"], time.max, tz) if d.get("until") else None
    return services.entries_for_site(
        principal.site_id or 0,
        actor_username=d.get("actor") or "",
        action=d.get("action") or "",
        household_id=d.get("household"),
        since=since,
        until=until,
    )


@requires(Resource.AUDIT, Action.VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    page = Paginator(_entries(request, form), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/audit_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "export_form": ExportReasonForm()},
    )


@requires(Resource.AUDIT, Action.EXPORT)
def audit_export(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    reason_form = ExportReasonForm(request.POST or None)
    if request.method == "POST" and reason_form.is_valid():
        entries = _entries(request, form)
        actor = services.Actor.from_request(request, request_principal(request))
        content = services.export_csv(entries)
        services.log(
            actor, AuditAction.EXPORT, "audit", record_count=entries.count(), reason=reason_form.cleaned_data["reason"]
        )
        response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="access-records-{timezone.localdate():%Y%m%d}.csv"'
        return response
    return render(request, "audit/audit_export.html", {"form": reason_form, "query": request.GET.urlencode()})
