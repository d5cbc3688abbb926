"""The inbox queries on SQLite and PostgreSQL: filters, order, counts, paging, masking."""

from __future__ import annotations

import datetime as dt
from itertools import count
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from knowledge.channels import record_delivery
from knowledge.clock import vietnam_midnight
from knowledge.feedback.inbox import (
    InboxFilter,
    channels_in_use,
    handlers,
    last_message_at,
    matching,
    parse_filter,
    search,
    status_counts,
    to_row,
)
from knowledge.feedback.items import FeedbackDraft, change_status, record, reference
from knowledge.models import FeedbackItem
from knowledge.staff import create_user

UTC = dt.UTC
_keys = count(1)


def add(
    session: Session,
    *,
    content: str = "Danh sách niêm yết không có tên chồng tôi.",
    kind: str = "process_complaint",
    channel: str = "rest",
    sender: str | None = None,
    facility: str | None = "Trại giam Xuân Lộc",
    name: str | None = None,
    phone: str | None = None,
    urgent: bool = False,
    at: dt.datetime | None = None,
) -> FeedbackItem:
    """Record an item as the conversation does, then date it ``at`` (UTC)."""
    n = next(_keys)
    draft = FeedbackDraft(
        kind=kind,
        content=content,
        channel=channel,
        sender_id=sender or f"{channel}:{n}",
        delivery_key=f"key-{n}",
        facility=facility,
        contact_name=name,
        contact_phone=phone,
        urgent=urgent,
    )
    item = record(session, draft)
    if at is not None:
        item.created_at = at
    session.flush()
    return item


def refs(items: list[FeedbackItem]) -> list[str]:
    return [reference(i) for i in items]


def test_filters_each_narrow_the_list(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as s:
        a = add(s, kind="misconduct", channel="zalo", content="Cán bộ đòi 20 triệu")
        b = add(s, kind="suggestion", channel="telegram", facility="Trại giam Thủ Đức")
        c = add(s, kind="question", content="Bao giờ niêm yết 50%_thật?", facility=None)
        change_status(s, b, "in_progress", actor="xuly")
        ids = {x: i.id for x, i in (("a", a), ("b", b), ("c", c))}

    def found(**fields: Any) -> set[int]:
        with session_maker() as s:
            return {i.id for i in matching(s, InboxFilter(**fields))}

    assert found() == set(ids.values())
    assert found(kind="misconduct") == {ids["a"]}
    assert found(channel="telegram") == {ids["b"]}
    assert found(status="in_progress") == {ids["b"]}
    assert found(facility="thủ đức") == {ids["b"]}
    assert found(text="đòi 20") == {ids["a"]}
    assert found(text="50%_") == {ids["c"]}  # LIKE wildcards are literal
    assert found(text="%") == {ids["c"]}
    with session_maker() as s:
        item = s.get(FeedbackItem, ids["c"])
        assert item is not None
        assert found(text=reference(item)) == {ids["c"]}


def test_date_range_is_in_vietnam_days(session_maker: sessionmaker[Session]) -> None:
    # 16:59 UTC on 1 March is 23:59 on 1 March in Vietnam; 17:00 UTC is already 2 March.
    with session_maker.begin() as s:
        late = add(s, at=dt.datetime(2026, 3, 1, 16, 59, tzinfo=UTC)).id
        next_day = add(s, at=dt.datetime(2026, 3, 1, 17, 0, tzinfo=UTC)).id
    with session_maker() as s:
        first = matching(s, InboxFilter(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 1)))
        second = matching(s, InboxFilter(date_from=dt.date(2026, 3, 2)))
    assert [i.id for i in first] == [late]
    assert [i.id for i in second] == [next_day]
    assert vietnam_midnight(dt.date(2026, 3, 2)) == dt.datetime(2026, 3, 1, 17, tzinfo=UTC)


def test_urgent_open_items_first_then_newest(session_maker: sessionmaker[Session]) -> None:
    base = dt.datetime(2026, 2, 1, tzinfo=UTC)
    with session_maker.begin() as s:
        old_urgent = add(s, urgent=True, at=base).id
        closed_urgent = add(s, urgent=True, at=base + dt.timedelta(hours=1))
        change_status(s, closed_urgent, "rejected", actor="xuly", note="Trùng ý kiến khác.")
        newest = add(s, at=base + dt.timedelta(hours=3)).id
        middle = add(s, at=base + dt.timedelta(hours=2)).id
        closed_id = closed_urgent.id
    with session_maker() as s:
        order = [i.id for i in matching(s, InboxFilter())]
    assert order == [old_urgent, newest, middle, closed_id]


def test_counts_per_status_ignore_the_status_filter(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as s:
        for _ in range(3):
            add(s, kind="question")
        moved = add(s, kind="question")
        change_status(s, moved, "in_progress", actor="xuly")
        add(s, kind="suggestion")
    with session_maker() as s:
        counts = status_counts(s, InboxFilter(kind="question", status="new"))
    assert counts == {"new": 3, "in_progress": 1, "answered": 0, "closed": 0, "rejected": 0}


def test_paging(session_maker: sessionmaker[Session]) -> None:
    base = dt.datetime(2026, 1, 5, tzinfo=UTC)
    with session_maker.begin() as s:
        ids = [add(s, at=base + dt.timedelta(minutes=i)).id for i in range(7)]
    with session_maker() as s:
        first = search(s, InboxFilter(), page=1, per_page=3)
        last = search(s, InboxFilter(), page=3, per_page=3)
        beyond = search(s, InboxFilter(), page=99, per_page=3)
    assert (first.total, first.pages) == (7, 3)
    assert [i.id for i in first.items] == ids[::-1][:3]
    assert [i.id for i in last.items] == [ids[0]]
    assert beyond.page == 3


def test_rows_mask_phone_id_card_and_name_unless_asked(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as s:
        item = add(
            s,
            content="Gọi tôi 0912 345 678, CCCD 001234567890",
            name="Nguyễn Thị Lan",
            phone="+84912345678",
            facility="Trại tạm giam số 0987654321",
        )
        masked, plain = to_row(item), to_row(item, masked=False)
    assert masked.contact_name == "N. T. L."
    assert "912345" not in masked.contact_phone and masked.contact_phone.endswith("78")
    assert "0912 345 678" not in masked.content and "001234567890" not in masked.content
    assert "0987654321" not in masked.facility
    assert plain.contact_name == "Nguyễn Thị Lan" and plain.contact_phone == "+84912345678"
    assert plain.content == "Gọi tôi 0912 345 678, CCCD 001234567890"


def test_parse_filter_ignores_what_it_does_not_know() -> None:
    f = parse_filter(
        {"status": "deleted", "kind": "question", "from": "2026-13-01", "to": "2026-03-05"}
    )
    assert f == InboxFilter(kind="question", date_to=dt.date(2026, 3, 5))
    assert parse_filter(f.query()) == f
    assert parse_filter({"q": "x" * 1000}).text == "x" * 200


def test_handlers_channels_and_last_message(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as s:
        create_user(s, "xuly", "mat-khau-dai-1", "reviewer")
        create_user(s, "quantri", "mat-khau-dai-1", "admin")
        create_user(s, "bientap", "mat-khau-dai-1", "editor")
        add(s, channel="viber")
        record_delivery(s, "zalo-event-1", sender="zalo:77")
    with session_maker() as s:
        assert handlers(s) == ["quantri", "xuly"]
        assert channels_in_use(s) == ["rest", "web", "telegram", "zalo", "viber"]
        seen = last_message_at(s, "zalo:77")
        assert seen is not None and abs(seen - dt.datetime.now(UTC)) < dt.timedelta(minutes=5)
        assert last_message_at(s, "zalo:78") is None
