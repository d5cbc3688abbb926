"""Feedback is never lost: the database failing while saving, the action server restarted.

Its own stack on PostgreSQL (a private schema of the project's server), so the database can
really fail: the feedback table is renamed away while a family sends, then put back.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine

from bot.ops.stack import Stack, free_port
from bot.ops.training import model_file
from knowledge.__main__ import load
from knowledge.db import session_factory
from knowledge.models import FeedbackItem
from settings import Settings, from_env
from tests.databases import postgres_schema_url
from tests.e2e.conftest import Assistant, joined

SEND = '/give_feedback{"feedback_send":"yes"}'
REFERENCE = re.compile(r"PA-\d{4}-\d{6}")


@dataclass
class FaultStack:
    assistant: Assistant
    stack: Stack
    admin: Engine

    @property
    def settings(self) -> Settings:
        return self.assistant.settings

    def talk(self, sender: str, *texts: str) -> str:
        reply = ""
        for message in texts:
            reply = joined(self.assistant.send(message, sender))
        return reply

    def items(self, sender: str) -> list[FeedbackItem]:
        with session_factory(self.settings.database_url)() as session:
            found = select(FeedbackItem).where(FeedbackItem.sender_id == sender)
            return list(session.scalars(found))


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    model = model_file()
    if not model.exists():
        pytest.fail(f"No trained model {model.name} for the current data: run `make train`.")
    with postgres_schema_url() as url:
        var = tmp_path_factory.mktemp("faults")
        os.environ["AMNESTY_SPOOL_RETRY_SECONDS"] = "1"
        settings = from_env(
            {
                "AMNESTY_VAR_DIR": str(var),
                "AMNESTY_DATABASE_URL": url,
                "AMNESTY_RASA_PORT": str(free_port()),
                "AMNESTY_ACTIONS_PORT": str(free_port()),
                "AMNESTY_WEB_PORT": str(free_port()),
            }
        )
        assert load(settings.database_url) == 0
        stack = Stack(settings, model)
        stack.start(web=False)
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            yield FaultStack(Assistant(settings, stack.token), stack, admin)
        finally:
            stack.stop()
            admin.dispose()
            del os.environ["AMNESTY_SPOOL_RETRY_SECONDS"]


def test_database_failing_while_saving_loses_nothing_and_duplicates_nothing(
    faulty: FaultStack,
) -> None:
    sender = "fault-db"
    content = "Trại chưa trả lời đơn của gia đình em từ tháng 6."
    faulty.talk(sender, "tôi muốn phản ánh", SEND, "khiếu nại", content, "bỏ qua", "không")
    with faulty.admin.connect() as conn:
        conn.execute(text("ALTER TABLE feedback_item RENAME TO feedback_item_away"))
    try:
        reply = faulty.talk(sender, "gửi")
        assert "giữ lại an toàn" in reply and not REFERENCE.search(reply)
    finally:
        with faulty.admin.connect() as conn:
            conn.execute(text("ALTER TABLE feedback_item_away RENAME TO feedback_item"))
    deadline = time.monotonic() + 30
    while not faulty.items(sender) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # a second drain must not store it again
    items = faulty.items(sender)
    assert [i.content for i in items] == [content]
    assert REFERENCE.search(faulty.talk(sender, "tra cứu ý kiến"))


def test_a_form_survives_the_action_server_restarting(faulty: FaultStack) -> None:
    sender = "fault-restart"
    assert "nội dung" in faulty.talk(sender, "tôi muốn góp ý", SEND, "góp ý")
    faulty.stack.restart_actions()
    faulty.talk(sender, "Nên niêm yết danh sách sớm hơn.", "bỏ qua", "không")
    assert REFERENCE.search(faulty.talk(sender, "gửi"))
    assert [i.kind for i in faulty.items(sender)] == ["suggestion"]
