"""The FAQ pages through Starlette's TestClient: roles, preview, bad input, history, restore."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.gateway import create_app
from knowledge.db import session_factory
from knowledge.kb.faq import versions
from knowledge.kb.faq_form import citations_text
from knowledge.kb.queries import entry_by_key
from knowledge.kb.rounds import calendar, now_line
from knowledge.models import Entry
from knowledge.staff import recent_audit
from settings import Settings, from_env
from tests.unit.test_faq import in_use
from tests.unit.test_staff_app import add_account, csrf_of, login

KEY = "after_release_rights"


TODAY = "2026-12-06"


@pytest.fixture
def faq_settings(loaded: sessionmaker[Session], db_url: str, tmp_path: Path) -> Settings:
    env = {"AMNESTY_VAR_DIR": str(tmp_path / "var"), "AMNESTY_DATABASE_URL": db_url}
    return from_env(env | {"AMNESTY_TODAY": TODAY})


@pytest.fixture
def client(faq_settings: Settings) -> Iterator[TestClient]:
    app = create_app(faq_settings)
    add_account(faq_settings, "bientap", "editor")
    add_account(faq_settings, "xuly", "reviewer")
    client = TestClient(app)
    assert login(client, "bientap").status_code == 303
    yield client


def stored(settings: Settings, key: str = KEY) -> Entry:
    with session_factory(settings.database_url)() as db:
        entry = entry_by_key(db, key)
        assert entry is not None
        return entry


def entry_form(entry: Entry, **changes: str | list[str]) -> dict[str, str | list[str]]:
    data = {
        "topic": entry.topic,
        "measure": entry.measure,
        "facet": entry.facet,
        "title": entry.title,
        "round": entry.round,
        "minors": "on" if entry.minors else "",
        "verified": "on" if entry.verified else "",
        "questions": "\n".join(entry.questions),
        "lead": entry.lead,
        "answer": entry.answer,
        "citations": citations_text(entry.citations),
        "laws": list(entry.laws),
        "action": "save",
    }
    return data | changes


def edit_page(client: TestClient, entry: Entry) -> tuple[str, str]:
    """The CSRF token and base version of the entry's edit form."""
    page = client.get(f"/staff/faq/{entry.id}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    base = re.search(r'name="base" value="(\d+)"', page)
    assert token and base
    return token.group(1), base.group(1)


def post_edit(client: TestClient, entry: Entry, **changes: str | list[str]) -> httpx2.Response:
    token, base = edit_page(client, entry)
    data = entry_form(entry, **changes) | {"csrf": token, "base": base}
    return client.post(f"/staff/faq/{entry.id}", data=data)


def test_list_filters_by_topic_and_recheck(client: TestClient) -> None:
    page = client.get("/staff/faq?topic=ask_fees").text
    assert "fees_" in page and "after_release_" not in page
    assert "Thêm mục mới" in page
    recheck = client.get("/staff/faq?recheck=1").text
    assert "Chỉ mục cần rà soát lại" in recheck and "0 mục." in recheck  # nothing changed since


def test_preview_changes_nothing_and_save_is_live(
    client: TestClient, faq_settings: Settings
) -> None:
    entry = stored(faq_settings)
    new = "Người được đặc xá được đi học, đi làm như mọi người. Liên hệ {department}."
    preview = post_edit(client, entry, answer=new, action="preview")
    assert preview.status_code == 200
    assert "Liên hệ Phòng Cảnh sát thi hành án" in preview.text  # rendered as in the chat
    assert stored(faq_settings).answer == entry.answer
    saved = post_edit(client, entry, answer=new)
    assert saved.status_code == 200 and "Đã lưu" in saved.text
    with session_factory(faq_settings.database_url)() as db:
        used = in_use(db, KEY)
        assert used is not None and used.answer == new and used.edited_by == "bientap"
        assert [v.number for v in versions(db, used)] == [2, 1]
        assert recent_audit(db)[0].action == "entry_saved"


def preview_of(client: TestClient, entry: Entry) -> str:
    page = client.get(f"/staff/faq/{entry.id}").text
    found = re.search(r'<div class="chat" id="preview">(.*?)</div>\s*\n', page, re.S)
    assert found, "the page has no preview"
    return html.unescape(found.group(1))


def test_preview_adds_the_calendar_where_the_chat_does(
    client: TestClient, faq_settings: Settings
) -> None:
    with session_factory(faq_settings.database_url)() as db:
        now = now_line(calendar(db), dt.date.fromisoformat(TODAY))
    assert now.startswith("Đến nay (06/12/2026)")
    conditions = stored(faq_settings, "conditions_general")
    assert (conditions.measure, conditions.round) == ("amnesty", "law")
    assert now in preview_of(client, conditions)
    assert now not in preview_of(client, stored(faq_settings))  # what it answers: rights
    reduction = stored(faq_settings, "reduction_first_time")
    shown = preview_of(client, reduction)
    assert reduction.lead.split()[0] in shown and now not in shown


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"answer": "đ" * 1501}, "quá giới hạn 1500"),
        ({"topic": "ask_weather"}, "không có trong danh sách"),
        ({"citations": "không có điều"}, "Văn bản | Điều | khoản | loại nguồn | nơi đưa tin"),
        ({"citations": "Luật X | Điều 1 | | press | Báo Y"}, "chỉ ghi điều, khoản khi đã đọc"),
        ({"citations": "Luật X | | | press"}, "cần ghi nơi đưa tin"),
        ({"citations": "Luật X | | | press | Báo Y"}, "mọi nguồn là loại text hoặc copy"),
        ({"laws": ["luat-khong-co"]}, "Không có văn bản mã luat-khong-co"),
        ({"measure": "weather"}, "Biện pháp 'weather'"),
        ({"questions": ""}, "ít nhất một câu hỏi mẫu"),
    ],
)
def test_bad_input_gives_a_clear_error_and_changes_nothing(
    client: TestClient, faq_settings: Settings, changes: dict[str, str], message: str
) -> None:
    entry = stored(faq_settings)
    response = post_edit(client, entry, **changes)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert "chưa có gì thay đổi" in response.text
    after = stored(faq_settings)
    assert (after.answer, after.topic, after.questions) == (
        entry.answer,
        entry.topic,
        entry.questions,
    )
    assert after.edited_by is None


def test_forged_csrf_token_changes_nothing(client: TestClient, faq_settings: Settings) -> None:
    entry = stored(faq_settings)
    _, base = edit_page(client, entry)
    data = entry_form(entry, answer="Giả mạo.") | {"csrf": "forged", "base": base}
    response = client.post(f"/staff/faq/{entry.id}", data=data)
    assert response.status_code == 403
    assert stored(faq_settings).answer == entry.answer
    response = client.post(f"/staff/faq/{entry.id}/status", data={"status": "retired"})
    assert response.status_code == 403 and stored(faq_settings).status == "published"


def test_script_in_an_answer_is_stored_as_text_and_shown_escaped(
    client: TestClient, faq_settings: Settings
) -> None:
    entry = stored(faq_settings)
    attack = 'Xem thêm <script>alert("x")</script><img src=x onerror=alert(1)>'
    assert post_edit(client, entry, answer=attack).status_code == 200
    assert stored(faq_settings).answer == attack
    page = client.get(f"/staff/faq/{entry.id}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page
    history = client.get(f"/staff/faq/{entry.id}/history").text
    assert "<script>alert" not in history and "&lt;script&gt;" in history


def test_reviewer_reads_but_cannot_edit(client: TestClient, faq_settings: Settings) -> None:
    entry = stored(faq_settings)
    reviewer = TestClient(client.app)
    login(reviewer, "xuly")
    assert reviewer.get("/staff/faq").status_code == 200
    page = reviewer.get(f"/staff/faq/{entry.id}")
    assert page.status_code == 200 and 'name="answer"' not in page.text
    assert "Xuất bản" not in page.text
    token = csrf_of(reviewer, "/staff/faq")
    data = entry_form(entry, answer="Người xử lý sửa.") | {"csrf": token, "base": "0"}
    assert reviewer.post(f"/staff/faq/{entry.id}", data=data).status_code == 403
    status = {"csrf": token, "status": "retired"}
    assert reviewer.post(f"/staff/faq/{entry.id}/status", data=status).status_code == 403
    assert reviewer.get("/staff/faq/new").status_code == 403
    after = stored(faq_settings)
    assert after.answer == entry.answer and after.status == "published"


def test_create_publish_retire(client: TestClient, faq_settings: Settings) -> None:
    token = csrf_of(client, "/staff/faq/new")
    question = "được đặc xá rồi có được đi xuất khẩu lao động không"
    data = {
        "csrf": token,
        "key": "after_release_abroad",
        "topic": "ask_after_release",
        "title": "Đi làm ở nước ngoài",
        "measure": "amnesty",
        "facet": "conditions",
        "round": "law",
        "questions": question,
        "lead": "Trả lời ngắn về việc đi làm ở nước ngoài.",
        "answer": "Câu trả lời về việc đi làm ở nước ngoài.",
        "citations": "Luật Đặc xá số 30/2018/QH14 | Điều 21 | | text",
        "laws": ["luat-dac-xa-2018", "luat-xnc-2019"],
        "minors": "on",
        "action": "save",
    }
    created = client.post("/staff/faq/new", data=data)
    assert created.status_code == 200 and "Bản nháp" in created.text
    assert client.post("/staff/faq/new", data=data).status_code == 400  # the key is taken
    entry = stored(faq_settings, "after_release_abroad")
    assert entry.status == "draft"
    assert (entry.measure, entry.facet, entry.minors) == ("amnesty", "conditions", True)
    assert entry.laws == ["luat-dac-xa-2018", "luat-xnc-2019"]
    assert entry.citations == [
        {"document": "Luật Đặc xá số 30/2018/QH14", "article": "Điều 21", "kind": "text"}
    ]
    page = created.text
    assert 'value="luat-xnc-2019" checked' in page and "Trả lời ngắn về việc" in page
    for status in ("published", "retired"):
        response = client.post(
            f"/staff/faq/{entry.id}/status", data={"csrf": token, "status": status}
        )
        assert response.status_code == 200
        assert stored(faq_settings, "after_release_abroad").status == status
    with session_factory(faq_settings.database_url)() as db:
        assert [e.action for e in recent_audit(db)][:3] == [
            "entry_retired",
            "entry_published",
            "entry_created",
        ]


def test_history_shows_the_diff_and_restores(client: TestClient, faq_settings: Settings) -> None:
    entry = stored(faq_settings)
    post_edit(client, entry, answer="Bản sửa lần một.")
    post_edit(client, stored(faq_settings), answer="Bản sửa lần hai.")
    history = client.get(f"/staff/faq/{entry.id}/history").text
    assert "-Bản sửa lần một." in history and "+Bản sửa lần hai." in history
    token = csrf_of(client, f"/staff/faq/{entry.id}/history")
    restored = client.post(f"/staff/faq/{entry.id}/restore", data={"csrf": token, "number": "1"})
    assert restored.status_code == 200 and "Đã khôi phục" in restored.text
    assert stored(faq_settings).answer == entry.answer
    missing = client.post(f"/staff/faq/{entry.id}/restore", data={"csrf": token, "number": "99"})
    assert missing.status_code == 400


def test_stale_form_is_refused(client: TestClient, faq_settings: Settings) -> None:
    entry = stored(faq_settings)
    token, base = edit_page(client, entry)
    post_edit(client, entry, answer="Người khác sửa trước.")
    data = entry_form(entry, answer="Bản cũ ghi đè.") | {"csrf": token, "base": base}
    response = client.post(f"/staff/faq/{entry.id}", data=data)
    assert response.status_code == 400 and "người khác" in response.text
    assert stored(faq_settings).answer == "Người khác sửa trước."


def test_unknown_entry_is_404(client: TestClient) -> None:
    assert client.get("/staff/faq/999999").status_code == 404
