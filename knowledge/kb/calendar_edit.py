"""Staff editing of the calendar of amnesty rounds (``Round`` rows): status, occasion, the
decision, guidance, cut-off and release with their dates, the results, where each fact comes
from (source and kind), and the round's time thresholds per group.

The answers and the eligibility check read these rows, so a saved change reaches them at once.
A saved round gets ``edited_by`` (reloading ``rounds.yml`` never overwrites it) and a line in
the audit log with what changed. The caller passes (and owns, and commits) the session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.eligibility.case import GROUP_NAMES
from knowledge.eligibility.round_rules import GROUPS, RulesError
from knowledge.kb.faq_form import KIND_LABELS
from knowledge.kb.rounds import RoundFacts, rules_of
from knowledge.kb.topics import ROUND_STATUSES, SOURCE_KINDS
from knowledge.models import Round
from knowledge.staff import audit

STATUS_LABELS = {"considering": "Đang xét", "completed": "Đã hoàn tất", "unknown": "Chưa rõ"}
# The facts of the calendar that carry a source, as ``Round.sources`` names them.
FACTS = ("decision", "guidance", "cutoff", "release", "results")
FACT_LABELS = {
    "decision": "Quyết định về đặc xá",
    "guidance": "Hướng dẫn",
    "cutoff": "Mốc tính thời gian đã chấp hành",
    "release": "Quyết định tha và ngày tha",
    "results": "Kết quả",
}
CALENDAR_KINDS = {**KIND_LABELS, "none": "không tìm thấy nguồn"}
GROUP_LABELS = dict(GROUP_NAMES)
EDITED: tuple[str, ...]
EDITED = ("status", "occasion", "decision", "decision_date", "guidance", "cutoff_date")
EDITED += ("release_decision", "release_date", "results", "sources", "rules", "note")
MAX_TEXT = {"occasion": 200, "decision": 300, "guidance": 300, "release_decision": 300}
MAX_NOTE_CHARS = 2000
MAX_LIFE_YEARS = 30
_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_VN_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


class CalendarError(ValueError):
    """The submitted round is not valid; ``errors`` maps each field to what to fix."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def rounds(session: Session) -> list[Round]:
    """Every round of the calendar, oldest first."""
    return list(session.scalars(select(Round).order_by(Round.position, Round.id)))


def fingerprint(row: Round) -> str:
    """Changes whenever an editable field of ``row`` does (guards against lost updates)."""
    values = {name: getattr(row, name) for name in EDITED}
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def round_form(row: Round) -> dict[str, str]:
    """A round as the edit form shows it."""
    sources = row.sources or {}
    results = row.results or {}
    form = {
        "status": row.status,
        "occasion": _text(row.occasion),
        "decision": row.decision,
        "decision_date": _day(row.decision_date),
        "guidance": _text(row.guidance),
        "cutoff_date": _day(row.cutoff_date),
        "release_decision": _text(row.release_decision),
        "release_date": _day(row.release_date),
        "results_people": _text(results.get("people")),
        "results_value": _text(results.get("value")),
        "note": row.note,
        "base": fingerprint(row),
    }
    for fact in FACTS:
        known = results if fact == "results" else sources.get(fact) or {}
        form[f"source_{fact}"] = _text(known.get("source"))
        form[f"kind_{fact}"] = _text(known.get("kind") or "none")
    time = (row.rules or {}).get("time") or {}
    for group in GROUPS:
        for part, name in (("share", "share"), ("years", "life_years")):
            value = (time.get(group) or {}).get(name) or {}
            form[f"{part}_{group}"] = _text(value.get("value"))
            form[f"{part}_source_{group}"] = _text(value.get("source"))
            form[f"{part}_verified_{group}"] = "on" if value.get("verified") else ""
    return form


def _date(errors: dict[str, str], field: str, label: str, raw: str) -> dt.date | None:
    raw = raw.strip()
    if not raw:
        return None
    match = _VN_DATE.match(raw)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[field] = f"{label}: {raw!r} không phải một ngày; ghi dạng 01/09/2025."
        return None


def _share(errors: dict[str, str], field: str, label: str, raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    match = _FRACTION.match(raw)
    if match is None or not 0 < int(match.group(1)) < int(match.group(2)):
        errors[field] = (
            f"{label}: tỉ lệ thời gian đã chấp hành ghi dạng phân số nhỏ hơn 1, như 1/2 hoặc "
            f"1/3, không phải {raw!r}."
        )
        return None
    return f"{int(match.group(1))}/{int(match.group(2))}"


def _years(errors: dict[str, str], field: str, label: str, raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIFE_YEARS:
        errors[field] = (
            f"{label}: số năm đã chấp hành (tù chung thân đã được giảm) là số nguyên từ 1 đến "
            f"{MAX_LIFE_YEARS}, không phải {raw!r}."
        )
        return None
    return int(raw)


def _source(
    errors: dict[str, str], form: Mapping[str, str], fact: str, has_value: bool
) -> dict[str, str]:
    source = form.get(f"source_{fact}", "").strip()
    kind = form.get(f"kind_{fact}", "none").strip() or "none"
    label = FACT_LABELS[fact]
    if kind not in CALENDAR_KINDS:
        errors[f"kind_{fact}"] = f"{label}: loại nguồn {kind!r} không có; hãy chọn trong danh sách."
    elif has_value and (not source or kind == "none"):
        errors[f"source_{fact}"] = (
            f"{label}: đã ghi nội dung thì cần ghi nguồn (báo nào, ngày nào, hoặc văn bản nào) "
            "và chọn loại nguồn."
        )
    return {"source": source, "kind": kind}


def _threshold(
    errors: dict[str, str], form: Mapping[str, str], group: str, old: Mapping[str, Any]
) -> dict[str, Any]:
    label = f"Nhóm {GROUP_LABELS[group]}"
    share = _share(errors, f"share_{group}", label, form.get(f"share_{group}", ""))
    years = _years(errors, f"years_{group}", label, form.get(f"years_{group}", ""))
    parts = {}
    for part, name, value in (("share", "share", share), ("years", "life_years", years)):
        source = " ".join(form.get(f"{part}_source_{group}", "").split())
        verified = form.get(f"{part}_verified_{group}") == "on"
        what = "tỉ lệ" if part == "share" else "số năm (chung thân)"
        if not source:
            errors[f"{part}_source_{group}"] = (
                f"{label}: cần ghi nguồn của {what} (ghi 'Không tìm thấy' nếu chưa biết)."
            )
        if verified and value is None:
            errors[f"{part}_verified_{group}"] = (
                f"{label}: {what} chưa biết thì không đánh dấu là đã kiểm chứng được."
            )
        parts[name] = {**(old.get(name) or {}), "value": value, "source": source}
        parts[name]["verified"] = verified
    return parts


def _citations(
    values: Mapping[str, Any], sources: Mapping[str, Mapping[str, str]]
) -> list[dict[str, str]]:
    """The round's documents as citations, as the loader makes them: no article, since no
    round decision was read in full."""
    citations = []
    for fact, field in (("decision", "decision"), ("guidance", "guidance")):
        citations.append((values[field], sources[fact]["kind"], sources[fact]["source"]))
    release = sources["release"]
    citations.append((values["release_decision"], release["kind"], release["source"]))
    out = []
    for document, kind, source in citations:
        if document and kind in SOURCE_KINDS:
            citation = {"document": str(document), "kind": kind}
            if kind in ("press", "secondary"):
                citation["outlet"] = source
            out.append(citation)
    return out


def parse_round(form: Mapping[str, str], row: Round) -> dict[str, Any]:
    """The new values of ``row``'s calendar fields, or CalendarError saying what to fix."""
    errors: dict[str, str] = {}
    status = form.get("status", "")
    if status not in ROUND_STATUSES:
        errors["status"] = "Hãy chọn tình trạng của đợt: đang xét, đã hoàn tất hoặc chưa rõ."
    texts = {name: " ".join(form.get(name, "").split()) for name in MAX_TEXT}
    for name, limit in MAX_TEXT.items():
        if len(texts[name]) > limit:
            errors[name] = f"Ô này dài {len(texts[name])} ký tự; tối đa {limit} ký tự."
    dates = {
        name: _date(errors, name, label, form.get(name, ""))
        for name, label in (
            ("decision_date", "Ngày quyết định"),
            ("cutoff_date", "Mốc tính thời gian đã chấp hành"),
            ("release_date", "Ngày tha"),
        )
    }
    decided = dates["decision_date"]
    for name, label in (("cutoff_date", "Mốc tính thời gian"), ("release_date", "Ngày tha")):
        day = dates[name]
        if decided and day and day < decided:
            errors[name] = f"{label} không thể trước ngày quyết định ({decided:%d/%m/%Y})."
    if status == "considering" and not texts["decision"]:
        errors["decision"] = "Đợt đang xét cần ghi quyết định về đặc xá (số, ngày)."
    people_raw = form.get("results_people", "").strip().replace(".", "")
    people = int(people_raw) if people_raw.isdigit() else None
    if people_raw and people is None:
        errors["results_people"] = "Số người được đặc xá là một số nguyên, ví dụ 3765."
    result_text = " ".join(form.get("results_value", "").split()) or None
    note = form.get("note", "").replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE_CHARS:
        errors["note"] = f"Ghi chú dài {len(note)} ký tự; tối đa {MAX_NOTE_CHARS} ký tự."
    has = {
        "decision": bool(texts["decision"] or decided),
        "guidance": bool(texts["guidance"]),
        "cutoff": dates["cutoff_date"] is not None,
        "release": bool(texts["release_decision"] or dates["release_date"]),
        "results": people is not None or result_text is not None,
    }
    sources = {fact: _source(errors, form, fact, has[fact]) for fact in FACTS}
    old_rules = dict(row.rules or {})
    old_time = old_rules.get("time") or {}
    time = {g: _threshold(errors, form, g, old_time.get(g) or {}) for g in GROUPS}
    if errors:
        raise CalendarError(errors)
    cutoff = dates["cutoff_date"]
    values: dict[str, Any] = {
        "status": status,
        "occasion": texts["occasion"] or None,
        "decision": texts["decision"],
        "decision_date": decided,
        "guidance": texts["guidance"] or None,
        "cutoff": f"{cutoff.day}/{cutoff.month}/{cutoff.year}" if cutoff else None,
        "cutoff_date": cutoff,
        "release_decision": texts["release_decision"] or None,
        "release_date": dates["release_date"],
        "results": {"people": people, "value": result_text, **sources["results"]},
        "sources": {fact: sources[fact] for fact in FACTS if fact != "results"},
        "rules": old_rules | {"time": time},
        "note": note,
    }
    values["citations"] = _citations(values, values["sources"])
    _check_rules(row, values)
    return values


def _check_rules(row: Round, values: Mapping[str, Any]) -> None:
    """The eligibility check must be able to read the round as saved."""
    draft = Round(id=row.id, name=row.name, **{k: v for k, v in values.items() if k in EDITED})
    try:
        rules_of(RoundFacts.of(draft))
    except (RulesError, ValueError, TypeError) as exc:
        raise CalendarError({"rules": f"Quy tắc của đợt không đọc được: {exc}"}) from None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def save_round(
    session: Session, row: Round, values: Mapping[str, Any], *, actor: str, base: str | None
) -> list[str]:
    """Store ``values`` in ``row`` (edited by ``actor``) and audit it; the fields changed.

    CalendarError if the round changed since the form was opened (``base``).
    """
    if base is not None and base != fingerprint(row):
        raise CalendarError(
            {
                "base": "Trong lúc bạn sửa, đợt này đã được lưu bởi người khác. Hãy mở lại "
                "trang, xem thay đổi của họ rồi sửa lại."
            }
        )
    changed = [name for name in EDITED if getattr(row, name) != values[name]]
    if not changed:
        return []
    before = {name: _plain(getattr(row, name)) for name in changed}
    for name, value in values.items():
        setattr(row, name, value)
    row.edited_by = actor
    after = {name: _plain(values[name]) for name in changed}
    audit(session, actor, "round_saved", row.id, {"before": before, "after": after})
    session.flush()
    return changed
