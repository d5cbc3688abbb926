"""Recording feedback (idempotent, whole, as typed), references, look-up and the staff workflow."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from knowledge.feedback.items import (
    KIND_LABELS,
    KINDS,
    STATUS_LABELS,
    STATUSES,
    FeedbackDraft,
    add_note,
    assign,
    change_status,
    items_of_sender,
    look_up,
    normalize_phone,
    parse_reference,
    record,
    reference,
    set_answer,
)
from knowledge.feedback.lookup import code_in, with_code
from knowledge.feedback.spool import Spool
from knowledge.models import FeedbackEvent, FeedbackItem


def draft(**fields: Any) -> FeedbackDraft:
    values: dict[str, Any] = {
        "kind": "process_complaint",
        "content": "Chồng tôi đủ điều kiện mà không có tên trong danh sách đặc xá.",
        "channel": "rest",
        "sender_id": "web:abc",
        "delivery_key": f"rest:{uuid.uuid4().hex}",
    }
    values.update(fields)
    return FeedbackDraft(**values)


def count_items(session_maker: sessionmaker[Session]) -> int:
    with session_maker() as session:
        return session.scalar(select(func.count()).select_from(FeedbackItem)) or 0


def stored(session_maker: sessionmaker[Session], d: FeedbackDraft) -> FeedbackItem:
    with session_maker.begin() as session:
        return record(session, d)


# --- Recording ---------------------------------------------------------------------------------


def test_record_stores_every_field_and_the_first_event(
    session_maker: sessionmaker[Session],
) -> None:
    excerpt = ({"role": "bot", "text": "Bạn muốn phản ánh điều gì?"}, {"role": "user", "text": "…"})
    d = draft(
        facility="Trại giam X",
        contact_name="Nguyễn Văn An",
        contact_phone="0912 345 678",
        urgent=True,
        excerpt=excerpt,
    )
    item_id = stored(session_maker, d).id
    with session_maker() as session:
        item = session.get_one(FeedbackItem, item_id)
        assert (item.kind, item.content, item.facility) == (d.kind, d.content, "Trại giam X")
        assert (item.channel, item.sender_id, item.delivery_key) == (
            "rest",
            "web:abc",
            d.delivery_key,
        )
        assert (item.contact_name, item.contact_phone) == ("Nguyễn Văn An", "0912 345 678")
        assert item.urgent is True
        assert item.status == "new"
        assert item.excerpt == list(excerpt)
        assert item.assignee is None and item.answer is None
        [event] = item.events
        assert (event.kind, event.from_status, event.to_status) == ("status", None, "new")


def test_created_at_is_utc_now(session_maker: sessionmaker[Session]) -> None:
    before = dt.datetime.now(dt.UTC)
    item = stored(session_maker, draft())
    with session_maker() as session:
        created = session.get_one(FeedbackItem, item.id).created_at
    if created.tzinfo is None:  # SQLite keeps no zone: the value is UTC
        created = created.replace(tzinfo=dt.UTC)
    assert before - dt.timedelta(seconds=5) <= created <= dt.datetime.now(dt.UTC)


def test_same_delivery_key_twice_gives_one_item(session_maker: sessionmaker[Session]) -> None:
    d = draft()
    first = stored(session_maker, d).id
    second = stored(session_maker, draft(delivery_key=d.delivery_key, content="other")).id
    assert first == second
    assert count_items(session_maker) == 1
    with session_maker() as session:
        assert session.get_one(FeedbackItem, first).content == d.content


def test_different_keys_and_no_key_give_separate_items(
    session_maker: sessionmaker[Session],
) -> None:
    stored(session_maker, draft())
    stored(session_maker, draft())
    stored(session_maker, draft(delivery_key=None))
    stored(session_maker, draft(delivery_key=None))
    assert count_items(session_maker) == 4


def test_duplicate_inside_the_callers_transaction_keeps_its_other_work(
    session_maker: sessionmaker[Session],
) -> None:
    d = draft()
    stored(session_maker, d)
    with session_maker.begin() as session:
        other = record(session, draft())
        again = record(session, d)
        other_id = other.id
        assert again.id != other_id
    assert count_items(session_maker) == 2


def test_rolled_back_record_leaves_nothing(session_maker: sessionmaker[Session]) -> None:
    with session_maker() as session:
        record(session, draft())
        session.rollback()
    assert count_items(session_maker) == 0
    with session_maker() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackEvent)) == 0


def test_two_sessions_racing_on_one_key_store_one_row(
    session_maker: sessionmaker[Session],
) -> None:
    d = draft()
    first = session_maker()
    winner = record(first, d)  # flushed, not committed: the second one must wait for it
    result: dict[str, object] = {}

    def second() -> None:
        try:
            with session_maker.begin() as session:
                result["id"] = record(session, d).id
        except Exception as exc:
            result["error"] = exc

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the second delivery should wait for the first one's commit"
    winner_id = winner.id
    first.commit()
    first.close()
    thread.join(20)
    assert "error" not in result, result.get("error")
    assert result["id"] == winner_id
    assert count_items(session_maker) == 1


def test_unknown_kind_is_refused(session_maker: sessionmaker[Session]) -> None:
    with session_maker() as session, pytest.raises(ValueError, match="unknown feedback kind"):
        record(session, draft(kind="spam"))


def test_empty_content_is_refused(session_maker: sessionmaker[Session]) -> None:
    with session_maker() as session, pytest.raises(ValueError, match="empty"):
        record(session, draft(content="   "))


@pytest.mark.parametrize(
    "content",
    [
        "Đ" * 20_000,
        "Tôi xin phản ánh " + "rất dài, " * 2_500,
        "Con tôi 😢🙏 mong được đặc xá 🇻🇳 👨‍👩‍👧",
        "'; DROP TABLE feedback_item; -- and \" OR 1=1 --",
        "<script>alert('x')</script><b>đậm</b> &amp;",
        "dòng 1\r\ndòng 2\n\tthụt lề   nhiều dấu cách",
    ],
    ids=["20000-chars", "long-words", "emoji", "sql", "script", "whitespace"],
)
def test_content_is_kept_whole_and_as_typed(
    session_maker: sessionmaker[Session], content: str
) -> None:
    item_id = stored(session_maker, draft(content=content)).id
    with session_maker() as session:
        assert session.get_one(FeedbackItem, item_id).content == content
    assert count_items(session_maker) == 1


def test_text_no_database_can_hold_is_replaced_not_refused(
    session_maker: sessionmaker[Session],
) -> None:
    item_id = stored(session_maker, draft(content="a\x00b\ud800c")).id
    with session_maker() as session:
        assert session.get_one(FeedbackItem, item_id).content == "a\ufffdb\ufffdc"


def test_too_long_optional_fields_are_shortened_and_long_keys_hashed(
    session_maker: sessionmaker[Session],
) -> None:
    key = "zalo:" + "9" * 500
    item = stored(session_maker, draft(facility="T" * 1000, delivery_key=key))
    assert item.facility == "T" * 300
    assert item.delivery_key is not None and item.delivery_key.startswith("sha256:")
    assert stored(session_maker, draft(delivery_key=key)).id == item.id


def test_draft_survives_json_round_trip() -> None:
    d = draft(
        facility="Trại giam Z",
        contact_phone="0912345678",
        urgent=True,
        excerpt=({"role": "user", "text": "😢 <b>"},),
        content="😢 and a lone \ud800",
    )
    assert FeedbackDraft.from_json(d.to_json()) == d


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "{}",
        '{"kind": 1}',
        "not json",
        '{"kind":"question","content":"x","channel":"rest",'
        '"sender_id":"s","delivery_key":null,"surprise":1}',
    ],
)
def test_malformed_draft_json_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        FeedbackDraft.from_json(text)


def test_labels_cover_every_kind_and_status() -> None:
    assert set(KIND_LABELS) == set(KINDS)
    assert set(STATUS_LABELS) == set(STATUSES)


# --- References --------------------------------------------------------------------------------


def test_reference_has_vietnam_year_and_six_digits(session_maker: sessionmaker[Session]) -> None:
    item = stored(session_maker, draft())
    year = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).year
    assert reference(item) == f"PA-{year}-{item.id:06d}"


def test_reference_year_is_vietnams_on_new_years_eve() -> None:
    # 31 Dec 2025 18:30 UTC is already 1 Jan 2026 in Vietnam.
    item = FeedbackItem(id=123, created_at=dt.datetime(2025, 12, 31, 18, 30))
    assert reference(item) == "PA-2026-000123"
    item.created_at = dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC)
    assert reference(item) == "PA-2025-000123"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PA-2026-000123", 123),
        ("tra cứu PA-2026-000123", 123),
        ("tra cuu pa-2026-000123", 123),
        ("Tra Cứu  pa 2026 000123 giúp tôi", 123),
        ("mã PA.2026.000045.", 45),
        ("PA2026000007", 7),
        ("ＰＡ－２０２６－０００１２３", 123),
        ("(PA-2027-999999)", 999999),
        ("PA-2026-123", None),
        ("PA-2026-0001234", None),
        ("PA-2026-000000", None),
        ("PA-1999-000123", None),
        ("XPA-2026-000123", None),
        ("PB-2026-000123", None),
        ("2026-000123", None),
        ("tra cứu hồ sơ", None),
        ("", None),
    ],
)
def test_parse_reference(text: str, expected: int | None) -> None:
    assert parse_reference(text) == expected


# --- Look-up -----------------------------------------------------------------------------------


def coded(session_maker: sessionmaker[Session], code: str, **fields: Any) -> FeedbackItem:
    return stored(session_maker, with_code(draft(**fields), code))


def test_look_up_needs_the_code_given_with_the_reference(
    session_maker: sessionmaker[Session],
) -> None:
    item = coded(session_maker, "048213", sender_id="zalo:1", contact_phone="0912 345 678")
    ref = reference(item)
    with session_maker() as session:
        found = look_up(session, f"tra cứu {ref}", code="048213", sender_id="telegram:9")
        assert found is not None and found.id == item.id
        assert look_up(session, ref, code="048214", sender_id="zalo:1") is None
        assert look_up(session, ref, sender_id="zalo:1") is None  # even its own conversation
        assert look_up(session, ref, code="0912345678") is None  # the phone is not the code
        assert item.lookup_hash is not None and "048213" not in item.lookup_hash


def test_an_item_recorded_before_codes_is_found_from_its_own_conversation_only(
    session_maker: sessionmaker[Session],
) -> None:
    item = stored(session_maker, draft(sender_id="zalo:1"))
    ref = reference(item)
    with session_maker() as session:
        assert look_up(session, ref, sender_id="zalo:1") is not None
        assert look_up(session, ref, sender_id="zalo:2") is None
        assert look_up(session, ref, code="000000") is None


def test_the_code_survives_the_spool(session_maker: sessionmaker[Session], tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.put(with_code(draft(sender_id="zalo:1"), "777001"))
    assert spool.drain(session_maker) == 1
    with session_maker() as session:
        item = session.scalars(select(FeedbackItem)).one()
        assert look_up(session, reference(item), code="777001") is not None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("tra cứu PA-2026-000123 048213", "048213"),
        ("048213 pa 2026 000123", "048213"),
        ("tra cứu PA-2026-000123", None),
        ("tra cứu PA-2026-000123 0912345678", None),
    ],
)
def test_code_in_a_message(text: str, code: str | None) -> None:
    assert code_in(text) == code


def test_forged_or_other_year_reference_finds_nothing(
    session_maker: sessionmaker[Session],
) -> None:
    item = stored(session_maker, draft(sender_id="zalo:1"))
    year = int(reference(item)[3:7])
    with session_maker() as session:
        assert look_up(session, f"PA-{year - 1}-{item.id:06d}", sender_id="zalo:1") is None
        assert look_up(session, f"PA-{year}-{item.id + 1:06d}", sender_id="zalo:1") is None
        assert look_up(session, f"PA-{year}-{item.id}", sender_id="zalo:1") is None
        assert look_up(session, "' OR 1=1 --", sender_id="zalo:1") is None


def test_normalize_phone() -> None:
    assert normalize_phone("+84 912 345 678") == normalize_phone("0912345678") == "+84912345678"
    assert normalize_phone(None) is None
    assert normalize_phone("") is None


def test_items_of_sender_newest_first(session_maker: sessionmaker[Session]) -> None:
    ids = [stored(session_maker, draft(sender_id="web:me")).id for _ in range(3)]
    stored(session_maker, draft(sender_id="web:other"))
    with session_maker() as session:
        assert [i.id for i in items_of_sender(session, "web:me")] == ids[::-1]
        assert items_of_sender(session, "web:nobody") == []


# --- Staff workflow ----------------------------------------------------------------------------


def test_status_goes_through_its_steps_with_history(session_maker: sessionmaker[Session]) -> None:
    item_id = stored(session_maker, draft()).id
    with session_maker.begin() as session:
        item = session.get_one(FeedbackItem, item_id)
        change_status(session, item, "in_progress", actor="can_bo_a")
        set_answer(session, item, "Đơn vị đã kiểm tra lại hồ sơ.", actor="can_bo_a")
        change_status(session, item, "answered", actor="can_bo_a", note="Đã gọi điện")
        change_status(session, item, "closed", actor="truong_phong")
    with session_maker() as session:
        item = session.get_one(FeedbackItem, item_id)
        assert item.status == "closed"
        assert item.answer == "Đơn vị đã kiểm tra lại hồ sơ."
        moves = [(e.from_status, e.to_status, e.actor) for e in item.events if e.kind == "status"]
        assert moves == [
            (None, "new", "family"),
            ("new", "in_progress", "can_bo_a"),
            ("in_progress", "answered", "can_bo_a"),
            ("answered", "closed", "truong_phong"),
        ]


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ([], "answered"),
        ([], "closed"),
        (["in_progress"], "new"),
        (["in_progress"], "closed"),
        (["in_progress", "answered"], "in_progress"),
        (["in_progress", "answered", "closed"], "rejected"),
        (["in_progress", "answered", "closed"], "in_progress"),
        (["rejected"], "in_progress"),
        ([], "done"),
    ],
)
def test_transitions_not_allowed_raise(
    session_maker: sessionmaker[Session], path: list[str], to: str
) -> None:
    with session_maker() as session:
        item = record(session, draft())
        for step in path:
            change_status(session, item, step, actor="a", note="lý do")
        before = item.status
        with pytest.raises(ValueError, match=r"cannot|unknown"):
            change_status(session, item, to, actor="a", note="lý do")
        assert item.status == before


@pytest.mark.parametrize("start", [[], ["in_progress"], ["in_progress", "answered"]])
def test_any_open_item_can_be_rejected_with_a_reason(
    session_maker: sessionmaker[Session], start: list[str]
) -> None:
    with session_maker() as session:
        item = record(session, draft())
        for step in start:
            change_status(session, item, step, actor="a")
        for reason in (None, "", "   "):
            with pytest.raises(ValueError, match="reason"):
                change_status(session, item, "rejected", actor="a", note=reason)
        event = change_status(session, item, "rejected", actor="a", note="Trùng đơn PA-2026-1")
        assert item.status == "rejected" and event.note == "Trùng đơn PA-2026-1"


def test_notes_and_assignment_are_kept_in_the_history(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        item = record(session, draft())
        add_note(session, item, "Đã liên hệ trại giam.", actor="a")
        assign(session, item, "can_bo_b", actor="a")
        item_id = item.id
        with pytest.raises(ValueError):
            add_note(session, item, "  ", actor="a")
    with session_maker() as session:
        item = session.get_one(FeedbackItem, item_id)
        assert item.assignee == "can_bo_b"
        notes = [e.note for e in item.events if e.kind == "note"]
        assert notes == ["Đã liên hệ trại giam.", "Giao cho can_bo_b."]


def test_answer_of_a_finished_item_cannot_change(session_maker: sessionmaker[Session]) -> None:
    with session_maker() as session:
        item = record(session, draft())
        change_status(session, item, "rejected", actor="a", note="Không thuộc thẩm quyền")
        with pytest.raises(ValueError, match="no longer"):
            set_answer(session, item, "x", actor="a")


# --- Properties --------------------------------------------------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.text(min_size=1).filter(str.strip))
def test_any_text_is_stored_as_typed(session_maker: sessionmaker[Session], content: str) -> None:
    item_id = stored(session_maker, draft(content=content)).id
    with session_maker() as session:
        kept = session.get_one(FeedbackItem, item_id).content
    # Only what no database can hold (NUL, lone surrogates) becomes U+FFFD.
    assert kept == content.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace(
        "\x00", "\ufffd"
    )


@given(st.integers(min_value=1, max_value=999_999), st.integers(min_value=2000, max_value=2999))
def test_every_reference_parses_back(item_id: int, year: int) -> None:
    assert parse_reference(f"tra cứu PA-{year}-{item_id:06d} giúp tôi") == item_id


@given(st.text())
def test_parse_reference_never_raises(text: str) -> None:
    result = parse_reference(text)
    assert result is None or 1 <= result <= 999_999
