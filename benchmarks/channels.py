"""Channel load: 16 concurrent fake users per channel through the real gateway, Rasa and actions.

``python -m benchmarks.channels [--users 16] [--rounds 5]`` starts its own action and Rasa
servers on free ports, the fake Telegram and Zalo APIs (tests/fakes) and one gateway with both
channels. In each round every user sends one question at the same moment; measured: time from
the update (Telegram: queued in getUpdates; Zalo: webhook POST sent) to the first reply message
reaching the fake API, throughput, and the Zalo webhook acknowledgement time under that load.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from benchmarks.run import REPLY_QUESTIONS, pct
from bot.ops.stack import Stack, free_port
from bot.ops.training import model_file
from knowledge.__main__ import load
from settings import Settings, from_env
from tests.fakes.gateway import gateway
from tests.fakes.server import ServerThread
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.fakes.zalo import FakeZalo, post_event, text_event, zalo_env


def telegram_round(fake: FakeTelegram, users: list[int], n: int) -> tuple[list[float], float]:
    seen = len(fake.sent.items)
    pushed = {
        u: fake.pushed[fake.push_text(u, REPLY_QUESTIONS[(u + n) % len(REPLY_QUESTIONS)])]
        for u in users
    }
    start = min(pushed.values())
    first: dict[str, float | None] = {str(u): None for u in users}
    deadline = time.monotonic() + 120
    while any(v is None for v in first.values()):
        for m in fake.sent.items[seen:]:
            key = str(m["chat_id"])
            if first.get(key, 0) is None and m["at"] >= pushed[int(key)]:
                first[key] = m["at"]
        if time.monotonic() > deadline:
            raise TimeoutError("not every Telegram user got a reply")
        time.sleep(0.005)
    arrived = {key: at for key, at in first.items() if at is not None}  # all of them by now
    latencies = [arrived[str(u)] - pushed[u] for u in users]
    return latencies, max(arrived.values()) - start


def zalo_round(
    fake: FakeZalo, url: str, users: list[str], n: int, clients: dict[str, httpx.Client]
) -> tuple[list[float], list[float], float]:
    seen = len(fake.sent.items)
    sent_at: dict[str, float] = {}
    acks: list[float] = []

    def send(user: str) -> None:
        question = REPLY_QUESTIONS[(int(user[-2:]) + n) % len(REPLY_QUESTIONS)]
        sent_at[user] = time.monotonic()
        response = post_event(url, text_event(user, question, f"{user}-{n}"), client=clients[user])
        acks.append(time.monotonic() - sent_at[user])
        response.raise_for_status()

    with ThreadPoolExecutor(len(users)) as pool:
        list(pool.map(send, users))
    first: dict[str, float | None] = {u: None for u in users}
    deadline = time.monotonic() + 120
    while any(v is None for v in first.values()):
        for m in fake.sent.items[seen:]:
            user = m["user_id"]
            if first.get(user, 0) is None and m["at"] >= sent_at[user]:
                first[user] = m["at"]
        if time.monotonic() > deadline:
            raise TimeoutError("not every Zalo user got a reply")
        time.sleep(0.005)
    arrived = {user: at for user, at in first.items() if at is not None}  # all of them by now
    latencies = [arrived[u] - sent_at[u] for u in users]
    return latencies, acks, max(arrived.values()) - min(sent_at.values())


def settings_for(stack: Settings, var: Path, tg: str, zl: str) -> Settings:
    return from_env(
        {
            "AMNESTY_VAR_DIR": str(var / "gateway"),
            "AMNESTY_DATABASE_URL": stack.database_url,
            "AMNESTY_TRACKER_URL": stack.tracker_url,
            "AMNESTY_RASA_PORT": str(stack.rasa_port),
            "AMNESTY_WEB_PORT": str(free_port()),
            "AMNESTY_CHANNEL_RATE": "600/minute",
            "AMNESTY_TELEGRAM_TOKEN": TOKEN,
            "AMNESTY_TELEGRAM_BASE_URL": f"{tg}/bot",
            **zalo_env(zl),
        }
    )


def report(name: str, latencies: list[float], busy: float, count: int) -> None:
    print(
        f"| {name} | {count} | {pct(latencies, 0.5):.0f} | {pct(latencies, 0.95):.0f} "
        f"| {count / busy:.1f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.channels")
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    var = Path(tempfile.mkdtemp(prefix="amnesty-channels-"))
    stack_settings = from_env(
        {
            "AMNESTY_VAR_DIR": str(var),
            "AMNESTY_RASA_PORT": str(free_port()),
            "AMNESTY_ACTIONS_PORT": str(free_port()),
            "AMNESTY_WEB_PORT": str(free_port()),
        }
    )
    if load(stack_settings.database_url) != 0:
        return 1
    stack = Stack(stack_settings, model_file())
    stack.start(web=False)
    fake_tg, fake_zl = FakeTelegram(), FakeZalo()
    try:
        with ServerThread(fake_tg.app) as tg, ServerThread(fake_zl.app) as zl:
            settings = settings_for(stack_settings, var, tg.url, zl.url)
            with gateway(settings) as web:
                tg_users = [9000 + i for i in range(args.users)]
                zl_users = [f"8400000000{i:02d}" for i in range(args.users)]
                clients = {u: httpx.Client(timeout=30) for u in zl_users}
                telegram_round(fake_tg, tg_users, -1)  # warm-up, not counted
                zalo_round(fake_zl, web.url, zl_users, -1, clients)
                time.sleep(1)
                tg_lat: list[float] = []
                tg_busy = 0.0
                zl_lat: list[float] = []
                zl_ack: list[float] = []
                zl_busy = 0.0
                for n in range(args.rounds):
                    lat, busy = telegram_round(fake_tg, tg_users, n)
                    tg_lat += lat
                    tg_busy += busy
                    time.sleep(0.5)  # the remaining pieces of each answer arrive
                    lat, acks, busy = zalo_round(fake_zl, web.url, zl_users, n, clients)
                    zl_lat += lat
                    zl_ack += acks
                    zl_busy += busy
                    time.sleep(0.5)
                for client in clients.values():
                    client.close()
    finally:
        stack.stop()
    print(f"{args.users} concurrent users per channel, {args.rounds} rounds each\n")
    print("| channel | replies | p50 ms | p95 ms | replies/s |")
    print("|---|---|---|---|---|")
    report("Telegram (long polling)", tg_lat, tg_busy, len(tg_lat))
    report("Zalo (webhook)", zl_lat, zl_busy, len(zl_lat))
    print(
        f"\nZalo webhook acknowledgement under that load: p50 {pct(zl_ack, 0.5):.0f} ms, "
        f"p95 {pct(zl_ack, 0.95):.0f} ms, max {max(zl_ack) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
