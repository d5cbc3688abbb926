"""Import and export of the FAQ entries: YAML like the files in knowledge/kb/content, and an
Excel workbook. An import is all or nothing; every entry it changes gets a version."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

import yaml
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.kb.faq import KEY_RE, STATUSES, create_entry, known_laws, snapshot, update_entry
from knowledge.kb.faq_form import FaqError, citations_text, parse_entry
from knowledge.models import Entry
from knowledge.staff import audit

# --- Import and export (YAML like knowledge/kb/content/*.yml, and an Excel workbook) -----------

COLUMNS: tuple[str, ...]
COLUMNS = ("key", "topic", "measure", "facet", "title", "round", "minors", "verified", "checked")
COLUMNS += ("status", "laws", "questions", "lead", "answer", "citations")
MAX_IMPORT_ROWS = 5000
_TRUE = {"true", "1", "có", "co", "yes", "x", "đúng"}
_FALSE = {"false", "0", "không", "khong", "no", "", "sai", "none"}


class ImportFailed(ValueError):
    """Nothing was imported; ``errors`` lists what is wrong, one line per bad row."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _bool_text(value: Any, column: str) -> str:
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return "on"
    if text in _FALSE:
        return ""
    raise ValueError(f"cột {column} phải là có/không, không phải {value!r}")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(
            f"cột checked phải là ngày dạng 2026-11-29, không phải {value!r}"
        ) from None


def _lines(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def _row(
    raw: Mapping[str, Any], max_chars: int, laws: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """The key and entry fields of one imported row; ValueError or FaqError if it is bad."""
    key = str(raw.get("key") or "").strip()
    if not KEY_RE.match(key):
        raise ValueError("mã (key) gồm 3–100 chữ thường không dấu, số hoặc dấu gạch dưới")
    citations = raw.get("citations")
    if isinstance(citations, list):
        citations = citations_text([c if isinstance(c, dict) else {} for c in citations])
    form = {
        "topic": str(raw.get("topic") or ""),
        "measure": str(raw.get("measure") or ""),
        "facet": str(raw.get("facet") or ""),
        "title": str(raw.get("title") or ""),
        "round": str(raw.get("round") or ""),
        "minors": _bool_text(raw.get("minors"), "minors"),
        "verified": _bool_text(raw.get("verified"), "verified"),
        "laws": _lines(raw.get("laws")),
        "questions": _lines(raw.get("questions")),
        "lead": str(raw.get("lead") or ""),
        "answer": str(raw.get("answer") or ""),
        "citations": _lines(citations),
    }
    fields = parse_entry(form, max_chars=max_chars, laws=laws)
    fields["checked"] = _date(raw.get("checked"))
    status = str(raw.get("status") or "published").strip()
    if status not in STATUSES:
        raise ValueError(f"trạng thái {status!r} không có; dùng {', '.join(STATUSES)}")
    fields["status"] = status
    return key, fields


def _rows_to_fields(
    rows: list[tuple[str, Mapping[str, Any]]], max_chars: int, laws: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    errors: list[str] = []
    parsed: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    if len(rows) > MAX_IMPORT_ROWS:
        raise ImportFailed([f"Tệp có {len(rows)} mục, quá {MAX_IMPORT_ROWS} mục một lần."])
    for where, raw in rows:
        try:
            key, fields = _row(raw, max_chars, laws)
            if key in seen:
                raise ValueError(f"mã {key!r} xuất hiện hai lần")
        except FaqError as exc:
            errors.append(f"{where} ({raw.get('key') or '?'}): {'; '.join(exc.errors.values())}")
            continue
        except ValueError as exc:
            errors.append(f"{where} ({raw.get('key') or '?'}): {exc}")
            continue
        seen.add(key)
        parsed.append((key, fields))
    if errors:
        raise ImportFailed(errors)
    return parsed


def import_rows(
    session: Session, rows: list[tuple[str, Mapping[str, Any]]], *, actor: str, max_chars: int
) -> dict[str, int]:
    """Add or update entries from rows; all or nothing (ImportFailed lists every bad row).

    Unchanged entries get no new version. The caller commits (or rolls back on error).
    """
    if not rows:
        raise ImportFailed(["Tệp không có mục nào."])
    parsed = _rows_to_fields(rows, max_chars, known_laws(session))
    existing = {e.key: e for e in session.scalars(select(Entry))}
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    for key, fields in parsed:
        entry = existing.get(key)
        if entry is None:
            create_entry(session, key, fields, actor=actor)
            counts["added"] += 1
        elif snapshot(entry) == {**snapshot(entry), **_as_snapshot(fields)}:
            counts["unchanged"] += 1
        else:
            update_entry(session, entry, fields, actor=actor)
            counts["updated"] += 1
    audit(session, actor, "faq_imported", "", counts)
    return counts


def _as_snapshot(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()}


def export_rows(session: Session) -> list[dict[str, Any]]:
    """Every entry as a plain mapping (the YAML content format, plus the status)."""
    stmt = select(Entry).order_by(Entry.topic, Entry.position, Entry.id)
    rows = []
    for entry in session.scalars(stmt):
        row = snapshot(entry)
        row["checked"] = entry.checked
        rows.append({name: row[name] for name in COLUMNS})
    return rows


def export_yaml(session: Session) -> str:
    return yaml.safe_dump(
        {"entries": export_rows(session)}, allow_unicode=True, sort_keys=False, width=100
    )


def read_yaml(data: bytes) -> list[tuple[str, Mapping[str, Any]]]:
    """The rows of a YAML file with an ``entries:`` list; ImportFailed if it cannot be read."""
    try:
        loaded = yaml.load(data.decode("utf-8"), Loader=yaml.CSafeLoader)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ImportFailed([f"Không đọc được tệp YAML: {exc}"]) from None
    entries = loaded.get("entries") if isinstance(loaded, dict) else None
    if not isinstance(entries, list):
        raise ImportFailed(
            ["Tệp YAML cần có danh sách 'entries:' như các tệp knowledge/kb/content."]
        )
    rows: list[tuple[str, Mapping[str, Any]]] = []
    for i, raw in enumerate(entries, start=1):
        if not isinstance(raw, dict):
            raise ImportFailed([f"Mục {i}: mỗi mục phải là một bảng khóa–giá trị."])
        rows.append((f"Mục {i}", raw))
    return rows


def export_xlsx(session: Session) -> bytes:
    """The entries as an Excel workbook: one row an entry, lists one item a line."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "entries"
    sheet.append(list(COLUMNS))
    for row in export_rows(session):
        row["verified"] = "có" if row["verified"] else "không"
        row["minors"] = "có" if row["minors"] else "không"
        row["laws"] = "\n".join(row["laws"])
        row["questions"] = "\n".join(row["questions"])
        row["citations"] = citations_text(row["citations"])
        sheet.append([row[name] for name in COLUMNS])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if cell.data_type == "f":  # text that starts with "=" stays text, never a formula
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_xlsx(data: bytes) -> list[tuple[str, Mapping[str, Any]]]:
    """The rows of the first sheet; ImportFailed if it cannot be read or a column is missing."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportFailed(
            [f"Không đọc được tệp Excel (.xlsx): {exc.__class__.__name__}"]
        ) from None
    sheet = book.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(lines, ())]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ImportFailed([f"Trang tính thiếu cột: {', '.join(missing)} (dòng 1 là tên cột)."])
    rows: list[tuple[str, Mapping[str, Any]]] = []
    for n, values in enumerate(lines, start=2):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        rows.append((f"Dòng {n}", dict(zip(header, values, strict=False))))
    book.close()
    return rows
