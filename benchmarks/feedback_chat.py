"""16 families sending complaints at once through the whole conversation.

Each family tells its complaint, presses "Gửi ý kiến cho cán bộ", declines to leave a phone
number and confirms. Measured: the time from the confirming "gửi" to the acknowledgement
with its reference (p50/p95), and that every complaint is in the database exactly once.
``python -m benchmarks.feedback_chat`` starts its own stack (SQLite by default; set
AMNESTY_DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time

import httpx
from sqlalchemy import func, select

from benchmarks.run import pct
from benchmarks.scratch import scratch_stack
from bot.channels.rasa_client import rest_headers
from knowledge.db import session_factory
from knowledge.models import FeedbackItem

SEND = '/give_feedback{"feedback_send":"yes"}'
REFERENCE = re.compile(r"PA-\d{4}-\d{6}")


async def family(client: httpx.AsyncClient, hook: str, sender: str, n: int) -> float | None:
    """One family's complaint; returns the seconds the confirmation took, None if not saved."""

    async def say(text: str) -> str:
        response = await client.post(hook, json={"sender": sender, "message": text})
        return "\n".join(m.get("text") or "" for m in response.json())

    story = (
        f"Gia đình số {n} khiếu nại: người thân đủ điều kiện mà không có tên trong danh sách "
        "đề nghị đặc xá niêm yết tại trại, cán bộ không giải thích lý do."
    )
    for text in (story, SEND, "khiếu nại", "bỏ qua", "không"):
        await say(text)
    started = time.perf_counter()
    reply = await say("gửi")
    seconds = time.perf_counter() - started
    return seconds if REFERENCE.search(reply) else None


async def measure(
    rasa_url: str, families: int, rounds: int, headers: dict[str, str]
) -> list[float | None]:
    hook = f"{rasa_url}/webhooks/rest/webhook"
    results: list[float | None] = []
    async with httpx.AsyncClient(timeout=120, headers=headers) as client:
        for r in range(rounds):
            results += await asyncio.gather(
                *(
                    family(client, hook, f"bench-fb-{r}-{i}", r * families + i)
                    for i in range(families)
                )
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.feedback_chat")
    parser.add_argument("--families", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with scratch_stack() as scratch:
        settings = scratch.settings
        results = asyncio.run(
            measure(settings.rasa_url, args.families, args.rounds, rest_headers(settings))
        )
        with session_factory(settings.database_url)() as session:
            stored = session.scalar(
                select(func.count())
                .select_from(FeedbackItem)
                .where(FeedbackItem.sender_id.like("bench-fb-%"))
            )
    times = [t for t in results if t is not None]
    print(
        f"{args.families} families at once × {args.rounds} rounds: {len(results)} complaints, "
        f"{len(times)} acknowledged with a reference, {stored} stored, "
        f"{len(results) - (stored or 0)} lost; time to acknowledgement p50 "
        f"{pct(times, 0.5):.0f} ms, p95 {pct(times, 0.95):.0f} ms"
    )
    return 0 if stored == len(results) == len(times) else 1


if __name__ == "__main__":
    raise SystemExit(main())
