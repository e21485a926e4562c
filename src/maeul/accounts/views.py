from __future__ import annotations

from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from maeul.accounts import services
from maeul.accounts.middleware import SESSION_VERIFIED_KEY
from maeul.accounts.models import ApiToken
from maeul.accounts.permissions import login_only, public, requires
from maeul.accounts.policy import Action, Resource
from maeul.accounts.principal import request_principal
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor


class LoginForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("6-digit code"),
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("home")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("home")


@public
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            user = services.check_password_login(request, username, form.cleaned_data["password"])
        except services.LoginThrottled:
            form.add_error(None, _("Too many failed attempts. Try again in a few minutes."))
            user = None
        else:
            if user is None:
                form.add_error(None, _("The username or password is not correct."))
        if user is not None:
            login(request, user)
            actor = Actor.from_request(request, request_principal(request))
            audit.log(actor, AuditAction.LOGIN, "session", object_id=user.pk)
            if services.needs_second_factor(user):
                return HttpResponseRedirect(reverse("two_factor") + "?next=" + _safe_next(request))
            request.session[SESSION_VERIFIED_KEY] = True
            return HttpResponseRedirect(_safe_next(request))
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


@login_only
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Verify a TOTP code; users without a confirmed authenticator enrol here first."""
    user = request.user
    factor = services.second_factor_of(user)  # type: ignore[arg-type]
    enrolling = factor is None or factor.confirmed_at is None
    uri = services.provisioning_uri(user) if enrolling else ""  # type: ignore[arg-type]
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.verify_second_factor(user, form.cleaned_data["code"]):  # type: ignore[arg-type]
            request.session.cycle_key()
            request.session[SESSION_VERIFIED_KEY] = True
            return HttpResponseRedirect(_safe_next(request))
        form.add_error("code", _("That code is not valid. Check the time on your phone and try again."))
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4) if uri else ""
    secret = uri.split("secret=")[1].split("&")[0] if uri else ""
    return render(
        request,
        "accounts/two_factor.html",
        {"form": form, "enrolling": enrolling, "qr_svg": qr_svg, "secret": secret, "next": request.GET.get("next", "")},
    )


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit.log(
            Actor.from_request(request, request_principal(request)),
            AuditAction.LOGOUT,
            "session",
            object_id=request.user.pk,
        )
    logout(request)
    return redirect("login")


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Token name"), max_length=80)


@requires(Resource.ACCOUNT, Action.VIEW)
def account_view(request: HttpRequest) -> HttpResponse:
    principal = request_principal(request)
    can_tokens = principal.can(Resource.API_TOKEN, Action.CREATE)
    form = TokenForm(request.POST or None)
    new_token = ""
    if request.method == "POST" and can_tokens and form.is_valid():
        new_token = services.issue_api_token(request.user, form.cleaned_data["name"]).plaintext  # type: ignore[arg-type]
        messages.success(request, _("Token created. Copy it now: it is not shown again."))
        form = TokenForm()
    tokens = (
        ApiToken.objects.filter(user__username=request.user.get_username()).order_by("-created_at")
        if can_tokens
        else []
    )
    return render(
        request,
        "accounts/account.html",
        {"form": form, "tokens": tokens, "new_token": new_token, "can_tokens": can_tokens},
    )


@requires(Resource.API_TOKEN, Action.CHANGE)
@require_POST
def revoke_token_view(request: HttpRequest, token_id: int) -> HttpResponse:
    if services.revoke_api_token(request.user, token_id):  # type: ignore[arg-type]
        messages.success(request, _("Token revoked."))
    return redirect("account")


class OpenAccountForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    display_name = forms.CharField(label=gettext_lazy("Name"), max_length=150, required=False)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=[(r.value, r.label) for r in services.SITE_ROLES])
    area_codes = forms.MultipleChoiceField(
        label=gettext_lazy("Eup/myeon/dong"), required=False, widget=forms.CheckboxSelectMultiple
    )
    organisation = forms.CharField(label=gettext_lazy("Organisation"), max_length=120, required=False)


def _open_account_form(site: Any, data: Any) -> OpenAccountForm:
    form = OpenAccountForm(data)
    area_field = form.fields["area_codes"]
    assert isinstance(area_field, forms.MultipleChoiceField)
    area_field.choices = [(a.code, a.name) for a in site.areas.order_by("code")]
    return form


@requires(Resource.MEMBERS, Action.VIEW)
def members_view(request: HttpRequest) -> HttpResponse:
    from maeul.accounts.models import Membership
    from maeul.accounts.roles import Role
    from maeul.sites.models import Site

    principal = request_principal(request)
    site = Site.objects.get(pk=principal.site_pk)
    form = _open_account_form(site, request.POST or None)
    created: tuple[str, str] | None = None
    if request.method == "POST" and principal.can(Resource.MEMBERS, Action.CREATE) and form.is_valid():
        d = form.cleaned_data
        try:
            user, password = services.open_account(
                principal.user_id,
                site,
                d["username"],
                Role(d["role"]),
                d["area_codes"],
                display_name=d["display_name"],
                organisation=d["organisation"],
            )
        except services.AccountError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            created = (user.username, password)
            form = _open_account_form(site, None)
    members = Membership.objects.filter(site=site).select_related("user").prefetch_related("areas")
    return render(
        request,
        "accounts/members.html",
        {"site": site, "members": members.order_by("role", "user__username"), "form": form, "created": created},
    )


@requires(Resource.MEMBERS, Action.CHANGE)
@require_POST
def close_member_view(request: HttpRequest, user_id: int) -> HttpResponse:
    from maeul.sites.models import Site

    principal = request_principal(request)
    if user_id == principal.user_id:
        messages.error(request, _("You cannot close your own account."))
    elif services.close_account(Site.objects.get(pk=principal.site_pk), user_id):
        messages.success(request, _("Account closed and its API tokens revoked."))
    return redirect("members")


@login_only
def password_view(request: HttpRequest) -> HttpResponse:
    """Set one's own password: required after a temporary one, possible at any time."""
    from django.contrib.auth import update_session_auth_hash
    from django.contrib.auth.forms import PasswordChangeForm
    from django.contrib.auth.models import User

    user = request.user
    assert isinstance(user, User)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.set_own_password(user, form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password has been changed."))
        return redirect("home")
    return render(request, "accounts/password.html", {"form": form})
