"""The feedback inbox in real headless Chromium, and the family reading the answer through Rasa.

Uses the session-wide ``assistant`` stack (Rasa, action server, gateway with the staff pages).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from knowledge.db import session_factory
from knowledge.feedback.items import FeedbackDraft, record, reference
from knowledge.staff import create_user
from tests.e2e.conftest import Assistant, joined

PASSWORD = "mật-khẩu-thử-nghiệm-2"
NAME = "Trần Văn Hùng"
PHONE = "+84987654321"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def staff_url(assistant: Assistant) -> str:
    """The assistant's gateway, with inbox accounts (and an editor) in its database."""
    with session_factory(assistant.settings.database_url).begin() as db:
        create_user(db, "hopthu", PASSWORD, "reviewer")
        create_user(db, "hopthu2", PASSWORD, "reviewer")
        create_user(db, "bientap-hopthu", PASSWORD, "editor")
    return f"http://{assistant.settings.host}:{assistant.settings.web_port}/staff"


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def family_item(assistant: Assistant, sender: str, content: str, kind: str) -> str:
    """An item recorded for ``sender`` as the conversation would; returns its reference."""
    draft = FeedbackDraft(
        kind=kind,
        content=content,
        channel="rest",
        sender_id=sender,
        delivery_key=f"e2e-{uuid.uuid4().hex}",
        facility="Trại giam Xuân Lộc",
        contact_name=NAME,
        contact_phone=PHONE,
    )
    with session_factory(assistant.settings.database_url).begin() as db:
        return reference(record(db, draft))


def test_reviewer_works_an_item_to_an_answer_the_family_then_reads(
    page: Page, assistant: Assistant, staff_url: str, tmp_path: Path
) -> None:
    marker = f"kiểm-thử-{uuid.uuid4().hex[:8]}"
    sender = f"inbox-e2e-{uuid.uuid4().hex[:8]}"
    story = f"Cán bộ trại đòi 20 triệu để đưa tên vào danh sách, gọi tôi 0987 654 321. {marker}"
    ref = family_item(assistant, sender, story, "misconduct")
    other = family_item(assistant, f"{sender}-b", f"Góp ý tờ rơi. {marker}", "suggestion")
    answer = f"Đã chuyển Cơ quan điều tra xác minh, mọi khoản tiền là trái phép ({marker})."

    sign_in(page, f"{staff_url}/login?next=/staff/feedback", "hopthu")
    expect(page.locator("h1")).to_have_text("Ý kiến, khiếu nại của gia đình")
    row = page.locator(f'tr[data-ref="{ref}"]')
    expect(row).to_contain_text("T. V. H.")  # masked in the list
    table = page.locator("#items")
    expect(table).not_to_contain_text(NAME)
    expect(table).not_to_contain_text("654")
    expect(table).not_to_contain_text("đòi 20 triệu")  # the words only on the item page

    page.select_option("#kind", "misconduct")
    page.fill("#q", marker)
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator(f'tr[data-ref="{ref}"]')).to_have_count(1)
    expect(page.locator(f'tr[data-ref="{other}"]')).to_have_count(0)
    expect(page.locator("#total")).to_contain_text("1 ý kiến")
    list_url = page.url

    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header, *lines = rows
    assert len(lines) == 1
    line = dict(zip(header, lines[0], strict=True))
    assert line["Mã tra cứu"] == ref and line["Họ tên"] == "T. V. H."
    content = line["Nội dung"]
    assert isinstance(content, str)
    assert "654 321" not in content and marker in content
    assert PHONE not in str(line["Số điện thoại"])

    page.get_by_role("link", name=ref).click()
    expect(page.locator("h1")).to_contain_text(ref)
    expect(page.locator("#content")).to_have_text(story)
    expect(page.locator("#contact")).to_contain_text(NAME)
    expect(page.locator("#contact")).to_contain_text(PHONE)

    page.select_option("#assignee-select", "hopthu2")
    page.get_by_role("button", name="Giao việc").click()
    expect(page.locator("#assignee")).to_have_text("hopthu2")

    page.select_option("#new-status", "in_progress")
    page.get_by_role("button", name="Đổi trạng thái").click()
    expect(page.locator("#status")).to_have_text("Đang xử lý")

    page.fill("#answer", answer)
    page.get_by_role("button", name="Lưu câu trả lời").click()
    expect(page.locator(".ok")).to_contain_text("Đã lưu")
    expect(page.locator("#delivery")).to_contain_text("không gửi tin nhắn chủ động")
    expect(page.get_by_role("button", name="Gửi câu trả lời cho gia đình")).to_have_count(0)

    page.select_option("#new-status", "answered")
    page.get_by_role("button", name="Đổi trạng thái").click()
    expect(page.locator("#status")).to_have_text("Đã trả lời")

    page.goto(list_url)
    expect(page.locator(f'tr[data-ref="{ref}"]')).to_contain_text("hopthu2")

    seen = joined(assistant.send(f"tra cứu {ref}", sender))
    assert "Đã trả lời" in seen and answer in seen
    stranger = joined(assistant.send(f"tra cứu {ref}", f"{sender}-x"))
    assert answer not in stranger


def test_a_user_without_the_reviewer_role_sees_nothing(
    page: Page, assistant: Assistant, staff_url: str
) -> None:
    ref = family_item(assistant, f"inbox-e2e-{uuid.uuid4().hex[:8]}", "Câu hỏi.", "question")
    sign_in(page, f"{staff_url}/login", "bientap-hopthu")
    expect(page.get_by_role("link", name="Ý kiến, khiếu nại của gia đình")).to_have_count(0)
    response = page.goto(f"{staff_url}/feedback")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("không có quyền")
    expect(page.locator("body")).not_to_contain_text(ref)
    expect(page.locator("body")).not_to_contain_text("Trại giam Xuân Lộc")
