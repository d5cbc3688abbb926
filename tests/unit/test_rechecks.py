"""Law changes send the entries resting on them to the staff's "to re-check" list: once (also
with two gateways at the same moment), not when the entry was checked after the change, closed
when the entry is saved as checked again, with the reason shown in the staff app."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.gateway import create_app
from knowledge.__main__ import load
from knowledge.db import create_schema, make_engine
from knowledge.kb.faq import list_entries, update_entry
from knowledge.kb.loader import read_laws, sync_laws
from knowledge.kb.queries import entry_by_key
from knowledge.kb.rechecks import flag_law_changes, open_rechecks
from knowledge.models import Entry, Recheck
from settings import Settings, from_env, get_settings
from tests.fakes.gateway import TEST_REST_SECRET
from tests.unit.test_faq import fields
from tests.unit.test_faq_pages import post_edit
from tests.unit.test_staff_app import add_account, login

LAW = "lthahs-2025"  # Luật Thi hành án hình sự số 127/2025/QH15, in force 01/07/2026 (laws.yml)
REASON = "Luật Thi hành án hình sự số 127/2025/QH15 có hiệu lực từ 01/07/2026"
ENDED = "Luật Thi hành án hình sự số 41/2019/QH14 hết hiệu lực (áp dụng đến hết ngày 30/06/2026)"
BEFORE = dt.date(2026, 6, 1)
CHANGE = dt.date(2026, 7, 1)
CHECKED_AFTER = "prison_visits"  # rests on LAW, checked after the change
RETIRED = "prison_phone"  # rests on LAW, not in use
KEY = "region_camp_names"  # rests on the old and the new law only


@pytest.fixture
def with_laws(loaded: sessionmaker[Session]) -> sessionmaker[Session]:
    """The whole knowledge base with its table of laws, every entry last checked on BEFORE
    (CHECKED_AFTER the day after the change, RETIRED retired)."""
    with loaded.begin() as db:
        sync_laws(db, read_laws())
        db.execute(update(Entry).values(checked=BEFORE))
        db.execute(
            update(Entry).where(Entry.key == CHECKED_AFTER).values(checked=dt.date(2026, 7, 2))
        )
        db.execute(update(Entry).where(Entry.key == RETIRED).values(status="retired"))
    return loaded


def dependent(db: Session) -> set[str]:
    """The published entries resting on LAW and checked before it took effect."""
    stmt = select(Entry).where(Entry.status == "published", Entry.checked < CHANGE)
    return {e.key for e in db.scalars(stmt) if LAW in e.laws}


def flagged(db: Session, law: str = LAW) -> list[tuple[str, str]]:
    stmt = select(Recheck.entry_key, Recheck.reason).where(Recheck.law_id == law)
    return sorted(db.execute(stmt).tuples())


def test_a_law_taking_effect_flags_its_entries_once(with_laws: sessionmaker[Session]) -> None:
    with with_laws.begin() as db:
        flag_law_changes(db, CHANGE - dt.timedelta(days=1))
        assert flagged(db) == []  # not in force yet
        expected = dependent(db)
        assert len(expected) > 20 and CHECKED_AFTER not in expected and RETIRED not in expected
        assert flag_law_changes(db, CHANGE) >= len(expected)
    with with_laws.begin() as db:
        assert flagged(db) == sorted((key, REASON) for key in expected)
        assert flag_law_changes(db, CHANGE + dt.timedelta(days=1)) == 0
        assert len(flagged(db)) == len(expected)
        reasons = open_rechecks(db)
        assert reasons[KEY] == [ENDED, REASON]  # the old law ended the day before
        assert CHECKED_AFTER not in reasons and RETIRED not in reasons
        assert {e.key for e in list_entries(db, recheck=True)} == set(reasons)


def test_saving_the_entry_as_checked_closes_it(with_laws: sessionmaker[Session]) -> None:
    with with_laws.begin() as db:
        flag_law_changes(db, CHANGE)
    with with_laws.begin() as db:
        entry = entry_by_key(db, KEY)
        assert entry is not None
        update_entry(db, entry, fields(), actor="lan")  # content saved, not checked again
        assert KEY in open_rechecks(db)
        update_entry(db, entry, fields(), actor="lan", checked_now=True)
    with with_laws.begin() as db:
        assert KEY not in open_rechecks(db)
        assert KEY not in {e.key for e in list_entries(db, recheck=True)}
        done = db.scalars(select(Recheck).where(Recheck.entry_key == KEY)).all()
        assert len(done) == 2 and all(r.done_at is not None for r in done)
        flag_law_changes(db, CHANGE)  # nothing comes back
        assert KEY not in open_rechecks(db)


def test_an_entry_checked_again_by_reloading_is_closed_by_the_next_run(
    with_laws: sessionmaker[Session],
) -> None:
    with with_laws.begin() as db:
        flag_law_changes(db, CHANGE)
        db.execute(update(Entry).where(Entry.key == KEY).values(checked=CHANGE))
    with with_laws.begin() as db:
        flag_law_changes(db, CHANGE)
        assert KEY not in open_rechecks(db)


def test_two_gateways_at_once_flag_each_entry_once(with_laws: sessionmaker[Session]) -> None:
    """The second gateway runs while the first has added the rows but not committed them: it
    waits on them, then adds nothing (no error, no duplicate)."""
    added: list[int] = []
    errors: list[BaseException] = []

    def second_gateway() -> None:
        try:
            with with_laws.begin() as db:
                added.append(flag_law_changes(db, CHANGE))
        except BaseException as exc:  # reported below
            errors.append(exc)

    with with_laws() as first:
        expected = dependent(first)
        assert flag_law_changes(first, CHANGE) >= len(expected)
        second = threading.Thread(target=second_gateway)
        second.start()
        time.sleep(0.5)
        assert second.is_alive(), errors  # waiting for the first one's rows
        first.commit()
    second.join(timeout=30)
    assert errors == [] and added == [0]
    with with_laws() as db:
        assert flagged(db) == sorted((key, REASON) for key in expected)


def test_the_list_and_the_entry_page_say_why(
    with_laws: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    with with_laws.begin() as db:
        flag_law_changes(db, CHANGE)
        entry = entry_by_key(db, KEY)
        assert entry is not None
    settings = from_env(
        {
            "AMNESTY_VAR_DIR": str(tmp_path / "var"),
            "AMNESTY_DATABASE_URL": db_url,
            "AMNESTY_REST_SECRET": TEST_REST_SECRET,
        }
    )
    client = TestClient(create_app(settings))
    add_account(settings, "bientap", "editor")
    login(client, "bientap")
    listed = client.get("/staff/faq?recheck=1").text
    assert "cần rà soát lại" in listed and KEY in listed and REASON in listed
    assert CHECKED_AFTER not in listed
    page = client.get(f"/staff/faq/{entry.id}").text
    assert 'id="rechecks"' in page and REASON in page and ENDED in page
    saved = post_edit(client, entry, checked_now="on")
    assert saved.status_code == 200 and 'id="rechecks"' not in saved.text
    assert KEY not in client.get("/staff/faq?recheck=1").text


@pytest.fixture
def sqlite_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("AMNESTY_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AMNESTY_TODAY", CHANGE.isoformat())
    monkeypatch.setenv("AMNESTY_REST_SECRET", TEST_REST_SECRET)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_load_and_the_gateway_flag_what_is_due(
    sqlite_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_settings.database_url
    assert load(url) == 0
    engine = make_engine(url)
    create_schema(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as db:
        assert db.scalars(select(Recheck)).all() == []  # the content is checked after
        db.execute(update(Entry).where(Entry.key == KEY).values(checked=BEFORE))
    assert load(url) == 0
    assert "2 re-checks added" in capsys.readouterr().out
    with sessions.begin() as db:
        db.execute(update(Entry).where(Entry.key == "prison_other_topics").values(checked=BEFORE))
    with TestClient(create_app(sqlite_settings)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with sessions() as db:
                if "prison_other_topics" in open_rechecks(db):
                    break
            time.sleep(0.1)
    with sessions() as db:
        assert open_rechecks(db)["prison_other_topics"] == [ENDED, REASON]
        assert len(open_rechecks(db)[KEY]) == 2
    engine.dispose()
