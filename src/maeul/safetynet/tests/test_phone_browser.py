"""In headless Chromium at 360×740: a helper takes an alert, walks the due list, records a visit with crisis signs
that opens a case; then the server goes down (the phone reaches it through a relay the test stops), a check-in
is kept on the phone, the page is reloaded from the service worker's copy and still shows it, and on reconnect
it is stored exactly once — also when the server's first answer is lost on the way back.
Screenshots go to test-artifacts/helper-phone/."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from maeul.safetynet.models import CheckIn
from maeul.safetynet.tests.test_phone import helper_day
from maeul.testing.browser import ARTIFACTS
from maeul.watch import services as watch
from maeul.watch.detectors import Alert as Detected
from maeul.watch.models import Alert, AlertStatus
from maeul.welfare.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 360, "height": 740}
SHOTS = ARTIFACTS / "helper-phone"
CHECK_IN_POST = b"POST /helper/check-ins "


class Relay:
    """The network between the phone and the server. ``stop`` makes the server unreachable (connections refused,
    open ones cut) for every request, the service worker's included; ``lose_next_answer`` lets the next check-in
    reach the server and cuts the connection while the answer comes back (status and headers, no body)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.check_in_posts = 0
        self.answers_lost = 0
        self._lose_next = False
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def lose_next_answer(self) -> None:
        self._lose_next = True

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._open += [client, server]
            cut = threading.Event()
            threading.Thread(target=self._requests, args=(client, server, cut), daemon=True).start()
            threading.Thread(target=self._answers, args=(server, client, cut), daemon=True).start()

    def _requests(self, client: socket.socket, server: socket.socket, cut: threading.Event) -> None:
        try:
            while data := client.recv(65536):
                if data.startswith(CHECK_IN_POST):
                    self.check_in_posts += 1
                    if self._lose_next:
                        self._lose_next = False
                        cut.set()
                server.sendall(data)
        except OSError:
            pass
        _close(server)

    def _answers(self, server: socket.socket, client: socket.socket, cut: threading.Event) -> None:
        answer = b""
        try:
            while data := server.recv(65536):
                if not cut.is_set():
                    client.sendall(data)
                    continue
                # The server has answered, so it has stored the check-in; the answer is cut after its headers.
                # (Cut before any byte, Chromium itself sends the POST again; a cut body reaches the page.)
                answer += data
                head_end = answer.find(b"\r\n\r\n")
                if head_end >= 0:
                    client.sendall(answer[: head_end + 4])
                    self.answers_lost += 1
                    break
        except OSError:
            pass
        _close(client)
        _close(server)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _settled(page: Any, offline_copy: str) -> None:
    """The page has sent what it kept and asked the service worker to refresh its copy: nothing is in flight."""
    page.wait_for_selector(f"[data-helper-page][data-offline='{offline_copy}']", state="attached")


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_helper_phone_flow_with_the_server_down(live_server, browser, site, make_user) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    day = helper_day(site, make_user)
    sos = watch.raise_alert(
        site.pk,
        day.first.id,
        Detected(
            household=day.first.reference,
            kind="sos",
            raised_at=timezone.now(),
            severity="critical",
            reason="The SOS button was pressed (h1/sos-button).",
            cause="sos:h1/sos-button",
            reason_code="sos",
            reason_params={"device": "h1/sos-button"},
        ),
    )
    assert sos is not None
    relay = Relay(urlsplit(live_server.url).port or 80)
    relay.start()
    base = f"http://localhost:{relay.port}"

    context = browser.new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.goto(f"{base}/helper/")
    page.fill("#id_username", day.helper.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/helper/")
    # The service worker keeps the list, both households' forms and the assets before the server goes away.
    _settled(page, "ready")
    assert page.is_visible("#offline-ready")
    assert page.evaluate("async () => (await (await caches.open('maeul-helper-v1')).keys()).length") == 7
    cards = page.locator(".due-card")
    assert (
        cards.count() == 2
        and "김영자" in cards.nth(0).inner_text()
        and "overdue" in cards.nth(0).get_attribute("class")
    )
    assert cards.nth(0).locator("a[href='tel:010-2345-6789']").count() == 1
    assert "SOS 버튼이 눌렸습니다(h1/sos-button)." in page.inner_text(".reason")  # the reason in the helper's language
    _no_sideways_scroll(page)
    _shot(page, "01-due-list-with-alert.png")

    page.click(f".alert-card[data-alert='{sos.pk}'] button")
    page.wait_for_selector(f".alert-card[data-alert='{sos.pk}'] .ack-done")
    assert Alert.objects.get(pk=sos.pk).status == AlertStatus.ACKNOWLEDGED

    # Online: due list → the overdue household → needs help with two crisis signs → a case is opened.
    cards.nth(0).locator("a.open-check-in").click()
    page.wait_for_url(f"{base}/helper/check-in/{day.first.id}/")
    _settled(page, "ready")
    page.click(".choice.result-needs_help span")
    page.click(".choice.sign:has(input[value=no_food]) span")
    page.click(".choice.sign:has(input[value=utilities_cut]) span")
    page.fill("#id_note", "냉장고가 비어 있고 가스가 끊김")
    assert page.locator("label.choice span").first.bounding_box()["height"] >= 48
    _no_sideways_scroll(page)
    _shot(page, "02-check-in-form.png")
    page.click("#check-in-form button[type=submit]")
    page.wait_for_selector("#outcome.opened")
    case = Case.objects.get(household_id=day.first.id)
    stored = CheckIn.objects.get(household_id=day.first.id)
    assert (stored.result, sorted(stored.crisis_signs), stored.case_id) == (
        "needs_help",
        ["no_food", "utilities_cut"],
        case.pk,
    )
    assert page.locator("#pending").is_hidden()
    _shot(page, "03-case-opened.png")

    # The server goes down. The phone still opens the second household's form from the kept copy.
    page.goto(f"{base}/helper/")
    _settled(page, "ready")
    assert page.locator(".due-card").count() == 1  # the first visit is done: due again in a week
    relay.stop()
    page.locator(f".due-card[data-household='{day.second.id}'] a.open-check-in").click()
    page.wait_for_url(f"{base}/helper/check-in/{day.second.id}/")
    _settled(page, "partial")  # served from the kept copy; nothing could be refreshed
    assert "이순남" in page.inner_text(".household-head")
    page.click(".choice.result-fine span")
    page.click(".choice.sign:has(input[value=isolation]) span")
    page.click("#check-in-form button[type=submit]")
    page.wait_for_selector("#outcome.pending")
    assert page.inner_text("#pending .count") == "1"
    kept = page.evaluate("window.maeulHelper.queue()")
    assert len(kept) == 1 and kept[0]["result"] == "fine" and kept[0]["household_id"] == day.second.id
    client_id = kept[0]["client_id"]
    assert not CheckIn.objects.filter(household_id=day.second.id).exists()
    _shot(page, "04-kept-while-server-down.png")

    # A reload while the server is still down: the service worker serves the page, the kept check-in is listed.
    page.reload()
    _settled(page, "partial")
    assert page.locator("#pending .pending-item").count() == 1
    assert "이순남" in page.inner_text("#pending")
    assert page.is_visible("#form-pending-note")  # the form warns that this household's check-in is kept
    _no_sideways_scroll(page)
    _shot(page, "05-reloaded-while-server-down.png")

    # The server is back, but its first answer is lost: stored on the server, still kept on the phone.
    relay.lose_next_answer()
    relay.start()
    page.reload()
    _settled(page, "ready")  # the page sends kept check-ins first, then refreshes its offline copy
    assert relay.answers_lost == 1
    assert relay.check_in_posts == 2  # the first household's, and this one whose answer was cut off
    assert page.locator("#pending .pending-item").count() == 1
    assert CheckIn.objects.filter(client_id=client_id).count() == 1
    assert len(page.evaluate("window.maeulHelper.queue()")) == 1

    # The phone notices the connection again and sends once more: "already stored", removed from the queue.
    context.set_offline(True)
    context.set_offline(False)
    page.wait_for_selector(f"#sent .sent-item[data-client-id='{client_id}']")
    page.wait_for_selector("#outcome.opened")  # "isolation" is a crisis sign: the case is named on the form page
    assert page.evaluate("window.maeulHelper.queue()") == []
    assert page.locator("#pending").is_hidden()
    assert CheckIn.objects.filter(client_id=client_id).count() == 1
    assert CheckIn.objects.filter(household_id=day.second.id).count() == 1
    assert relay.check_in_posts == 3  # the confirming retry
    assert script_errors == []
    _shot(page, "06-sent-after-reconnect.png")
    context.close()
    relay.stop()


def test_a_check_in_kept_while_the_session_ended_is_sent_after_logging_in_again(  # type: ignore[no-untyped-def]
    live_server, browser, site, make_user
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    day = helper_day(site, make_user)
    relay = Relay(urlsplit(live_server.url).port or 80)
    relay.start()
    base = f"http://localhost:{relay.port}"
    context = browser.new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{base}/helper/check-in/{day.second.id}/")
    page.fill("#id_username", day.helper.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/helper/check-in/{day.second.id}/")
    _settled(page, "ready")

    relay.stop()
    page.click(".choice.result-not_at_address span")
    page.click("#check-in-form button[type=submit]")
    page.wait_for_selector("#outcome.pending")
    context.clear_cookies()  # the session ends while the phone is away from the server
    relay.start()
    context.set_offline(True)
    context.set_offline(False)
    page.wait_for_selector("#pending .pending-item.login")
    assert page.is_visible("#pending .login-hint a")
    assert len(page.evaluate("window.maeulHelper.queue()")) == 1
    assert not CheckIn.objects.exists()
    _no_sideways_scroll(page)
    _shot(page, "07-log-in-again-to-send.png")

    page.click("#pending .login-hint a")
    page.fill("#id_username", day.helper.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/helper/check-in/{day.second.id}/")
    page.wait_for_selector("#outcome.opened")  # "not at this address" opens an address check
    assert page.evaluate("window.maeulHelper.queue()") == []
    stored = CheckIn.objects.get()
    assert stored.result == "not_at_address" and stored.verification_task_id is not None
    _shot(page, "08-sent-after-logging-in-again.png")
    context.close()
    relay.stop()
