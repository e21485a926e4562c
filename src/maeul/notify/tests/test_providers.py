"""HTTP channels against a real local server: the exact request each provider receives, and what the outbox makes
of its answers — delivery, SMS fallback, retry with backoff, giving up."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from maeul.notify import services
from maeul.notify.models import DeliveryAttempt, DeliveryStatus, Notification
from maeul.notify.tests.conftest import ProviderServer

pytestmark = pytest.mark.django_db

NHN_OK_SMS = {
    "header": {"isSuccessful": True, "resultCode": 0, "resultMessage": "SUCCESS"},
    "body": {
        "data": {
            "requestId": "20261125140200ReZQ6KZzAH0",
            "statusCode": "2",
            "sendResultList": [{"recipientNo": "01012345678", "resultCode": 0, "resultMessage": "SUCCESS"}],
        }
    },
}
NHN_OK_ALIMTALK = {
    "header": {"isSuccessful": True, "resultCode": 0, "resultMessage": "success"},
    "message": {
        "requestId": "20261125140200AbCdEfGhIj0",
        "sendResults": [{"recipientSeq": 1, "recipientNo": "01012345678", "resultCode": 0, "resultMessage": "success"}],
    },
}
NHN_REFUSED = {"header": {"isSuccessful": False, "resultCode": -1006, "resultMessage": "Invalid template code"}}


@pytest.fixture
def nhn_sms(settings: Any, provider: ProviderServer) -> ProviderServer:
    settings.MAEUL_NOTIFY_CHANNELS = ["console", "email", "web", "sms"]
    settings.MAEUL_SMS_PROVIDER = "nhn"
    settings.MAEUL_SMS_URL = provider.url
    settings.MAEUL_SMS_APP_KEY = "sms-app-key"
    settings.MAEUL_SMS_SECRET = "sms-secret"
    settings.MAEUL_SMS_SENDER = "02-1234-5678"
    return provider


@pytest.fixture
def nhn_kakao(settings: Any, nhn_sms: ProviderServer) -> ProviderServer:
    settings.MAEUL_NOTIFY_CHANNELS = [*settings.MAEUL_NOTIFY_CHANNELS, "kakao"]
    settings.MAEUL_KAKAO_URL = nhn_sms.url
    settings.MAEUL_KAKAO_APP_KEY = "kakao-app-key"
    settings.MAEUL_KAKAO_SECRET = "kakao-secret"
    settings.MAEUL_KAKAO_SENDER_KEY = "s" * 40
    return nhn_sms


def send(
    channel: str, address: str = "010-1234-5678", *, body: str = "청운동 H-12 가구 활동 없음", **extra: Any
) -> Notification:
    note = services.queue(
        site_id=None, channel=channel, address=address, subject="[마을] 경보", body=body, topic="alert:7", **extra
    )
    services.deliver(note.pk)
    note.refresh_from_db()
    return note


def attempts_of(note: Notification) -> list[tuple[str, bool]]:
    return [(a.channel, a.ok) for a in DeliveryAttempt.objects.filter(notification=note)]


def make_due(note: Notification) -> None:
    Notification.objects.filter(pk=note.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_nhn_sms_gets_the_documented_request_with_the_number_in_digits(nhn_sms: ProviderServer) -> None:
    nhn_sms.answer((200, NHN_OK_SMS))
    note = send("sms", "+82 10-1234-5678")
    [request] = nhn_sms.requests
    assert request.path == "/sms/v3.0/appKeys/sms-app-key/sender/sms"
    assert request.headers["x-secret-key"] == "sms-secret"
    assert request.headers["content-type"] == "application/json;charset=UTF-8"
    assert request.json() == {
        "body": "청운동 H-12 가구 활동 없음",
        "sendNo": "0212345678",
        "senderGroupingKey": f"maeul-{note.pk}",
        "recipientList": [{"recipientNo": "01012345678"}],
    }
    assert note.status == DeliveryStatus.SENT and note.sent_at is not None and note.next_attempt_at is None
    [attempt] = DeliveryAttempt.objects.filter(notification=note)
    # The reference is kept, the provider's echo of the recipient is not.
    assert attempt.ok and attempt.provider_response == "requestId=20261125140200ReZQ6KZzAH0"


def test_text_longer_than_an_sms_goes_as_lms_with_a_title(nhn_sms: ProviderServer) -> None:
    nhn_sms.answer((200, NHN_OK_SMS))
    send("sms", body="가" * 46)  # 92 EUC-KR bytes
    [request] = nhn_sms.requests
    assert request.path == "/sms/v3.0/appKeys/sms-app-key/sender/mms"
    assert request.json()["title"] == "[마을] 경보" and request.json()["body"] == "가" * 46


def test_a_refusal_in_the_nhn_header_is_a_failure_to_retry(nhn_sms: ProviderServer) -> None:
    nhn_sms.answer((200, NHN_REFUSED))
    note = send("sms")
    assert note.status == DeliveryStatus.FAILED and "Invalid template code" in note.error
    assert note.next_attempt_at is not None


def test_a_refused_recipient_is_a_failure_even_when_the_request_succeeded(nhn_sms: ProviderServer) -> None:
    answer = {
        "header": {"isSuccessful": True, "resultCode": 0, "resultMessage": "SUCCESS"},
        "body": {"data": {"requestId": "r1", "sendResultList": [{"resultCode": -2, "resultMessage": "bad number"}]}},
    }
    nhn_sms.answer((200, answer))
    assert send("sms").status == DeliveryStatus.FAILED


def test_generic_sms_gateway_gets_json_with_a_bearer_token(settings: Any, provider: ProviderServer) -> None:
    settings.MAEUL_NOTIFY_CHANNELS = ["sms"]
    settings.MAEUL_SMS_PROVIDER = "generic"
    settings.MAEUL_SMS_URL = provider.url + "/v1/messages"
    settings.MAEUL_SMS_SECRET = "gateway-token"
    settings.MAEUL_SMS_SENDER = "1588-1234"
    provider.answer((202, {"id": "abc"}))
    note = send("sms", "010 1234 5678")
    [request] = provider.requests
    assert request.path == "/v1/messages"
    assert request.headers["authorization"] == "Bearer gateway-token"
    assert request.json() == {
        "from": "15881234",
        "to": "01012345678",
        "to_e164": "+821012345678",
        "subject": "[마을] 경보",
        "text": "청운동 H-12 가구 활동 없음",
        "reference": f"maeul-{note.pk}",
    }
    assert note.status == DeliveryStatus.SENT


def test_alimtalk_sends_the_template_with_its_parameters_and_provider_resend(nhn_kakao: ProviderServer) -> None:
    nhn_kakao.answer((200, NHN_OK_ALIMTALK))
    note = send("kakao", template_code="MAEUL_ALERT_01", template_params={"area": "청운효자동", "level": 2})
    [request] = nhn_kakao.requests
    assert request.path == "/alimtalk/v2.3/appkeys/kakao-app-key/messages"
    assert request.headers["x-secret-key"] == "kakao-secret"
    assert request.json() == {
        "senderKey": "s" * 40,
        "templateCode": "MAEUL_ALERT_01",
        "senderGroupingKey": f"maeul-{note.pk}",
        "recipientList": [
            {
                "recipientNo": "01012345678",
                "templateParameter": {"area": "청운효자동", "level": "2"},
                "resendParameter": {
                    "isResend": True,
                    "resendTitle": "[마을] 경보",
                    "resendContent": "청운동 H-12 가구 활동 없음",
                    "resendSendNo": "0212345678",
                },
            }
        ],
    }
    assert note.status == DeliveryStatus.SENT
    assert attempts_of(note) == [("kakao", True)]


def test_alimtalk_refused_by_the_provider_falls_back_to_sms(nhn_kakao: ProviderServer) -> None:
    nhn_kakao.answer((200, NHN_REFUSED), (200, NHN_OK_SMS))
    note = send("kakao", template_code="MAEUL_ALERT_01")
    assert [r.path for r in nhn_kakao.requests] == [
        "/alimtalk/v2.3/appkeys/kakao-app-key/messages",
        "/sms/v3.0/appKeys/sms-app-key/sender/sms",
    ]
    assert nhn_kakao.requests[1].json()["body"] == "청운동 H-12 가구 활동 없음"
    assert note.status == DeliveryStatus.SENT
    assert attempts_of(note) == [("kakao", False), ("sms", True)]
    with translation.override("en"):
        [line] = services.delivery_status("alert:7")
        assert (line.channel, line.recipient, line.status) == ("sms", "010-****-5678", "sent")
        assert str(line) == f"SMS to 010-****-5678: Delivered {timezone.localtime(note.sent_at):%Y.%m.%d %H:%M}"


def test_alimtalk_without_sms_is_retried_not_dropped(settings: Any, nhn_kakao: ProviderServer) -> None:
    settings.MAEUL_NOTIFY_CHANNELS = ["kakao"]
    nhn_kakao.answer((200, NHN_REFUSED))
    note = send("kakao", template_code="MAEUL_ALERT_01")
    assert note.status == DeliveryStatus.FAILED and attempts_of(note) == [("kakao", False)]


def test_webhook_is_signed_over_timestamp_and_body(settings: Any, provider: ProviderServer) -> None:
    settings.MAEUL_NOTIFY_CHANNELS = ["webhook"]
    settings.MAEUL_WEBHOOK_URL = provider.url + "/hooks/maeul"
    settings.MAEUL_WEBHOOK_SECRET = "shared-secret"
    provider.answer((204, {}))
    note = send("webhook", "duty-desk", template_code="T1", template_params={"household": "H-12"})
    [request] = provider.requests
    assert request.path == "/hooks/maeul"
    timestamp = request.headers["x-maeul-timestamp"]
    assert abs(int(timestamp) - time.time()) < 30
    expected = hmac.new(b"shared-secret", timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-maeul-signature"] == f"sha256={expected}"
    assert request.headers["x-maeul-delivery"] == f"maeul-{note.pk}"
    assert request.json() == {
        "id": f"maeul-{note.pk}",
        "topic": "alert:7",
        "recipient": "duty-desk",
        "subject": "[마을] 경보",
        "body": "청운동 H-12 가구 활동 없음",
        "template_code": "T1",
        "template_params": {"household": "H-12"},
    }
    assert note.status == DeliveryStatus.SENT


def test_server_errors_are_retried_with_growing_delays_until_delivered(nhn_sms: ProviderServer) -> None:
    nhn_sms.answer((500, {}), (503, {}), (200, NHN_OK_SMS))
    note = send("sms")
    assert note.status == DeliveryStatus.FAILED and note.error == "HTTP 500 from provider"
    first = DeliveryAttempt.objects.filter(notification=note).last()
    assert first is not None and note.next_attempt_at is not None
    assert timedelta(minutes=1) <= note.next_attempt_at - first.at < timedelta(minutes=1, seconds=5)
    assert services.retry_failed() == 0 and len(nhn_sms.requests) == 1  # not due yet

    make_due(note)
    assert services.retry_failed() == 0
    note.refresh_from_db()
    second = DeliveryAttempt.objects.filter(notification=note).last()
    assert second is not None and note.next_attempt_at is not None
    assert timedelta(minutes=2) <= note.next_attempt_at - second.at < timedelta(minutes=2, seconds=5)

    make_due(note)
    assert services.retry_failed() == 1
    note.refresh_from_db()
    assert note.status == DeliveryStatus.SENT and note.attempts == 3 and note.error == ""
    assert attempts_of(note) == [("sms", False), ("sms", False), ("sms", True)]


def test_refused_connections_are_retried_then_given_up_for_a_person_to_see(settings: Any, closed_port_url: str) -> None:
    settings.MAEUL_NOTIFY_CHANNELS = ["webhook"]
    settings.MAEUL_WEBHOOK_URL = closed_port_url
    settings.MAEUL_WEBHOOK_SECRET = "shared-secret"
    note = send("webhook", "duty-desk")
    delays = []
    while note.status == DeliveryStatus.FAILED:
        last = DeliveryAttempt.objects.filter(notification=note).last()
        assert last is not None and note.next_attempt_at is not None
        delays.append(round((note.next_attempt_at - last.at).total_seconds() / 60))
        make_due(note)
        services.retry_failed()
        note.refresh_from_db()
    assert delays == [1, 2, 4, 8]
    assert note.status == DeliveryStatus.GIVEN_UP and note.attempts == services.MAX_ATTEMPTS
    assert note.next_attempt_at is None and "ConnectError" in note.error
    make_due(note)
    assert services.retry_failed() == 0
    assert DeliveryAttempt.objects.filter(notification=note).count() == services.MAX_ATTEMPTS
    with translation.override("en"):
        [line] = services.delivery_status("alert:7")
        assert (line.status, line.status_label, line.attempts) == ("given_up", "Failed for good", 5)
        assert str(line).startswith("Webhook to ****desk: Failed for good ") and "(ConnectError" in str(line)


def test_a_rejected_request_is_given_up_at_once(nhn_sms: ProviderServer) -> None:
    nhn_sms.answer((401, {"header": {"isSuccessful": False}}))
    note = send("sms")
    assert note.status == DeliveryStatus.GIVEN_UP and note.attempts == 1 and note.error == "HTTP 401 from provider"
