"""The calendar of rounds in the staff app: an edit reaches the answers' "now" and the
eligibility rules at once; validation, roles, CSRF, lost updates, reloading the YAML."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import httpx2
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.gateway import create_app
from knowledge.db import session_factory
from knowledge.kb.calendar_edit import round_form
from knowledge.kb.loader import read_entries, read_laws, read_rounds, sync
from knowledge.kb.rounds import calendar, now_line, rules_for
from knowledge.models import Round
from knowledge.staff import recent_audit
from settings import Settings, from_env
from tests.unit.test_staff_app import add_account, csrf_of, login

ROUND = "2025-2"
TODAY = dt.date(2025, 8, 1)  # after the decision of ROUND, before its release (rounds.yml)


@pytest.fixture
def settings(loaded: sessionmaker[Session], db_url: str, tmp_path: Path) -> Settings:
    env = {"AMNESTY_VAR_DIR": str(tmp_path / "var"), "AMNESTY_DATABASE_URL": db_url}
    return from_env(env | {"AMNESTY_TODAY": TODAY.isoformat()})


@pytest.fixture
def editor(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    for name, role in (("bientap", "editor"), ("xuly", "reviewer"), ("quantri", "admin")):
        add_account(settings, name, role)
    client = TestClient(app)
    assert login(client, "bientap").status_code == 303
    yield client


def stored(settings: Settings, round_id: str = ROUND) -> Round:
    with session_factory(settings.database_url)() as db:
        row = db.get(Round, round_id)
        assert row is not None
        return row


def post_round(
    client: TestClient, settings: Settings, round_id: str = ROUND, **changes: str
) -> httpx2.Response:
    """Submit the round's form as its page shows it, with ``changes``."""
    page = client.get(f"/staff/calendar/{round_id}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    base = re.search(r'name="base" value="([^"]+)"', page)
    assert token and base, "the page has no edit form"
    data = round_form(stored(settings, round_id)) | {"csrf": token.group(1)}
    return client.post(f"/staff/calendar/{round_id}", data=data | changes)


def facts(settings: Settings) -> tuple[str, Fraction | None]:
    with session_factory(settings.database_url)() as db:
        rounds = calendar(db)
        share = rules_for(rounds, ROUND).time["ordinary"].share.value
        return now_line(rounds, TODAY), share


def test_an_edit_reaches_the_answers_and_the_eligibility_check(
    editor: TestClient, settings: Settings
) -> None:
    now, share = facts(settings)
    assert now.startswith("Đến nay (01/08/2025) chưa có thông tin") and share is None
    listed = editor.get("/staff/calendar")
    assert listed.status_code == 200 and "Đặc xá năm 2025 (đợt 2" in listed.text
    assert now in html.unescape(listed.text)
    saved = post_round(
        editor,
        settings,
        status="considering",
        share_ordinary="1/2",
        share_source_ordinary="Nguồn kiểm thử (không phải số liệu thật)",
    )
    assert saved.status_code == 200 and "Đã lưu" in saved.text
    now, share = facts(settings)
    assert now.startswith("Hiện nay (01/08/2025) đang xét Đặc xá năm 2025 (đợt 2")
    assert "Quyết định số 1244/2025/QĐ-CTN" in now and "31/08/2025" in now
    assert share == Fraction(1, 2)
    assert "đang xét Đặc xá năm 2025 (đợt 2" in saved.text  # the page shows the new "now"
    row = stored(settings)
    assert row.edited_by == "bientap" and row.status == "considering"
    assert row.rules["time"]["ordinary"]["share"]["verified"] is False
    with session_factory(settings.database_url)() as db:
        entry = recent_audit(db)[0]
    assert (entry.actor, entry.action, entry.target) == ("bientap", "round_saved", ROUND)
    assert entry.detail["before"]["status"] == "completed"
    assert entry.detail["after"]["status"] == "considering"


def test_reloading_the_yaml_keeps_the_staff_edit(
    editor: TestClient, settings: Settings, loaded: sessionmaker[Session]
) -> None:
    assert post_round(editor, settings, status="considering").status_code == 200
    rounds = read_rounds()
    for r in rounds:
        if r["id"] == ROUND:
            r["note"] += " (YAML đổi)"
    with loaded.begin() as db:
        report = sync(db, read_entries(), rounds, read_laws())
    assert ROUND in report.kept_staff_edits
    assert stored(settings).status == "considering"


def test_dates_and_results_are_saved(editor: TestClient, settings: Settings) -> None:
    response = post_round(
        editor,
        settings,
        round_id="2026",
        decision_date="",
        cutoff_date="",
        results_people="",
        results_value="",
        occasion="Dịp kiểm thử",
        note="Ghi chú kiểm thử.",
    )
    assert response.status_code == 200
    row = stored(settings, "2026")
    assert (row.occasion, row.note, row.cutoff_date) == ("Dịp kiểm thử", "Ghi chú kiểm thử.", None)
    before = stored(settings, "2024")
    response = post_round(
        editor, settings, round_id="2024", cutoff_date="30/09/2024", results_people="3.765"
    )
    assert response.status_code == 200
    after = stored(settings, "2024")
    assert after.cutoff_date == before.cutoff_date == dt.date(2024, 9, 30)
    assert after.cutoff == "30/9/2024" and after.results["people"] == 3765
    assert after.citations == before.citations  # made from the facts as the loader does


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"decision_date": "32/13/2025"}, "không phải một ngày"),
        ({"cutoff_date": "2025-06-01"}, "không thể trước ngày quyết định"),
        ({"share_ordinary": "3/2"}, "phân số nhỏ hơn 1"),
        ({"share_priority": "một phần ba"}, "phân số nhỏ hơn 1"),
        ({"years_ordinary": "40"}, "số nguyên từ 1 đến 30"),
        ({"years_source_serious": ""}, "cần ghi nguồn"),
        ({"share_verified_juvenile": "on"}, "chưa biết thì không đánh dấu"),
        ({"kind_decision": "bogus"}, "loại nguồn 'bogus' không có"),
        ({"source_guidance": ""}, "cần ghi nguồn"),
        ({"kind_cutoff": "none"}, "cần ghi nguồn"),
        ({"results_people": "nhiều"}, "số nguyên"),
        ({"status": "considering", "decision": ""}, "Đợt đang xét cần ghi quyết định"),
        ({"status": "open"}, "tình trạng"),
    ],
)
def test_bad_input_says_what_to_fix_and_changes_nothing(
    editor: TestClient, settings: Settings, changes: dict[str, str], message: str
) -> None:
    before = round_form(stored(settings))
    response = post_round(editor, settings, **changes)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert "chưa có gì thay đổi" in response.text
    assert round_form(stored(settings)) == before
    assert stored(settings).edited_by is None


def test_a_stale_form_is_refused(editor: TestClient, settings: Settings) -> None:
    data = round_form(stored(settings)) | {"csrf": csrf_of(editor, f"/staff/calendar/{ROUND}")}
    assert post_round(editor, settings, note="Người khác sửa trước.").status_code == 200
    response = editor.post(f"/staff/calendar/{ROUND}", data=data | {"note": "Bản cũ."})
    assert response.status_code == 400 and "người khác" in response.text
    assert stored(settings).note == "Người khác sửa trước."


def test_reviewer_reads_but_cannot_edit_and_admin_can(
    editor: TestClient, settings: Settings
) -> None:
    reviewer = TestClient(editor.app)
    login(reviewer, "xuly")
    assert "Lịch các đợt đặc xá" in reviewer.get("/staff/").text
    assert reviewer.get("/staff/calendar").status_code == 200
    page = reviewer.get(f"/staff/calendar/{ROUND}")
    assert page.status_code == 200 and "Quyết định số 1244/2025/QĐ-CTN" in page.text
    assert 'name="status"' not in page.text and "Chỉ biên tập viên và quản trị viên" in page.text
    token = csrf_of(reviewer, "/staff/calendar")
    data = round_form(stored(settings)) | {"csrf": token, "status": "considering"}
    assert reviewer.post(f"/staff/calendar/{ROUND}", data=data).status_code == 403
    assert stored(settings).status == "completed"
    admin = TestClient(editor.app)
    login(admin, "quantri")
    assert post_round(admin, settings, status="considering").status_code == 200
    assert stored(settings).edited_by == "quantri"


def test_a_forged_csrf_post_changes_nothing(editor: TestClient, settings: Settings) -> None:
    data = round_form(stored(settings)) | {"csrf": "forged", "status": "considering"}
    response = editor.post(f"/staff/calendar/{ROUND}", data=data)
    assert response.status_code == 403
    missing = editor.post(f"/staff/calendar/{ROUND}", data=round_form(stored(settings)))
    assert missing.status_code == 403
    assert stored(settings).status == "completed" and stored(settings).edited_by is None
    with session_factory(settings.database_url)() as db:
        assert recent_audit(db)[0].action == "csrf_rejected"


def test_unknown_round_is_404(editor: TestClient) -> None:
    assert editor.get("/staff/calendar/1999").status_code == 404
    token = csrf_of(editor, "/staff/calendar")
    assert editor.post("/staff/calendar/1999", data={"csrf": token}).status_code == 404
