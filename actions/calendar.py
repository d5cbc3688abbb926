"""The rounds the step-by-step check uses: the calendar as the database holds it (staff keep it
current) and the day the check is made."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from actions.router import today_of
from knowledge.db import session_factory
from knowledge.eligibility.round_rules import RoundRules
from knowledge.kb.rounds import RoundFacts, considering, rules_for
from knowledge.kb.rounds import calendar as round_calendar
from settings import get_settings


@dataclass(frozen=True)
class Calendar:
    """The rounds as the database holds them, and the day the check is made."""

    rounds: list[RoundFacts]
    today: dt.date

    @classmethod
    def now(cls) -> Calendar:
        settings = get_settings()
        with session_factory(settings.database_url)() as session:
            return cls(round_calendar(session), today_of(settings))

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.rounds]

    @property
    def open_round(self) -> str | None:
        current = considering(self.rounds, self.today)
        return current.id if current else None

    def rules(self, named: str | None) -> RoundRules:
        """The round the family named, else the one being considered, else the law alone."""
        return rules_for(self.rounds, named if named in self.ids else self.open_round)
