"""Which messages tell of a danger to life (marked urgent, emergency numbers given at once)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.feedback.items import is_urgent
from vietnamese.text import strip_diacritics

URGENT = [
    # health emergency
    "Bố tôi trong trại đang phải đi cấp cứu, gia đình không được báo",
    "Chồng tôi bị bệnh nặng mà trại giam không cho đi khám",
    "anh tôi ngất xỉu mấy lần trong buồng giam",
    "Con tôi bị co giật, khó thở",
    "ông ấy bị đột quỵ, liệt nửa người",
    "chồng em ho ra máu cả tuần nay",
    "bố tôi ung thư giai đoạn cuối, xin cho về nhà",
    "mẹ tôi sốt cao mấy ngày không ai chăm",
    "Em trai tôi đang nguy kịch ở bệnh xá",
    "tính mạng của chồng tôi đang bị đe doạ",
    "Nghe nói có phạm nhân tử vong trong trại",
    "Sợ anh ấy chết trong đó mất",
    # not eating for days
    "Mấy ngày nay con tôi không ăn gì",
    "3 ngày nay chồng tôi không ăn",
    "Anh ấy không ăn uống gì cả tuần rồi",
    "Chồng tôi tuyệt thực để phản đối",
    "Con tôi bỏ ăn từ hôm thứ hai",
    "Anh ấy không ăn được, người gầy rộc",
    "họ không cho ăn, không cho uống thuốc",
    "nghe nói trong đó bị bỏ đói",
    # mistreatment
    "Chồng tôi bị đánh trong trại giam",
    "Cán bộ đánh con tôi đến bầm dập",
    "Em tôi bị bạn tù đánh hội đồng",
    "Có người hành hạ, tra tấn anh tôi",
    "Họ dùng nhục hình để bức cung",
    "anh ấy bị đâm bằng vật nhọn",
    "Con tôi bị bắt nạt, bị thương ở đầu",
    "bị đe dọa giết nếu khai ra",
    "Tôi bị bạo hành, bị xâm hại",
    # self-harm and suicide
    "Con tôi nói muốn tự tử",
    "chồng tôi có ý định tự sát",
    "Anh ấy đã rạch tay trong buồng giam",
    "Nó bảo không muốn sống nữa",
    "Em chán sống lắm rồi",
    "anh ấy định treo cổ",
    "Nó đòi uống thuốc trừ sâu",
    "Con tôi có ý định tự vẫn",
    # calls for help
    "Cứu với, chồng tôi sắp không qua khỏi",
    "Xin cứu chồng tôi",
    "Việc khẩn cấp, cần gặp cán bộ ngay",
    "tôi đã gọi 115 mà không ai đến",
]

# Typed without diacritics, as many families do.
URGENT_WITHOUT_DIACRITICS = [
    "con toi muon tu tu",
    "chong toi bi danh trong trai",
    "3 ngay nay khong an",
    "may ngay nay con toi ko an gi",
    "bo toi dang cap cuu",
    "anh ay tu sat",
    "khong muon song nua",
    "bi can bo danh dap",
    "nguy hiem den tinh mang",
    "anh ay bo an may hom roi",
    "chong toi treo co",
]

NOT_URGENT = [
    "Chồng tôi đủ điều kiện nhưng không có tên trong danh sách đặc xá",
    "Cán bộ đòi 50 triệu mới làm hồ sơ cho chồng tôi",
    "Trại giam không cho con tôi làm đơn đề nghị đặc xá",
    "Tôi muốn hỏi hồ sơ đặc xá cần những giấy tờ gì",
    "Xin tư vấn thủ tục cho người nhà",
    "xin tu van thu tuc",
    "Kính mong các cơ quan xem xét cứu xét cho chồng tôi",
    "Tôi là cựu phạm nhân, muốn góp ý về thủ tục",
    "Từ từ tôi sẽ bổ sung giấy tờ sau",
    "Chồng tôi từng là bộ đội, có huân chương",
    "Con tôi bị đánh giá cải tạo kém không công bằng",
    "Tôi không an tâm về kết quả xét duyệt",
    "Chưa được ân xá thì có được giảm án không",
    "Cán bộ ở đây không ăn hối lộ, tôi muốn khen",
    "Góp ý: nên niêm yết danh sách sớm hơn",
    "Thời gian chờ quá lâu, tôi đã gửi đơn hai tháng rồi",
    "Đề nghị xem lại số ngày chấp hành án của chồng tôi",
    "khong co ten trong danh sach dac xa",
    "Tôi thật có lỗi vì nộp hồ sơ muộn",
    "Trại có treo cờ ngày lễ",
    "",
]


@pytest.mark.parametrize("text", URGENT)
def test_life_threatening_messages_are_urgent(text: str) -> None:
    assert is_urgent(text)


@pytest.mark.parametrize("text", URGENT)
def test_urgent_typed_without_diacritics_stays_urgent(text: str) -> None:
    assert is_urgent(strip_diacritics(text))


@pytest.mark.parametrize("text", URGENT)
def test_urgent_in_capitals_stays_urgent(text: str) -> None:
    assert is_urgent(text.upper())


@pytest.mark.parametrize("text", URGENT_WITHOUT_DIACRITICS)
def test_urgent_typed_without_diacritics(text: str) -> None:
    assert is_urgent(text)


@pytest.mark.parametrize("text", NOT_URGENT)
def test_ordinary_complaints_are_not_urgent(text: str) -> None:
    assert not is_urgent(text)


def test_urgent_phrase_inside_a_long_complaint() -> None:
    long = (
        "Tôi xin trình bày sự việc như sau. " * 500
        + "Hôm qua chồng tôi bị đánh. "
        + "Xin cảm ơn. " * 100
    )
    assert is_urgent(long)


@given(st.text())
def test_never_raises(text: str) -> None:
    assert is_urgent(text) in (True, False)


@pytest.mark.parametrize("text", ["a" * 20_000, "ngày " * 4_000, "không " * 3_000 + "ăn"])
def test_is_fast_on_the_longest_message(text: str) -> None:
    began = time.perf_counter()
    is_urgent(text)
    assert time.perf_counter() - began < 1.0
