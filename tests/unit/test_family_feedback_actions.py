"""The feedback form and its actions, called through ``run()`` on a real database."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions import feedback as feedback_actions
from actions.feedback import (
    SLOTS,
    ActionAskFbContact,
    ActionFeedbackStatus,
    ActionFeedbackSubmit,
    ValidateFeedbackForm,
    kind_of,
    valid_phone,
)
from knowledge.feedback.items import reference
from knowledge.feedback.spool import Spool
from knowledge.models import FeedbackItem
from knowledge.staff import recent_audit
from settings import get_settings

DOMAIN = yaml.load(
    (Path(__file__).parents[2] / "domain.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
)
STORY = (
    "Con tôi ở trại giam Thủ Đức, cán bộ quản giáo gọi điện đòi gia đình 30 triệu mới làm hồ "
    "sơ đặc xá cho cháu. Tôi muốn báo việc này."
)


@pytest.fixture
def env(
    loaded: sessionmaker[Session],
    db_url: str,
    app_settings: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[sessionmaker[Session]]:
    monkeypatch.setenv("AMNESTY_DATABASE_URL", db_url)
    monkeypatch.setenv("AMNESTY_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("AMNESTY_RETENTION_DAYS", "180")
    yield loaded
    for worker in feedback_actions._workers.values():  # the spool worker a save started
        worker.stop()
    feedback_actions._workers.clear()


def user(text: str, **extra: Any) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"text": text}, **extra}


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def tracker(events: list[dict[str, Any]], sender: str = "web:abc") -> Tracker:
    slots: dict[str, Any] = dict.fromkeys(SLOTS) | {"requested_slot": None}
    for e in events:
        if e["event"] == "slot":
            slots[e["name"]] = e["value"]
    latest = next(e for e in reversed(events) if e["event"] == "user")
    message = {"text": latest["text"], "intent": {"name": "give_feedback"}, "entities": []}
    message |= {"message_id": latest.get("message_id", "m1"), "metadata": latest.get("metadata")}
    return Tracker(
        sender, slots, message, list(events), False, None, {"name": "feedback_form"}, "x"
    )


def validate(events: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    t = tracker(events)
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateFeedbackForm().run(dispatcher, t, DOMAIN))
    slots = dict(t.slots)
    slots.update({e["name"]: e["value"] for e in result if e["event"] == "slot"})
    return slots, [m.get("text") or "" for m in dispatcher.messages]


def run(action: Any, events: list[dict[str, Any]], sender: str = "web:abc") -> str:
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, tracker(events, sender), DOMAIN)
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def test_a_story_told_before_the_button_fills_kind_content_and_facility(env: Any) -> None:
    slots, _ = validate([user(STORY), user('/give_feedback{"feedback_send":"yes"}')])
    assert slots["fb_content"] == STORY
    assert slots["fb_kind"] == "misconduct"
    assert slots["fb_facility"] == "trại giam Thủ Đức"


def test_a_question_before_the_button_is_not_taken_as_the_content(env: Any) -> None:
    slots, _ = validate(
        [user("khiếu nại về danh sách đặc xá thì gửi đơn cho ai?"), user("/give_feedback")]
    )
    assert slots["fb_content"] is None


def test_the_content_is_the_raw_message_and_urgency_gets_the_emergency_numbers(env: Any) -> None:
    raw = "Chồng em bị đánh trong trại, ngất xỉu, em rất sợ   "
    events = [user(raw), slot("requested_slot", "fb_content"), slot("fb_content", "normalised")]
    slots, said = validate(events)
    assert slots["fb_content"] == raw.strip()
    assert any("113" in s and "115" in s for s in said)


def test_a_refused_phone_drops_the_contact(env: Any) -> None:
    events = [
        slot("fb_contact", True),
        slot("fb_name", "Lan"),
        user("không"),
        slot("requested_slot", "fb_phone"),
        slot("fb_phone", "không"),
    ]
    slots, said = validate(events)
    assert (slots["fb_contact"], slots["fb_name"], slots["fb_phone"]) == (False, None, None)
    assert any("không ghi thông tin liên lạc" in s for s in said)


def test_phone_numbers() -> None:
    assert valid_phone("số em 0912 345 678 ạ") == "+84912345678"
    assert valid_phone("+84 912.345.678") == "+84912345678"
    assert valid_phone("12345") is None


def test_kinds_from_words() -> None:
    assert kind_of("cán bộ đòi tiền") == "misconduct"
    assert kind_of("toi muon khieu nai vi khong co ten") == "process_complaint"
    assert kind_of("góp ý nên có hướng dẫn") == "suggestion"


def test_privacy_notice_before_contact_details(env: Any) -> None:
    text = run(ActionAskFbContact(), [user("x")])
    assert "91/2025/QH15" in text and "180 ngày" in text


def filled(content: str = STORY, **more: Any) -> list[dict[str, Any]]:
    values = {
        "fb_kind": "misconduct",
        "fb_content": content,
        "fb_facility": "trại giam Thủ Đức",
        "fb_contact": False,
        "fb_confirm": "send",
    } | more
    return [slot(k, v) for k, v in values.items()] + [user("gửi", message_id="msg-7")]


def test_submit_saves_before_telling_and_a_retry_makes_no_duplicate(env: Any) -> None:
    first = run(ActionFeedbackSubmit(), filled())
    again = run(ActionFeedbackSubmit(), filled())
    with env() as session:
        items = list(session.scalars(select(FeedbackItem)))
    assert len(items) == 1
    assert reference(items[0]) in first and reference(items[0]) in again
    assert items[0].content == STORY and items[0].kind == "misconduct"
    assert "Không đưa, không chuyển thêm tiền" in first  # money: what to do next, from the KB


@pytest.mark.parametrize(
    ("kind", "content", "route"),
    [
        # the route told comes from the KB entry (review H3): every first-level handler
        (
            "process_complaint",
            "Tôi muốn khiếu nại việc trại không lập hồ sơ đặc xá",
            "Tòa án quân sự",
        ),
        ("misconduct", STORY, "Không đưa, không chuyển thêm tiền"),
        (
            "process_complaint",
            "Chồng tôi bị cán bộ trại đánh bầm dập, tôi muốn khiếu nại",
            "tố cáo",
        ),
    ],
)
def test_after_saving_the_family_is_told_where_a_formal_complaint_goes(
    env: Any, kind: str, content: str, route: str
) -> None:
    said = run(ActionFeedbackSubmit(), filled(content, fb_kind=kind))
    assert route in said


def test_submit_spools_when_the_database_cannot_be_written(
    env: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AMNESTY_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    from settings import get_settings

    get_settings.cache_clear()
    text = run(ActionFeedbackSubmit(), filled())
    assert "giữ lại an toàn" in text
    assert len(Spool(tmp_path / "spool").pending()) == 1


def test_cancel_saves_nothing(env: Any) -> None:
    text = run(ActionFeedbackSubmit(), filled(fb_confirm="cancel"))
    assert "không lưu" in text
    with env() as session:
        assert session.scalars(select(FeedbackItem)).first() is None


def test_status_needs_the_reference_and_the_secret_code_not_the_phone(env: Any) -> None:
    told = run(
        ActionFeedbackSubmit(), filled(fb_contact=True, fb_name="Lan", fb_phone="+84912345678")
    )
    code = re.search(r"mã bí mật: (\d{6})", told)
    assert code, told
    with env() as session:
        ref = reference(session.scalars(select(FeedbackItem)).one())
    assert f"tra cứu {ref} {code.group(1)}" in told
    # Without the code: not even the family's own conversation sees the status (shared screens).
    own = run(ActionFeedbackStatus(), [user(f"tra cứu {ref}")])
    assert "Mới tiếp nhận" not in own and "mã bí mật" in own
    with_phone = run(ActionFeedbackStatus(), [user(f"tra cứu {ref} 0912345678")], "web:other")
    assert "Mới tiếp nhận" not in with_phone  # a phone number is not a secret
    wrong = run(ActionFeedbackStatus(), [user(f"tra cứu {ref} 000000")], "web:b")
    assert "Không tìm thấy" in wrong
    right = run(ActionFeedbackStatus(), [user(f"tra cứu {ref} {code.group(1)}")], "web:c")
    assert "Mới tiếp nhận" in right
    listed = run(ActionFeedbackStatus(), [user("tra cứu ý kiến")])
    assert ref in listed and "Mới tiếp nhận" not in listed
    with env() as session:
        lookups = [e for e in recent_audit(session) if e.action == "feedback_lookup"]
    assert len(lookups) == 4 and [e.detail["found"] for e in lookups].count(True) == 1
    assert all(e.actor is None and "web:" not in str(e.detail) for e in lookups)


def test_look_ups_are_throttled_per_reference(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMNESTY_LOOKUP_RATE", "3/hour")
    get_settings.cache_clear()
    told = run(ActionFeedbackSubmit(), filled())
    found = re.search(r"mã bí mật: (\d{6})", told)
    assert found, told
    code = found.group(1)
    with env() as session:
        ref = reference(session.scalars(select(FeedbackItem)).one())
    guesses = [
        run(ActionFeedbackStatus(), [user(f"tra cứu {ref} {n:06d}")], f"web:guess{n}")
        for n in range(3)
    ]
    assert all("Không tìm thấy" in g for g in guesses)
    blocked = run(ActionFeedbackStatus(), [user(f"tra cứu {ref} {code}")], "web:late")
    assert "thử lại sau" in blocked and "Mới tiếp nhận" not in blocked
    with env() as session:
        refused = [e for e in recent_audit(session) if e.detail.get("refused")]
    assert len(refused) == 1
