"""Disaster response in the demo: Jongno-gu's forecast-zone table, a CAP source, and a past heat wave handled from
start to finish — the advisory over 청운효자동 and 사직동 (the Korean CAP sample), its upgrade to a warning that
added 무악동 and 교남동, households reached by their helpers, the consultative body member and the officials (a few
only after escalation), the cancellation, the close, and an after-action review whose lesson became an improvement
task. A new official opens `/disaster/` and sees how one went."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from maeul.accounts.principal import principal_for
from maeul.audit.services import Actor
from maeul.disaster import services as disaster
from maeul.disaster.models import Channel, EntryStatus, RollCallEntry
from maeul.disaster.schemas import ContactInput, LessonInput, SourceInput, ZoneInput
from maeul.sites.models import Site

SAMPLES = Path(disaster.__file__).resolve().parent / "data" / "samples"
# Example zone codes: set the codes the site's warning feed uses (서울 has 동북·서북·동남·서남권 zones).
ZONES = {
    "L1100200": ("서울동북권 (예시)", None),  # every dong of the district
}
CHEONGUN, SAJIK = "1111051500", "1111053000"
OUTCOMES = ["fine"] * 14 + ["needs_help"] * 2 + ["evacuated"]


def _actor(user: Any) -> Actor:
    return Actor(principal=principal_for(user), channel="command")


def load_disaster(site: Site, users: dict[str, Any]) -> None:
    admin, safety = _actor(users["jongno-admin"]), _actor(users["safety"])
    codes = sorted(site.areas.filter(level="emd", abolished=False).values_list("code", flat=True))
    for code, (name, areas) in ZONES.items():
        disaster.save_zone(admin, ZoneInput(code=code, name=name, area_codes=areas or codes))
    disaster.create_source(admin, SourceInput(name="기상특보 연계 (시연)", kind="push"))

    # Twelve days ago at 10:05, when a heat-wave advisory would come.
    day = timezone.localdate() - timedelta(days=12)
    start = timezone.make_aware(datetime.combine(day, time(10, 5)))
    site_list = [site]
    [response] = disaster.receive(
        (SAMPLES / "ko_heat_polygon.xml").read_bytes(), channel=Channel.PUSH, site_list=site_list, now=start
    ).responses
    disaster.send_dispatches()
    recorders = {users[name].pk: _actor(users[name]) for name in ("helper", "helper-sajik", "member")}
    entries = list(RollCallEntry.objects.filter(response=response).order_by("-priority", "id"))
    for n, entry in enumerate(entries[:-3]):
        who = recorders.get(entry.assignee_id or 0, admin)
        at = start + timedelta(minutes=12 + 9 * n)
        if n % 7 == 3:  # no answer at first
            disaster.record_contact(who, entry.pk, ContactInput(result="not_reached"), now=at)
            at += timedelta(minutes=40)
        outcome = OUTCOMES[n % len(OUTCOMES)]
        note = "선풍기가 고장 나 무더위쉼터로 모셔다 드림" if outcome == "evacuated" else ""
        disaster.record_contact(who, entry.pk, ContactInput(result=outcome, method="visit" if n % 2 else "phone",
                                                            note=note, has_cooling="no" if outcome != "fine" else None),
                                now=at)  # fmt: skip
    # The last three are not reached by the deadline: the officials, then the guardians, are told.
    disaster.escalate_due(response.reach_by + timedelta(minutes=1))
    disaster.escalate_due(response.reach_by + timedelta(minutes=61))
    disaster.send_dispatches()
    for n, entry in enumerate(entries[-3:]):
        disaster.record_contact(admin, entry.pk, ContactInput(result="fine", note="보호자 통화로 확인"),
                                now=response.reach_by + timedelta(minutes=70 + 5 * n))  # fmt: skip
    disaster.add_note(
        safety, response.pk, "청운효자동 무더위쉼터 운영 시간을 21시까지 연장", now=start + timedelta(hours=2)
    )
    for line in response.checklist.all()[:5]:
        disaster.tick(safety, line.pk, True, now=start + timedelta(hours=1))

    updated = start + timedelta(days=1)
    disaster.receive((SAMPLES / "ko_heat_update.xml").read_bytes(), channel=Channel.PUSH, site_list=site_list,
                     now=updated)  # fmt: skip
    disaster.send_dispatches()
    for n, entry in enumerate(
        RollCallEntry.objects.filter(response=response, status=EntryStatus.PENDING, in_area=True).order_by("-priority")
    ):
        who = recorders.get(entry.assignee_id or 0, admin)
        disaster.record_contact(who, entry.pk, ContactInput(result="fine"), now=updated + timedelta(minutes=15 + 7 * n))
    disaster.receive((SAMPLES / "ko_heat_cancel.xml").read_bytes(), channel=Channel.PUSH, site_list=site_list,
                     now=start + timedelta(days=3))  # fmt: skip
    disaster.send_dispatches()
    disaster.close(admin, response.pk, now=start + timedelta(days=3, hours=1))
    disaster.save_review(
        safety,
        response.pk,
        "도우미와 안전협의체 위원이 담당 가구 대부분을 2시간 안에 확인했고, 냉방기가 없는 가구를 무더위쉼터로 안내함.",
        "사직동은 협의체 위원이 없어 공무원이 직접 연락해야 했음. 보호자 연락처가 없는 가구가 늦게 확인됨.",
        now=start + timedelta(days=4),
    )
    disaster.add_lesson(
        safety, response.pk, LessonInput(area_code=CHEONGUN, text="청운효자동 무더위쉼터 야간 운영 협약")
    )
    disaster.add_lesson(
        _actor(users["welfare"]),
        response.pk,
        LessonInput(area_code=SAJIK, text="사직동 안전협의체 위원 충원", make_task=False),
    )
