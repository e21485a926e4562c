"""Sending messages. Callers queue; delivery runs after the caller's transaction commits and again from the
worker for anything that failed, so a message is never lost with a rolled-back change nor sent twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from maeul.notify.models import Channel, DeliveryStatus, Notification
from maeul.protection import fields

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def queue_email(
    *, site_id: int | None, address: str, subject: str, body: str, topic: str, user_id: int | None = None
) -> Notification:
    note = Notification.objects.create(
        site_id=site_id,
        user_id=user_id,
        channel=Channel.EMAIL,
        address_encrypted=fields.encrypt(address),
        subject=subject[:200],
        body=body,
        topic=topic[:60],
    )
    transaction.on_commit(lambda: deliver(note.pk))
    return note


def deliver(notification_id: int) -> bool:
    note = Notification.objects.filter(
        pk=notification_id, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.FAILED]
    ).first()
    if note is None:
        return False
    note.attempts += 1
    try:
        send_mail(note.subject, note.body, None, [fields.decrypt(note.address_encrypted)])
    except Exception as exc:  # any transport failure: keep the message for the next attempt
        log.warning("notification %s failed: %s", note.pk, exc)
        note.status = DeliveryStatus.FAILED
        note.error = str(exc)[:300]
    else:
        note.status = DeliveryStatus.SENT
        note.sent_at = timezone.now()
        note.error = ""
    note.save(update_fields=["attempts", "status", "error", "sent_at"])
    return note.status == DeliveryStatus.SENT


def retry_failed(older_than: timedelta = timedelta(minutes=5)) -> int:
    """Worker step: try failed messages again, with a cap on attempts."""
    due = Notification.objects.filter(
        status__in=[DeliveryStatus.QUEUED, DeliveryStatus.FAILED],
        attempts__lt=MAX_ATTEMPTS,
        created_at__lte=timezone.now() - older_than,
    ).values_list("pk", flat=True)[:200]
    return sum(deliver(pk) for pk in due)
