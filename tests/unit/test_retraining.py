"""Retraining without training: data preparation, the floor rule, one run at a time, the page."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.gateway import create_app
from bot.ops.heldout import FLOORS
from bot.ops.heldout import load as load_heldout
from bot.ops.retraining import RetrainError, below_floor, current_model, decide, prepare_data
from bot.ops.stack import free_port
from knowledge.models import StaffTrainingExample, TrainingRun
from knowledge.staff import recent_audit
from knowledge.training_runs import (
    ABANDONED_AFTER,
    TrainingBusy,
    deployed_model,
    finish_run,
    start_run,
)
from settings import Settings, from_env
from tests.unit.test_staff_app import add_account, csrf_of, login

NEW_EXAMPLE = "thủ tục xét tha trước hạn có điều kiện khác gì đặc xá hả anh"


def add_example(sessions: sessionmaker[Session], intent: str, text: str) -> None:
    with sessions.begin() as db:
        db.add(StaffTrainingExample(intent=intent, text=text, created_by="bientap"))


def examples_of(nlu: Path, intent: str) -> list[str]:
    data = yaml.load(nlu.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    block = next(b for b in data["nlu"] if b["intent"] == intent)
    return [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]


def test_the_floor_rule_names_every_split_under_it() -> None:
    floors = {"a": 0.9, "b": 0.8, "c": 0.85}
    assert below_floor({"a": 0.9, "b": 0.95, "c": 0.85}, floors) == []
    assert below_floor({"a": 0.899, "b": 0.95, "c": 0.9}, floors) == ["a"]
    # A split the check did not measure cannot pass.
    assert below_floor({"a": 0.95}, floors) == ["b", "c"]


def test_staff_examples_are_trained_on_and_held_out_questions_are_not(
    session_maker: sessionmaker[Session], tmp_path: Path
) -> None:
    heldout = load_heldout()[0]
    add_example(session_maker, "ask_other_measures", NEW_EXAMPLE)
    add_example(session_maker, heldout.intent, heldout.text)
    with session_maker() as db:
        nlu, count = prepare_data(db, tmp_path)
    assert count == 1
    measures = examples_of(nlu, "ask_other_measures")
    assert NEW_EXAMPLE in measures
    # Its copy without diacritics is built too, as for every written example.
    assert "thu tuc xet tha truoc han co dieu kien khac gi dac xa ha anh" in measures
    everything = nlu.read_text(encoding="utf-8")
    assert heldout.text not in everything
    # The repository's own examples are all there.
    assert len(examples_of(nlu, "ask_conditions")) > 50


def test_a_staff_example_that_clashes_with_a_written_one_stops_the_run(
    session_maker: sessionmaker[Session], tmp_path: Path
) -> None:
    written = examples_of(Path("build/nlu/nlu.yml"), "ask_conditions")[0]
    add_example(session_maker, "ask_documents", written)
    with session_maker() as db, pytest.raises(RetrainError, match="ask_conditions"):
        prepare_data(db, tmp_path)


def test_only_one_run_at_a_time(session_maker: sessionmaker[Session]) -> None:
    with session_maker() as db:
        first = start_run(db, "bientap", "abc")
        with pytest.raises(TrainingBusy):
            start_run(db, "quantri", "abc")
    # Even a second writer that skips the check cannot add another running run.
    with session_maker() as db:
        db.add(TrainingRun(requested_by="x", base_fingerprint="abc", status="running"))
        with pytest.raises(IntegrityError):
            db.commit()
    with session_maker.begin() as db:
        finish_run(db, first.id, "rejected", message="m", accuracy={"teencode": 0.5})
    with session_maker() as db:
        assert start_run(db, "quantri", "abc").id > first.id
        actions = [a.action for a in recent_audit(db, 10)]
    assert actions.count("training_started") == 2 and "training_finished" in actions


def test_a_run_cut_off_by_a_stopped_gateway_does_not_block(
    session_maker: sessionmaker[Session],
) -> None:
    old = dt.datetime.now(dt.UTC) - ABANDONED_AFTER - dt.timedelta(minutes=1)
    with session_maker.begin() as db:
        db.add(TrainingRun(requested_by="x", base_fingerprint="abc", requested_at=old))
    with session_maker() as db:
        start_run(db, "bientap", "abc")
        runs = {r.requested_by: r for r in db.scalars(select(TrainingRun))}
    assert runs["x"].status == "failed" and "gián đoạn" in (runs["x"].message or "")
    assert runs["bientap"].status == "running"


def _settings(tmp_path: Path, db_url: str, **env: str) -> Settings:
    return from_env(
        {"AMNESTY_VAR_DIR": str(tmp_path / "var"), "AMNESTY_DATABASE_URL": db_url, **env}
    )


def test_a_model_under_a_floor_is_not_loaded(tmp_path: Path, db_url: str) -> None:
    settings = _settings(tmp_path, db_url)
    candidate = tmp_path / "candidate.tar.gz"
    candidate.write_bytes(b"model")
    accuracy = dict.fromkeys(FLOORS, 0.99) | {"teencode": 0.5}
    outcome = asyncio.run(decide(settings, 7, candidate, accuracy, FLOORS))
    assert outcome.status == "rejected" and outcome.model is None
    assert "teencode 50.0% < 85%" in outcome.message and "mô hình cũ" in outcome.message
    assert not (settings.var_dir / "models").exists()


def test_a_passing_model_that_no_server_takes_is_a_failure_naming_the_server(
    tmp_path: Path, db_url: str
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = _settings(tmp_path, db_url, AMNESTY_RASA_REPLICAS=dead, AMNESTY_RASA_TOKEN="t")
    candidate = tmp_path / "candidate.tar.gz"
    candidate.write_bytes(b"model")
    outcome = asyncio.run(decide(settings, 7, candidate, dict.fromkeys(FLOORS, 0.99), FLOORS))
    assert outcome.status == "failed" and dead in outcome.message
    assert "chưa máy nào" in outcome.message


def test_the_start_uses_the_last_deployed_model_of_the_same_inputs(
    tmp_path: Path, db_url: str, session_maker: sessionmaker[Session]
) -> None:
    from bot.ops.training import fingerprint

    settings = _settings(tmp_path, db_url)
    trained = tmp_path / "trained.tar.gz"
    assert current_model(settings, trained) == trained
    kept = tmp_path / "kept.tar.gz"
    with session_maker() as db:
        run = start_run(db, "bientap", fingerprint())
    with session_maker.begin() as db:
        finish_run(db, run.id, "deployed", message="ok", model_path=str(kept))
    # The file is gone (e.g. a new machine): the repository's model is served.
    assert current_model(settings, trained) == trained
    kept.write_bytes(b"model")
    assert current_model(settings, trained) == kept
    with session_maker() as db:
        assert deployed_model(db, "another-fingerprint") is None


@pytest.fixture
def client(loaded: sessionmaker[Session], db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = _settings(tmp_path, db_url, AMNESTY_RASA_TOKEN="t")
    for name, role in [("bientap", "editor"), ("xuly", "reviewer")]:
        add_account(settings, name, role)
    yield TestClient(create_app(settings))


def test_the_page_is_for_editors_and_shows_runs_with_their_splits(
    client: TestClient, loaded: sessionmaker[Session]
) -> None:
    with loaded() as db:
        run = start_run(db, "bientap", "abc")
    accuracy = dict.fromkeys(FLOORS, 0.97) | {"neighbouring": 0.8}
    with loaded.begin() as db:
        finish_run(
            db, run.id, "rejected", message="Không đạt <b>", accuracy=accuracy, floors=FLOORS
        )
    assert login(client, "xuly").status_code == 303
    assert client.get("/staff/training").status_code == 403
    client.post("/staff/logout", data={"csrf": csrf_of(client, "/staff/")})
    assert login(client, "bientap").status_code == 303
    page = client.get("/staff/training")
    assert page.status_code == 200
    assert "Không đạt &lt;b&gt;" in page.text  # escaped
    assert 'data-split="neighbouring"' in page.text and "80.0%" in page.text
    assert "chưa đạt" in page.text and "không kết nối được" in page.text
    assert 'id="retrain"' in page.text


def test_a_second_start_while_one_runs_says_so_and_starts_nothing(
    client: TestClient, loaded: sessionmaker[Session]
) -> None:
    with loaded() as db:
        start_run(db, "quantri", "abc")
    assert login(client, "bientap").status_code == 303
    page = client.get("/staff/training")
    assert 'id="running"' in page.text and 'id="retrain"' not in page.text
    assert 'http-equiv="refresh"' in page.text
    token = csrf_of(client, "/staff/training")
    response = client.post("/staff/training", data={"csrf": token}, follow_redirects=True)
    assert "Đang có một lần huấn luyện chạy" in response.text
    with loaded() as db:
        assert len(list(db.scalars(select(TrainingRun)))) == 1


def test_a_forged_form_starts_nothing(client: TestClient, loaded: sessionmaker[Session]) -> None:
    assert login(client, "bientap").status_code == 303
    response = client.post("/staff/training", data={"csrf": "forged"})
    assert response.status_code == 403
    with loaded() as db:
        assert list(db.scalars(select(TrainingRun))) == []


def test_the_gate_checks_the_blind_real_style_messages_by_their_entries_topics() -> None:
    from bot.ops.heldout import Item, Prediction, load_real_style

    items = load_real_style()
    assert len(items) >= 40 and {i.split for i in items} == {"real_style"}
    assert "real_style" in FLOORS and {i.split for i in load_heldout()} == set(FLOORS)
    # Every message's own intent is among those accepted, and only known intents are.
    assert all(i.intent in i.accepted for i in items)
    # Two questions about two topics: either intent is right, a third is not.
    accepted = frozenset({"ask_after_release", "out_of_scope"})
    item = Item("real_style", "…", "ask_after_release", accepted)
    assert Prediction(item, "out_of_scope", 0.6, 0.01).correct
    assert Prediction(item, "ask_after_release", 0.6, 0.01).correct
    assert not Prediction(item, "ask_fees", 0.9, 0.01).correct
    # A check request counts for the conditions it is answered from.
    conditions = Item("real_style", "…", "ask_conditions", frozenset({"ask_conditions"}))
    assert Prediction(conditions, "check_eligibility", 0.7, 0.01).correct
