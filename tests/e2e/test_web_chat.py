"""The local web chat in real headless Chromium (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Assistant
from tests.fakes.gateway import gateway, gateway_before
from tests.fakes.tcp_proxy import TcpProxy


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


def test_an_answer_kept_while_rasa_was_down_appears_in_the_page(
    browser: Browser, assistant: Assistant, tmp_path: Path
) -> None:
    proxy = TcpProxy(assistant.settings.rasa_port)  # down until told otherwise
    settings = gateway_before(assistant.settings, tmp_path, {}, rasa_port=proxy.port)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    chat = context.new_page()
    try:
        with gateway(settings) as server:
            chat.goto(f"{server.url}/")
            expect(chat.locator(".msg.bot").first).to_contain_text("đã được lưu lại")
            proxy.up()
            # The page fetches the answer by itself once the assistant is back.
            expect(chat.locator("#log")).to_contain_text("không phải quyết định", timeout=30_000)
    finally:
        context.close()
        proxy.close()
