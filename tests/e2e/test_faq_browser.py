"""FAQ editing in real headless Chromium, seen by the running assistant through Rasa's REST channel.

Uses the session-wide ``assistant`` stack (Rasa, action server, gateway with the staff pages).
"""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import Page, expect

from knowledge.db import session_factory
from knowledge.kb.choose import choose_all, published
from knowledge.kb.reading import read
from knowledge.models import Entry
from knowledge.staff import create_user
from tests.e2e.conftest import Assistant, joined

PASSWORD = "mật-khẩu-thử-nghiệm-1"
QUESTION = "hồ sơ đề nghị đặc xá gồm những giấy tờ gì"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def staff_url(assistant: Assistant) -> str:
    """The assistant's gateway, with an editor and a reviewer account in its database."""
    with session_factory(assistant.settings.database_url).begin() as db:
        create_user(db, "bientap", PASSWORD, "editor")
        create_user(db, "xuly", PASSWORD, "reviewer")
    return f"http://{assistant.settings.host}:{assistant.settings.web_port}/staff"


def answering_entry(assistant: Assistant, question: str) -> Entry:
    """The entry the assistant answers ``question`` with (read and chosen as the answer action
    does)."""
    intent = assistant.parse(question)["intent"]["name"]
    with session_factory(assistant.settings.database_url)() as db:
        questions = read(question, intent).questions
        picks = choose_all(published(db), questions, intent=intent, context=question)
    assert picks, intent
    return picks[0].entry


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def wait_for_answer(assistant: Assistant, text: str, present: bool, timeout: float = 30) -> float:
    """Seconds until the assistant's answer to QUESTION does (or does not) contain ``text``."""
    start = time.perf_counter()
    while True:
        answer = joined(assistant.send(QUESTION))
        if (text in answer) == present:
            return time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            pytest.fail(f"after {timeout} s the assistant still answers: {answer[:300]}")
        time.sleep(0.2)


def test_edit_publish_and_the_assistant_answers_with_it(
    page: Page, assistant: Assistant, staff_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = answering_entry(assistant, QUESTION)
    marker = f"Mã kiểm thử {uuid.uuid4().hex[:8]}."
    assert marker not in joined(assistant.send(QUESTION))
    sign_in(page, f"{staff_url}/login?next=/staff/faq/{entry.id}", "bientap")
    expect(page.locator("h1")).to_have_text(entry.title)

    page.get_by_role("button", name="Chuyển về nháp").click()
    expect(page.locator("#status")).to_have_text("Bản nháp")
    page.fill("#answer", f"{entry.answer}\n\n{marker}")
    page.get_by_role("button", name="Xem trước").click()
    expect(page.locator("#preview")).to_contain_text(marker)
    expect(page.locator("#status")).to_have_text("Bản nháp")  # a preview saves nothing

    started = time.perf_counter()
    page.get_by_role("button", name="Lưu và xuất bản").click()
    expect(page.locator("#status")).to_have_text("Đang dùng")
    wait_for_answer(assistant, marker, present=True)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[measure] publish -> assistant answers with the new text: {elapsed:.2f} s")

    page.get_by_role("link", name="Lịch sử sửa đổi").click()
    expect(page.locator("#diff")).to_contain_text(f"+{marker}")
    page.get_by_role("button", name="Khôi phục bản 1").click()
    expect(page.locator(".ok")).to_contain_text("Đã khôi phục")
    wait_for_answer(assistant, marker, present=False)


def test_reviewer_cannot_edit(page: Page, assistant: Assistant, staff_url: str) -> None:
    entry = answering_entry(assistant, QUESTION)
    sign_in(page, f"{staff_url}/login?next=/staff/faq/{entry.id}", "xuly")
    expect(page.locator("h1")).to_have_text(entry.title)
    expect(page.locator("body")).to_contain_text("Chỉ biên tập viên được sửa nội dung")
    expect(page.locator("#answer")).to_have_count(0)
    expect(page.get_by_role("button", name="Xuất bản")).to_have_count(0)
    response = page.goto(f"{staff_url}/faq/new")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("không có quyền")
