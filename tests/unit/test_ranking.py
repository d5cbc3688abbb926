"""Choosing the entry within a topic: lexical ranking over folded text."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from knowledge.kb.queries import choose_entry
from knowledge.kb.ranking import rank, terms


class Fake:
    def __init__(self, key: str, questions: list[str]) -> None:
        self.key, self.title, self.questions = key, key, questions


def test_terms_fold_diacritics_and_drop_filler() -> None:
    assert terms("Người 70 tuổi có được đặc xá không ạ?") == terms("nguoi 70 tuoi co dc dac xa ko")
    assert "tuoi" in terms("70 tuổi")


def test_rank_prefers_the_matching_questions_and_keeps_order_on_ties() -> None:
    entries = [
        Fake("general", ["điều kiện chung là gì"]),
        Fake("old", ["người già 70 tuổi có được xét không"]),
    ]
    assert rank(entries, "bố em 72 tuổi, người già có được không")[0].entry.key == "old"
    assert rank(entries, "xyz")[0].entry.key == "general"


@pytest.mark.parametrize(
    ("topic", "question", "key"),
    [
        (
            "ask_conditions",
            "bố em năm nay 75 tuổi có được ưu tiên xét đặc xá không",
            "conditions_priority_age70",
        ),
        (
            "ask_conditions",
            "con em phạm tội lúc 16 tuổi thì điều kiện đặc xá thế nào",
            "conditions_priority_under18",
        ),
        (
            "ask_conditions",
            "me em dang duoc tam dinh chi chap hanh an thi co duoc dac xa khong",
            "conditions_suspension",
        ),
        ("ask_conditions", "tù chung thân có được đặc xá không", "conditions_life_sentence"),
        ("ask_documents", "giấy tờ y tế có giá trị bao lâu", "documents_medical"),
        (
            "ask_after_release",
            "được đặc xá rồi có được xóa án tích không",
            "after_release_criminal_record",
        ),
        ("ask_fees", "có người đòi 50 triệu để chạy đặc xá", "fees_chay_dac_xa_scam"),
        ("ask_other_measures", "đại xá là gì", "other_general_amnesty"),
        ("out_of_scope", "khi nào được đi thăm gặp chồng trong trại", "prison_visits"),
    ],
)
def test_choose_entry_finds_the_right_answer(
    loaded: sessionmaker[Session], topic: str, question: str, key: str
) -> None:
    with loaded() as session:
        choice = choose_entry(session, topic, question)
    assert choice is not None and choice.entry.key == key


def test_unrelated_question_gets_no_pointer_answer(loaded: sessionmaker[Session]) -> None:
    with loaded() as session:
        assert choose_entry(session, "out_of_scope", "thời tiết hôm nay thế nào") is None
