"""Registry pages. Thin: each view reads a form, calls a service and renders the result."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.events import services as events
from maeul.people import services
from maeul.people.errors import ImportRejected, NotFound, RegistryError
from maeul.people.forms import (
    CONDITION_LABELS,
    FLAG_LABELS,
    ConsentForm,
    ContactForm,
    ExportForm,
    HouseholdFieldsForm,
    ImportForm,
    PersonForm,
    RegisterForm,
    StatusForm,
)
from maeul.people.models import CareLevel, HouseholdStatus, HousingType
from maeul.people.schemas import (
    ConsentInput,
    ContactInput,
    HouseholdChange,
    HouseholdInput,
    PersonInput,
    StatusInput,
)


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


def _apply_errors(form: Any, exc: ValidationError | RegistryError) -> None:
    """Put schema or service errors on the form field they concern."""
    if isinstance(exc, RegistryError):
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        name = next((part for part in reversed(loc) if part in form.fields), None)
        form.add_error(name, err["msg"].removeprefix("Value error, "))


def _read_or_404(actor: Actor, household_id: int) -> services.HouseholdView:
    try:
        return services.read_household(actor, household_id)
    except NotFound as exc:
        raise Http404 from exc


def _require(request: HttpRequest, household_id: int) -> None:
    try:
        services.require_household(request_principal(request), household_id, Action.CHANGE)
    except NotFound as exc:
        raise Http404 from exc


def _filters(request: HttpRequest) -> services.HouseholdFilters:
    g = request.GET
    level = g.get("care_level", "")
    return services.HouseholdFilters(
        q=g.get("q", "").strip()[:100],
        area_code=g.get("area", ""),
        status=g.get("status", ""),
        housing_type=g.get("housing_type", ""),
        care_level=int(level) if level.isdigit() else None,
        flag=g.get("flag", ""),
        include_stopped=g.get("stopped") == "1",
        sort=g.get("sort", "reference"),
    )


def _column_labels() -> dict[str, str]:
    return {
        "no": _("No."),
        "name": _("Name"),
        "age": _("Age"),
        "area": _("Eup/myeon/dong"),
        "care": _("Care level"),
        "flags": _("Flags"),
        "status": _("Status"),
        "stopped": _("Processing stopped"),
    }


def _row_labels(rows: list[services.HouseholdSummary]) -> list[dict[str, Any]]:
    """Labels worked out once per page in Python: a list page is rendered on every filter change."""
    care = {level.value: (str(level.label), cls) for level, cls in zip(CareLevel, ("", "medium", "high"), strict=True)}
    statuses = {k: str(v) for k, v in HouseholdStatus.choices}
    flags = {k: str(v) for k, v in FLAG_LABELS.items()}
    this_year = timezone.localdate().year
    return [
        {
            "h": row,
            "url": reverse("household_detail", args=[row.id]),
            "care": care[row.care_level][0],
            "care_class": care[row.care_level][1],
            "status": statuses.get(row.status, row.status),
            "flags": [flags[f] for f in row.flags],
            "age": this_year - row.birth_year if row.birth_year else None,
        }
        for row in rows
    ]


@requires(Resource.HOUSEHOLD, Action.VIEW)
def household_list(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    filters = _filters(request)
    page_no = int(request.GET.get("page", "1")) if request.GET.get("page", "1").isdigit() else 1
    page = services.list_households(_actor(request), filters, page=page_no)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "rows": _row_labels(page.rows),
        "cols": _column_labels(),
        "filters": filters,
        "query": query.urlencode(),
        "areas": services.assignable_areas(principal, Action.VIEW)
        if principal.can(Resource.HOUSEHOLD, Action.CREATE)
        else [],
        "statuses": HouseholdStatus.choices,
        "housing_types": HousingType.choices,
        "care_levels": CareLevel.choices,
        "flags": FLAG_LABELS.items(),
        "sorts": [
            ("reference", _("Reference")),
            ("-care_level", _("Care level, highest first")),
            ("area", _("Eup/myeon/dong")),
            ("-updated", _("Recently updated")),
            ("birth_year", _("Oldest first")),
        ],
        "can_create": principal.can(Resource.HOUSEHOLD, Action.CREATE),
        "can_export": principal.can(Resource.HOUSEHOLD, Action.EXPORT),
    }
    template = "people/_household_rows.html" if request.headers.get("HX-Request") else "people/household_list.html"
    return render(request, template, context)


@requires(Resource.HOUSEHOLD, Action.VIEW)
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    principal = request_principal(request)
    household = _read_or_404(_actor(request), household_id)
    timeline = [
        {"at": e.occurred_at, "label": event_label(e.kind, e.data), "by": e.actor.get_username() if e.actor else ""}
        for e in events.for_household(household.id)[:100]
    ]
    points = (
        [
            {
                "id": household.id,
                "reference": household.reference,
                "lat": household.latitude,
                "lon": household.longitude,
                "care_level": household.care_level,
            }
        ]
        if household.latitude
        else []
    )
    return render(
        request,
        "people/household_detail.html",
        {
            "h": household,
            "timeline": timeline,
            "flag_labels": FLAG_LABELS,
            "condition_labels": CONDITION_LABELS,
            "can_change": principal.can(Resource.HOUSEHOLD, Action.CHANGE) and not household.processing_stopped,
            "map_data": json.dumps({"points": points}),
            "status_form": StatusForm(initial={"status": household.status}),
            "consent_form": ConsentForm(),
            "contact_form": ContactForm(),
        },
    )


def _area_choices(request: HttpRequest, action: Action) -> list[tuple[str, str]]:
    return [(a.code, f"{a.name} ({a.code})") for a in services.assignable_areas(request_principal(request), action)]


@requires(Resource.HOUSEHOLD, Action.CREATE)
def household_create(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None, area_choices=_area_choices(request, Action.CREATE))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            data = HouseholdInput(
                **{k: d[k] for k in HouseholdFieldsForm.base_fields},
                primary_person=PersonInput(**{k: d[k] for k in PersonForm.base_fields}),
                contacts=[
                    ContactInput(
                        name=d["guardian_name"], relation=d["guardian_relation"] or "가족", phone=d["guardian_phone"]
                    )
                ]
                if d["guardian_name"]
                else [],
                consents=[
                    ConsentInput(purpose="care_registry", method=d["consent_method"], given_on=d["consent_given_on"])
                ],
            )
            household = services.register_household(_actor(request), data)
        except (ValidationError, RegistryError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Household %(ref)s registered.") % {"ref": household.reference})
            return redirect("household_detail", household.id)
    return render(request, "people/household_form.html", {"form": form, "title": _("Register a household")})


@requires(Resource.HOUSEHOLD, Action.CHANGE)
def household_edit(request: HttpRequest, household_id: int) -> HttpResponse:
    actor = _actor(request)
    current = _read_or_404(actor, household_id)
    initial = {k: getattr(current, k) for k in HouseholdFieldsForm.base_fields if hasattr(current, k)}
    initial["area_code"] = current.area_code
    form = HouseholdFieldsForm(
        request.POST or None, initial=initial, area_choices=_area_choices(request, Action.CHANGE)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_household(actor, household_id, HouseholdChange(**form.cleaned_data))
        except (ValidationError, RegistryError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("household_detail", household_id)
    return render(
        request,
        "people/household_form.html",
        {"form": form, "title": _("Edit household %(ref)s") % {"ref": current.reference}, "h": current},
    )


@requires(Resource.HOUSEHOLD, Action.CHANGE)
def person_edit(request: HttpRequest, household_id: int, person_id: int | None = None) -> HttpResponse:
    actor = _actor(request)
    current = _read_or_404(actor, household_id)
    person = next((p for p in current.persons if p.id == person_id), None)
    if person_id is not None and person is None:
        raise Http404
    initial = {}
    if person is not None:
        initial = {
            "name": person.name,
            "birth_year": person.birth_year,
            "sex": person.sex,
            "phone": person.phone,
            "conditions": person.conditions,
            "condition_note": person.condition_note,
        }
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            data = PersonInput(**form.cleaned_data)
            if person_id is None:
                services.add_person(actor, household_id, data)
            else:
                services.update_person(actor, household_id, person_id, data)
        except (ValidationError, RegistryError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("household_detail", household_id)
    return render(
        request,
        "people/household_form.html",
        {"form": form, "title": _("Person in household %(ref)s") % {"ref": current.reference}, "h": current},
    )


@requires(Resource.HOUSEHOLD, Action.CHANGE)
@require_POST
def household_status(request: HttpRequest, household_id: int) -> HttpResponse:
    _require(request, household_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.change_status(_actor(request), household_id, StatusInput(**form.cleaned_data))
            messages.success(request, _("Status changed."))
        except NotFound as exc:
            raise Http404 from exc
        except RegistryError as exc:
            messages.error(request, exc.message)
    return redirect("household_detail", household_id)


@requires(Resource.HOUSEHOLD, Action.CHANGE)
@require_POST
def household_contact(request: HttpRequest, household_id: int) -> HttpResponse:
    _require(request, household_id)
    form = ContactForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The contact was not saved: fill in name, relation and phone."))
        return redirect("household_detail", household_id)
    try:
        services.add_contact(_actor(request), household_id, ContactInput(**form.cleaned_data))
        messages.success(request, _("Contact added."))
    except NotFound as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()))
    return redirect("household_detail", household_id)


@requires(Resource.HOUSEHOLD, Action.CHANGE)
@require_POST
def household_consent(request: HttpRequest, household_id: int) -> HttpResponse:
    _require(request, household_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.record_consent(_actor(request), household_id, ConsentInput(**form.cleaned_data))
            messages.success(request, _("Consent recorded."))
        except NotFound as exc:
            raise Http404 from exc
        except ValidationError as exc:
            messages.error(request, "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()))
    return redirect("household_detail", household_id)


@requires(Resource.HOUSEHOLD, Action.CHANGE)
@require_POST
def consent_withdraw(request: HttpRequest, household_id: int, consent_id: int) -> HttpResponse:
    try:
        services.withdraw_consent(_actor(request), household_id, consent_id)
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Consent withdrawn. Processing for that purpose has stopped."))
    return redirect("household_detail", household_id)


@requires(Resource.HOUSEHOLD, Action.IMPORT)
def household_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size and upload.size > 10 * 1024 * 1024:
            form.add_error("file", _("The file is larger than 10 MB."))
        else:
            try:
                created = services.import_households_csv(_actor(request), upload.read())
            except ImportRejected as exc:
                errors = exc.errors
            else:
                messages.success(request, _("%(n)d households imported.") % {"n": len(created)})
                return redirect("household_list")
    return render(
        request, "people/household_import.html", {"form": form, "errors": errors, "columns": services.CSV_COLUMNS}
    )


@requires(Resource.HOUSEHOLD, Action.EXPORT)
def household_export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            content, _count = services.export_households_csv(
                _actor(request), _filters(request), form.cleaned_data["reason"]
            )
        except RegistryError as exc:
            form.add_error("reason", exc.message)
        else:
            response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            response["Content-Disposition"] = f'attachment; filename="households-{stamp}.csv"'
            return response
    return render(request, "people/household_export.html", {"form": form, "query": request.GET.urlencode()})


def event_label(kind: str, data: dict[str, Any]) -> str:
    labels = {
        "household.registered": _("Registered"),
        "household.updated": _("Details changed"),
        "household.status_changed": _("Status changed"),
        "household.data_destroyed": _("Personal data destroyed (retention)"),
        "consent.given": _("Consent recorded"),
        "consent.withdrawn": _("Consent withdrawn"),
        "site.created": _("Site created"),
        "site.settings_changed": _("Site settings changed"),
    }
    label = labels.get(kind, kind)
    if kind == "household.status_changed":
        statuses = dict(HouseholdStatus.choices)
        label += f": {statuses.get(data.get('from', ''), '')} → {statuses.get(data.get('to', ''), '')}"
    return str(label)
