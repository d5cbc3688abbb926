"""The feedback inbox pages through Starlette's TestClient, on SQLite and PostgreSQL.

Roles, masking, filters, bad input, transitions, exports, the report, deleting a family's
data, and sending the answer through Telegram and Zalo (fake Bot API / OA API on loopback).
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from actions.feedback import status_reply
from bot.gateway import create_app
from knowledge.channels import record_delivery
from knowledge.db import session_factory
from knowledge.feedback.items import FeedbackDraft, record, reference
from knowledge.feedback.lookup import throttle
from knowledge.models import AuditEntry, ChannelDelivery, FeedbackItem
from settings import Settings
from tests.fakes.gateway import gateway_settings
from tests.fakes.server import ServerThread
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.fakes.zalo import FakeZalo, zalo_env
from tests.unit.test_staff_app import _CSRF_RE, add_account, login

PHONE = "+84912345678"
NAME = "Nguyễn Thị Lan"
STORY = "Chồng tôi ở trại giam Xuân Lộc bị đánh. Gọi tôi số 0987 654 321."


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return gateway_settings(tmp_path, db_url)


def accounts(settings: Settings) -> None:
    for name, role in [
        ("xuly", "reviewer"),
        ("xuly2", "reviewer"),
        ("quantri", "admin"),
        ("bientap", "editor"),
    ]:
        add_account(settings, name, role)


@pytest.fixture
def anonymous(settings: Settings) -> TestClient:
    app = create_app(settings)
    accounts(settings)
    return TestClient(app)


@pytest.fixture
def client(anonymous: TestClient) -> TestClient:
    assert login(anonymous, "xuly").status_code == 303
    return anonymous


def add_item(settings: Settings, **fields: Any) -> int:
    values: dict[str, Any] = {
        "kind": "process_complaint",
        "content": STORY,
        "channel": "rest",
        "sender_id": f"fam-{abs(hash(str(fields))) % 10**8}",
        "delivery_key": f"k-{abs(hash(str(fields)))}",
        "facility": "Trại giam Xuân Lộc",
        "contact_name": NAME,
        "contact_phone": PHONE,
    } | fields
    with session_factory(settings.database_url).begin() as db:
        return record(db, FeedbackDraft(**values)).id


def stored(settings: Settings, item_id: int) -> FeedbackItem:
    with session_factory(settings.database_url)() as db:
        item = db.get(FeedbackItem, item_id)
        assert item is not None
        _ = item.events
        return item


def audited(settings: Settings) -> list[str]:
    with session_factory(settings.database_url)() as db:
        return [a.action for a in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def csrf_in(page: str) -> str:
    match = _CSRF_RE.search(page)
    assert match, page[:500]
    return match.group(1)


def logout(client: TestClient) -> None:
    client.post("/staff/logout", data={"csrf": csrf_in(client.get("/staff/").text)})


def post(client: TestClient, item_id: int, action: str, **data: str) -> httpx2.Response:
    token = csrf_in(client.get(f"/staff/feedback/{item_id}").text)
    return client.post(
        f"/staff/feedback/{item_id}/{action}",
        data={"csrf": token} | data,
        follow_redirects=False,
    )


# --- Roles ------------------------------------------------------------------------------------


def test_a_user_without_the_reviewer_role_gets_403_and_sees_nothing(
    anonymous: TestClient, settings: Settings
) -> None:
    item_id = add_item(settings)
    ref = reference(stored(settings, item_id))
    redirected = anonymous.get("/staff/feedback", follow_redirects=False)
    assert redirected.status_code == 303 and "/staff/login" in redirected.headers["location"]
    assert login(anonymous, "bientap").status_code == 303
    home = anonymous.get("/staff/").text
    assert "/staff/feedback" not in home
    for path in (
        "/staff/feedback",
        f"/staff/feedback/{item_id}",
        "/staff/feedback/export.xlsx",
        "/staff/feedback/report",
        "/staff/feedback/forget",
    ):
        response = anonymous.get(path)
        assert response.status_code == 403, path
        assert ref not in response.text and "Xuân Lộc" not in response.text
        assert "không có quyền" in response.text
    assert "feedback_opened" not in audited(settings)


def test_reviewers_see_the_inbox_on_the_home_page(client: TestClient) -> None:
    assert "/staff/feedback" in client.get("/staff/").text


# --- List -------------------------------------------------------------------------------------


def test_list_masks_contact_and_never_shows_the_words(
    client: TestClient, settings: Settings
) -> None:
    add_item(settings, facility="Trại tạm giam, gọi 0912 000 111")
    page = client.get("/staff/feedback").text
    assert "N. T. L." in page and NAME not in page
    assert "912345" not in page and "0912 000 111" not in page
    assert "Chồng tôi" not in page and "0987 654 321" not in page


def test_list_filters_and_counts(client: TestClient, settings: Settings) -> None:
    a = add_item(settings, kind="misconduct", content="Cán bộ đòi tiền", channel="zalo")
    b = add_item(settings, kind="suggestion", content="Nên có tờ rơi", facility="Trại Thủ Đức")
    ref_a, ref_b = reference(stored(settings, a)), reference(stored(settings, b))
    assert post(client, b, "status", status="in_progress").status_code == 303
    every = client.get("/staff/feedback").text
    assert ref_a in every and ref_b in every
    for query, shown, hidden in [
        ("kind=misconduct", ref_a, ref_b),
        ("channel=zalo", ref_a, ref_b),
        ("status=in_progress", ref_b, ref_a),
        ("facility=th%E1%BB%A7+%C4%91%E1%BB%A9c", ref_b, ref_a),  # "thủ đức"
        ("q=%C4%91%C3%B2i+ti%E1%BB%81n", ref_a, ref_b),  # "đòi tiền"
        (f"q={ref_b}", ref_b, ref_a),
    ]:
        page = client.get(f"/staff/feedback?{query}").text
        assert shown in page and hidden not in page, query
    page = client.get("/staff/feedback?kind=suggestion").text
    assert "Đang xử lý: 1" in page and "Mới tiếp nhận: 0" in page
    old = client.get("/staff/feedback?from=2020-01-01&to=2020-12-31").text
    assert ref_a not in old and "Không có ý kiến nào" in old


# --- Item -------------------------------------------------------------------------------------


def test_item_page_shows_the_words_as_text_and_the_contact_and_is_audited(
    client: TestClient, settings: Settings
) -> None:
    attack = "<script>alert('x')</script><img src=x onerror=alert(1)> 😢 ' OR 1=1; DROP TABLE x;--"
    item_id = add_item(
        settings,
        content=attack,
        excerpt=({"who": "user", "text": "<b>đậm</b>", "at": 1767225600.0},),
    )
    page = client.get(f"/staff/feedback/{item_id}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<b>đậm" not in page.text
    assert html.escape(attack, quote=False) in page.text.replace("&#39;", "'")
    assert NAME in page.text and PHONE in page.text
    assert "&lt;b&gt;đậm&lt;/b&gt;" in page.text
    assert "feedback_opened" in audited(settings)
    assert stored(settings, item_id).content == attack


def test_a_20000_character_content_is_shown_whole(client: TestClient, settings: Settings) -> None:
    long = ("Gia đình tôi xin trình bày. " * 800)[:19_999] + "Ω"
    assert len(long) == 20_000
    item_id = add_item(settings, content=long)
    page = client.get(f"/staff/feedback/{item_id}").text
    assert long.strip() in page
    assert stored(settings, item_id).content == long


def test_transitions_not_allowed_are_refused_with_a_clear_message(
    client: TestClient, settings: Settings
) -> None:
    item_id = add_item(settings)
    skipped = post(client, item_id, "status", status="closed")
    assert skipped.status_code == 400
    text = html.unescape(skipped.text)
    assert "Không chuyển được từ «Mới tiếp nhận» sang «Đã kết thúc»" in text
    assert "«Đang xử lý»" in text
    no_reason = post(client, item_id, "status", status="rejected", note="  ")
    assert no_reason.status_code == 400 and "ghi lý do" in html.unescape(no_reason.text)
    assert stored(settings, item_id).status == "new"
    done = post(client, item_id, "status", status="rejected", note="Trùng với PA khác.")
    assert done.status_code == 303
    item = stored(settings, item_id)
    assert item.status == "rejected" and item.events[-1].note == "Trùng với PA khác."
    final = post(client, item_id, "status", status="in_progress")
    assert final.status_code == 400 and "không đổi trạng thái được nữa" in final.text
    answer = post(client, item_id, "answer", answer="Muộn rồi.")
    assert answer.status_code == 400 and stored(settings, item_id).answer is None
    assert "feedback_status_changed" in audited(settings)


def test_a_forged_csrf_token_changes_nothing(client: TestClient, settings: Settings) -> None:
    item_id = add_item(settings)
    for action, data in [
        ("status", {"status": "in_progress"}),
        ("answer", {"answer": "Giả mạo."}),
        ("assign", {"assignee": "xuly"}),
        ("note", {"note": "Giả mạo."}),
    ]:
        response = client.post(f"/staff/feedback/{item_id}/{action}", data={"csrf": "x"} | data)
        assert response.status_code == 403
    item = stored(settings, item_id)
    assert (item.status, item.answer, item.assignee, len(item.events)) == ("new", None, None, 1)
    assert "csrf_rejected" in audited(settings)


def test_assign_note_and_answer_which_the_family_then_sees(
    client: TestClient, settings: Settings
) -> None:
    item_id = add_item(settings, sender_id="rest-family-1")
    assert post(client, item_id, "assign", assignee="xuly2").status_code == 303
    refused = post(client, item_id, "assign", assignee="bientap")
    assert refused.status_code == 400 and stored(settings, item_id).assignee == "xuly2"
    assert post(client, item_id, "note", note="Đã gọi trại xác minh.").status_code == 303
    assert post(client, item_id, "note", note=" ").status_code == 400
    too_long = post(client, item_id, "answer", answer="x" * 1501)
    assert too_long.status_code == 400 and "quá giới hạn 1500" in html.unescape(too_long.text)
    answer = "Trại đã rà soát lại hồ sơ; chồng chị có tên trong danh sách bổ sung."
    assert post(client, item_id, "answer", answer=answer).status_code == 303
    page = client.get(f"/staff/feedback/{item_id}?done=answer").text
    assert "Đã lưu" in page and "Giao cho xuly2." in page and "Đã gọi trại xác minh." in page
    assert "không gửi tin nhắn chủ động" in page  # REST cannot push: the page says so
    assert "Gửi câu trả lời cho gia đình" not in page
    item = stored(settings, item_id)
    with session_factory(settings.database_url).begin() as db:
        limits = throttle(settings)  # an item recorded without a code: its conversation sees it
        seen = status_reply(db, "rest-family-1", f"tra cứu {reference(item)}", limits)
        other = status_reply(db, "someone-else", f"tra cứu {reference(item)}", limits)
    assert answer in seen and answer not in other
    actions = audited(settings)
    assert {"feedback_assigned", "feedback_note_added", "feedback_answered"} <= set(actions)


# --- Exports and report -------------------------------------------------------------------------


def test_export_is_masked_and_unmasked_only_for_an_admin(
    anonymous: TestClient, settings: Settings
) -> None:
    add_item(settings, kind="misconduct", content="=1+1 đòi tiền, gọi 0987 654 321")
    add_item(settings, kind="suggestion")
    assert login(anonymous, "xuly").status_code == 303
    response = anonymous.get("/staff/feedback/export.xlsx?kind=misconduct")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    header, row = rows
    line = dict(zip(header, row, strict=True))
    assert line["Họ tên"] == "N. T. L." and "912345" not in str(line["Số điện thoại"])
    content = line["Nội dung"]
    assert isinstance(content, str)
    assert "0987 654 321" not in content and content.startswith("=1+1")
    assert sheet.cell(2, header.index("Nội dung") + 1).data_type == "s"
    csv_text = anonymous.get("/staff/feedback/export.csv").content.decode("utf-8")
    assert csv_text.count("\n") == 3 and NAME not in csv_text
    assert anonymous.get("/staff/feedback/export.xlsx?unmasked=1").status_code == 403
    logout(anonymous)
    assert login(anonymous, "quantri").status_code == 303
    plain = anonymous.get("/staff/feedback/export.csv?unmasked=1").content.decode("utf-8")
    assert NAME in plain and PHONE in plain
    with session_factory(settings.database_url)() as db:
        exports = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "feedback_exported")
        ).all()
    assert [(e.actor, e.detail["masked"], e.detail["rows"]) for e in exports] == [
        ("xuly", True, 1),
        ("xuly", True, 2),
        ("quantri", False, 2),
    ]
    assert "feedback_export_refused" in audited(settings)


def test_report_page_draws_svg_charts_and_gives_an_excel_file(
    client: TestClient, settings: Settings
) -> None:
    add_item(settings, kind="misconduct")
    add_item(settings, kind="question", facility="<script>x</script>")
    page = client.get("/staff/feedback/report?period=week")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3 and "<rect" in page.text
    assert "<script>x" not in page.text and "&lt;script&gt;x" in page.text
    assert "<script" not in page.text.lower().replace("&lt;script", "")
    total = page.text.split('id="total">')[1].split("<")[0]
    assert total == "2"
    book = client.get("/staff/feedback/report.xlsx?period=month")
    assert book.status_code == 200
    summary = load_workbook(io.BytesIO(book.content))["tong-hop"]
    values = {r[0]: r[1] for r in summary.iter_rows(values_only=True) if r}
    assert values["Tổng số ý kiến nhận trong kỳ"] == 2
    assert {"feedback_report_opened", "feedback_report_exported"} <= set(audited(settings))


# --- Deleting a family's data -------------------------------------------------------------------


def test_deleting_a_family_needs_an_admin_and_a_confirmation(
    anonymous: TestClient, settings: Settings
) -> None:
    mine = add_item(settings, sender_id="zalo:555", channel="zalo")
    other = add_item(settings, sender_id="zalo:556", channel="zalo")
    assert login(anonymous, "xuly").status_code == 303
    assert anonymous.get(f"/staff/feedback/forget?item={mine}").status_code == 403
    logout(anonymous)
    assert login(anonymous, "quantri").status_code == 303
    item_page = anonymous.get(f"/staff/feedback/{mine}").text
    # The sender id never travels in a URL (proxies and browsers keep those).
    assert f"/staff/feedback/forget?item={mine}" in item_page and "sender=" not in item_page
    shown = anonymous.get(f"/staff/feedback/forget?item={mine}")
    assert reference(stored(settings, mine)) in shown.text and "zalo:555" in shown.text
    token = csrf_in(shown.text)
    looked_up = anonymous.post(
        "/staff/feedback/forget", data={"csrf": token, "sender": "zalo:555", "step": "show"}
    )
    assert looked_up.status_code == 200 and reference(stored(settings, mine)) in looked_up.text
    unconfirmed = anonymous.post(
        "/staff/feedback/forget", data={"csrf": token, "sender": "zalo:555"}
    )
    assert unconfirmed.status_code == 400 and "Chưa xóa gì" in unconfirmed.text
    stored(settings, mine)
    forged = anonymous.post(
        "/staff/feedback/forget", data={"csrf": "x", "sender": "zalo:555", "confirm": "yes"}
    )
    assert forged.status_code == 403
    stored(settings, mine)
    done = anonymous.post(
        "/staff/feedback/forget", data={"csrf": token, "sender": "zalo:555", "confirm": "yes"}
    )
    assert done.status_code == 200 and "Đã xóa: 1 ý kiến" in done.text
    with session_factory(settings.database_url)() as db:
        assert db.get(FeedbackItem, mine) is None and db.get(FeedbackItem, other) is not None
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "family_forgotten")).one()
    assert entry.detail["items"] == 1 and "zalo:555" not in entry.target


# --- Sending the answer through the family's channel --------------------------------------------


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def fake_zalo() -> Iterator[FakeZalo]:
    fake = FakeZalo()
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


def signed_in(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:  # runs the lifespan: channels start
        accounts(settings)
        assert login(client, "xuly").status_code == 303
        yield client


def test_the_answer_is_sent_through_telegram_and_recorded(
    tmp_path: Path, db_url: str, fake_telegram: FakeTelegram
) -> None:
    settings = gateway_settings(
        tmp_path,
        db_url,
        AMNESTY_TELEGRAM_TOKEN=TOKEN,
        AMNESTY_TELEGRAM_BASE_URL=fake_telegram.base_url(fake_telegram.url),
    )
    for client in signed_in(settings):
        item_id = add_item(settings, sender_id="telegram:4242", channel="telegram")
        page = client.get(f"/staff/feedback/{item_id}").text
        assert "Lưu câu trả lời trước" in page
        assert post(client, item_id, "send").status_code == 400  # nothing to send yet
        post(client, item_id, "answer", answer="Hồ sơ đã được bổ sung.")
        assert "Gửi câu trả lời cho gia đình" in client.get(f"/staff/feedback/{item_id}").text
        assert post(client, item_id, "send").status_code == 303
        [sent] = fake_telegram.sent.wait_for(lambda items: len(items) == 1)
        assert int(sent["chat_id"]) == 4242 and "Hồ sơ đã được bổ sung." in sent["text"]
        assert (
            stored(settings, item_id).events[-1].note
            == "Đã gửi câu trả lời cho gia đình qua Telegram."
        )
        assert "feedback_answer_sent" in audited(settings)


def test_zalo_sends_only_within_the_window_and_the_page_says_so(
    tmp_path: Path, db_url: str, fake_zalo: FakeZalo
) -> None:
    settings = gateway_settings(
        tmp_path,
        db_url,
        AMNESTY_ZALO_REPLY_WINDOW_DAYS="3",
        **zalo_env(fake_zalo.url),
    )
    for client in signed_in(settings):
        recent = add_item(settings, sender_id="zalo:901", channel="zalo", delivery_key="z1")
        old = add_item(settings, sender_id="zalo:902", channel="zalo", delivery_key="z2")
        sessions: sessionmaker[Session] = session_factory(settings.database_url)
        with sessions.begin() as db:
            record_delivery(db, "ev-901", sender="zalo:901")
            record_delivery(db, "ev-902", sender="zalo:902")
            db.execute(
                update(ChannelDelivery)
                .where(ChannelDelivery.sender == "zalo:902")
                .values(received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=4))
            )
            for item in db.scalars(select(FeedbackItem)):
                item.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
                item.answer = "Đã chuyển đơn đến trại."
        page = client.get(f"/staff/feedback/{old}").text
        assert "trong vòng 3 ngày sau tin nhắn cuối cùng" in page and "Đã quá hạn" in page
        assert "Gửi câu trả lời cho gia đình" not in page
        assert post(client, old, "send").status_code == 400
        page = client.get(f"/staff/feedback/{recent}").text
        assert "trong vòng 3 ngày" in page and "Gửi câu trả lời cho gia đình" in page
        assert post(client, recent, "send").status_code == 303
        fake_zalo.sent.wait_for(lambda items: len(items) == 1)
        assert [m["user_id"] for m in fake_zalo.sent.items] == ["901"]
        assert "Đã chuyển đơn đến trại." in fake_zalo.texts("901")[0]
