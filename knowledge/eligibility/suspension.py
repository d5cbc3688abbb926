"""Temporary suspension of a prison sentence for a serious illness, worked through for one case:
whether the illness the family names is one the joint circular lists, and what the family and
the court then do. A pure function of a ``Case`` and ``rules/measures.yml``, like the other
measures."""

from __future__ import annotations

import datetime as dt
import re

from knowledge.eligibility.case import Case, Check
from knowledge.eligibility.measures import Assessment, cite, measure_rules

# The serious illnesses of the list, as the reply names them, and the folded words that name them.
LISTED = {
    "ung thư giai đoạn cuối": r"ung thu (\w+ ){0,3}giai doan (cuoi|4|iv)\b",
    "lao nặng kháng thuốc": r"\blao (\w+ ){0,2}khang thuoc",
    "xơ gan cổ chướng": r"xo gan (\w+ ){0,2}co (truong|chuong)",
    "suy tim độ III trở lên": r"suy tim (\w+ ){0,2}(do|cap|giai doan|muc) (3|4|iii|iv)\b",
    "suy thận độ IV trở lên": r"suy than (\w+ ){0,2}(do|cap|giai doan|muc) (4|5|iv|v)\b",
    "HIV giai đoạn IV": r"\bhiv (\w+ ){0,3}giai doan (4|iv)\b|giai doan aids",
}


def listed_illness(folded: str) -> str | None:
    """The listed illness the (folded) message names, if any."""
    return next((name for name, words in LISTED.items() if re.search(words, folded)), None)


def assess_suspension(case: Case, today: dt.date) -> Assessment:
    rules = measure_rules()["suspension"]
    listed = cite(rules["list_source"])
    if case.illness:
        illness = Check(
            "illness",
            "met",
            f"Bệnh bạn kể ({case.illness}) có trong danh sách bệnh nặng được xét hoãn, tạm đình "
            "chỉ (áp dụng đến 30/6/2026; danh sách theo luật mới chưa kiểm chứng).",
            listed,
        )
    else:
        illness = Check(
            "illness",
            "unknown",
            "Bệnh phải là bệnh nặng (như ung thư giai đoạn cuối, suy tim độ III, suy thận độ IV) "
            "hoặc khiến người đó không tự phục vụ được, nguy cơ tử vong cao.",
            listed,
            ("illness",),
        )
    papers = Check(
        "papers",
        "unknown",
        "Giấy tờ: đơn của người thân có xác nhận của UBND xã nơi người đó sẽ về ở, và kết luận "
        "của Hội đồng giám định y khoa hoặc bệnh án, kết luận của bệnh viện cấp tỉnh, cấp quân "
        "khu trở lên; gửi qua trại hoặc Viện kiểm sát cấp tỉnh, không gửi thẳng Tòa.",
        cite(rules["papers_source"]),
    )
    after = Check(
        "after",
        "unknown",
        "Chánh án Tòa án nhân dân cấp tỉnh nơi người đó chấp hành án quyết định (trong 7 ngày "
        "theo luật áp dụng đến 30/6/2026). Thời gian tạm đình chỉ không tính vào thời hạn tù; "
        "khỏi bệnh hoặc hết hạn thì phải trình diện để chấp hành tiếp phần án còn lại.",
        cite(rules["source"]) + "; " + cite(rules["decision_source"]),
    )
    facts = (f"bệnh: {case.illness}",) if case.illness else ()
    return Assessment("suspension", facts, (illness, papers, after), illness.status)
