"""The legal review of December 2026 (docs/legal-review-2026-12.md), item by item: the correct fact
each fixed entry now states stays stated, and the wrong wording does not come back."""

from __future__ import annotations

import pytest
import yaml

from knowledge.eligibility.evaluator import crime_codes
from knowledge.eligibility.round_rules import RULES_DIR, load_law
from knowledge.kb.loader import read_entries, read_rounds

ENTRIES = {e["key"]: e for e in read_entries()}


def text_of(key: str) -> str:
    entry = ENTRIES[key]
    return " ".join([entry["lead"], entry["answer"]]).replace("\n", " ")


# (review item, entry key, a phrase the entry must state)
STATED = [
    ("H1", "conditions_general", "đồng ý"),
    ("W2", "reduction_life_corruption", "01/7/2025"),
    ("WEAK 1", "conditions_general", "dưới 18 tuổi"),
    ("WEAK 2", "conditions_time_floor", "1/2 mức án"),
    ("WEAK 3", "conditions_time_counting", "bắt buộc chữa bệnh"),
    ("WEAK 4", "conditions_priority_illness", "Hội đồng xét đề nghị đặc xá của trại họp"),
    ("WEAK 4", "documents_medical", "6 tháng"),
    ("WEAK 5", "conditions_life_sentence", "15 năm"),
    ("WEAK 6", "exclusions_round_2026", "86/2025/QH15"),
    ("WEAK 7", "fees_free_of_charge", "không đặt lệ phí"),
    ("WEAK 9", "postponement_procedure", "03 ngày"),
    ("WEAK 11", "procedure_release_day", "Giám thị trại giam thuộc quân khu"),
    ("N5", "after_release_certificate", "trại giam thuộc quân khu"),
    ("N5", "record_clearing_lost_papers", "trại giam thuộc quân khu"),
    ("N1", "conditions_priority_age70", "đồng ý bằng văn bản"),
    ("N2", "fees_legal_payments", "đồng ý bằng văn bản"),
    *[
        ("§4", key, "đợt 2024 là ít nhất 1/3 mức án")
        for key in (
            "conditions_priority_revolution",
            "conditions_priority_illness",
            "conditions_priority_breadwinner",
            "conditions_priority_pregnant_child",
            "conditions_priority_disability",
        )
    ],
]

# (review item, entry key, wording that must not come back)
NOT_STATED = [
    ("WEAK 6", "exclusions_overview", "Chắc chắn áp dụng ở mọi đợt"),
    ("WEAK 7", "fees_free_of_charge", "không mất bất kỳ khoản phí nào"),
    ("WEAK 9", "postponement_procedure", "ngay khi nhận quyết định"),
]


@pytest.mark.parametrize(("item", "key", "phrase"), STATED, ids=[f"{i}-{k}" for i, k, _ in STATED])
def test_the_corrected_fact_is_stated(item: str, key: str, phrase: str) -> None:
    assert phrase in text_of(key), f"review {item}: {key} no longer says {phrase!r}"


@pytest.mark.parametrize(
    ("item", "key", "phrase"), NOT_STATED, ids=[f"{i}-{k}" for i, k, _ in NOT_STATED]
)
def test_the_wrong_wording_does_not_come_back(item: str, key: str, phrase: str) -> None:
    assert phrase not in text_of(key), f"review {item}: {key} says {phrase!r} again"


def test_weak_3_and_17_the_rules_count_compulsory_treatment_and_know_the_2025_amendment() -> None:
    law = yaml.load((RULES_DIR / "law.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    assert "bắt buộc chữa bệnh" in law["time_counting"]["periods_not_counted"]["value"]
    assert "86/2025/QH15" in law["crime_names_source"]["value"]
    assert crime_codes("sử dụng trái phép chất ma túy", load_law()) == frozenset({"256a"})


def test_section_2_the_2025_2_guidance_is_dated_and_the_2025_exclusions_are_labelled_2025() -> None:
    rounds = {r["id"]: r for r in read_rounds()}
    assert "04/7/2025" in (rounds["2025-2"]["guidance"] or "")
    assert ENTRIES["exclusions_round_2025_2026"]["round"] == "2025-2"
