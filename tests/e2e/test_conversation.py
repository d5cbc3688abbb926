"""Questions through the REST channel, answered by the real Rasa and action servers."""

from __future__ import annotations

import sqlite3
import unicodedata

import httpx
import pytest
from sqlalchemy.engine import make_url

from knowledge.kb.loader import read_entries
from tests.e2e.conftest import Assistant, joined

ANSWERS = {e["key"]: e["answer"] for e in read_entries()}


def opening(key: str) -> str:
    """The first words of an entry's answer (before any placeholder)."""
    return ANSWERS[key].split("{")[0].split("\n")[0][:40]


@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("Người đủ 70 tuổi có được ưu tiên xét đặc xá không ạ?", "conditions_priority_age70"),
        ("Những tội nào thì không được đề nghị đặc xá?", "exclusions_crimes"),
        ("Giấy tờ y tế trong hồ sơ đặc xá có giá trị trong bao lâu?", "documents_medical"),
        ("Năm 2024 có bao nhiêu người được đặc xá?", "results_2024"),
        (
            "Chồng tôi không có tên trong danh sách đề nghị đặc xá, tôi khiếu nại ở đâu?",
            "complaints_route",
        ),
        ("Đại xá khác đặc xá thế nào?", "other_general_amnesty"),
        ("Bị 6 năm tù thì bao lâu mới được xét giảm án lần đầu?", "reduction_first_time"),
    ],
)
def test_each_topic_gets_its_entry_with_citation(
    assistant: Assistant, question: str, key: str
) -> None:
    text = joined(assistant.send(question))
    assert opening(key) in text
    assert "Nguồn:" in text


def test_case_without_diacritics_is_worked_through(assistant: Assistant) -> None:
    text = joined(
        assistant.send(
            "chong em an 6 nam toi lua dao, di duoc 4 nam roi, dong du an phi, "
            "co dc xet dac xa ko ad"
        )
    )
    assert "Luật Đặc xá số 30/2018/QH14, Điều 11" in text
    assert "Với trường hợp bạn kể" in text and "48 tháng" in text
    assert "457/2026/QĐ-CTN" in text  # the latest round, with its unverified status
    assert "Chỉ các cơ quan, hội đồng" in text


# --- The law as of today (6/12/2026), through the REST channel ----------------------------------


def test_an_old_man_with_one_month_served_is_not_told_he_may_be_amnestied(
    assistant: Assistant,
) -> None:
    text = joined(
        assistant.send(
            "Bố tôi 72 tuổi, bị 10 năm tù tội lừa đảo, mới vào trại được 1 tháng. Bố tôi có được "
            "đặc xá không?"
        )
    )
    assert "có thể thuộc diện được xem xét" not in text and "CÓ THỂ" not in text
    assert "chưa thể nói chắc" in text


def test_last_year_is_2025_with_22081_people(assistant: Assistant) -> None:
    text = joined(assistant.send("năm ngoái có bao nhiêu người được đặc xá"))
    assert "22.081" in text and "2025" in text


def test_a_complaint_from_an_army_camp_is_routed_to_the_army_s_handlers(
    assistant: Assistant,
) -> None:
    text = joined(
        assistant.send(
            "Con tôi chấp hành án ở trại giam của Bộ Quốc phòng, đủ điều kiện mà không có tên "
            "trong danh sách đề nghị đặc xá. Tôi khiếu nại ở đâu?"
        )
    )
    assert "Bộ Quốc phòng" in text and "Bộ trưởng Bộ Quốc phòng" in text
    assert "05 ngày" in text or "5 ngày" in text


def test_visits_and_parcels_are_answered_under_the_rules_in_force(assistant: Assistant) -> None:
    text = joined(assistant.send("Mỗi tháng người nhà được vào thăm gặp phạm nhân mấy lần?"))
    assert "127/2025" in text and "01/7/2026" in text


def test_a_family_from_the_former_kon_tum_province_is_told_about_quang_ngai(
    assistant: Assistant,
) -> None:
    text = joined(assistant.send("Nhà tôi ở Kon Tum, con tôi đang thụ án, muốn hỏi về đặc xá"))
    assert "Quảng Ngãi" in text


def test_money_demanded_takes_the_safety_path(assistant: Assistant) -> None:
    messages = assistant.send("Có người nhận chạy đặc xá 100 triệu, có nên đưa tiền không?")
    assert messages[0]["text"].startswith("Không đưa, không chuyển thêm tiền")
    payloads = [b["payload"] for m in messages for b in m.get("buttons") or []]
    assert '/give_feedback{"feedback_send":"yes"}' in payloads


def test_greeting_gives_notice_and_buttons_that_work(assistant: Assistant) -> None:
    sender = "test-buttons"
    (greeting,) = assistant.send("xin chào", sender)
    assert "không phải quyết định" in greeting["text"]
    payload = next(b["payload"] for b in greeting["buttons"] if b["payload"] == "/ask_documents")
    assert "Nguồn:" in joined(assistant.send(payload, sender))


def test_unsure_message_gets_did_you_mean_only_as_a_last_resort(assistant: Assistant) -> None:
    sender = "test-fallback"
    question = assistant.send("vậy còn cái kia thì sao", sender)[-1]
    assert question["text"].startswith("Xin lỗi, tôi chưa chắc hiểu đúng")
    payloads = [b["payload"] for b in question["buttons"]]
    assert payloads[-1] == "/out_of_scope"
    understood = joined(assistant.send("hoan thi hanh an duoc bao lau", "test-fallback-2"))
    assert "hoãn" in understood.lower() and "Nguồn:" in understood


BAD_INPUTS = [
    "",
    "   \n\t ",
    "đặc xá " * 3_000,
    "😀😀😀🙏",
    unicodedata.normalize("NFD", "Điều kiện để được đặc xá là gì?"),
    "<script>alert('xss')</script> điều kiện đặc xá",
    "'; DROP TABLE events; -- điều kiện",
    '/intent{"relation": "chồng"}',
    '/ask_conditions{"x": }',
]


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_bad_input_never_crashes(assistant: Assistant, text: str) -> None:
    response = httpx.post(
        f"{assistant.settings.rasa_url}/webhooks/rest/webhook",
        json={"sender": "test-bad", "message": text},
        headers=assistant.rest_headers,
        timeout=60,
    )
    assert response.status_code == 200
    assert isinstance(response.json(), list)
    # Everything still works afterwards.
    assert "Nguồn:" in joined(assistant.send("hồ sơ đặc xá gồm những gì"))


def test_conversations_are_kept_in_the_sql_tracker_store(assistant: Assistant) -> None:
    assistant.send("hồ sơ đặc xá gồm những gì", "test-tracker")
    path = make_url(assistant.settings.tracker_url).database
    assert path is not None
    with sqlite3.connect(path) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM events WHERE sender_id = ?", ("test-tracker",)
        ).fetchone()
    assert count > 0


def test_http_api_needs_the_token(assistant: Assistant) -> None:
    url = f"{assistant.settings.rasa_url}/model/parse"
    assert httpx.post(url, json={"text": "x"}).status_code == 401
    assert httpx.post(url, params={"token": assistant.token}, json={"text": "x"}).status_code == 200


def test_logs_do_not_keep_what_families_wrote(assistant: Assistant) -> None:
    secret = "chồng em tên Nguyễn Văn Thử bị 7 năm ở trại giam số 9"
    assistant.send(secret, "test-logs")
    logs = assistant.settings.var_dir / "logs"
    for path in logs.glob("*.log"):
        assert "Nguyễn Văn Thử" not in path.read_text(encoding="utf-8", errors="replace"), path
