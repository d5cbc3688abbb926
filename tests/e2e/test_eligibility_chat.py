"""The step-by-step eligibility check through the REST channel, with the real servers."""

from __future__ import annotations

from tests.e2e.conftest import Assistant, joined


def talk(assistant: Assistant, sender: str, *texts: str) -> str:
    """Send each text in turn; return the bot's last reply."""
    reply = ""
    for text in texts:
        reply = joined(assistant.send(text, sender))
    return reply


def test_case_given_at_once_then_answered_to_a_verdict(assistant: Assistant) -> None:
    sender = "elig-at-once"
    first = talk(assistant, sender, "kiểm tra giúp em: chồng em bị 6 năm tù tội trộm cắp tài sản")
    assert "loại án" not in first.lower() and "mức án" not in first.lower()  # already known
    result = talk(
        assistant,
        sender,
        "4 năm",
        "tốt",
        "đã nộp xong",
        "không phải bồi thường",
        "0",
        "chưa",
        "không",
    )
    assert "Kết quả tự kiểm tra" in result
    assert "✔ Thời gian đã chấp hành" in result
    assert "CÓ THỂ" in result
    assert "Chỉ các cơ quan, hội đồng" in result


def test_step_by_step_with_an_unknown_answer(assistant: Assistant) -> None:
    sender = "elig-steps"
    asked = talk(assistant, sender, "tôi muốn tự kiểm tra điều kiện đặc xá cho chồng")
    assert "loại án" in asked
    assert "Mức án" in talk(assistant, sender, "tù có thời hạn")
    assert "chấp hành được bao lâu" in talk(assistant, sender, "5 năm")
    result = talk(
        assistant,
        sender,
        "không biết",
        "trộm cắp tài sản",
        "khá",
        "rồi",
        "đã xong",
        "0",
        "chưa",
        "không",
        "không",
    )
    assert "Chưa thể kết luận" in result
    assert "thời gian đã chấp hành" in result  # named as the missing fact


def test_an_unreadable_answer_is_asked_again(assistant: Assistant) -> None:
    sender = "elig-again"
    talk(assistant, sender, "kiểm tra giúp trường hợp của bố em", "tù có thời hạn")
    reply = talk(assistant, sender, "ờ thì")
    assert "chưa hiểu" in reply and "Mức án" in reply


def test_stop_ends_the_check(assistant: Assistant) -> None:
    sender = "elig-stop"
    talk(assistant, sender, "kiểm tra giúp trường hợp của bố em với")
    assert "Đã dừng kiểm tra" in talk(assistant, sender, "dừng")
    assert "Nguồn:" in talk(assistant, sender, "hồ sơ đặc xá gồm những gì")


def test_death_sentence_is_answered_at_once(assistant: Assistant) -> None:
    reply = talk(assistant, "elig-death", "kiem tra giup em, bo em bi tu hinh")
    assert "không thuộc diện đặc xá" in reply
    assert "CHƯA đáp ứng" in reply
