"""Chat with the assistant in the terminal, through the same REST path as every channel."""

from __future__ import annotations

import uuid

import httpx

from bot.channels.rasa_client import RasaUnavailable, Reply, as_typed_text, parse_replies
from settings import REST_SECRET_HEADER

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


def send(client: httpx.Client, sender: str, text: str) -> list[Reply]:
    try:
        response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise RasaUnavailable(str(exc)) from exc
    return parse_replies(response.json())


def chat(rasa_url: str, secret: str) -> None:
    """Read lines until Ctrl-D (or Ctrl-C, which the caller handles)."""
    sender = f"console:{uuid.uuid4().hex[:12]}"
    print("Gõ câu hỏi rồi nhấn Enter. Gõ số để chọn nút. Ctrl-C hoặc Ctrl-D để thoát.")
    headers = {REST_SECRET_HEADER: secret}
    with httpx.Client(base_url=rasa_url, timeout=60, headers=headers) as client:
        text = "xin chào"
        while True:
            try:
                payloads = show(send(client, sender, text))
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
