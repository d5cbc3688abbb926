"""The local web chat in real headless Chromium (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Assistant


@pytest.fixture
def page(page: Page, assistant: Assistant) -> Page:
    """The web chat, opened on a phone-sized page."""
    page.goto(f"http://{assistant.settings.host}:{assistant.settings.web_port}/")
    return page


def ask(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def test_ask_see_answer_with_citation_and_press_a_button(page: Page, assistant: Assistant) -> None:
    expect(page.locator(".msg.bot").first).to_contain_text("không phải quyết định")
    ask(page, "hồ sơ đề nghị đặc xá gồm những giấy tờ gì")
    expect(page.locator(".cite").first).to_contain_text("Nguồn:")
    expect(page.locator(".cite").first).to_contain_text("30/2018/QH14")
    page.get_by_role("button", name="Chi phí, cảnh báo lừa đảo").click()
    expect(page.locator(".cite")).to_have_count(2)
    expect(page.locator("#log")).to_contain_text("biên lai")
    page.screenshot(path=str(assistant.settings.var_dir / "web-chat.png"), full_page=True)


def test_typed_html_is_shown_as_text(page: Page) -> None:
    expect(page.locator(".msg.bot").first).to_be_visible()
    ask(page, 'Điều kiện để được đặc xá là gì <img src=x onerror="window.pwned=1">')
    expect(page.locator(".msg.user").last).to_contain_text("<img src=x")
    expect(page.locator(".msg.bot")).not_to_have_count(1)
    assert page.locator("#log img").count() == 0
    assert page.evaluate("window.pwned") is None


def test_typed_slash_text_is_not_an_intent(page: Page) -> None:
    expect(page.locator(".msg.bot").first).to_be_visible()
    ask(page, "/ask_fees")
    expect(page.locator(".msg.bot")).not_to_have_count(1)
    assert "biên lai" not in (page.locator(".msg.bot").last.text_content() or "")
