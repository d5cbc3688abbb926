"""Lexical ranking of example questions over folded text (the router's choice on the whole
knowledge base is tested in tests/unit/test_router.py)."""

from __future__ import annotations

import pytest

from knowledge.kb.ranking import rank, terms


class Fake:
    def __init__(self, key: str, questions: list[str]) -> None:
        self.key, self.title, self.round, self.questions = key, key, "", questions


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


def test_several_fitting_examples_beat_one_that_shares_incidental_words() -> None:
    entries = [
        Fake(
            "documents",
            [
                "đi thăm người nhà được mấy người",
                "cần mang giấy tờ gì",
                "sổ gặp làm ở đâu",
                "người yêu có được vào không",
            ],
        ),
        Fake(
            "visits",
            [
                "một tháng được thăm mấy lần",
                "thăm nuôi mỗi tháng mấy lần",
                "mỗi lần gặp được bao lâu",
            ],
        ),
        Fake("money", ["gửi tiền lưu ký thế nào", "gửi đồ ăn được không"]),
    ]
    assert rank(entries, "tháng này đi thăm bố được mấy lần")[0].entry.key == "visits"


def test_the_postings_index_scores_exactly_as_bm25_okapi() -> None:
    from rank_bm25 import BM25Okapi

    from knowledge.kb.ranking import _index, terms

    texts = (
        ("giảm án lần đầu", "bao lâu thì được xét giảm án"),
        ("xóa án tích", "án treo bao giờ được xóa án tích", "phiếu lý lịch tư pháp"),
        ("thăm gặp", "một tháng được thăm mấy lần"),
    )
    query = terms("chồng em án treo 3 năm, bao giờ được xóa án tích, xin phiếu lý lịch ở đâu")
    expected = BM25Okapi([terms(t) for entry in texts for t in entry]).get_scores(query)
    assert _index(texts).scores(query) == pytest.approx(list(expected))
