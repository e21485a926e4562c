"""Account actions: creating users with roles, logging in with throttling, TOTP, API tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from maeul.accounts.models import ApiToken, LoginAttempt, Membership, SecondFactor
from maeul.accounts.roles import SITELESS_ROLES, Role
from maeul.areas.models import Area, AreaLevel
from maeul.protection import fields
from maeul.sites.models import Site

TOTP_ISSUER = "Maeul"


def client_address(request: HttpRequest) -> str | None:
    if settings.MAEUL_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return str(forwarded).split(",")[0].strip()
    address = request.META.get("REMOTE_ADDR")
    return str(address) if address else None


@transaction.atomic
def create_account(
    username: str,
    password: str,
    role: Role,
    site: Site | None = None,
    areas: list[Area] | None = None,
    organisation: str = "",
    is_demo: bool = False,
    email: str = "",
    display_name: str = "",
) -> User:
    if role not in SITELESS_ROLES and site is None:
        raise ValueError("every role except the ministry, experts and local government officers belongs to a site")
    if role in SITELESS_ROLES and site is not None:
        raise ValueError(f"the role {role} belongs to no site")
    user = User.objects.create_user(username=username, password=password, email=email, first_name=display_name)
    membership = Membership.objects.create(user=user, role=role, site=site, organisation=organisation, is_demo=is_demo)
    if areas:
        outside = [a.code for a in areas if site is not None and not site.areas.filter(code=a.code).exists()]
        if outside:
            raise ValueError(f"areas {outside} are not part of site {site}")
        membership.areas.set(areas)
    return user


class AccountError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# Roles a site administrator may hand out; ministry accounts are created by operators (`maeul accounts create`).
SITE_ROLES = [r for r in Role if r not in SITELESS_ROLES]


def temporary_password() -> str:
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


@transaction.atomic
def open_account(
    actor_user_id: int | None,
    site: Site | None,
    username: str,
    role: Role,
    area_codes: list[str],
    display_name: str = "",
    organisation: str = "",
) -> tuple[User, str]:
    """Create an account with a one-time temporary password (shown once to whoever created it)."""
    from maeul.events import services as events

    username = username.strip()
    if not username or len(username) > 150 or not all(c.isalnum() or c in "._-@" for c in username):
        raise AccountError("username", "use letters, digits and . _ - @ only")
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError("username", f"the username {username} is taken")
    if role in SITELESS_ROLES and site is not None:
        raise AccountError("role", "ministry, expert and local government accounts belong to no site")
    if role not in SITELESS_ROLES and site is None:
        raise AccountError("role", "this role belongs to a site")
    if role == Role.LOCAL_GOVERNMENT and (
        len(area_codes) != 1 or not Area.objects.filter(code__in=area_codes, level=AreaLevel.SIGUNGU).exists()
    ):
        raise AccountError("area_codes", "a local government officer's account names its one si/gun/gu code")
    areas = list(Area.objects.filter(code__in=area_codes))
    if site is not None:
        outside = sorted(set(area_codes) - set(site.areas.filter(code__in=area_codes).values_list("code", flat=True)))
        if outside:
            raise AccountError("area_codes", f"not eup/myeon/dong of this site: {', '.join(outside)}")
    password = temporary_password()
    user = create_account(
        username, password, role, site=site, areas=areas, organisation=organisation, display_name=display_name
    )
    Membership.objects.filter(user=user).update(must_change_password=True)
    events.record(
        "account.opened",
        site_id=site.pk if site else None,
        subject=("user", user.pk),
        data={"role": str(role), "areas": sorted(area_codes), "by": actor_user_id},
    )
    return user, password


def close_account(site: Site, user_id: int) -> bool:
    """Deactivate an account of the site and revoke its API tokens; history stays."""
    membership = Membership.objects.filter(user_id=user_id, site=site).select_related("user").first()
    if membership is None:
        return False
    membership.user.is_active = False
    membership.user.save(update_fields=["is_active"])
    ApiToken.objects.filter(user_id=user_id, revoked_at=None).update(revoked_at=timezone.now())
    return True


def set_own_password(user: User, new_password: str) -> None:
    """The user's own new password (validated by the form); lifts the temporary-password requirement."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    Membership.objects.filter(user=user).update(must_change_password=False)


class LoginThrottled(Exception):
    pass


def _recent_failures(username: str, address: str | None) -> int:
    since = timezone.now() - timedelta(minutes=settings.MAEUL_LOGIN_WINDOW_MINUTES)
    by_user = LoginAttempt.objects.filter(username=username, succeeded=False, at__gte=since).count()
    by_address = LoginAttempt.objects.filter(address=address, succeeded=False, at__gte=since).count() if address else 0
    return max(by_user, by_address)


def check_password_login(request: HttpRequest, username: str, password: str) -> User | None:
    """Password step of login. Raises LoginThrottled after too many recent failures (per user or address)."""
    address = client_address(request)
    if _recent_failures(username, address) >= settings.MAEUL_LOGIN_MAX_FAILURES:
        raise LoginThrottled
    user = authenticate(request, username=username, password=password)
    LoginAttempt.objects.create(username=username, address=address, succeeded=user is not None)
    return user if isinstance(user, User) else None


def needs_second_factor(user: AbstractBaseUser) -> bool:
    membership = Membership.objects.filter(user_id=user.pk).first()
    return bool(getattr(user, "is_superuser", False)) or (membership is not None and membership.needs_second_factor)


def second_factor_of(user: AbstractBaseUser) -> SecondFactor | None:
    return SecondFactor.objects.filter(user_id=user.pk).first()


def start_enrolment(user: AbstractBaseUser, secret: str | None = None) -> str:
    """A fresh (unconfirmed) TOTP secret for the user; returns the otpauth:// URI for the QR code."""
    secret = secret or pyotp.random_base32()
    SecondFactor.objects.update_or_create(
        user_id=user.pk, defaults={"secret_encrypted": fields.encrypt(secret), "confirmed_at": None}
    )
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=TOTP_ISSUER)


def provisioning_uri(user: AbstractBaseUser) -> str:
    factor = second_factor_of(user)
    if factor is None:
        return start_enrolment(user)
    secret = fields.decrypt(factor.secret_encrypted)
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=TOTP_ISSUER)


def verify_second_factor(user: AbstractBaseUser, code: str) -> bool:
    """Accept a current TOTP code (±1 step for clock drift) once; confirms an enrolment on first use."""
    factor = second_factor_of(user)
    code = code.strip().replace(" ", "")
    if factor is None or not code.isdigit():
        return False
    totp = pyotp.TOTP(fields.decrypt(factor.secret_encrypted))
    now_step = int(time.time()) // totp.interval
    for step in (now_step, now_step - 1, now_step + 1):
        if step <= factor.last_used_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            factor.last_used_step = step
            if factor.confirmed_at is None:
                factor.confirmed_at = timezone.now()
            factor.save(update_fields=["last_used_step", "confirmed_at"])
            return True
    return False


def current_code(user: AbstractBaseUser) -> str:
    """The current TOTP code; used only by the demo helper command for demo accounts."""
    factor = second_factor_of(user)
    if factor is None:
        raise ValueError("this account has no second factor")
    return pyotp.TOTP(fields.decrypt(factor.secret_encrypted)).now()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


def issue_api_token(user: AbstractBaseUser, name: str, days: int | None = 365) -> IssuedToken:
    plaintext = "ml_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user_id=user.pk,
        name=name,
        prefix=plaintext[:10],
        key_hash=hashlib.sha256(plaintext.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    return IssuedToken(token=token, plaintext=plaintext)


def user_for_token(plaintext: str) -> AbstractBaseUser | None:
    digest = hashlib.sha256(plaintext.encode()).hexdigest()
    token = ApiToken.objects.filter(key_hash=digest, revoked_at=None).select_related("user").first()
    if token is None or (token.expires_at and token.expires_at < timezone.now()) or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_api_token(user: AbstractBaseUser, token_id: int) -> bool:
    return ApiToken.objects.filter(pk=token_id, user_id=user.pk, revoked_at=None).update(revoked_at=timezone.now()) == 1
