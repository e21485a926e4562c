"""The outbox without HTTP: e-mail as before, the live view, the console, configuration and masking."""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from maeul.notify import services
from maeul.notify.channels import mask_address, mask_phone
from maeul.notify.checks import notification_channels
from maeul.notify.models import Channel, DeliveryAttempt, DeliveryStatus, Notification
from maeul.protection import fields

pytestmark = pytest.mark.django_db


def test_queue_email_delivers_after_commit_and_keeps_the_address_encrypted(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        note = services.queue_email(
            site_id=None,
            address="resident@example.kr",
            subject="[마을] 접수",
            body="접수되었습니다",
            topic="hazard_report:3",
        )
        assert mail.outbox == []  # nothing leaves before the caller's transaction commits
    note.refresh_from_db()
    assert "resident" not in note.address_encrypted
    assert fields.decrypt(note.address_encrypted) == "resident@example.kr"
    assert note.status == DeliveryStatus.SENT and note.channel == Channel.EMAIL
    assert [m.to for m in mail.outbox] == [["resident@example.kr"]]
    [attempt] = DeliveryAttempt.objects.filter(notification=note)
    assert attempt.channel == Channel.EMAIL and attempt.ok


def test_nothing_is_stored_or_sent_when_the_callers_transaction_rolls_back(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, suppress(RuntimeError), transaction.atomic():
        services.queue_email(site_id=None, address="a@example.kr", subject="s", body="b", topic="t")
        raise RuntimeError("the caller's change failed")
    assert callbacks == [] and not Notification.objects.exists() and mail.outbox == []


def test_a_message_whose_on_commit_delivery_never_ran_is_sent_by_the_worker() -> None:
    note = services.queue(site_id=None, channel="console", address="", subject="s", body="b", topic="t")
    assert services.retry_failed() == 0  # still within the grace the on-commit delivery has
    Notification.objects.filter(pk=note.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert services.retry_failed() == 1
    assert services.deliver(note.pk) is False  # delivered once, never again
    assert DeliveryAttempt.objects.filter(notification=note).count() == 1


def test_live_view_shows_a_message_to_its_recipient_until_they_read_it() -> None:
    official = User.objects.create_user("official")
    colleague = User.objects.create_user("colleague")
    note = services.queue(
        site_id=None, channel="web", address="", subject="경보", body="H-12 활동 없음", topic="alert:1",
        user_id=official.pk,
    )  # fmt: skip
    assert list(services.unread_for(official)) == []  # not yet delivered
    assert services.deliver(note.pk)
    assert list(services.unread_for(official)) == [note]
    assert list(services.unread_for(colleague)) == []
    assert services.mark_read(colleague, note.pk) is False
    assert services.mark_read(official, note.pk) is True
    assert list(services.unread_for(official)) == []
    assert services.mark_read(official, note.pk) is False
    with pytest.raises(ValueError, match="user_id"):
        services.queue(site_id=None, channel="web", address="", subject="s", body="b", topic="t")


def test_mark_all_read_touches_only_the_users_own_messages() -> None:
    official, colleague = User.objects.create_user("official"), User.objects.create_user("colleague")
    for user in (official, official, colleague):
        note = services.queue(
            site_id=None, channel="web", address="", subject="s", body="b", topic="t", user_id=user.pk
        )
        services.deliver(note.pk)
    assert services.mark_all_read(official) == 2
    assert services.unread_for(official).count() == 0 and services.unread_for(colleague).count() == 1


def test_console_channel_logs_the_message_with_the_recipient_masked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="maeul.notify.console")
    note = services.queue(
        site_id=None, channel="console", address="010-1234-5678", subject="[마을] 경보", body="H-12 활동 없음",
        topic="alert:2",
    )  # fmt: skip
    assert services.deliver(note.pk)
    [record] = [r for r in caplog.records if r.name == "maeul.notify.console"]
    text = record.getMessage()
    assert f"maeul-{note.pk}" in text and "H-12 활동 없음" in text and "alert:2" in text
    assert "010-****-5678" in text and "1234" not in text


def test_a_channel_not_switched_on_or_not_configured_is_reported_and_nothing_is_stored(settings: Any) -> None:
    with pytest.raises(services.ChannelUnavailable, match="not listed in MAEUL_NOTIFY_CHANNELS"):
        services.queue(site_id=None, channel="sms", address="010-1234-5678", subject="s", body="b", topic="t")
    settings.MAEUL_NOTIFY_CHANNELS = ["sms", "webhook", "kakao"]
    settings.MAEUL_SMS_PROVIDER = "nhn"
    settings.MAEUL_SMS_APP_KEY = "key"
    settings.MAEUL_WEBHOOK_URL = "http://hooks.example.kr/maeul"
    settings.MAEUL_WEBHOOK_SECRET = "secret"
    with pytest.raises(services.ChannelUnavailable, match="MAEUL_SMS_SECRET not set"):
        services.queue(site_id=None, channel="sms", address="010-1234-5678", subject="s", body="b", topic="t")
    assert not Notification.objects.exists()
    assert not services.is_available("webhook")  # secrets must not travel over plain HTTP to another machine
    assert [e.id for e in notification_channels()] == ["maeul_notify.E001"] * 3
    assert "MAEUL_WEBHOOK_URL must be an https:// address" in "".join(e.msg for e in notification_channels())


def test_a_channel_switched_off_after_queueing_is_recorded_and_retried(settings: Any) -> None:
    settings.MAEUL_NOTIFY_CHANNELS = ["webhook"]
    settings.MAEUL_WEBHOOK_URL = "https://hooks.example.kr/maeul"
    settings.MAEUL_WEBHOOK_SECRET = "secret"
    note = services.queue(site_id=None, channel="webhook", address="", subject="s", body="b", topic="t")
    settings.MAEUL_NOTIFY_CHANNELS = []
    assert services.deliver(note.pk) is False
    note.refresh_from_db()
    assert note.status == DeliveryStatus.FAILED and "unavailable" in note.error
    [attempt] = DeliveryAttempt.objects.filter(notification=note)
    assert not attempt.ok and attempt.channel == Channel.WEBHOOK
    assert services.deliver(note.pk) is False  # a retry waits for its backoff, whoever asks
    assert DeliveryAttempt.objects.filter(notification=note).count() == 1


def test_phone_channel_prefers_sms_and_falls_back_to_the_console(settings: Any) -> None:
    settings.MAEUL_NOTIFY_CHANNELS = ["console", "email", "web"]
    assert services.phone_channel() == Channel.CONSOLE
    settings.MAEUL_NOTIFY_CHANNELS = ["console", "sms"]
    settings.MAEUL_SMS_PROVIDER = "nhn"
    settings.MAEUL_SMS_APP_KEY, settings.MAEUL_SMS_SECRET, settings.MAEUL_SMS_SENDER = "k", "s", "02-123-4567"
    assert services.phone_channel() == Channel.SMS
    settings.MAEUL_NOTIFY_CHANNELS = ["email"]
    with pytest.raises(services.ChannelUnavailable):
        services.phone_channel()


def test_phone_messages_need_a_korean_number_and_kakao_a_template(settings: Any) -> None:
    settings.MAEUL_NOTIFY_CHANNELS = ["sms", "kakao"]
    settings.MAEUL_SMS_PROVIDER = "nhn"
    settings.MAEUL_SMS_APP_KEY, settings.MAEUL_SMS_SECRET, settings.MAEUL_SMS_SENDER = "k", "s", "02-123-4567"
    settings.MAEUL_KAKAO_APP_KEY, settings.MAEUL_KAKAO_SECRET, settings.MAEUL_KAKAO_SENDER_KEY = "k", "s", "sender"
    with pytest.raises(ValidationError):
        services.queue(site_id=None, channel="sms", address="555-0100", subject="s", body="b", topic="t")
    with pytest.raises(ValueError, match="template_code"):
        services.queue(site_id=None, channel="kakao", address="010-1234-5678", subject="s", body="b", topic="t")
    note = services.queue(site_id=None, channel="sms", address="+82 10-1234-5678", subject="s", body="b", topic="t")
    assert fields.decrypt(note.address_encrypted) == "01012345678"


def test_delivery_status_shows_each_message_about_a_topic_masked() -> None:
    official = User.objects.create_user("official")
    web = services.queue(
        site_id=None, channel="web", address="", subject="s", body="b", topic="alert:9", user_id=official.pk
    )
    services.deliver(web.pk)
    services.queue(site_id=None, channel="email", address="kim@example.kr", subject="s", body="b", topic="alert:9")
    services.queue(site_id=None, channel="email", address="other@example.kr", subject="s", body="b", topic="alert:10")
    with translation.override("en"):
        lines = services.delivery_status("alert:9")
    assert [(line.channel, line.recipient, line.status) for line in lines] == [
        ("web", "", "sent"),
        ("email", "k***@example.kr", "queued"),
    ]
    assert lines[0].user_id == official.pk and lines[0].at == Notification.objects.get(pk=web.pk).sent_at
    assert lines[0].channel_label == "Live view" and lines[1].attempts == 0


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("01012345678", "010-****-5678"), ("010-1234-5678", "010-****-5678"), ("021234567", "02-***-4567"),
     ("0311234567", "031-***-4567"), ("15881234", "1588-1234")],
)  # fmt: skip
def test_mask_phone_shows_the_prefix_and_the_last_four_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
    assert mask_address("sms", phone) == masked


def test_mask_address_for_other_channels() -> None:
    assert mask_address("email", "resident@example.kr") == "r***@example.kr"
    assert mask_address("webhook", "duty-desk-7") == "****sk-7"
    assert mask_address("console", "") == ""


def test_retry_delay_doubles_up_to_a_cap() -> None:
    assert [services.retry_delay(n).total_seconds() / 60 for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
