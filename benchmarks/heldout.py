"""Held-out NLU evaluation report: ``python -m benchmarks.heldout`` for a running Rasa server,
and how often the ranking picks an acceptable entry for the held-out questions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import yaml

from bot.ops.heldout import HELDOUT, Report, evaluate, load
from settings import Settings


def main() -> None:
    from settings import get_settings, secret

    settings = get_settings()
    token = secret(settings, "rasa_token")
    report = asyncio.run(evaluate(settings.rasa_url, token, load()))
    print(report.markdown())
    for (gold, pred), n in report.confusions().most_common(20):
        print(f"{n:3d}  {gold} → {pred}")


if __name__ == "__main__":
    main()


ENTRY_LABELS = HELDOUT.with_name("entries.yml")


@dataclass(frozen=True)
class EntryChoice:
    labelled: int  # items with an entry label whose intent the model got right
    right: int  # ... for which the assistant chose one of the acceptable entries
    end_to_end: int  # all labelled items answered with an acceptable entry (intent right too)
    total: int  # all labelled items

    def markdown(self) -> str:
        return (
            f"Right entry within the right intent: {self.right}/{self.labelled} "
            f"({self.right / max(self.labelled, 1):.1%}); end to end (intent and entry): "
            f"{self.end_to_end}/{self.total} ({self.end_to_end / max(self.total, 1):.1%})."
        )


def entry_choice(report: Report, settings: Settings) -> EntryChoice:
    """How often the reply to a held-out question uses one of its acceptable entries (the router
    given the intent the model predicted, as in production)."""
    from actions.router import route
    from knowledge.db import session_factory

    data = yaml.load(ENTRY_LABELS.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    keys = {row["text"]: row["keys"] for row in data["items"]}
    labelled = right = end_to_end = total = 0
    with session_factory(settings.database_url)() as session:
        for p in report.predictions:
            acceptable = keys.get(p.item.text)
            if acceptable is None:
                continue
            total += 1
            routed = route(
                p.item.text,
                intent=p.intent,
                confidence=p.confidence,
                session=session,
                settings=settings,
            )
            # "none": nothing in the knowledge base answers it (a decline, a greeting...)
            chosen = (
                not routed.entries
                if acceptable == ["none"]
                else bool(set(routed.entries) & set(acceptable))
            )
            end_to_end += chosen
            if p.correct:
                labelled += 1
                right += chosen
    return EntryChoice(labelled, right, end_to_end, total)
