"""Import and export of the FAQ: round trips, all-or-nothing imports with per-row errors."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.gateway import create_app
from knowledge.db import create_schema, make_engine, session_factory
from knowledge.kb.faq import snapshot, versions
from knowledge.kb.faq_transfer import (
    COLUMNS,
    ImportFailed,
    export_rows,
    export_xlsx,
    export_yaml,
    import_rows,
    read_xlsx,
    read_yaml,
)
from knowledge.kb.loader import read_entries, read_laws, sync_laws
from knowledge.kb.queries import entry_by_key
from knowledge.models import Entry, EntryVersion
from knowledge.staff import recent_audit
from settings import from_env
from tests.databases import database_url
from tests.unit.test_staff_app import add_account, csrf_of, login


@pytest.fixture
def empty(db_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A second, empty database of the same kind as ``db_url``."""
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    (tmp_path / "second").mkdir()
    with database_url(kind, tmp_path / "second") as url:
        engine = make_engine(url)
        create_schema(engine)
        maker = sessionmaker(engine, expire_on_commit=False)
        with maker.begin() as db:  # the table of laws comes with the program (laws.yml)
            sync_laws(db, read_laws())
        yield maker
        engine.dispose()


def contents(maker: sessionmaker[Session]) -> dict[str, dict]:
    with maker() as db:
        return {e.key: snapshot(e) for e in db.scalars(select(Entry))}


def count(maker: sessionmaker[Session], model: type) -> int:
    with maker() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_yaml_to_db_to_xlsx_to_db_gives_the_same_content(
    loaded: sessionmaker[Session],
    empty: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.perf_counter()
    with loaded() as db:
        workbook = export_xlsx(db)
    exported = time.perf_counter() - started
    started = time.perf_counter()
    with empty.begin() as db:
        counts = import_rows(db, read_xlsx(workbook), actor="lan", max_chars=2000)
    imported = time.perf_counter() - started
    assert counts == {"added": len(contents(loaded)), "updated": 0, "unchanged": 0}
    assert contents(empty) == contents(loaded)
    copied = contents(empty)["conditions_general"]
    assert (copied["measure"], copied["facet"], copied["laws"][0]) == (
        "amnesty",
        "conditions",
        "luat-dac-xa-2018",
    )
    assert {c["kind"] for e in contents(empty).values() for c in e["citations"]} == {
        "text",
        "copy",
        "press",
        "secondary",
        "listing",
    }
    with capsys.disabled():
        print(
            f"\n[measure] {counts['added']} entries: XLSX export {exported:.2f} s, "
            f"import {imported:.2f} s"
        )


def test_yaml_export_round_trips_and_reads_as_content(
    loaded: sessionmaker[Session], empty: sessionmaker[Session], tmp_path: Path
) -> None:
    with loaded() as db:
        text = export_yaml(db)
    with empty.begin() as db:
        import_rows(db, read_yaml(text.encode()), actor="lan", max_chars=2000)
    assert contents(empty) == contents(loaded)
    with empty() as db:
        assert export_yaml(db) == text
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "export.yml").write_text(text, encoding="utf-8")
    assert {e["key"] for e in read_entries(tmp_path / "content")} == set(contents(loaded))


def test_reimport_changes_only_what_changed(loaded: sessionmaker[Session]) -> None:
    with loaded() as db:
        rows = export_rows(db)
    rows[0]["answer"] = "Câu trả lời đã sửa trong tệp."
    rows[1]["status"] = "retired"
    with loaded.begin() as db:
        counts = import_rows(
            db, [(f"Mục {i}", r) for i, r in enumerate(rows)], actor="lan", max_chars=2000
        )
    assert counts == {"added": 0, "updated": 2, "unchanged": len(rows) - 2}
    with loaded() as db:
        first = entry_by_key(db, rows[0]["key"])
        assert first is not None and first.answer == "Câu trả lời đã sửa trong tệp."
        assert first.edited_by == "lan" and len(versions(db, first)) == 2
        second = entry_by_key(db, rows[1]["key"])
        assert second is not None and second.status == "retired"
        assert recent_audit(db)[0].action == "faq_imported"
    assert count(loaded, EntryVersion) == 4


def _yaml_with(*entries: dict) -> bytes:
    return yaml.safe_dump({"entries": list(entries)}, allow_unicode=True).encode()


def test_bad_rows_are_all_listed_and_nothing_changes(loaded: sessionmaker[Session]) -> None:
    with loaded() as db:
        good, wrong_topic, too_long = export_rows(db)[:3]
    before = contents(loaded)
    new = dict(good, key="brand_new_entry")
    wrong_topic = dict(wrong_topic, topic="ask_weather")
    too_long = dict(too_long, answer="a" * 2001)
    data = _yaml_with(new, wrong_topic, too_long, dict(good, checked="hôm qua"))
    with loaded() as db, pytest.raises(ImportFailed) as caught:
        import_rows(db, read_yaml(data), actor="lan", max_chars=2000)
    errors = caught.value.errors
    assert len(errors) == 3
    assert errors[0].startswith(f"Mục 2 ({wrong_topic['key']}): Chủ đề 'ask_weather'")
    assert errors[1].startswith(f"Mục 3 ({too_long['key']}): Câu trả lời dài 2001")
    assert "checked" in errors[2]
    assert contents(loaded) == before
    assert count(loaded, EntryVersion) == 0


def test_rows_break_no_rule_of_the_loader(loaded: sessionmaker[Session]) -> None:
    with loaded() as db:
        rows = export_rows(db)[:5]
    press = {"document": "Luật X", "article": "Điều 1", "kind": "press", "outlet": "Báo Y"}
    bad = [
        dict(rows[0], citations=[press], verified=False),
        dict(rows[1], laws=["luat-khong-co"]),
        dict(rows[2], measure="weather"),
        dict(rows[3], citations=[dict(press, article=None)], verified=True),
        dict(rows[4], minors="có lẽ"),
    ]
    with loaded() as db, pytest.raises(ImportFailed) as caught:
        import_rows(db, read_yaml(_yaml_with(*bad)), actor="lan", max_chars=2000)
    first, law, measure, verified, minors = caught.value.errors
    assert "chỉ ghi điều, khoản khi đã đọc chính văn bản" in first
    assert "luat-khong-co" in law and "Biện pháp 'weather'" in measure
    assert "mọi nguồn là loại text hoặc copy" in verified
    assert "cột minors phải là có/không" in minors


def test_duplicate_key_in_a_file_is_refused(loaded: sessionmaker[Session]) -> None:
    with loaded() as db:
        row = export_rows(db)[0]
        with pytest.raises(ImportFailed, match="hai lần"):
            import_rows(db, read_yaml(_yaml_with(row, row)), actor="lan", max_chars=2000)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"entries: [unclosed", "Không đọc được tệp YAML"),
        (b"rounds: []", "entries:"),
        (b"entries: []", "không có mục nào"),
        (b"entries: [1, 2]", "Mục 1"),
    ],
)
def test_unreadable_yaml_says_why(data: bytes, message: str) -> None:
    with pytest.raises(ImportFailed, match=message):
        rows = read_yaml(data)
        import_rows(None, rows, actor="lan", max_chars=2000)  # type: ignore[arg-type]


def test_workbook_with_a_missing_column_is_refused(loaded: sessionmaker[Session]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([c for c in COLUMNS if c != "answer"])
    sheet.append(["k_abc", "ask_fees", "amnesty", "money", "t", "law", "không", "có"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportFailed, match="thiếu cột: answer"):
        read_xlsx(out.getvalue())
    with pytest.raises(ImportFailed, match="Không đọc được tệp Excel"):
        read_xlsx(b"PK\x03\x04 not really a workbook")


def test_text_that_looks_like_a_formula_stays_text(
    loaded: sessionmaker[Session], empty: sessionmaker[Session]
) -> None:
    with loaded() as db:
        row = export_rows(db)[0]
    row["answer"] = '=HYPERLINK("http://example.invalid","bấm vào đây")'
    with empty.begin() as db:
        import_rows(db, [("Mục 1", row)], actor="lan", max_chars=2000)
    with empty() as db:
        workbook = export_xlsx(db)
    sheet = load_workbook(io.BytesIO(workbook)).active
    assert sheet is not None
    cell = sheet.cell(row=2, column=COLUMNS.index("answer") + 1)
    assert cell.data_type == "s" and cell.value == row["answer"]
    assert read_xlsx(workbook)[0][1]["answer"] == row["answer"]


@pytest.fixture
def editor(loaded: sessionmaker[Session], db_url: str, tmp_path: Path) -> TestClient:
    settings = from_env({"AMNESTY_VAR_DIR": str(tmp_path / "var"), "AMNESTY_DATABASE_URL": db_url})
    client = TestClient(create_app(settings))
    add_account(settings, "bientap", "editor")
    add_account(settings, "xuly", "reviewer")
    login(client, "bientap")
    return client


def test_pages_export_and_import(editor: TestClient, db_url: str) -> None:
    download = editor.get("/staff/faq/export.xlsx")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    rows = read_xlsx(download.content)
    assert len(rows) > 50
    token = csrf_of(editor, "/staff/faq/transfer")
    files = {"file": ("hoi-dap.xlsx", download.content)}
    page = editor.post("/staff/faq/import", data={"csrf": token}, files=files)
    assert page.status_code == 200 and f"{len(rows)} mục không đổi" in page.text
    with session_factory(db_url)() as db:
        actions = [e.action for e in recent_audit(db)]
    assert actions[:3] == ["faq_imported", "faq_exported", "login"]


def test_page_import_of_a_bad_file_changes_nothing(editor: TestClient, db_url: str) -> None:
    yml = editor.get("/staff/faq/export.yml").content.decode()
    bad = yml.replace("topic: ask_fees", "topic: ask_weather", 1)
    token = csrf_of(editor, "/staff/faq/transfer")
    page = editor.post(
        "/staff/faq/import", data={"csrf": token}, files={"file": ("x.yml", bad.encode())}
    )
    assert page.status_code == 400
    assert "Chưa nhập gì" in page.text and "ask_weather" in page.text
    forged = editor.post(
        "/staff/faq/import", data={"csrf": "forged"}, files={"file": ("x.yml", yml.encode())}
    )
    assert forged.status_code == 403
    with session_factory(db_url)() as db:
        assert db.scalar(select(func.count()).select_from(EntryVersion)) == 0
        assert "faq_imported" not in [e.action for e in recent_audit(db)]


def test_reviewer_cannot_import_or_export(editor: TestClient) -> None:
    reviewer = TestClient(editor.app)
    login(reviewer, "xuly")
    assert reviewer.get("/staff/faq/export.xlsx").status_code == 403
    assert reviewer.get("/staff/faq/transfer").status_code == 403
