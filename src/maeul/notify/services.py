"""Sending messages. Callers queue; delivery runs after the caller's transaction commits and again from the
worker for anything that failed, so a message is never lost with a rolled-back change, every attempt is recorded,
and what cannot be delivered ends as ``given_up`` where a person sees it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from maeul.notify.channels import ChannelUnavailable as ChannelUnavailable
from maeul.notify.channels import DeliveryError, Outgoing, mask_address, sender_for
from maeul.notify.channels import is_available as is_available
from maeul.notify.channels import mask_phone as mask_phone
from maeul.notify.models import PENDING, Channel, DeliveryAttempt, DeliveryStatus, Notification
from maeul.protection import fields
from maeul.protection.phone import canonical_phone

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)  # then 2, 4, 8 minutes: five tries span about a quarter of an hour
LONGEST_WAIT = timedelta(minutes=30)
# If the on-commit delivery never runs (the process ended first), the worker picks the message up after this.
QUEUED_GRACE = timedelta(minutes=2)
# While one process delivers a message, others leave it alone; past this the delivery is presumed lost.
DELIVERY_LEASE = timedelta(minutes=5)
# AlimTalk reaches only KakaoTalk users and only with an approved template: when its request fails, send SMS.
FALLBACK = {Channel.KAKAO: Channel.SMS}
RETRY_BATCH = 200


def queue(
    *,
    site_id: int | None,
    channel: Channel | str,
    address: str,
    subject: str,
    body: str,
    topic: str,
    user_id: int | None = None,
    template_code: str = "",
    template_params: Mapping[str, object] | None = None,
) -> Notification:
    """Store a message in the caller's transaction and deliver it once that commits.

    Raises ChannelUnavailable (nothing stored) when the channel is off or not configured, so the caller can choose
    another; ValidationError for a phone number that is not Korean; ValueError for a message the channel cannot
    carry (``web`` needs ``user_id``, ``kakao`` a ``template_code``, ``email`` an address)."""
    sender_for(str(channel))
    channel = Channel(channel)
    if channel in (Channel.SMS, Channel.KAKAO):
        address = canonical_phone(address)  # digits only, the form NHN Cloud and the generic gateway expect
    if channel == Channel.WEB and user_id is None:
        raise ValueError("a live-view notification needs the recipient's user_id")
    if channel == Channel.KAKAO and not template_code:
        raise ValueError("a KakaoTalk AlimTalk message needs its approved template_code")
    if channel == Channel.EMAIL and not address:
        raise ValueError("an e-mail needs an address")
    note = Notification.objects.create(
        site_id=site_id,
        user_id=user_id,
        channel=channel,
        address_encrypted=fields.encrypt(address),
        subject=subject[:200],
        body=body,
        template_code=template_code,
        template_params={str(k): str(v) for k, v in (template_params or {}).items()},
        topic=topic[:60],
        next_attempt_at=timezone.now() + QUEUED_GRACE,
    )
    transaction.on_commit(lambda: deliver(note.pk))
    return note


def queue_email(
    *, site_id: int | None, address: str, subject: str, body: str, topic: str, user_id: int | None = None
) -> Notification:
    return queue(
        site_id=site_id, channel=Channel.EMAIL, address=address, subject=subject, body=body, topic=topic,
        user_id=user_id,
    )  # fmt: skip


def phone_channel() -> Channel:
    """The channel for a plain-text message to a phone: SMS when configured, else the console (development and
    demo). KakaoTalk is not chosen here because it needs an approved template, which only the caller can name."""
    for channel in (Channel.SMS, Channel.CONSOLE):
        if is_available(channel):
            return channel
    raise ChannelUnavailable(Channel.SMS, "neither sms nor console is available")


def deliver(notification_id: int) -> bool:
    """One delivery attempt (plus the fallback channel's, if any). True when the message was delivered."""
    note = Notification.objects.filter(pk=notification_id, status__in=PENDING).first()
    if note is None:
        return False
    # Claim it: the attempt counter doubles as a version and a retry must be due (not leased to another process),
    # so the on-commit call and the worker never both send it.
    now = timezone.now()
    claimed = (
        Notification.objects.filter(pk=note.pk, status__in=PENDING, attempts=note.attempts)
        .filter(Q(attempts=0) | Q(next_attempt_at__lte=now))
        .update(attempts=F("attempts") + 1, next_attempt_at=now + DELIVERY_LEASE)
    )
    if not claimed:
        return False
    note.attempts += 1
    message = Outgoing(
        reference=f"maeul-{note.pk}",
        address=fields.decrypt(note.address_encrypted),
        subject=note.subject,
        body=note.body,
        topic=note.topic,
        template_code=note.template_code,
        template_params=note.template_params,
    )
    error = _attempt(note, note.channel, message)
    fallback = FALLBACK.get(Channel(note.channel))
    if error is not None and fallback is not None and is_available(fallback):
        error = _attempt(note, fallback, message)
    _settle(note, error)
    return error is None


def _attempt(note: Notification, channel: str, message: Outgoing) -> DeliveryError | None:
    try:
        reference = sender_for(channel).send(message)
    except ChannelUnavailable as exc:  # switched off since it was queued: retried, in case it is switched back on
        error = DeliveryError(str(exc))
    except DeliveryError as exc:
        error = exc
    else:
        DeliveryAttempt.objects.create(
            notification=note, at=timezone.now(), channel=channel, ok=True, provider_response=reference[:300]
        )
        return None
    log.warning("notification %s via %s failed: %s", note.pk, channel, error)
    DeliveryAttempt.objects.create(notification=note, at=timezone.now(), channel=channel, ok=False, error=str(error))
    return error


def _settle(note: Notification, error: DeliveryError | None) -> None:
    now = timezone.now()
    if error is None:
        note.status, note.sent_at, note.error, note.next_attempt_at = DeliveryStatus.SENT, now, "", None
    elif error.permanent or note.attempts >= MAX_ATTEMPTS:
        note.status, note.error, note.next_attempt_at = DeliveryStatus.GIVEN_UP, str(error), None
        log.error("notification %s (%s) given up after %s attempts: %s", note.pk, note.topic, note.attempts, error)
    else:
        note.status, note.error = DeliveryStatus.FAILED, str(error)
        note.next_attempt_at = now + retry_delay(note.attempts)
    note.save(update_fields=["status", "sent_at", "error", "next_attempt_at"])


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the given number of failed attempts, capped."""
    return min(FIRST_RETRY * (1 << max(attempts - 1, 0)), LONGEST_WAIT)


def retry_failed() -> int:
    """Worker step: deliver what is due — failures whose backoff has passed, and queued messages whose on-commit
    delivery never happened. Returns how many were delivered."""
    due = list(
        Notification.objects.filter(status__in=PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:RETRY_BATCH]
    )
    return sum(deliver(pk) for pk in due)


def unread_for(user: AbstractBaseUser) -> QuerySet[Notification]:
    """The live view's messages for this user that they have not read, newest first."""
    return Notification.objects.filter(
        channel=Channel.WEB, user_id=user.pk, status=DeliveryStatus.SENT, read_at__isnull=True
    ).order_by("-sent_at", "-pk")


def mark_read(user: AbstractBaseUser, notification_id: int) -> bool:
    """Only the recipient can mark their own message; False when it is not theirs or already read."""
    return bool(
        Notification.objects.filter(
            pk=notification_id, channel=Channel.WEB, user_id=user.pk, status=DeliveryStatus.SENT, read_at__isnull=True
        ).update(read_at=timezone.now())
    )


def mark_all_read(user: AbstractBaseUser) -> int:
    return unread_for(user).update(read_at=timezone.now())


@dataclass(frozen=True)
class DeliveryLine:
    """One message about a topic as an alert page shows it: "SMS to 010-****-5678 delivered 14:02"."""

    notification_id: int
    channel: str  # the channel that delivered it (SMS when KakaoTalk fell back), otherwise the one asked for
    channel_label: str
    recipient: str  # masked
    user_id: int | None
    status: str
    status_label: str
    at: datetime  # delivered, else the last attempt, else queued
    attempts: int
    error: str

    def __str__(self) -> str:
        """ "SMS to 010-****-5678: Delivered 2026.11.25 14:02", with the reason when it did not go out."""
        values = {
            "channel": self.channel_label,
            "recipient": self.recipient,
            "status": self.status_label,
            "at": timezone.localtime(self.at).strftime("%Y.%m.%d %H:%M"),
        }
        text = (
            _("%(channel)s to %(recipient)s: %(status)s %(at)s")
            if self.recipient
            else _("%(channel)s: %(status)s %(at)s")
        ) % values
        return f"{text} ({self.error})" if self.error and self.status != DeliveryStatus.SENT else text


def delivery_status(topic: str) -> list[DeliveryLine]:
    lines = []
    for note in Notification.objects.filter(topic=topic).prefetch_related("delivery_attempts").order_by("pk"):
        tries = list(note.delivery_attempts.all())
        delivered_via = next((t.channel for t in reversed(tries) if t.ok), note.channel)
        lines.append(
            DeliveryLine(
                notification_id=note.pk,
                channel=delivered_via,
                channel_label=str(Channel(delivered_via).label),
                recipient=mask_address(note.channel, fields.decrypt(note.address_encrypted)),
                user_id=note.user_id,
                status=note.status,
                status_label=str(DeliveryStatus(note.status).label),
                at=note.sent_at or (tries[-1].at if tries else note.created_at),
                attempts=note.attempts,
                error=note.error,
            )
        )
    return lines
