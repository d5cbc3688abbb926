"""Answers, not only intents: the router's replies to the blind real-style split, the blind urgent
and ordinary sets, and (when present, never copied) ../shared/eval/real-dev.jsonl.

``python -m benchmarks.answers [--rasa]`` writes docs/answers.md. With ``--rasa`` it starts a
scratch stack and gives the router the intent the served model parses (as in production);
without it the router reads the words alone. real-dev replies go to var/real-dev-replies.jsonl
(not committed) for a grader.

Measured per split: the right entry for each question asked (one of its labelled keys among the
entries the reply used), the figures a correct reply must compute (months, fractions, dates)
found in its text, the safety path taken or not, the topic of the main answer, the time per reply.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml

from actions.router import Routed, route
from knowledge.__main__ import load as load_kb
from knowledge.db import session_factory
from settings import ROOT, Settings, from_env

HELDOUT = ROOT / "tests" / "heldout"
DEVELOPMENT = ROOT / "tests" / "unit"  # written blind too, but tuned on
DEV_SETS = (
    "real_style_dev.yml",
    "real_style_dev_2.yml",
    "real_style_dev_3.yml",
    "real_style_dev_4.yml",
    "real_style_dev_5.yml",
    "real_style_dev_6.yml",
    "real_style_dev_7.yml",
    "real_style_dev_8.yml",
    "real_style_dev_9.yml",
    "real_style_dev_10.yml",
    "real_style_dev_11.yml",
    "real_style_dev_12.yml",
    "real_style_dev_13.yml",
)
SHORT_DEV_SETS = (
    "short_questions_dev.yml",
    "short_questions_dev_3.yml",
    "short_questions_dev_4.yml",
    "short_questions_dev_5.yml",
)
REAL_DEV = ROOT.parent / "shared" / "eval" / "real-dev.jsonl"
OUT = ROOT / "docs" / "answers.md"
TODAY = dt.date(2026, 12, 6)
# The topic labels real questions are graded with, from the measure of the main answer.
MEASURE_TOPIC = {
    "reduction": "other_law",
    "special_reduction": "other_law",
    "early_release": "other_law",
    "postponement": "other_law",
    "suspension": "other_law",
    "suspended_sentence": "other_law",
    "exemption": "other_law",
    "commutation": "other_law",
    "trial": "other_law",
    "foreign": "other_law",
    "record_clearing": "after_release",
    "civil_judgment": "after_release",
    "after_release": "after_release",
    "complaints": "complaint",
    "custody_harm": "complaint",
    "prison_life": "out_of_scope",
    "detention": "out_of_scope",
    "out_of_scope": "out_of_scope",
    "scams": "fees",
}
INTENT_TOPIC = {
    "ask_conditions": "conditions",
    "ask_exclusions": "exclusions",
    "ask_procedure": "procedure",
    "ask_documents": "documents",
    "ask_results": "results",
    "ask_fees": "fees",
    "ask_after_release": "after_release",
    "give_feedback": "complaint",
}
URGENT_TOPIC = {"scam": "fees", "harm": "complaint", "death": "complaint", "dying": "other_law"}
Parser = Callable[[str], tuple[str | None, float | None]]


def topic_of(routed: Routed, measures: dict[str, tuple[str, str]]) -> str:
    """The topic label of a reply: what its main entry is about."""
    if routed.urgent:
        return URGENT_TOPIC[routed.urgent]
    if routed.kind == "thanks":
        return "complaint"  # feedback for staff
    if not routed.entries:
        return "out_of_scope"
    measure, topic = measures[routed.entries[0]]
    return MEASURE_TOPIC.get(measure) or INTENT_TOPIC.get(topic, "out_of_scope")


@dataclass
class Result:
    split: str
    text: str
    routed: Routed
    seconds: float
    label: dict[str, Any] = field(default_factory=dict)


@contextmanager
def knowledge_base() -> Iterator[Settings]:
    """A scratch SQLite database with the knowledge base, and settings pinned to TODAY."""
    with tempfile.TemporaryDirectory() as var:
        settings = from_env(
            {"AMNESTY_VAR_DIR": var, "AMNESTY_DATABASE_URL": f"sqlite:///{var}/kb.db"}
        )
        if load_kb(settings.database_url) != 0:
            raise SystemExit("The knowledge base could not be loaded.")
        yield dataclasses.replace(settings, today=TODAY)


# Intents that data/rules.yml sends to their own action, never to the router (as in production).
RULE_INTENTS = frozenset({"greet", "goodbye", "thank", "bot_challenge", "ask_human"})


def answer_all(
    settings: Settings, split: str, rows: list[dict[str, Any]], parse: Parser
) -> list[Result]:
    results = []
    sessions = session_factory(settings.database_url)
    for row in rows:
        text = row.get("text") or row["question"]
        intent, confidence = parse(text)
        started = time.perf_counter()
        if intent in RULE_INTENTS:
            routed = Routed(intent, [f"(action for {intent})"])
            results.append(Result(split, text, routed, time.perf_counter() - started, row))
            continue
        with sessions() as session:
            routed = route(
                text,
                intent=intent,
                confidence=confidence,
                session=session,
                settings=settings,
            )
        results.append(Result(split, text, routed, time.perf_counter() - started, row))
    return results


def entry_measures(settings: Settings) -> dict[str, tuple[str, str]]:
    from knowledge.kb.choose import published

    with session_factory(settings.database_url)() as session:
        return {e.key: (e.measure, e.topic) for e in published(session)}


# --- Scores ---------------------------------------------------------------------------------------


def real_style_scores(
    results: list[Result], measures: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    asked = right = cases = figures_ok = topics = urgent_ok = 0
    misses: list[str] = []
    for r in results:
        shown = set(r.routed.entries)
        for q in r.label["questions"]:
            acceptable = set(q.get("entries") or [])
            if not acceptable:
                continue
            asked += 1
            if acceptable & shown:
                right += 1
            else:
                misses.append(f"{r.label['id']}: {sorted(acceptable)} ← {r.routed.entries}")
        wanted = r.label.get("figures") or []
        if wanted:
            cases += 1
            text = "\n".join(r.routed.messages)
            figures_ok += all(f in text for f in wanted)
        topics += topic_of(r.routed, measures) == r.label["topic"]
        urgent_ok += bool(r.routed.urgent) == bool(r.label.get("urgent"))
    n = len(results)
    return {
        "items": n,
        "questions": asked,
        "right_entry": right / max(asked, 1),
        "cases_with_figures": cases,
        "figures_right": figures_ok / max(cases, 1),
        "topic": topics / max(n, 1),
        "urgent_agrees": urgent_ok / max(n, 1),
        "misses": misses,
    }


def short_scores(results: list[Result]) -> dict[str, Any]:
    """Short questions: one of the labelled entries among those the reply used ("none": no
    entry, a decline or a greeting)."""
    right = 0
    for r in results:
        keys = r.label["keys"]
        shown = set(r.routed.entries)
        right += (not shown) if keys == ["none"] else bool(shown & set(keys))
    return {"items": len(results), "right_entry": right / max(len(results), 1)}


def urgent_scores(results: list[Result]) -> dict[str, Any]:
    urgent = [r for r in results if r.split == "urgent"]
    ordinary = [r for r in results if r.split == "ordinary"]
    safety = [r for r in urgent if r.routed.kind == "safety"]
    unrelated = [r for r in urgent if r.routed.kind != "safety"]
    return {
        "urgent": len(urgent),
        "safety_path": len(safety) / max(len(urgent), 1),
        "urgent_without_safety": len(unrelated),
        "ordinary": len(ordinary),
        "ordinary_on_safety_path": sum(r.routed.kind == "safety" for r in ordinary)
        / max(len(ordinary), 1),
        "by_kind": dict(Counter(r.label["kind"] for r in safety)),
    }


def real_dev_scores(results: list[Result], measures: dict[str, tuple[str, str]]) -> dict[str, Any]:
    right = sum(topic_of(r.routed, measures) == r.label["topic"] for r in results)
    confusion = Counter((r.label["topic"], topic_of(r.routed, measures)) for r in results)
    return {
        "items": len(results),
        "topic": right / max(len(results), 1),
        "confusions": {f"{a} → {b}": n for (a, b), n in confusion.items() if a != b},
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# --- Inputs ---------------------------------------------------------------------------------------


def load_real_style() -> list[dict[str, Any]]:
    return yaml.load(
        (HELDOUT / "real_style.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )["items"]


def load_urgent() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = yaml.load((HELDOUT / "urgent.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return data["urgent"], data["ordinary"]


def load_real_dev() -> list[dict[str, Any]]:
    """The real questions, read from ../shared when present (measurement only: never copied)."""
    if not REAL_DEV.exists():
        return []
    return [json.loads(line) for line in REAL_DEV.read_text(encoding="utf-8").splitlines() if line]


def load_development() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in DEV_SETS:
        text = (DEVELOPMENT / name).read_text(encoding="utf-8")
        rows += yaml.load(text, Loader=yaml.CSafeLoader)["items"]
    return rows


def load_short(blind: bool) -> list[dict[str, Any]]:
    """Short questions: the blind held-out labels, or the short development set."""
    if blind:
        text = (HELDOUT / "entries.yml").read_text(encoding="utf-8")
        return [
            {"text": r["text"], "keys": r["keys"]}
            for r in yaml.load(text, Loader=yaml.CSafeLoader)["items"]
        ]
    rows = []
    for name in SHORT_DEV_SETS:
        text = (DEVELOPMENT / name).read_text(encoding="utf-8")
        rows += [
            {"text": r["text"], "keys": r["entries"]}
            for r in yaml.load(text, Loader=yaml.CSafeLoader)["items"]
        ]
    return rows


def no_intent(text: str) -> tuple[None, None]:
    return None, None


@contextmanager
def rasa_parser() -> Iterator[Parser]:
    """The served model's intent for each message, from a scratch stack."""
    from benchmarks.scratch import scratch_stack

    with scratch_stack() as scratch:
        client = httpx.Client(base_url=scratch.settings.rasa_url, timeout=60)

        def parse(text: str) -> tuple[str | None, float | None]:
            response = client.post(
                "/model/parse", params={"token": scratch.stack.token}, json={"text": text}
            )
            intent = response.json().get("intent") or {}
            return intent.get("name"), intent.get("confidence")

        yield parse
        client.close()


# --- Report ---------------------------------------------------------------------------------------


def report(sections: dict[str, dict[str, Any]], times: list[float], with_rasa: bool) -> str:
    lines = [
        "# Answers, measured",
        "",
        f"Written by `python -m benchmarks.answers{' --rasa' if with_rasa else ''}` "
        f"(date pinned to {TODAY:%d/%m/%Y}; intents "
        f"{'from the served model' if with_rasa else 'not used: the words alone'}).",
        "",
    ]
    for name, scores in sections.items():
        lines += [f"## {name}", ""]
        for key, value in scores.items():
            if key in ("misses", "confusions"):
                continue
            shown = f"{value:.1%}" if isinstance(value, float) else str(value)
            lines.append(f"- {key}: {shown}")
        for key in ("misses", "confusions"):
            if scores.get(key):
                lines += ["", f"{key}:", ""] + [f"- {m}" for m in list(scores[key])[:40]]
        lines.append("")
    lines += [
        "## Time per reply (router and knowledge base, in process)",
        "",
        f"- p50 {pct(times, 0.5):.0f} ms, p95 {pct(times, 0.95):.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over {len(times)} replies",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.answers")
    parser.add_argument("--rasa", action="store_true", help="use the served model's intents")
    args = parser.parse_args()
    with knowledge_base() as settings, rasa_parser() if args.rasa else _plain() as parse:
        measures = entry_measures(settings)
        real_style = answer_all(settings, "real_style", load_real_style(), parse)
        urgent, ordinary = load_urgent()
        safety = answer_all(settings, "urgent", urgent, parse) + answer_all(
            settings, "ordinary", ordinary, parse
        )
        dev = answer_all(settings, "real_dev", load_real_dev(), parse)
        development = answer_all(settings, "development", load_development(), parse)
        short_blind = answer_all(settings, "short", load_short(blind=True), parse)
        short_dev = answer_all(settings, "short_dev", load_short(blind=False), parse)
    sections = {
        "Blind real-style split (tests/heldout/real_style.yml)": real_style_scores(
            real_style, measures
        ),
        "Blind urgent and ordinary sets (tests/heldout/urgent.yml)": urgent_scores(safety),
        "Short questions, blind (tests/heldout/entries.yml)": short_scores(short_blind),
        "Development sets, long messages (tests/unit/real_style_dev*.yml; tuned on)": {
            k: v for k, v in real_style_scores(development, measures).items() if k != "misses"
        },
        "Short questions, development (tests/unit/short_questions_dev*; tuned on)": short_scores(
            short_dev
        ),
    }
    if dev:
        sections["Real questions (../shared/eval/real-dev.jsonl, topic only)"] = real_dev_scores(
            dev, measures
        )
        replies = ROOT / "var" / "real-dev-replies.jsonl"
        replies.parent.mkdir(exist_ok=True)
        replies.write_text(
            "\n".join(
                json.dumps(
                    {"id": r.label["id"], "reply": "\n".join(r.routed.messages)}, ensure_ascii=False
                )
                for r in dev
            ),
            encoding="utf-8",
        )
    times = [r.seconds for r in real_style + safety + dev + development + short_blind + short_dev]
    OUT.write_text(report(sections, times, args.rasa), encoding="utf-8")
    print(OUT.read_text(encoding="utf-8"))


@contextmanager
def _plain() -> Iterator[Parser]:
    yield no_intent


if __name__ == "__main__":
    main()
