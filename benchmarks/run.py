"""The benchmark: accuracy per held-out split, latency, throughput, cold start, memory, training.

``python -m benchmarks.run [--train]`` starts its own stack on free ports and writes
docs/benchmark.md. ``--train`` also times a full training run into a scratch folder.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks import eligibility
from benchmarks.heldout import entry_choice
from benchmarks.scratch import scratch_stack
from bot.channels.rasa_client import rest_headers
from bot.ops.heldout import FLOORS, evaluate, load
from bot.ops.training import build_training_data, rasa_env, train_command
from settings import ROOT

OUT = ROOT / "docs" / "benchmark.md"
REPLY_QUESTIONS = [
    "chong em an 6 nam toi lua dao, di duoc 4 nam roi, dong du an phi, co dc xet dac xa ko ad",
    "mẹ em đang được hoãn thi hành án vì bệnh, vậy có được xét đặc xá không ạ?",
    "hồ sơ đặc xá gồm những gì",
    "có người đòi tiền chạy đặc xá",
    "năm 2025 bao nhiêu người được đặc xá",
    "đại xá khác đặc xá thế nào",
    "khi nào có đợt đặc xá tiếp theo",
    "được đặc xá có xóa án tích không",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid)], capture_output=True, text=True)
    own = Path(f"/proc/{pid}/status").read_text()
    kb = int(next(line.split()[1] for line in own.splitlines() if line.startswith("VmRSS")))
    kb += sum(int(x) for x in out.stdout.split())
    return kb / 1024


async def load_run(
    url: str,
    bodies: list[dict],
    concurrency: int,
    params: dict | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[list[float], float]:
    semaphore = asyncio.Semaphore(concurrency)
    times: list[float] = []
    async with httpx.AsyncClient(timeout=120, headers=headers) as client:

        async def one(body: dict) -> None:
            async with semaphore:
                started = time.perf_counter()
                response = await client.post(url, json=body, params=params)
                response.raise_for_status()
                times.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        return times, time.perf_counter() - started


def time_training() -> float:
    """A full training run with an empty Rasa cache (as on a clean clone)."""
    build_training_data()
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        env = rasa_env() | {"RASA_CACHE_DIRECTORY": cache}
        started = time.perf_counter()
        subprocess.run(train_command(out), cwd=ROOT, env=env, check=True, capture_output=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", action="store_true", help="also time a full training run")
    args = parser.parse_args()
    lines = [
        f"# Benchmark ({time.strftime('%Y-%m-%d %H:%M')} UTC, {platform.machine()}, "
        f"{__import__('os').cpu_count()} cores)",
        "",
    ]
    if args.train:
        seconds = time_training()
        lines += [f"Training (`rasa train`, from scratch, no cache): **{seconds:.0f} s**", ""]
    with scratch_stack(web=True) as scratch:
        settings, stack, cold = scratch.settings, scratch.stack, scratch.cold_start
        items = load()
        report = asyncio.run(evaluate(settings.rasa_url, stack.token, items))
        lines += [
            "## Accuracy on the held-out set (written blind)",
            "",
            report.markdown(),
            "",
            "Floors enforced by `tests/e2e/test_heldout.py`: "
            + ", ".join(f"{k} {v:.0%}" for k, v in FLOORS.items())
            + ".",
            "",
        ]
        lines += [
            "## Choice of the answer within the intent",
            "",
            entry_choice(report, settings).markdown(),
            "(labels in tests/heldout/entries.yml, made from entry titles and answers only)",
            "",
        ]
        lines += ["Most frequent confusions (gold → predicted):", ""]
        lines += [f"- {n} × {g} → {p}" for (g, p), n in report.confusions().most_common(12)]
        lines += [
            "",
            "## Eligibility check from one message",
            "",
            "Each blind message (tests/heldout/eligibility_messages*.yml) describes one row",
            "of the case table; the verdict shown is compared with the evaluator's verdict",
            "on the true case (see benchmarks/eligibility.py).",
            "",
            asyncio.run(
                eligibility.measure(
                    settings.rasa_url,
                    stack.token,
                    eligibility.calendar_of(settings),
                    rest_headers(settings),
                )
            ).markdown(),
            "",
        ]
        parse_url = f"{settings.rasa_url}/model/parse"
        token = {"token": stack.token}
        bodies = [{"text": i.text} for i in items]
        seq = [p.seconds for p in report.predictions]
        conc, wall = asyncio.run(load_run(parse_url, bodies, 16, token))
        hook = f"{settings.rasa_url}/webhooks/rest/webhook"
        replies = [
            {"sender": f"bench-{i}", "message": q} for i, q in enumerate(REPLY_QUESTIONS * 12)
        ]
        rest = rest_headers(settings)
        rseq, _ = asyncio.run(load_run(hook, replies[:48], 1, headers=rest))
        rconc, rwall = asyncio.run(load_run(hook, replies, 16, headers=rest))
        lines += [
            "",
            "## Speed",
            "",
            "| measure | p50 ms | p95 ms | throughput |",
            "|---|---|---|---|",
            f"| `/model/parse`, sequential ({len(seq)}) | {pct(seq, 0.5):.0f} | "
            f"{pct(seq, 0.95):.0f} | {len(seq) / sum(seq):.0f}/s |",
            f"| `/model/parse`, 16 concurrent ({len(conc)}) | {pct(conc, 0.5):.0f} | "
            f"{pct(conc, 0.95):.0f} | {len(conc) / wall:.0f}/s |",
            f"| full reply (REST), sequential ({len(rseq)}) | {pct(rseq, 0.5):.0f} | "
            f"{pct(rseq, 0.95):.0f} | {len(rseq) / sum(rseq):.0f}/s |",
            f"| full reply (REST), 16 concurrent ({len(rconc)}) | {pct(rconc, 0.5):.0f} |"
            f" {pct(rconc, 0.95):.0f} | {len(rconc) / rwall:.0f}/s |",
            "",
            f"Cold start of the whole stack until every process answers: **{cold:.1f} s**",
            "",
            "## Resident memory",
            "",
        ]
        lines += [f"- {name}: {rss_mb(p.pid):.0f} MB" for name, p in stack.processes]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"\nWritten to {OUT}")


if __name__ == "__main__":
    main()
