"""The queue of questions the assistant could not answer well, and the ratings of its answers.

The actions record (masked, never the sender id); staff group the questions, and move a
rewritten version (without personal data) into an entry or into the training data. The
caller passes (and owns, and commits) the session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.clock import as_utc, vietnam_midnight
from knowledge.db import rows_matched, session_factory
from knowledge.kb.faq import latest_number, update_entry
from knowledge.kb.faq_form import MAX_QUESTION_CHARS
from knowledge.kb.queries import entry_by_key
from knowledge.kb.ranking import terms
from knowledge.kb.topics import ALL_INTENTS
from knowledge.masking import mask
from knowledge.models import (
    AnswerRating,
    AppSecret,
    Entry,
    QueuedQuestion,
    StaffTrainingExample,
)
from knowledge.staff import audit
from settings import Settings
from vietnamese.text import fold, normalize

REASONS = {
    "fallback": "Không hiểu",
    "did_you_mean": "Hỏi lại “có phải bạn muốn hỏi”",
    "low_confidence": "Độ tin cậy thấp",
    "no_match": "Không có mục phù hợp",
    "unhelpful": "Bị đánh giá chưa hữu ích",
}
STATUS_LABELS = {"open": "Chờ xử lý", "done": "Đã xử lý", "dismissed": "Đã bỏ qua"}
RATINGS = ("helpful", "unhelpful")
# A family's message is kept up to this length (the model reads at most 1,500 characters).
MAX_TEXT_CHARS = 1000
# Two questions are in one group when this share of their words is the same (Jaccard).
GROUP_OVERLAP = 0.5
MAX_GROUPED = 2000
SALT_FILE = "queue_family_salt"
_WORD_RE = re.compile(r"\w+")
TRAINING_FILE = Path(__file__).resolve().parents[2] / "nlu_data" / "from_staff.yml"


class QueueError(ValueError):
    """A queue action cannot be done; the message says what to fix, in Vietnamese."""


# --- Recording (called by the actions) ---------------------------------------------------------


def family_salt(settings: Settings) -> bytes:
    """The install's secret that salts family hashes, kept in the database so every host (the
    action servers, the gateways) hashes a family to the same key: made once, or adopted from
    the ``var_dir`` file older versions kept."""
    return _family_salt(settings.database_url, str(settings.var_dir))


@lru_cache(maxsize=4)
def _family_salt(database_url: str, var_dir: str) -> bytes:
    with session_factory(database_url).begin() as session:
        return shared_salt(session, Path(var_dir) / SALT_FILE)


def shared_salt(session: Session, legacy: Path | None = None) -> bytes:
    """The salt row, made if missing (from ``legacy``'s content when that file exists, so the
    keys already stored still match); two hosts making it at once agree on the first."""
    row = session.get(AppSecret, SALT_FILE)
    if row is not None:
        return row.value.encode()
    old = legacy.read_text(encoding="utf-8").strip() if legacy and legacy.is_file() else ""
    try:
        with session.begin_nested():
            session.add(AppSecret(name=SALT_FILE, value=old or secrets.token_urlsafe(32)))
    except IntegrityError:
        pass  # another host made it first: use that one
    stored = session.get(AppSecret, SALT_FILE, populate_existing=True)
    assert stored is not None
    return stored.value.encode()


def family_key(salt: bytes, sender_id: str) -> str:
    """A salted hash of the sender id: the same family gives the same key, but no id."""
    return hmac.new(salt, sender_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def shown_version(session: Session, entry_key: str | None) -> int | None:
    """The saved version number of the entry now shown (None: as loaded, or no entry)."""
    if not entry_key:
        return None
    entry = entry_by_key(session, entry_key)
    return (latest_number(session, entry) or None) if entry is not None else None


def record_question(
    session: Session,
    *,
    text: str,
    reason: str,
    channel: str,
    family: str | None = None,
    intent: str | None = None,
    confidence: float | None = None,
    entry_key: str | None = None,
) -> QueuedQuestion | None:
    """Queue a message (masked, cut to MAX_TEXT_CHARS); None for an empty text or a button."""
    text = " ".join(text.split())[:MAX_TEXT_CHARS]
    if not text or text.startswith("/"):
        return None
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    question = QueuedQuestion(
        text=mask(text),
        reason=reason,
        channel=channel,
        family=family,
        intent=intent,
        confidence=confidence,
        entry_key=entry_key,
        entry_version=shown_version(session, entry_key),
    )
    session.add(question)
    session.flush()
    return question


def record_rating(
    session: Session,
    *,
    entry_key: str,
    rating: str,
    channel: str,
    family: str | None = None,
    entry_version: int | None = None,
) -> AnswerRating:
    """Store one rating of an answer; ValueError for a rating other than helpful/unhelpful."""
    if rating not in RATINGS:
        raise ValueError(f"unknown rating {rating!r}")
    stored = AnswerRating(
        entry_key=entry_key,
        entry_version=entry_version,
        rating=rating,
        channel=channel,
        family=family,
    )
    session.add(stored)
    session.flush()
    return stored


@dataclass(frozen=True)
class RatingCount:
    helpful: int = 0
    unhelpful: int = 0


def rating_counts(session: Session) -> dict[str, RatingCount]:
    """Helpful and unhelpful ratings per entry key (entries never rated are absent)."""
    stmt = select(AnswerRating.entry_key, AnswerRating.rating, func.count()).group_by(
        AnswerRating.entry_key, AnswerRating.rating
    )
    counts: dict[str, dict[str, int]] = {}
    for key, rating, n in session.execute(stmt):
        counts.setdefault(key, {})[rating] = n
    return {key: RatingCount(**c) for key, c in counts.items()}


def forget_family(session: Session, family: str) -> int:
    """Delete the queued questions and ratings of one family key; returns the rows deleted."""
    questions = session.execute(delete(QueuedQuestion).where(QueuedQuestion.family == family))
    ratings = session.execute(delete(AnswerRating).where(AnswerRating.family == family))
    return rows_matched(questions) + rows_matched(ratings)


def delete_older_than(session: Session, before: dt.datetime) -> int:
    """Retention: delete queued questions asked before ``before``, and unlink older ratings
    from their family (the counts per entry stay); returns the rows changed."""
    result = session.execute(delete(QueuedQuestion).where(QueuedQuestion.asked_at < before))
    unlinked = session.execute(
        update(AnswerRating)
        .where(AnswerRating.rated_at < before, AnswerRating.family.is_not(None))
        .values(family=None)
    )
    return rows_matched(result) + rows_matched(unlinked)


# --- Grouping ----------------------------------------------------------------------------------


def words(text: str) -> frozenset[str]:
    """The folded content words of ``text`` (stop words dropped), for comparing questions.

    >>> sorted(words("Bố em được ĐẶC XÁ chưa ạ?"))
    ['bo', 'chua']
    """
    return frozenset(t for t in terms(text) if "_" not in t)


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two word sets (1.0 = the same words)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass
class Group:
    """Similar questions, newest first; the newest stands for the group."""

    questions: list[QueuedQuestion] = field(default_factory=list)
    words: frozenset[str] = frozenset()

    @property
    def first(self) -> QueuedQuestion:
        return self.questions[0]

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def families(self) -> int:
        return len({q.family or f"#{q.id}" for q in self.questions})

    @property
    def intents(self) -> list[str]:
        return sorted({q.intent for q in self.questions if q.intent})

    @property
    def channels(self) -> list[str]:
        return sorted({q.channel for q in self.questions})

    @property
    def ids(self) -> list[int]:
        return [q.id for q in self.questions]


def group_questions(
    questions: Sequence[QueuedQuestion], threshold: float = GROUP_OVERLAP
) -> list[Group]:
    """Questions grouped by word overlap with each group's newest question, newest group first.

    Questions without content words are grouped by their folded text.
    """
    ordered = sorted(questions, key=lambda q: (as_utc(q.asked_at), q.id), reverse=True)
    groups: list[Group] = []
    by_text: dict[str, Group] = {}
    for question in ordered:
        found = words(question.text)
        if not found:
            key = fold(normalize(question.text))
            group = by_text.get(key)
            if group is None:
                group = by_text[key] = Group()
                groups.append(group)
            group.questions.append(question)
            continue
        best = max(
            (g for g in groups if g.words),
            key=lambda g: overlap(g.words, found),
            default=None,
        )
        if best is None or overlap(best.words, found) < threshold:
            best = Group(words=found)
            groups.append(best)
        best.questions.append(question)
    return groups


def list_questions(
    session: Session,
    *,
    status: str | None = "open",
    intent: str | None = None,
    channel: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = MAX_GROUPED,
) -> list[QueuedQuestion]:
    """Queued questions, newest first, filtered (days are Vietnamese calendar days)."""
    stmt = select(QueuedQuestion).order_by(QueuedQuestion.asked_at.desc(), QueuedQuestion.id.desc())
    if status:
        stmt = stmt.where(QueuedQuestion.status == status)
    if intent:
        stmt = stmt.where(QueuedQuestion.intent == intent)
    if channel:
        stmt = stmt.where(QueuedQuestion.channel == channel)
    if since:
        stmt = stmt.where(QueuedQuestion.asked_at >= vietnam_midnight(since))
    if until:
        stmt = stmt.where(QueuedQuestion.asked_at < vietnam_midnight(until + dt.timedelta(days=1)))
    return list(session.scalars(stmt.limit(limit)))


def group_of(session: Session, question_id: int) -> Group | None:
    """The group of open questions that the open question ``question_id`` belongs to."""
    for group in group_questions(list_questions(session)):
        if question_id in group.ids:
            return group
    return None


def open_questions(session: Session, ids: Iterable[int]) -> list[QueuedQuestion]:
    """The questions among ``ids`` still waiting (QueueError if none is)."""
    wanted = list(ids)[:MAX_GROUPED]
    stmt = select(QueuedQuestion).where(
        QueuedQuestion.id.in_(wanted), QueuedQuestion.status == "open"
    )
    found = list(session.scalars(stmt.order_by(QueuedQuestion.id.desc())))
    if not found:
        raise QueueError("Các câu hỏi này đã được xử lý (hoặc không còn). Hãy tải lại trang.")
    return found


# --- What staff do with a group ------------------------------------------------------------------


def check_rewrite(rewrite: str, originals: Iterable[str]) -> str:
    """The rewritten question to keep, or QueueError saying why it cannot be kept.

    A rewrite may not carry a phone, ID-card number or e-mail (or their masked remains),
    nor copy an original that had digits.
    """
    text = " ".join(rewrite.split())
    if not text:
        raise QueueError(
            "Hãy viết lại câu hỏi theo cách chung, bỏ tên người, nơi chốn, ngày tháng và số hồ "
            "sơ, rồi mới chuyển đi."
        )
    if len(text) > MAX_QUESTION_CHARS:
        raise QueueError(f"Câu viết lại dài tối đa {MAX_QUESTION_CHARS} ký tự.")
    if mask(text) != text or "**" in text:
        raise QueueError(
            "Câu viết lại vẫn còn số điện thoại, số căn cước/CMND, e-mail hoặc phần số bị che. "
            "Hãy bỏ hẳn các số đó."
        )
    same = word_sequence(text)
    for original in originals:
        if any(ch.isdigit() for ch in original) and word_sequence(original) == same:
            raise QueueError(
                "Câu gốc có chữ số (ngày tháng, số án, số hồ sơ…): hãy viết lại, không chép "
                "nguyên câu của gia đình."
            )
    return text


def word_sequence(text: str) -> list[str]:
    """The folded words of ``text`` in order: punctuation, case and diacritics aside."""
    return _WORD_RE.findall(fold(normalize(text)))


def _resolve(
    session: Session,
    questions: Sequence[QueuedQuestion],
    *,
    actor: str,
    status: str,
    resolution: str,
) -> None:
    now = dt.datetime.now(dt.UTC)
    for question in questions:
        question.status = status
        question.resolution = resolution[:200]
        question.resolved_by = actor
        question.resolved_at = now


def _detail(questions: Sequence[QueuedQuestion], **more: object) -> dict[str, object]:
    return {"questions": [q.id for q in questions], **more}


def for_new_entry(
    session: Session, questions: Sequence[QueuedQuestion], rewrite: str, *, actor: str
) -> str:
    """Close the group for a new entry; returns the rewrite that the entry form starts with."""
    text = check_rewrite(rewrite, (q.text for q in questions))
    _resolve(session, questions, actor=actor, status="done", resolution="Tạo mục hỏi đáp mới")
    audit(session, actor, "queue_to_new_entry", "", _detail(questions, rewrite=text))
    return text


def add_to_entry(
    session: Session,
    questions: Sequence[QueuedQuestion],
    entry: Entry,
    rewrite: str,
    *,
    actor: str,
) -> str:
    """Add the rewrite to the entry's example questions (a new version, used at once)."""
    text = check_rewrite(rewrite, (q.text for q in questions))
    if word_sequence(text) not in [word_sequence(q) for q in entry.questions]:
        if len(entry.questions) >= 200:
            raise QueueError("Mục này đã có 200 câu hỏi mẫu; hãy bớt câu cũ trước.")
        update_entry(session, entry, {"questions": [*entry.questions, text]}, actor=actor)
    _resolve(
        session,
        questions,
        actor=actor,
        status="done",
        resolution=f"Câu hỏi mẫu của mục {entry.key}",
    )
    audit(session, actor, "queue_to_entry", entry.key, _detail(questions, rewrite=text))
    return text


def mark_training(
    session: Session,
    questions: Sequence[QueuedQuestion],
    intent: str,
    rewrite: str,
    *,
    actor: str,
) -> StaffTrainingExample:
    """Keep the rewrite as a training example of ``intent`` (exported by export-training)."""
    if intent not in ALL_INTENTS:
        raise QueueError(f"Ý định {intent!r} không có trong danh sách; hãy chọn một ý định.")
    text = check_rewrite(rewrite, (q.text for q in questions))
    example = StaffTrainingExample(intent=intent, text=text, created_by=actor)
    session.add(example)
    _resolve(session, questions, actor=actor, status="done", resolution=f"Câu huấn luyện: {intent}")
    session.flush()
    audit(session, actor, "queue_to_training", intent, _detail(questions, rewrite=text))
    return example


def dismiss(session: Session, questions: Sequence[QueuedQuestion], *, actor: str) -> None:
    """Take the group out of the queue without using it."""
    _resolve(session, questions, actor=actor, status="dismissed", resolution="Bỏ qua")
    audit(session, actor, "queue_dismissed", "", _detail(questions))
