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
        (
            "Tổ thẩm định và hội đồng tư vấn đặc xá làm gì, ai là người quyết định cuối cùng?",
            "procedure_appraisal_council",
        ),
        ("Giấy tờ y tế trong hồ sơ đặc xá có giá trị trong bao lâu?", "documents_medical"),
        ("Được đặc xá về rồi thì có được xóa án tích luôn không?", "after_release_criminal_record"),
        ("Năm 2024 có bao nhiêu người được đặc xá?", "results_2024"),
        ("Có người nhận chạy đặc xá 100 triệu, có nên đưa tiền không?", "fees_chay_dac_xa_scam"),
        (
            "Chồng tôi không có tên trong danh sách đề nghị đặc xá, tôi khiếu nại ở đâu?",
            "complaints_left_off_list",
        ),
        ("Đại xá khác đặc xá thế nào?", "other_general_amnesty"),
        ("Mỗi tháng người nhà được vào thăm gặp phạm nhân mấy lần?", "prison_visits"),
    ],
)
def test_each_topic_gets_its_entry_with_citation(
    assistant: Assistant, question: str, key: str
) -> None:
    text = joined(assistant.send(question))
    assert opening(key) in text
    assert "Nguồn:" in text


def test_case_without_diacritics_is_answered_with_conditions(assistant: Assistant) -> None:
    text = joined(
        assistant.send(
            "chong em an 6 nam toi lua dao, di duoc 4 nam roi, dong du an phi, "
            "co dc xet dac xa ko ad"
        )
    )
    assert "Luật Đặc xá số 30/2018/QH14, Điều 11" in text
    assert "457/2026/QĐ-CTN" in text  # the current round, with its unverified status
    assert "Chỉ các cơ quan, hội đồng" in text


def test_postponement_question_is_an_amnesty_question(assistant: Assistant) -> None:
    text = joined(
        assistant.send("mẹ em đang được hoãn thi hành án vì bệnh, vậy có được xét đặc xá không ạ?")
    )
    assert opening("conditions_postponement_special_case") in text
    assert "Điều 22" in text


def test_money_question_carries_the_warning(assistant: Assistant) -> None:
    text = joined(assistant.send("làm hồ sơ đặc xá có mất tiền không")).lower()
    assert "thi hành án dân sự" in text and "biên lai" in text


def test_greeting_gives_notice_and_buttons_that_work(assistant: Assistant) -> None:
    sender = "test-buttons"
    (greeting,) = assistant.send("xin chào", sender)
    assert "không phải quyết định" in greeting["text"]
    payload = next(b["payload"] for b in greeting["buttons"] if b["payload"] == "/ask_documents")
    assert "Nguồn:" in joined(assistant.send(payload, sender))


def test_unsure_message_gets_did_you_mean_buttons(assistant: Assistant) -> None:
    candidates = [
        "xét",
        "vậy còn cái kia",
        "hồ sơ thủ tục tiền",
        "hỏi chút",
        "ừ thì sao",
        "còn đợt",
        "giấy",
        "ai",
    ]
    unsure = [t for t in candidates if assistant.parse(t)["intent"]["name"] == "nlu_fallback"]
    assert unsure, "none of the candidate messages fell below the fallback threshold"
    sender = "test-fallback"
    (question,) = assistant.send(unsure[0], sender)
    assert question["text"].startswith("Có phải bạn muốn hỏi")
    payloads = [b["payload"] for b in question["buttons"]]
    assert payloads[-1] == "/out_of_scope" and len(payloads) >= 2
    answer = joined(assistant.send(payloads[0], sender))
    assert "Nguồn:" in answer or "ngoài phạm vi" in answer


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
