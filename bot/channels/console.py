"""Chat with the assistant in the terminal, through the same Rasa client as every channel."""

from __future__ import annotations

import asyncio
import uuid

from bot.channels.rasa_client import RasaClient, RasaUnavailable, Reply, as_typed_text

BUSY = "Xin lỗi, hệ thống đang bận hoặc gặp sự cố. Bạn vui lòng thử lại sau ít phút."


def show(replies: list[Reply]) -> list[str]:
    """Print the replies; return the payloads of the buttons, numbered from 1."""
    payloads: list[str] = []
    for reply in replies:
        if reply.text:
            print(f"\n🤖 {reply.text}")
        for button in reply.buttons:
            payloads.append(button["payload"])
            print(f"   [{len(payloads)}] {button['title']}")
    return payloads


async def _send(rasa_url: str, secret: str, sender: str, text: str) -> list[Reply]:
    rasa = RasaClient(rasa_url, timeout=60, secret=secret, attempts=1)
    try:
        return await rasa.send(sender, text)
    finally:
        await rasa.aclose()


def send(rasa_url: str, secret: str, sender: str, text: str) -> list[Reply]:
    """One message through :class:`RasaClient` (the terminal itself stays synchronous)."""
    return asyncio.run(_send(rasa_url, secret, sender, text))


def chat(rasa_url: str, secret: str) -> None:
    """Read lines until Ctrl-D (or Ctrl-C, which the caller handles)."""
    sender = f"console:{uuid.uuid4().hex[:12]}"
    print("Gõ câu hỏi rồi nhấn Enter. Gõ số để chọn nút. Ctrl-C hoặc Ctrl-D để thoát.")
    text = "xin chào"
    while True:
        try:
            payloads = show(send(rasa_url, secret, sender, text))
        except RasaUnavailable:
            payloads = []
            print(f"\n🤖 {BUSY}")
        line = ""
        while not line:
            try:
                line = input("\n👤 ").strip()
            except EOFError:
                return
        if line.isdigit() and 1 <= int(line) <= len(payloads):
            text = payloads[int(line) - 1]  # a button the assistant offered
        else:
            text = as_typed_text(line)
