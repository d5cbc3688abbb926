"""Throughput, p95 reply time and CPU per message through nginx with 1, 2 and 4 Rasa replicas.

16 concurrent senders, each with a fixed mix of held-out questions and eligibility-form turns,
sent to Rasa's REST channel through nginx (2 action servers). CPU is the utime+stime of every
cluster process (/proc/<pid>/stat) before and after, divided by the messages sent. Needs the
PostgreSQL and Redis at 127.0.0.1 (a scratch database amnesty_cl_bench_* is made and dropped).

    .venv-app/bin/python -m benchmarks.cluster [--replicas 1 2 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from bot.channels.rasa_client import rest_headers
from bot.ops.cluster import Cluster, Ports, cluster_settings, unreachable_services
from bot.ops.stack import free_port
from bot.ops.training import ensure_model
from knowledge.__main__ import load
from settings import ROOT, from_env
from tests.databases import postgres_database_url

SENDERS = 16
FORM = (
    "kiểm tra giúp em: chồng em bị 6 năm tù tội trộm cắp tài sản",
    "4 năm",
    "tốt",
    "đã nộp xong",
)
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Result:
    replicas: int
    messages: int
    seconds: float
    p50_ms: float
    p95_ms: float
    cpu_ms_per_message: float
    errors: int
    rasa_share: float  # of the CPU: the Rasa replicas (the rest: actions, nginx, gateway)

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total


def conversations(rounds: int) -> list[list[str]]:
    """Each sender's messages per round: 5 held-out questions, 4 form turns, a restart."""
    heldout = yaml.load(
        (ROOT / "tests" / "heldout" / "heldout.yml").read_text("utf-8"), Loader=yaml.CSafeLoader
    )
    questions = [q["text"] for split in heldout["splits"].values() for q in split]
    plans = []
    for i in range(SENDERS):
        plan: list[str] = []
        for r in range(rounds):
            start = (i * 5 + r * SENDERS * 5) % (len(questions) - 5)
            plan += [*questions[start : start + 5], *FORM, "/restart"]  # the form ends
        plans.append(plan)
    return plans


async def drive(
    url: str, plans: list[list[str]], headers: dict[str, str]
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    run = uuid.uuid4().hex[:6]

    async def sender(i: int, plan: list[str], client: httpx.AsyncClient) -> None:
        nonlocal errors
        for message in plan:
            started = time.perf_counter()
            response = await client.post(url, json={"sender": f"b{run}{i}", "message": message})
            latencies.append(time.perf_counter() - started)
            # A restart answers with no message; anything else must answer something.
            if response.status_code != 200 or not (message == "/restart" or response.json()):
                errors += 1

    limits = httpx.Limits(max_connections=SENDERS)
    async with httpx.AsyncClient(timeout=120, limits=limits, headers=headers) as client:
        await asyncio.gather(*(sender(i, plan, client) for i, plan in enumerate(plans)))
    return latencies, errors


def measure(replicas: int, rounds: int, model: Path) -> Result:
    with (
        postgres_database_url("amnesty_cl_bench") as database,
        tempfile.TemporaryDirectory() as var,
    ):
        base = from_env(
            dict(os.environ) | {"AMNESTY_VAR_DIR": var, "AMNESTY_DATABASE_URL": database}
        )
        ports = Ports(
            free_port(),
            free_port(),
            free_port(),
            tuple(free_port() for _ in range(replicas)),
            (free_port(), free_port()),
        )
        settings = cluster_settings(base, ports)
        problems = unreachable_services(settings)
        if problems:
            raise SystemExit("\n".join(problems))
        if load(settings.database_url) != 0:
            raise SystemExit("The knowledge base could not be loaded (see above).")
        cluster = Cluster(settings, model, ports)
        cluster.start()
        try:
            url = f"{settings.rasa_urls[0]}/webhooks/rest/webhook"
            rest = rest_headers(settings)
            asyncio.run(drive(url, [list(FORM[:2])] * (replicas * 2), rest))  # warm every replica
            plans = conversations(rounds)
            before = cpu_ticks(cluster.pids()), cpu_ticks(cluster.pids("rasa"))
            started = time.perf_counter()
            latencies, errors = asyncio.run(drive(url, plans, rest))
            seconds = time.perf_counter() - started
            cpu = (cpu_ticks(cluster.pids()) - before[0]) / TICK
            rasa_cpu = (cpu_ticks(cluster.pids("rasa")) - before[1]) / TICK
        finally:
            cluster.stop()
    ordered = sorted(latencies)
    return Result(
        replicas,
        len(latencies),
        seconds,
        statistics.median(ordered) * 1000,
        ordered[int(0.95 * (len(ordered) - 1))] * 1000,
        cpu * 1000 / len(latencies),
        errors,
        rasa_cpu / cpu,
    )


def table(results: list[Result]) -> str:
    lines = [
        "| Rasa replicas | messages | msg/s | p50 reply (ms) | p95 reply (ms) "
        "| CPU ms / message | of which Rasa | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.replicas} | {r.messages} | {r.per_second:.1f} | {r.p50_ms:.0f} "
            f"| {r.p95_ms:.0f} | {r.cpu_ms_per_message:.0f} | {r.rasa_share:.0%} | {r.errors} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=2, help="mixes per sender (10 messages)")
    args = parser.parse_args(argv)
    model = ensure_model()
    results = []
    for n in args.replicas:
        print(f"{n} Rasa replica(s), 2 action servers, {SENDERS} senders...", flush=True)
        results.append(measure(n, args.rounds, model))
        print(table(results[-1:]), flush=True)
    print(f"\n{os.cpu_count()} CPUs\n" + table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
