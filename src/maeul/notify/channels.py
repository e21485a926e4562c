"""Delivery channels and the registry that builds them from settings.

A sender hands one message to one channel and either returns a short provider reference or raises
``DeliveryError``. It never writes to the database: recording attempts, retrying and falling back are the outbox's
job (``services.py``), so every channel gets the same bookkeeping. Provider request shapes are described in
docs/decisions/0010-notification-channels.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail

from maeul.notify.models import Channel
from maeul.protection.phone import canonical_phone

console_log = logging.getLogger("maeul.notify.console")

NHN_SMS_URL = "https://sms.api.nhncloudservice.com"
NHN_ALIMTALK_URL = "https://api-alimtalk.cloud.toast.com"
# A Korean SMS carries 90 bytes counted in EUC-KR (45 Hangul syllables); longer text must go as LMS.
SMS_MAX_BYTES = 90
_RETRYABLE_CLIENT_ERRORS = {408, 425, 429}
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class ChannelUnavailable(Exception):
    """The channel is switched off or lacks configuration: the caller should choose another one."""

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"notification channel {channel!r} is unavailable: {reason}")
        self.channel = channel
        self.reason = reason


class DeliveryError(Exception):
    """The channel did not take the message. ``permanent`` means trying again cannot help (e.g. rejected request)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message[:300])
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    reference: str  # "maeul-<notification id>": ties a provider's records and a receiver's retries to our outbox
    address: str  # e-mail address, canonical phone digits, or a receiver's own recipient id (webhook)
    subject: str
    body: str
    topic: str
    template_code: str = ""
    template_params: Mapping[str, str] = field(default_factory=dict)


class Sender(Protocol):
    def send(self, message: Outgoing) -> str:
        """Hand the message over; return a short provider reference (never an echo of the recipient)."""
        ...


def mask_phone(phone: str) -> str:
    """010-****-5678: the prefix and the last four digits, whether given as digits or formatted."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) <= 4:
        return "*" * len(digits)
    head = 2 if digits.startswith("02") else (4 if len(digits) == 8 else 3)
    middle = digits[head:-4]
    return "-".join(part for part in (digits[:head], "*" * len(middle), digits[-4:]) if part)


def mask_address(channel: str, address: str) -> str:
    """What a page may show of a recipient: a phone's prefix and last four digits, an e-mail's first letter."""
    if not address or channel == Channel.WEB:
        return ""  # a live-view message goes to an account (named in the alert's history), not an address
    if channel in (Channel.SMS, Channel.KAKAO) or (channel == Channel.CONSOLE and address[:1] == "0"):
        return mask_phone(address)
    if channel == Channel.EMAIL and "@" in address:
        local, domain = address.rsplit("@", 1)
        return f"{local[:1]}***@{domain}"
    return "****" + address[-4:] if len(address) > 4 else "****"


class ConsoleSender:
    """Development and demo: the message goes to the log, with the recipient masked."""

    def send(self, message: Outgoing) -> str:
        console_log.info(
            "%s to %s [%s] %s\n%s",
            message.reference,
            mask_address(Channel.CONSOLE, message.address),
            message.topic,
            message.subject,
            message.body,
        )
        return "logged"


class EmailSender:
    """Django's mail backend (SMTP in production, the console in embedded mode)."""

    def send(self, message: Outgoing) -> str:
        try:
            send_mail(message.subject, message.body, None, [message.address])
        except Exception as exc:  # every transport failure of the backend is worth another try
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        return "accepted by mail backend"


class WebSender:
    """The live view reads stored messages, so delivering is only making the message available to it."""

    def send(self, message: Outgoing) -> str:
        return "available in live view"


def _post(url: str, content: bytes, headers: Mapping[str, str], timeout: float) -> httpx.Response:
    try:
        response = httpx.post(
            url, content=content, headers={"Content-Type": "application/json;charset=UTF-8", **headers}, timeout=timeout
        )
    except httpx.HTTPError as exc:  # refused, timed out, TLS: the provider may be back on the next try
        raise DeliveryError(f"{type(exc).__name__}: {str(exc) or 'no detail'}") from exc
    if response.status_code >= 400:
        client_error = response.status_code < 500 and response.status_code not in _RETRYABLE_CLIENT_ERRORS
        raise DeliveryError(f"HTTP {response.status_code} from provider", permanent=client_error)
    return response


def _json_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _nhn_answer(response: httpx.Response) -> dict[str, Any]:
    """NHN Cloud answers HTTP 200 with ``header.isSuccessful`` and, further in, a result code per recipient."""
    try:
        answer: dict[str, Any] = response.json()
    except ValueError as exc:
        raise DeliveryError(f"HTTP {response.status_code}: not JSON") from exc
    header = answer.get("header") or {}
    if not header.get("isSuccessful"):
        raise DeliveryError(f"provider refused: {header.get('resultCode')} {header.get('resultMessage', '')}")
    return answer


def _nhn_reference(data: Mapping[str, Any], results_key: str) -> str:
    for result in data.get(results_key) or []:
        if result.get("resultCode", 0) != 0:
            raise DeliveryError(f"provider refused recipient: {result.get('resultCode')} {result.get('resultMessage')}")
    return f"requestId={data.get('requestId', '')}"


@dataclass(frozen=True)
class NhnSmsSender:
    """NHN Cloud (formerly TOAST) SMS API v3.0: SMS up to 90 EUC-KR bytes, LMS (``/sender/mms``) above."""

    base_url: str
    app_key: str
    secret: str
    sender_number: str
    timeout: float

    def send(self, message: Outgoing) -> str:
        long_text = len(message.body.encode("euc-kr", errors="replace")) > SMS_MAX_BYTES
        payload: dict[str, Any] = {
            "body": message.body,
            "sendNo": self.sender_number,
            "senderGroupingKey": message.reference,
            "recipientList": [{"recipientNo": message.address}],
        }
        if long_text:
            payload = {"title": message.subject, **payload}
        kind = "mms" if long_text else "sms"
        url = f"{self.base_url.rstrip('/')}/sms/v3.0/appKeys/{quote(self.app_key, safe='')}/sender/{kind}"
        response = _post(url, _json_bytes(payload), {"X-Secret-Key": self.secret}, self.timeout)
        return _nhn_reference((_nhn_answer(response).get("body") or {}).get("data") or {}, "sendResultList")


@dataclass(frozen=True)
class GenericSmsSender:
    """Any HTTPS gateway that accepts one JSON message with a bearer token and answers 2xx when it takes it."""

    url: str
    token: str
    sender_number: str
    timeout: float

    def send(self, message: Outgoing) -> str:
        payload = {
            "from": self.sender_number,
            "to": message.address,
            "to_e164": "+82" + message.address[1:],
            "subject": message.subject,
            "text": message.body,
            "reference": message.reference,
        }
        response = _post(self.url, _json_bytes(payload), {"Authorization": f"Bearer {self.token}"}, self.timeout)
        return f"HTTP {response.status_code}"


@dataclass(frozen=True)
class NhnAlimTalkSender:
    """NHN Cloud KakaoTalk Bizmessage, AlimTalk API v2.3: an approved template filled with parameters.

    With an SMS sending number configured, the provider itself resends as SMS/LMS when KakaoTalk cannot deliver
    later (e.g. the recipient has no KakaoTalk); a request it refuses outright is sent by SMS by the outbox."""

    base_url: str
    app_key: str
    secret: str
    sender_key: str
    resend_number: str
    timeout: float

    def send(self, message: Outgoing) -> str:
        recipient: dict[str, Any] = {
            "recipientNo": message.address,
            "templateParameter": dict(message.template_params),
        }
        if self.resend_number:
            recipient["resendParameter"] = {
                "isResend": True,
                "resendTitle": message.subject,
                "resendContent": message.body,
                "resendSendNo": self.resend_number,
            }
        payload = {
            "senderKey": self.sender_key,
            "templateCode": message.template_code,
            "senderGroupingKey": message.reference,
            "recipientList": [recipient],
        }
        url = f"{self.base_url.rstrip('/')}/alimtalk/v2.3/appkeys/{quote(self.app_key, safe='')}/messages"
        response = _post(url, _json_bytes(payload), {"X-Secret-Key": self.secret}, self.timeout)
        return _nhn_reference(_nhn_answer(response).get("message") or {}, "sendResults")


@dataclass(frozen=True)
class WebhookSender:
    """POST the message as JSON, signed so the receiver can check it came from us and is fresh.

    ``X-Maeul-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``; the timestamp is in
    ``X-Maeul-Timestamp`` (Unix seconds), signed with the body so a captured request cannot be replayed later."""

    url: str
    secret: str
    timeout: float

    def send(self, message: Outgoing) -> str:
        body = _json_bytes(
            {
                "id": message.reference,
                "topic": message.topic,
                "recipient": message.address,
                "subject": message.subject,
                "body": message.body,
                "template_code": message.template_code,
                "template_params": dict(message.template_params),
            }
        )
        timestamp = str(int(time.time()))
        signature = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {
            "X-Maeul-Timestamp": timestamp,
            "X-Maeul-Signature": f"sha256={signature}",
            "X-Maeul-Delivery": message.reference,  # the same on every retry, so the receiver can drop duplicates
        }
        response = _post(self.url, body, headers, self.timeout)
        return f"HTTP {response.status_code}"


def _https_or_loopback(url: str) -> bool:
    """Provider credentials travel in headers, so only HTTPS — or a server on this machine — is acceptable."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS)


def _phone_setting(channel: str, name: str) -> str:
    raw: str = getattr(settings, name)
    if not raw:
        raise ChannelUnavailable(channel, f"{name} is not set")
    try:
        return canonical_phone(raw)
    except ValidationError as exc:
        raise ChannelUnavailable(channel, f"{name} is not a Korean telephone number") from exc


def _required(channel: str, *names: str) -> list[str]:
    values: list[str] = [getattr(settings, name) for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise ChannelUnavailable(channel, f"{', '.join(missing)} not set")
    return values


def _checked_url(channel: str, name: str, url: str) -> str:
    if not _https_or_loopback(url):
        raise ChannelUnavailable(channel, f"{name} must be an https:// address")
    return url


def _build_sms() -> Sender:
    timeout = settings.MAEUL_NOTIFY_TIMEOUT_SECONDS
    provider = settings.MAEUL_SMS_PROVIDER
    if provider == "nhn":
        app_key, secret = _required("sms", "MAEUL_SMS_APP_KEY", "MAEUL_SMS_SECRET")
        url = _checked_url("sms", "MAEUL_SMS_URL", settings.MAEUL_SMS_URL or NHN_SMS_URL)
        return NhnSmsSender(url, app_key, secret, _phone_setting("sms", "MAEUL_SMS_SENDER"), timeout)
    if provider == "generic":
        url, token = _required("sms", "MAEUL_SMS_URL", "MAEUL_SMS_SECRET")
        return GenericSmsSender(
            _checked_url("sms", "MAEUL_SMS_URL", url), token, _phone_setting("sms", "MAEUL_SMS_SENDER"), timeout
        )
    raise ChannelUnavailable("sms", f"MAEUL_SMS_PROVIDER={provider!r} is not one of nhn, generic")


def _build_kakao() -> Sender:
    app_key, secret, sender_key = _required(
        "kakao", "MAEUL_KAKAO_APP_KEY", "MAEUL_KAKAO_SECRET", "MAEUL_KAKAO_SENDER_KEY"
    )
    url = _checked_url("kakao", "MAEUL_KAKAO_URL", settings.MAEUL_KAKAO_URL or NHN_ALIMTALK_URL)
    resend_number = _phone_setting("kakao", "MAEUL_SMS_SENDER") if settings.MAEUL_SMS_SENDER else ""
    return NhnAlimTalkSender(url, app_key, secret, sender_key, resend_number, settings.MAEUL_NOTIFY_TIMEOUT_SECONDS)


def _build_webhook() -> Sender:
    url, secret = _required("webhook", "MAEUL_WEBHOOK_URL", "MAEUL_WEBHOOK_SECRET")
    return WebhookSender(
        _checked_url("webhook", "MAEUL_WEBHOOK_URL", url), secret, settings.MAEUL_NOTIFY_TIMEOUT_SECONDS
    )


_BUILDERS: dict[Channel, Callable[[], Sender]] = {
    Channel.CONSOLE: ConsoleSender,
    Channel.EMAIL: EmailSender,
    Channel.WEB: WebSender,
    Channel.SMS: _build_sms,
    Channel.KAKAO: _build_kakao,
    Channel.WEBHOOK: _build_webhook,
}


def sender_for(channel: str) -> Sender:
    """The configured sender, read from settings at each call so a changed configuration applies at once.
    Raises ChannelUnavailable for a channel that is unknown, not listed in MAEUL_NOTIFY_CHANNELS or incomplete."""
    if channel not in Channel.values:
        raise ChannelUnavailable(channel, "no such channel")
    if channel not in settings.MAEUL_NOTIFY_CHANNELS:
        raise ChannelUnavailable(channel, "not listed in MAEUL_NOTIFY_CHANNELS")
    return _BUILDERS[Channel(channel)]()


def is_available(channel: str) -> bool:
    try:
        sender_for(channel)
    except ChannelUnavailable:
        return False
    return True


def configuration_problems() -> list[ChannelUnavailable]:
    """Channels listed in MAEUL_NOTIFY_CHANNELS that cannot work as configured (for the system check)."""
    problems = []
    for name in settings.MAEUL_NOTIFY_CHANNELS:
        try:
            sender_for(name)
        except ChannelUnavailable as exc:
            problems.append(exc)
    return problems
