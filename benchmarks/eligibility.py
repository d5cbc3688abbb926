"""Eligibility from one message: does the conversation reach the right verdict?

Each message in ``tests/heldout/eligibility_messages*.yml`` (written blind from the case table
of tests/unit/test_eligibility.py) is sent once through Rasa's REST channel. If the assistant
answers it with a reading of the case, its lead is the verdict shown; if that reading cannot tell
(or there is none) and the step-by-step check is offered, the button is pressed, as a family
would; every further question is answered "không biết". The verdict shown is compared with
the evaluator's verdict on the true case, for the round the conversation uses: the one the
message names, else the round being considered on the stack's day, else (no round open, as in
December 2026) the law alone with the last rounds' levels for reference; a row of a named round
whose message the reader does not place is still expected under that round, so the miss shows.
The calendar is read from the stack's database, as the assistant reads it. The target: every
case whose facts settle the verdict (the evaluator misses nothing the family could tell) gets
the right verdict with no further question. ``python -m benchmarks.eligibility`` starts its
own stack and prints the figures; ``benchmarks.run`` puts them into docs/benchmark.md.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml

from actions.calendar import Calendar
from actions.router import today_of
from bot.channels.rasa_client import rest_headers
from knowledge.db import session_factory
from knowledge.eligibility.case import Case
from knowledge.eligibility.case_dates import round_named
from knowledge.eligibility.evaluator import evaluate
from knowledge.eligibility.round_rules import LAW_ROUND
from knowledge.kb.compose import AMNESTY_LEADS
from knowledge.kb.rounds import calendar as round_calendar
from settings import ROOT, Settings
from tests.unit.test_eligibility import TABLE

MESSAGES = sorted((ROOT / "tests" / "heldout").glob("eligibility_messages*.yml"))
RESULT = "Kết quả tự kiểm tra"
SHOWN = {
    "CÓ THỂ": "may_be_considered",
    "CHƯA đáp ứng": "does_not_meet",
    "Chưa thể kết luận": "cannot_tell",
}
# Facts about the round that only the camp knows: the form never asks the family for them.
ROUND_FACTS = frozenset({"round_time_requirement", "round_cutoff"})


@dataclass
class Outcome:
    case: str
    file: str
    intent: str
    via: str  # "message", "button", or "" when no verdict was reached
    expected: str
    complete: bool  # the true case's facts settle the verdict
    shown: str | None
    questions: list[str] = field(default_factory=list)  # asked after the message

    @property
    def right(self) -> bool:
        return self.shown == self.expected

    @property
    def reached_at_once(self) -> bool:
        return self.right and not self.questions


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [
            "| set | messages | complete cases: right verdict from the message alone | "
            "incomplete cases: right verdict after “không biết” answers | wrong or none |",
            "|---|---|---|---|---|",
        ]
        for name in sorted({o.file for o in self.outcomes}):
            rows = [o for o in self.outcomes if o.file == name]
            complete = [o for o in rows if o.complete]
            rest = [o for o in rows if not o.complete]
            at_once = sum(o.reached_at_once for o in complete)
            later = sum(o.right for o in rest)
            lines.append(
                f"| {name} | {len(rows)} | {at_once}/{len(complete)} "
                f"({at_once / max(1, len(complete)):.0%}) | {later}/{len(rest)} | "
                f"{sum(not o.right for o in rows)} |"
            )
        via = Counter(o.via or "none" for o in self.outcomes)
        intents = Counter(o.intent for o in self.outcomes)
        asked = Counter(q[:60] for o in self.outcomes for q in o.questions)
        lines += [
            "",
            "Check started from "
            + ", ".join(f"{k}: {v}" for k, v in sorted(via.items()))
            + "; first message recognised as "
            + ", ".join(f"{k} {v}" for k, v in intents.most_common())
            + ".",
            "",
        ]
        if asked:
            lines += ["Questions asked after the message (count):", ""]
            lines += [f"- {n} × {q}…" for q, n in asked.most_common(8)]
            lines.append("")
        misses = [o for o in self.outcomes if not o.right or (o.complete and o.questions)]
        if misses:
            lines += ["Misses:", ""]
            lines += [
                f"- {o.file} `{o.case}`: expected {o.expected}, shown {o.shown}"
                + (
                    f" after {len(o.questions)} question(s): “{o.questions[0][:70]}”"
                    if o.questions
                    else ""
                )
                for o in misses
            ]
        return "\n".join(lines)


def calendar_of(settings: Settings) -> Calendar:
    """The rounds as the stack's database holds them, on the stack's day (what the actions
    read through ``Calendar.now()`` with these settings)."""
    with session_factory(settings.database_url)() as session:
        return Calendar(round_calendar(session), today_of(settings))


def expected_outcome(case_id: str, text: str, calendar: Calendar) -> tuple[str, bool]:
    """The evaluator's verdict on the true case for the round the conversation will use, and
    whether the case's facts settle it (nothing is missing but what only the camp knows)."""
    row = next(r for r in TABLE if r.id == case_id)
    named = round_named(text, calendar.open_round)
    rules = calendar.rules(named if named in calendar.ids else None)
    if row.round not in (LAW_ROUND, rules.round_id):
        rules = calendar.rules(row.round)  # the message names its round in words the reader missed
    verdict = evaluate(Case(**row.case), rules, as_of=calendar.today)
    settled = verdict.outcome != "cannot_tell" or set(verdict.missing) <= ROUND_FACTS
    return verdict.outcome, settled


def shown_outcome(reply: str) -> str | None:
    """The verdict of the check's result, or of the case reading that leads an answer."""
    if RESULT in reply:
        return next((code for words, code in SHOWN.items() if words in reply), None)
    return next((code for code, lead in AMNESTY_LEADS.items() if lead in reply), None)


async def one(
    client: httpx.AsyncClient,
    rasa_url: str,
    token: str,
    item: dict[str, Any],
    file: str,
    calendar: Calendar,
) -> Outcome:
    sender = f"bench-elig-{uuid.uuid4().hex[:8]}"
    hook = f"{rasa_url}/webhooks/rest/webhook"

    async def say(text: str) -> tuple[str, list[str]]:
        replies = (await client.post(hook, json={"sender": sender, "message": text})).json()
        joined = "\n".join(r.get("text") or "" for r in replies)
        return joined, [b["payload"] for r in replies for b in r.get("buttons") or []]

    parsed = await client.post(
        f"{rasa_url}/model/parse", params={"token": token}, json={"text": item["text"]}
    )
    text, buttons = await say(item["text"])
    via = "message"
    # A reading that cannot tell offers the step-by-step check: the family presses it.
    if shown_outcome(text) in (None, "cannot_tell") and "/check_eligibility" in buttons:
        text, buttons = await say("/check_eligibility")
        via = "button"

    async def in_check() -> bool:
        url = f"{rasa_url}/conversations/{sender}/tracker"
        tracker = (await client.get(url, params={"token": token})).json()
        return (tracker.get("active_loop") or {}).get("name") == "eligibility_form"

    questions: list[str] = []
    while RESULT not in text and len(questions) < 15 and await in_check():
        questions.append(text.splitlines()[-1] if text else "")
        text, buttons = await say("không biết")
    expected, complete = expected_outcome(item["case"], item["text"], calendar)
    shown = shown_outcome(text)
    return Outcome(
        case=item["case"],
        file=file,
        intent=parsed.json()["intent"]["name"],
        via=via if shown else "",
        expected=expected,
        complete=complete,
        shown=shown,
        questions=questions,
    )


async def measure(rasa_url: str, token: str, calendar: Calendar, headers: dict[str, str]) -> Report:
    report = Report()
    async with httpx.AsyncClient(timeout=120, headers=headers) as client:
        for path in MESSAGES:
            items = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)["messages"]
            for item in items:
                report.outcomes.append(
                    await one(client, rasa_url, token, item, path.name, calendar)
                )
    return report


def main() -> None:
    from benchmarks.scratch import scratch_stack

    with scratch_stack() as scratch:
        s = scratch.settings
        report = asyncio.run(
            measure(s.rasa_url, scratch.stack.token, calendar_of(s), rest_headers(s))
        )
    print(report.markdown())


if __name__ == "__main__":
    main()
