"""The queue of unanswered questions in real headless Chromium, with the running assistant.

A question the assistant cannot answer is asked through Rasa's REST channel, found in the
queue by an editor, rewritten and added to an entry; asked again, it gets that entry.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from knowledge.db import session_factory
from knowledge.kb.choose import Pick
from knowledge.kb.compose import compose
from knowledge.kb.queries import entry_by_key
from knowledge.kb.reading import Question
from knowledge.models import QueuedQuestion
from knowledge.staff import create_user
from tests.e2e.conftest import Assistant, joined

PASSWORD = "mật-khẩu-thử-nghiệm-2"
# Nothing in the knowledge base answers this; the date makes a copy of it refused.
QUESTION = "mai 12/12 trời có mưa không"
REWRITE = "mai trời có mưa không"
ENTRY = "prison_other_topics"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def staff_url(assistant: Assistant) -> str:
    with session_factory(assistant.settings.database_url).begin() as db:
        create_user(db, "hangdoi", PASSWORD, "editor")
    return f"http://{assistant.settings.host}:{assistant.settings.web_port}/staff"


def entry_reply(assistant: Assistant) -> str:
    """The first chat message of ENTRY answering a question alone, as the answer action
    composes it."""
    s = assistant.settings
    with session_factory(s.database_url)() as db:
        entry = entry_by_key(db, ENTRY)
        assert entry is not None
        pick = Pick(Question(REWRITE, entry.measure, entry.facet, True), entry, 1.0)
        return compose([pick], department=s.department, contact=s.contact).messages[0]


def test_an_unanswered_question_goes_through_the_queue_into_an_entry(
    page: Page, assistant: Assistant, staff_url: str
) -> None:
    intent = assistant.parse(QUESTION)["intent"]
    assert intent["name"] == "out_of_scope", f"the model reads the question as {intent}"
    sender = f"zalo:{uuid.uuid4().hex[:8]}"
    first = joined(assistant.send(QUESTION, sender=sender))
    assert "ngoài phạm vi" in first and entry_reply(assistant) not in first

    page.goto(f"{staff_url}/login?next=/staff/queue")
    page.fill("#username", "hangdoi")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("h1")).to_have_text("Câu hỏi chưa trả lời được")
    page.select_option("#channel", "zalo")
    page.get_by_role("button", name="Lọc").click()
    row = page.locator("#groups tr", has_text=QUESTION)
    expect(row).to_contain_text("Không có mục phù hợp")
    row.get_by_role("link", name=QUESTION).click()

    expect(page.locator("#questions")).to_contain_text(QUESTION)
    expect(page.locator("#questions")).to_contain_text("out_of_scope")
    page.select_option("#entry_key", ENTRY)
    page.fill("#rewrite", QUESTION)  # the family's words, date and all: refused
    page.get_by_role("button", name="Thêm vào mục này").click()
    expect(page.get_by_role("alert")).to_contain_text("chữ số")
    page.select_option("#entry_key", ENTRY)
    page.fill("#rewrite", REWRITE)
    page.get_by_role("button", name="Thêm vào mục này").click()
    expect(page.get_by_role("status")).to_contain_text("Đã thêm câu viết lại")
    expect(page.locator("#groups")).not_to_contain_text(QUESTION)

    again = joined(assistant.send(QUESTION, sender=sender))
    assert entry_reply(assistant) in again
    with session_factory(assistant.settings.database_url)() as db:
        entry = entry_by_key(db, ENTRY)
        assert entry is not None and entry.questions[-1] == REWRITE
        assert QUESTION not in entry.questions


# Needs a model trained with the rate_answer intent (domain.yml, nlu_data/rate_answer.yml).
def test_an_unhelpful_rating_is_queued_and_counted_on_the_entry(
    page: Page, assistant: Assistant, staff_url: str
) -> None:
    sender = f"web:{uuid.uuid4().hex[:8]}"
    question = "xin đặc xá có phải mất tiền không"
    replies = assistant.send(question, sender=sender)
    titles = {b["title"]: b["payload"] for b in replies[-1].get("buttons") or []}
    assert list(titles) == ["Hữu ích", "Chưa hữu ích"], replies[-1]
    assert all(not r.get("buttons") for r in replies[:-1])
    thanks = joined(assistant.send(titles["Chưa hữu ích"], sender=sender))
    assert "cán bộ" in thanks
    with session_factory(assistant.settings.database_url)() as db:
        [queued] = db.scalars(
            select(QueuedQuestion).where(
                QueuedQuestion.reason == "unhelpful", QueuedQuestion.text == question
            )
        )
        assert queued.channel == "web" and queued.entry_key
        entry = entry_by_key(db, queued.entry_key)
        assert entry is not None
    again = joined(assistant.send(titles["Chưa hữu ích"], sender=sender))  # one rating per answer
    assert "cán bộ" not in again

    page.goto(f"{staff_url}/login?next=/staff/faq/{entry.id}")
    page.fill("#username", "hangdoi")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("#rating")).to_contain_text("Chưa hữu ích 1")
    page.goto(f"{staff_url}/queue")
    expect(page.locator("#groups")).to_contain_text(question)
    expect(page.locator("#groups")).to_contain_text("Bị đánh giá chưa hữu ích")
