"""The staff examples saved from the queue, exported as training data
(python -m knowledge export-training writes nlu_data/from_staff.yml)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.db import create_schema, engine_for, session_factory
from knowledge.kb.queue import TRAINING_FILE, QueueError, word_sequence
from knowledge.models import StaffTrainingExample
from knowledge.staff import audit
from vietnamese.training_data import TrainingDataError, build

# --- Export of the training examples (python -m knowledge export-training) ----------------------


def training_yaml(session: Session, skip: Callable[[str], bool] | None = None) -> str:
    """The staff's training examples as a Rasa NLU file; QueueError if a text has two intents.

    ``skip`` leaves out the texts it is true for (retraining leaves out held-out questions).
    """
    stmt = select(StaffTrainingExample).order_by(
        StaffTrainingExample.intent, StaffTrainingExample.id
    )
    by_intent: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for example in session.scalars(stmt):
        if skip is not None and skip(example.text):
            continue
        text = yaml_scalar(example.text)
        key = " ".join(word_sequence(text)) or text
        if key in owner:
            if owner[key] != example.intent:
                raise QueueError(
                    f"Câu {example.text!r} được đánh dấu cho hai ý định ({owner[key]} và "
                    f"{example.intent}); hãy xóa một trong hai trước khi xuất."
                )
            continue
        owner[key] = example.intent
        by_intent.setdefault(example.intent, []).append(text)
    lines = [
        "# Written by `python -m knowledge export-training` from the staff's queue page:",
        "# questions families asked, rewritten by staff without personal data. Do not edit here.",
        'version: "3.1"',
        "nlu:" if by_intent else "nlu: []",
    ]
    for intent, texts in by_intent.items():
        lines.append(f"  - intent: {intent}")
        lines.append("    examples: |")
        lines.extend(f"      - {t}" for t in texts)
    return "\n".join(lines) + "\n"


def yaml_scalar(text: str) -> str:
    """One example line as Rasa's block list keeps it (brackets would read as entities)."""
    return text.replace("[", "(").replace("]", ")")


def check_builds(content: str, path: Path) -> None:
    """QueueError if ``content``, as ``path`` beside the other training files, would not build."""
    with tempfile.TemporaryDirectory() as tmp:
        for other in path.parent.glob("*.yml"):
            if other.name != path.name:
                shutil.copy(other, tmp)
        (Path(tmp) / path.name).write_text(content, encoding="utf-8")
        try:
            build(Path(tmp))
        except TrainingDataError as exc:
            raise QueueError(f"Dữ liệu huấn luyện sẽ không dựng được: {exc}") from None


def export_training(session: Session, path: Path) -> int:
    """Write the training examples to ``path`` (atomically); returns how many were written.

    QueueError, and nothing written, if they clash with the training files beside ``path``.
    """
    content = training_yaml(session)
    check_builds(content, path)
    count = sum(1 for line in content.splitlines() if line.startswith("      - "))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)
    return count


def export_command(database_url: str, path: Path = TRAINING_FILE) -> int:
    """``python -m knowledge export-training``: write the file; returns the exit code."""
    create_schema(engine_for(database_url))
    try:
        with session_factory(database_url).begin() as session:
            count = export_training(session, path)
            audit(session, None, "training_exported", str(path), {"examples": count})
    except QueueError as exc:
        print(f"Training examples not exported: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {count} training examples from the staff's queue to {path}.")
    return 0
