"""Chat with the assistant in the terminal, through the same REST path as every channel."""

from __future__ import annotations

import asyncio
import uuid

from bot.rasa_client import RasaClient, RasaUnavailable, Reply, as_typed_text

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


async def chat(rasa_url: str) -> None:
    client = RasaClient(rasa_url)
    sender = f"console:{uuid.uuid4().hex[:12]}"
    print("Gõ câu hỏi rồi nhấn Enter. Gõ số để chọn nút. Ctrl-C hoặc Ctrl-D để thoát.")
    payloads: list[str] = []
    try:
        text = "xin chào"
        while True:
            try:
                payloads = show(await client.send(sender, text))
            except RasaUnavailable:
                print(f"\n🤖 {BUSY}")
            try:
                line = (await asyncio.to_thread(input, "\n👤 ")).strip()
            except EOFError:
                return
            while not line:
                line = (await asyncio.to_thread(input, "👤 ")).strip()
            if line.isdigit() and 1 <= int(line) <= len(payloads):
                text = payloads[int(line) - 1]  # a button the assistant offered
            else:
                text = as_typed_text(line)
    finally:
        await client.aclose()
