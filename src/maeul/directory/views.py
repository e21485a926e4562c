"""Directory pages: search services by need, area and eligibility; an organisation and a service; the HSDS import
and exports; the site administrator's forms. Thin: each view reads the request, calls services and renders."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from maeul.accounts.permissions import requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit.services import Actor
from maeul.directory import hsds, services
from maeul.directory.forms import UPLOAD_LIMIT, ImportForm, OrganizationForm, SearchForm, ServiceForm, StaffForm
from maeul.directory.models import DisabilityRule, NeedDomain, ServiceStatus
from maeul.directory.schemas import OrganizationInput, ServiceInput
from maeul.people.errors import NotFound, RegistryError


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, request_principal(request))


def _area_choices(request: HttpRequest) -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in services.site_areas(request_principal(request))]


def _labels() -> dict[str, Any]:
    return {
        "need_labels": dict(NeedDomain.choices),
        "disability_labels": dict(DisabilityRule.choices),
        "status_labels": dict(ServiceStatus.choices),
    }


@requires(Resource.DIRECTORY, Action.VIEW)
def search(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    form = SearchForm(request.GET or None, area_choices=_area_choices(request))
    results: list[services.ServiceSummary] = []
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        results = services.search_services(
            principal,
            need=data["need"] or None,
            area_code=data["area"] or None,
            age=data["age"],
            income_band=data["income"],
            disability={"yes": True, "no": False}.get(data["disability"]),
            text=data["q"] or None,
        )
    elif not form.is_bound:
        results = services.search_services(principal)
    areas = dict(_area_choices(request))
    context: dict[str, Any] = {"form": form, "results": results, "areas": areas, **_labels()}
    if request.headers.get("HX-Request"):
        return render(request, "directory/_results.html", context)
    context |= {
        "can_create": principal.can(Resource.DIRECTORY, Action.CREATE),
        "can_import": principal.can(Resource.DIRECTORY, Action.IMPORT),
        "can_export": principal.can(Resource.DIRECTORY, Action.EXPORT),
        "organizations": services.list_organizations(principal),
    }
    return render(request, "directory/search.html", context)


def _organization_or_404(request: HttpRequest, organization_id: uuid.UUID) -> Any:
    try:
        return services.get_organization(request_principal(request), organization_id)
    except NotFound:
        raise Http404(_("No such organisation in your site's directory.")) from None


def _service_or_404(request: HttpRequest, service_id: uuid.UUID) -> Any:
    try:
        return services.get_service(request_principal(request), service_id)
    except NotFound:
        raise Http404(_("No such service in your site's directory.")) from None


@requires(Resource.DIRECTORY, Action.VIEW)
def organization_detail(request: HttpRequest, organization_id: uuid.UUID) -> HttpResponse:
    principal = request_principal(request)
    organization = _organization_or_404(request, organization_id)
    can_change = principal.can(Resource.DIRECTORY, Action.CHANGE)
    context = {
        "organization": organization,
        "can_change": can_change,
        "staff_form": StaffForm(accounts=services.partner_accounts(principal)) if can_change else None,
        **_labels(),
    }
    return render(request, "directory/organization_detail.html", context)


@requires(Resource.DIRECTORY, Action.VIEW)
def service_detail(request: HttpRequest, service_id: uuid.UUID) -> HttpResponse:
    principal = request_principal(request)
    service = _service_or_404(request, service_id)
    context = {
        "service": service,
        "areas": list(service.areas.all()),
        "can_change": principal.can(Resource.DIRECTORY, Action.CHANGE),
        **_labels(),
    }
    return render(request, "directory/service_detail.html", context)


def _organization_input(form: OrganizationForm) -> OrganizationInput | None:
    try:
        return OrganizationInput(**form.cleaned_data)
    except ValidationError as exc:
        for error in exc.errors():
            form.add_error(str(error["loc"][0]) if error["loc"] else None, error["msg"])
    return None


@requires(Resource.DIRECTORY, Action.CREATE)
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = _organization_input(form)
        if data is not None:
            organization = services.create_organization(_actor(request), data)
            return redirect("directory_organization", organization_id=organization.id)
    return render(request, "directory/form.html", {"form": form, "title": _("New organisation")})


@requires(Resource.DIRECTORY, Action.CHANGE)
def organization_edit(request: HttpRequest, organization_id: uuid.UUID) -> HttpResponse:
    organization = _organization_or_404(request, organization_id)
    initial = {k: getattr(organization, k) for k in OrganizationForm.base_fields}
    form = OrganizationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = _organization_input(form)
        if data is not None:
            services.update_organization(_actor(request), organization.id, data)
            return redirect("directory_organization", organization_id=organization.id)
    return render(request, "directory/form.html", {"form": form, "title": organization.name})


def _service_input(form: ServiceForm) -> ServiceInput | None:
    try:
        return ServiceInput(**form.cleaned_data)
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else None
            form.add_error(field if field in form.fields else None, error["msg"])
    return None


def _save_service(request: HttpRequest, form: ServiceForm, save: Any) -> HttpResponse | None:
    data = _service_input(form)
    if data is None:
        return None
    try:
        service = save(data)
    except RegistryError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None
    return redirect("directory_service", service_id=service.id)


@requires(Resource.DIRECTORY, Action.CREATE)
def service_create(request: HttpRequest, organization_id: uuid.UUID) -> HttpResponse:
    organization = _organization_or_404(request, organization_id)
    form = ServiceForm(request.POST or None, area_choices=_area_choices(request))
    if request.method == "POST" and form.is_valid():
        saved = _save_service(
            request, form, lambda data: services.create_service(_actor(request), organization.id, data)
        )
        if saved is not None:
            return saved
    title = _("New service of %(name)s") % {"name": organization.name}
    return render(request, "directory/form.html", {"form": form, "title": title})


@requires(Resource.DIRECTORY, Action.CHANGE)
def service_edit(request: HttpRequest, service_id: uuid.UUID) -> HttpResponse:
    service = _service_or_404(request, service_id)
    initial = {k: getattr(service, k) for k in ServiceForm.base_fields if k not in ("needs", "area_codes")}
    initial |= {"needs": service.need_list, "area_codes": [a.code for a in service.areas.all()]}
    form = ServiceForm(request.POST or None, initial=initial, area_choices=_area_choices(request))
    if request.method == "POST" and form.is_valid():
        saved = _save_service(request, form, lambda data: services.update_service(_actor(request), service.id, data))
        if saved is not None:
            return saved
    return render(request, "directory/form.html", {"form": form, "title": service.name})


@require_POST
@requires(Resource.DIRECTORY, Action.CHANGE)
def staff_add(request: HttpRequest, organization_id: uuid.UUID) -> HttpResponse:
    principal = request_principal(request)
    form = StaffForm(request.POST, accounts=services.partner_accounts(principal))
    if form.is_valid():
        try:
            services.add_staff(_actor(request), organization_id, form.cleaned_data["user_id"])
        except NotFound:
            raise Http404(_("No such organisation in your site's directory.")) from None
        except RegistryError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The account now works for this organisation."))
    else:
        messages.error(request, _("Choose a partner staff account."))
    return redirect("directory_organization", organization_id=organization_id)


@require_POST
@requires(Resource.DIRECTORY, Action.CHANGE)
def staff_remove(request: HttpRequest, organization_id: uuid.UUID, user_id: int) -> HttpResponse:
    services.remove_staff(_actor(request), organization_id, user_id)
    messages.success(request, _("The account no longer works for this organisation."))
    return redirect("directory_organization", organization_id=organization_id)


@requires(Resource.DIRECTORY, Action.IMPORT)
def import_view(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[hsds.Problem] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size and upload.size > UPLOAD_LIMIT:
            form.add_error("file", _("The file is larger than 20 MB."))
        else:
            try:
                summary = services.import_hsds(
                    _actor(request), upload.read(), kind=form.cleaned_data["kind"] or None, source=upload.name
                )
            except services.HsdsRejected as exc:
                problems = exc.problems
            else:
                messages.success(
                    request,
                    _("Imported %(orgs)d organisations, %(services)d services and %(records)d records in all.")
                    % {"orgs": summary.organizations, "services": summary.services, "records": summary.records},
                )
                return redirect("directory_search")
    return render(request, "directory/import.html", {"form": form, "problems": problems})


@requires(Resource.DIRECTORY, Action.EXPORT)
def export_json(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "organization")
    if kind not in hsds.ROOT_KINDS:
        raise Http404(_("Unknown kind of HSDS record."))
    page = services.export_json(_actor(request), kind)
    response = HttpResponse(json.dumps(page, ensure_ascii=False, indent=2), content_type="application/json")
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="hsds-{kind}_list-{stamp}.json"'
    return response


@requires(Resource.DIRECTORY, Action.EXPORT)
def export_zip(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(services.export_package(_actor(request)), content_type="application/zip")
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="hsds-datapackage-{stamp}.zip"'
    return response
