"""The amnesty rules as data: the law's floors and lists, and what each round adds.

``rules/law.yml`` holds the Luật Đặc xá 2018; each round's rules are part of its calendar entry
(``knowledge/kb/rounds.yml``, then the database), so the answers and the check share one source.
Every value carries its source and whether it is verified.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import yaml

from vietnamese.text import fold

RULES_DIR = Path(__file__).resolve().parent / "rules"
LAW_ROUND = "law"  # the law alone: its floors, no round figures

Group = Literal["ordinary", "serious", "priority", "juvenile"]
GROUPS: tuple[Group, ...] = get_args(Group)


class RulesError(ValueError):
    """A rules file is invalid; the message names the file and the value."""


# --- Rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sourced:
    """A value of the rules, where it comes from, and whether a primary text confirms it."""

    value: Any
    source: str
    verified: bool


UNKNOWN = Sourced(None, "Không theo đợt nào: chỉ mức sàn của Luật", False)


@dataclass(frozen=True)
class Threshold:
    """Minimum time served: ``share`` of a fixed term (Fraction), ``life_years`` (int)."""

    share: Sourced
    life_years: Sourced


@dataclass(frozen=True)
class Item:
    """One case listed by the law: a priority group (Điều 11.3) or an exclusion (Điều 12)."""

    key: str
    point: str
    text: str
    source: str
    crimes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Law:
    floors: Mapping[str, Threshold]
    serious_any: frozenset[str]
    persons_chapter: tuple[int, int]
    persons_min_years: int
    negligent: frozenset[str]
    property_drugs: frozenset[str]
    property_min_years: int
    corruption: frozenset[str]
    priority_groups: Mapping[str, Item]
    exclusions: Mapping[str, Item]
    kinds: Mapping[str, Mapping[str, Any]]
    crimes: Mapping[str, str]
    aliases: tuple[tuple[str, str], ...]  # (folded words, article), longest first
    counting: tuple[Sourced, ...]
    prior_limit: int  # this many prior convictions exclude (Điều 12 khoản 5)
    reference_exclusions: Item  # added by recent rounds' decisions (Điều 12 khoản 6), press


@dataclass(frozen=True)
class RoundRules:
    """The law's floors and lists, with what one round adds (unknown values are None)."""

    round_id: str
    name: str
    law: Law
    decision: Sourced
    cutoff: Sourced
    time: Mapping[str, Threshold]
    full_civil_crimes: Sourced
    extra_exclusions: Sourced
    extra_exclusion_count: int | None
    rating: Sourced
    # The level recent rounds used for each group, shown as a reference when this round's own
    # figure is unknown: (the threshold, the round's name).
    references: Mapping[str, tuple[Threshold, str]] = MappingProxyType({})


def _sourced(where: str, raw: Any, convert: Any = None) -> Sourced:
    if not isinstance(raw, Mapping) or not {"value", "source", "verified"} <= raw.keys():
        raise RulesError(f"{where}: needs 'value', 'source' and 'verified': {raw!r}")
    if not isinstance(raw["verified"], bool) or not str(raw["source"]).strip():
        raise RulesError(f"{where}: 'verified' must be true/false and 'source' non-empty")
    value = raw["value"]
    if value is None and raw["verified"] and not where.startswith("law"):
        raise RulesError(f"{where}: an unknown (null) round value cannot be verified")
    if value is not None and convert is not None:
        try:
            value = convert(value)
        except (TypeError, ValueError) as e:
            raise RulesError(f"{where}: bad value {value!r}: {e}") from e
    return Sourced(value, str(raw["source"]), raw["verified"])


def _threshold(where: str, raw: Any) -> Threshold:
    if not isinstance(raw, Mapping):
        raise RulesError(f"{where}: needs 'share' and 'life_years'")
    return Threshold(
        _sourced(f"{where}.share", raw.get("share"), Fraction),
        _sourced(f"{where}.life_years", raw.get("life_years"), int),
    )


def _items(where: str, raw: Iterable[Mapping[str, Any]]) -> Mapping[str, Item]:
    items = {}
    for e in raw:
        _sourced(f"{where}.{e.get('key')}", {"value": e.get("text"), **e})
        crimes = frozenset(str(c) for c in e.get("crimes", ()))
        items[e["key"]] = Item(e["key"], str(e["point"]), e["text"], e["source"], crimes)
    return MappingProxyType(items)


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise RulesError(f"{path.name}: no such rules file")
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    if not isinstance(data, dict):
        raise RulesError(f"{path.name}: must be a mapping")
    return data


def folded_words(text: str) -> str:
    return " ".join(re.findall(r"\w+", fold(text)))


@cache
def load_law() -> Law:
    """Read ``rules/law.yml``."""
    raw = _read(RULES_DIR / "law.yml")
    group = raw["serious_group"]
    persons = _sourced("law.persons_chapter", group["persons_chapter"]).value
    prop = _sourced("law.property_and_drugs", group["property_and_drugs"]).value
    crimes = raw["crimes"]
    aliases = {(folded_words(a), str(code)) for code, c in crimes.items() for a in c["aliases"]}
    return Law(
        floors=MappingProxyType(
            {g: _threshold(f"law.time_floors.{g}", raw["time_floors"][g]) for g in GROUPS}
        ),
        serious_any=frozenset(_sourced("law.any_sentence", group["any_sentence"]).value),
        persons_chapter=(int(persons["first"]), int(persons["last"])),
        persons_min_years=int(persons["min_years"]),
        negligent=frozenset(persons["negligent"]),
        property_drugs=frozenset(prop["articles"]),
        property_min_years=int(prop["min_years"]),
        corruption=frozenset(_sourced("law.corruption", raw["corruption_crimes"]).value),
        priority_groups=_items("law.priority_groups", raw["priority_groups"]),
        exclusions=_items("law.exclusions", raw["exclusions"]),
        kinds=MappingProxyType({k: MappingProxyType(v) for k, v in raw["sentence_kinds"].items()}),
        crimes=MappingProxyType({str(k): v["name"] for k, v in crimes.items()}),
        aliases=tuple(sorted(aliases, key=lambda a: (-len(a[0]), a))),
        counting=tuple(_sourced(f"law.{k}", v) for k, v in raw["time_counting"].items()),
        prior_limit=next(int(e["min_count"]) for e in raw["exclusions"] if "min_count" in e),
        reference_exclusions=_items("law.reference", [raw["reference_exclusions"]])[
            "reference_exclusions"
        ],
    )


ROUNDS_FILE = Path(__file__).resolve().parents[1] / "kb" / "rounds.yml"


def law_only(law: Law) -> RoundRules:
    """The law alone: its floors, no round figures (no round named, none open)."""
    return RoundRules(
        round_id=LAW_ROUND,
        name="Luật Đặc xá 2018 (không theo đợt cụ thể)",
        law=law,
        decision=UNKNOWN,
        cutoff=UNKNOWN,
        time=MappingProxyType(dict.fromkeys(GROUPS, Threshold(UNKNOWN, UNKNOWN))),
        full_civil_crimes=UNKNOWN,
        extra_exclusions=UNKNOWN,
        extra_exclusion_count=None,
        rating=UNKNOWN,
    )


def _calendar_value(where: str, raw: Any, convert: Any = None) -> Sourced:
    """A calendar field ({value, source, kind}) as a rules value; never verified, since no
    round decision was read in full (kind press or listing)."""
    if not isinstance(raw, Mapping):
        raise RulesError(f"{where}: needs 'value' and 'source'")
    value = raw.get("value")
    return _sourced(
        where, {"value": value, "source": raw.get("source") or "—", "verified": False}, convert
    )


def rules_of_round(
    round_id: str, name: str, calendar: Mapping[str, Any], rules: Mapping[str, Any]
) -> RoundRules:
    """The rules of one round from its calendar facts (decision, cut-off) and its ``rules``
    mapping (time per group, crimes needing full payment, added exclusions, rating), as stored
    in ``rounds.yml`` and in the database."""
    w = f"round {round_id}"
    try:
        return RoundRules(
            round_id=round_id,
            name=name,
            law=load_law(),
            decision=_calendar_value(f"{w}.decision", calendar.get("decision")),
            cutoff=_calendar_value(f"{w}.cutoff", calendar.get("cutoff"), _as_date),
            time=MappingProxyType(
                {g: _threshold(f"{w}.time.{g}", rules["time"][g]) for g in GROUPS}
            ),
            full_civil_crimes=_sourced(
                f"{w}.full_civil_crimes", rules["full_civil_crimes"], frozenset
            ),
            extra_exclusions=_sourced(f"{w}.extra_exclusions", rules["extra_exclusions"]),
            extra_exclusion_count=rules["extra_exclusions"].get("count"),
            rating=_sourced(f"{w}.rating", rules["rating"]),
        )
    except (KeyError, TypeError) as e:
        raise RulesError(f"{w}: rules incomplete ({e})") from None


def reference_levels(rounds: Iterable[RoundRules]) -> Mapping[str, tuple[Threshold, str]]:
    """For each group, the time the latest round with a known figure required."""
    levels: dict[str, tuple[Threshold, str]] = {}
    for rules in rounds:
        for group in GROUPS:
            threshold = rules.time[group]
            if threshold.share.value is not None or threshold.life_years.value is not None:
                levels[group] = (threshold, rules.name)
    return MappingProxyType(levels)


def with_references(rules: RoundRules, rounds: Iterable[RoundRules]) -> RoundRules:
    """``rules`` that also know the levels of the rounds before it."""
    return replace(rules, references=reference_levels(rounds))


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@cache
def _default_rounds() -> Mapping[str, Mapping[str, Any]]:
    raw = _read(ROUNDS_FILE)
    return MappingProxyType({str(r["id"]): r for r in raw.get("rounds") or []})


def available_rounds() -> tuple[str, ...]:
    """The ids of the rounds in the reviewable default calendar (``knowledge/kb/rounds.yml``)."""
    return tuple(_default_rounds())


@cache
def load_round(round_id: str) -> RoundRules:
    """The rules of ``round_id`` as the reviewable default calendar gives them (the assistant
    itself reads the database, where staff may have updated them), or the law alone."""
    rounds = _default_rounds()
    if round_id != LAW_ROUND and round_id not in rounds:
        raise RulesError(f"unknown round {round_id!r}; rounds: {', '.join(rounds)}")
    every = [rules_of_round(i, str(r["name"]), r, r.get("rules") or {}) for i, r in rounds.items()]
    if round_id == LAW_ROUND:
        return with_references(law_only(load_law()), every)
    before = every[: list(rounds).index(round_id)]
    return with_references(every[len(before)], before)
