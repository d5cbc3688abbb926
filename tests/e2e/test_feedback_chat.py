"""Families' feedback through the REST channel, with the real servers and database."""

from __future__ import annotations

import re

from sqlalchemy import select

from knowledge.db import session_factory
from knowledge.models import FeedbackItem
from tests.e2e.conftest import Assistant, joined

SEND = '/give_feedback{"feedback_send":"yes"}'
REFERENCE = re.compile(r"PA-\d{4}-\d{6}")
STORY = (
    "Chồng em ở trại giam Xuân Lộc, đủ điều kiện mà danh sách niêm yết không có tên. Em hỏi "
    "cán bộ thì bảo hồ sơ thiếu giấy xác nhận của xã, trong khi em đã nộp từ tháng 6, còn giữ "
    "giấy biên nhận. Em muốn khiếu nại việc này. <script>alert(1)</script> 😢"
)


def talk(assistant: Assistant, sender: str, *texts: str) -> str:
    reply = ""
    for text in texts:
        reply = joined(assistant.send(text, sender))
    return reply


def item_of(assistant: Assistant, sender: str) -> FeedbackItem:
    with session_factory(assistant.settings.database_url)() as session:
        return session.scalars(select(FeedbackItem).where(FeedbackItem.sender_id == sender)).one()


def test_a_complaint_told_at_once_is_kept_word_for_word(assistant: Assistant) -> None:
    sender = "fb-at-once"
    first = assistant.send(STORY, sender)
    assert any(b["payload"] == SEND for m in first for b in m.get("buttons") or [])
    asked = talk(assistant, sender, SEND)
    assert "muốn cán bộ liên hệ" in asked  # kind, content and facility came from the story
    assert "91/2025/QH15" in asked  # why contact details are asked, and for how long
    summary = talk(assistant, sender, "không")
    assert "trại giam Xuân Lộc" in summary and "không để lại" in summary
    done = talk(assistant, sender, "gửi")
    reference = REFERENCE.search(done)
    assert reference, done
    assert "5 ngày" in done  # the formal route is explained too
    item = item_of(assistant, sender)
    assert item.content == STORY  # the family's own words, not the normalised text
    assert (item.kind, item.status, item.contact_phone) == ("process_complaint", "new", None)
    assert item.delivery_key


def test_feedback_given_piece_by_piece_with_contact(assistant: Assistant) -> None:
    sender = "fb-steps"
    talk(assistant, sender, "tôi muốn góp ý với cán bộ")
    assert "thuộc loại nào" in talk(assistant, sender, SEND)
    assert "nội dung" in talk(assistant, sender, "góp ý")
    assert "trại giam" in talk(assistant, sender, "Nên có hướng dẫn đặc xá bằng tiếng dân tộc.")
    talk(assistant, sender, "bỏ qua")
    assert "Họ tên" in talk(assistant, sender, "có")
    assert "Số điện thoại" in talk(assistant, sender, "Nguyễn Thị Lan")
    assert "chưa đúng" in talk(assistant, sender, "12345")
    summary = talk(assistant, sender, "0912 345 678")
    assert "0912345678" not in summary.replace(" ", "")  # masked in the read-back
    assert REFERENCE.search(talk(assistant, sender, "gửi"))
    item = item_of(assistant, sender)
    assert (item.kind, item.contact_name, item.contact_phone) == (
        "suggestion",
        "Nguyễn Thị Lan",
        "+84912345678",
    )


def test_a_family_that_will_not_give_a_phone_is_respected(assistant: Assistant) -> None:
    sender = "fb-no-phone"
    talk(assistant, sender, "tôi muốn phản ánh một việc", SEND, "câu hỏi")
    talk(assistant, sender, "Bao giờ trại niêm yết danh sách?", "không", "có", "Hùng")
    reply = talk(assistant, sender, "không")
    assert "không ghi thông tin liên lạc" in reply
    assert REFERENCE.search(talk(assistant, sender, "gửi"))
    item = item_of(assistant, sender)
    assert item.contact_name is None and item.contact_phone is None


def test_status_needs_the_reference_and_its_secret_code(assistant: Assistant) -> None:
    sender = "fb-status"
    talk(assistant, sender, "tôi muốn góp ý", SEND, "góp ý", "Cảm ơn cán bộ.", "bỏ qua", "không")
    done = talk(assistant, sender, "gửi")
    reference_match, code_match = REFERENCE.search(done), re.search(r"mã bí mật: (\d{6})", done)
    assert reference_match and code_match, done
    reference, code = reference_match.group(0), code_match.group(1)
    own = talk(assistant, sender, f"tra cứu {reference}")
    assert "Mới" not in own and "mã bí mật" in own  # the code is needed, even here
    other = talk(assistant, "fb-someone-else", f"tra cứu {reference} 000000")
    assert "Không tìm thấy" in other and "Mới" not in other
    found = talk(assistant, "fb-another-phone", f"tra cứu {reference} {code}")
    assert reference in found and "Mới" in found
    forged = talk(assistant, sender, f"tra cứu PA-2026-999999 {code}")
    assert "Không tìm thấy" in forged


def test_stop_saves_nothing(assistant: Assistant) -> None:
    sender = "fb-stop"
    talk(assistant, sender, "tôi muốn khiếu nại", SEND)
    assert "không lưu" in talk(assistant, sender, "dừng")
    with session_factory(assistant.settings.database_url)() as session:
        found = session.scalars(select(FeedbackItem).where(FeedbackItem.sender_id == sender))
        assert found.first() is None


def test_a_very_long_complaint_is_kept_whole(assistant: Assistant) -> None:
    sender = "fb-long"
    long_text = "Trại không nhận đơn xin đặc xá của chồng em. " * 440  # about 20,000 characters
    talk(assistant, sender, "tôi muốn khiếu nại", SEND, "khiếu nại")
    talk(assistant, sender, long_text, "bỏ qua", "không")
    assert REFERENCE.search(talk(assistant, sender, "gửi"))
    assert item_of(assistant, sender).content == long_text.strip()
