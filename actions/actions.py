"""The actions: answer any message through the router, greet, point to a person, ratings."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.messages import raw_text
from actions.router import DID_YOU_MEAN, Routed, route, topic_overview
from knowledge.channels import channel_of
from knowledge.db import session_factory
from knowledge.kb.answers import fill
from knowledge.kb.queue import (
    family_key,
    family_salt,
    record_question,
    record_rating,
    shown_version,
)
from knowledge.kb.topics import INTENT_LABELS
from settings import Settings, get_settings

logger = logging.getLogger(__name__)

APOLOGY = (
    "Xin lỗi, hệ thống đang gặp sự cố nên chưa trả lời được câu này. Bạn vui lòng thử lại "
    "sau ít phút, hoặc liên hệ {department} qua {contact}."
)
NOTICE = (
    "Xin chào! Tôi là trợ lý tự động của {department} về đặc xá. Tôi giải thích điều kiện, "
    "thủ tục, hồ sơ và nhận ý kiến của gia đình. Thông tin tôi đưa ra chỉ để tham khảo, "
    "không phải quyết định. Bạn không cần cho biết họ tên hay số điện thoại để hỏi."
)
CASE_HINT = (
    "Gia đình có thể so từng điều kiện trên với trường hợp của người thân (mức án, thời gian "
    "đã chấp hành tính đến mốc của đợt xét, xếp loại chấp hành án, việc nộp án phí, tiền "
    "phạt, bồi thường), hoặc bấm nút dưới đây để tôi kiểm tra cùng gia đình từng bước."
)
CHECK_OFFER = (
    "Nếu muốn, tôi có thể cùng gia đình kiểm tra từng điều kiện đặc xá với trường hợp của "
    "người thân: bấm nút dưới đây."
)
CHECK_BUTTON = {"title": "Kiểm tra từng bước", "payload": "/check_eligibility"}
NONE_OF_THESE = {"title": "Không phải các ý trên", "payload": "/out_of_scope"}
# The question last answered, so a follow-up that only adds facts continues it.
LAST_QUESTION = "last_question"
FEEDBACK_OFFER = (
    "Gia đình muốn gửi ý kiến, khiếu nại hay phản ánh này cho cán bộ qua trợ lý? Bấm nút dưới "
    "đây; tôi ghi lại nguyên văn và cho mã để tra cứu."
)
FEEDBACK_BUTTON = {
    "title": "Gửi ý kiến cho cán bộ",
    "payload": '/give_feedback{"feedback_send":"yes"}',
}
OUT_OF_SCOPE = (
    "Câu hỏi này nằm ngoài phạm vi của tôi: tôi chỉ trả lời về đặc xá và những việc gần với "
    "đặc xá (giảm án, hoãn, tạm đình chỉ, tha tù trước thời hạn, thăm gặp). Với việc khác, "
    "bạn vui lòng liên hệ {department} qua {contact}."
)
NOT_UNDERSTOOD = (
    'Xin lỗi, tôi vẫn chưa hiểu ý bạn. Bạn có thể hỏi ngắn gọn về một việc, ví dụ "điều '
    'kiện đặc xá", "hồ sơ cần gì", "khi nào có đợt đặc xá". Nếu cần gặp cán bộ, bạn '
    "hãy liên hệ {department} qua {contact}."
)
HUMAN = (
    "Tôi là trợ lý tự động nên không thay được cán bộ. Để được cán bộ giải đáp trực tiếp, "
    "bạn hãy liên hệ {department} qua {contact}, hoặc hỏi trực tiếp trại giam nơi người thân "
    "đang chấp hành án."
)
MENU = ["ask_conditions", "ask_procedure", "ask_documents", "ask_fees", "give_feedback"]
# The slot that remembers which entry answered last, for the rating buttons under it.
ANSWERED_ENTRY = "answered_entry"
RATE = "rate_answer"
NOT_RATED = "Cảm ơn bạn. Bạn cứ hỏi tiếp nếu cần."
RATE_PROMPT = "Bạn thấy câu trả lời vừa rồi thế nào? Bấm một nút dưới đây."
RATE_BUTTONS = [
    {"title": "Hữu ích", "payload": '/rate_answer{"rating":"helpful"}'},
    {"title": "Chưa hữu ích", "payload": '/rate_answer{"rating":"unhelpful"}'},
]


def _buttons(intents: list[str]) -> list[dict[str, str]]:
    return [{"title": INTENT_LABELS[i], "payload": f"/{i}"} for i in intents]


def _text(template: str, settings: Settings) -> str:
    return fill(template, settings.department, settings.contact)


Buttons = list[dict[str, str]]


def record(
    tracker: Tracker,
    settings: Settings,
    reason: str,
    message: dict[str, Any] | None = None,
    **facts: Any,
) -> None:
    """Queue a message (default: the latest) for staff, masked; a failure is logged, never
    raised, so the reply goes out anyway."""
    message = message if message is not None else tracker.latest_message or {}
    text = message.get("text_original") or message.get("text") or ""
    try:
        family = family_key(family_salt(settings), tracker.sender_id)
        with session_factory(settings.database_url).begin() as session:
            record_question(
                session,
                text=str(text),
                reason=reason,
                channel=channel_of(tracker.sender_id),
                family=family,
                **facts,
            )
    except Exception:
        logger.exception("could not queue a %s question for staff", reason)


def rate(tracker: Tracker, settings: Settings, rating: str, entry_key: str) -> None:
    """Store a family's rating of the entry; a failure is logged, never raised."""
    try:
        family = family_key(family_salt(settings), tracker.sender_id)
        with session_factory(settings.database_url).begin() as session:
            record_rating(
                session,
                entry_key=entry_key,
                entry_version=shown_version(session, entry_key),
                rating=rating,
                channel=channel_of(tracker.sender_id),
                family=family,
            )
    except Exception:
        logger.exception("could not store a rating of %s", entry_key)


def closest_intent(message: dict[str, Any]) -> tuple[str | None, float | None]:
    """The best-ranked real intent of a message (not the fallback) and its confidence."""
    for ranked in message.get("intent_ranking") or [message.get("intent") or {}]:
        if ranked.get("name") and ranked["name"] != "nlu_fallback":
            return ranked["name"], ranked.get("confidence")
    return None, None


def _dispatch(dispatcher: CollectingDispatcher, messages: list[str], buttons: Buttons) -> None:
    for text in messages[:-1]:
        dispatcher.utter_message(text=text)
    dispatcher.utter_message(text=messages[-1], buttons=buttons)


def buttons_for(routed: Routed) -> Buttons:
    """The case check for a case it can settle, sending for a complaint or an urgent message,
    "did you mean" topics, or else the rating buttons under an answer."""
    if routed.kind == "did_you_mean":
        return [*_buttons(routed.did_you_mean), NONE_OF_THESE]
    buttons: Buttons = []
    if routed.offer_check:
        buttons.append(CHECK_BUTTON)
    if routed.offer_feedback:
        buttons.append(FEEDBACK_BUTTON)
    if not buttons and routed.entries and routed.kind in ("answer", "decline"):
        buttons = RATE_BUTTONS
    return buttons


def _last_bot_text(tracker: Tracker) -> str:
    """What the assistant said last, before the latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return event.get("text") or ""
    return ""


def answer(tracker: Tracker, settings: Settings) -> Routed:
    """Route the latest message: the family's words as sent. A button press under "did you
    mean" re-asks the question it was offered for, under the topic chosen; any other button
    (the menu) asks about its topic."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    confidence = (message.get("intent") or {}).get("confidence")
    text = message.get("text_original") or raw_text(tracker) or message.get("text") or ""
    previous = tracker.get_slot(LAST_QUESTION)
    menu = text.startswith("/") and not _last_bot_text(tracker).startswith(DID_YOU_MEAN)
    if text.startswith("/"):
        text, previous = previous or "", None
    with session_factory(settings.database_url)() as session:
        if menu and (overview := topic_overview(intent or "", session=session, settings=settings)):
            return overview
        return route(
            text,
            intent=intent,
            confidence=confidence,
            session=session,
            settings=settings,
            previous=previous,
        )


class ActionAnswer(Action):
    """Every content question, the fallback and yes/no: the router decides the reply."""

    def name(self) -> str:
        return "action_answer"

    def run(  # type: ignore[override]  # rasa_sdk awaits run() only if async
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        settings = get_settings()
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        confidence = (message.get("intent") or {}).get("confidence")
        try:
            routed = answer(tracker, settings)
        except Exception:
            logger.exception("action_answer failed for intent %s", intent)
            dispatcher.utter_message(text=_text(APOLOGY, settings))
            return []
        _dispatch(dispatcher, routed.messages, buttons_for(routed))
        facts = {"intent": intent, "confidence": confidence}
        entry = routed.entries[0] if routed.entries else None
        if routed.kind == "did_you_mean":
            record(tracker, settings, "did_you_mean", **facts)
        elif routed.kind == "decline" and entry is None:
            record(tracker, settings, "no_match", **facts, entry_key=None)
        elif confidence is not None and confidence < settings.queue_min_confidence:
            record(tracker, settings, "low_confidence", **facts, entry_key=entry)
        return [SlotSet(ANSWERED_ENTRY, entry), SlotSet(LAST_QUESTION, routed.question)]


class ActionGreet(Action):
    """The first greeting: what the assistant is, and that no personal data is needed."""

    def name(self) -> str:
        return "action_greet"

    def run(  # type: ignore[override]  # rasa_sdk awaits run() only if async
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=_text(NOTICE, get_settings()), buttons=_buttons(MENU))
        return []


class ActionHuman(Action):
    """How to reach the department (configured; never invented)."""

    def name(self) -> str:
        return "action_human"

    def run(  # type: ignore[override]  # rasa_sdk awaits run() only if async
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=_text(HUMAN, get_settings()))
        return []


RATED_HELPFUL = "Cảm ơn bạn đã cho biết. Nếu còn điều gì chưa rõ, bạn cứ hỏi tiếp."
RATED_UNHELPFUL = (
    "Cảm ơn bạn. Tôi đã ghi lại câu hỏi này (số điện thoại, số giấy tờ được che đi) để cán bộ "
    "xem và bổ sung câu trả lời. Bạn có thể hỏi lại bằng cách khác, hoặc liên hệ {department} "
    "qua {contact}."
)


def rated_question(tracker: Tracker) -> dict[str, Any]:
    """The parse of the family's last message that was not a rating (the question answered)."""
    for event in reversed(tracker.events):
        parse = event.get("parse_data") or {}
        if event.get("event") == "user" and (parse.get("intent") or {}).get("name") != RATE:
            return {"text": event.get("text") or "", **parse}
    return {}


class ActionRateAnswer(Action):
    """Stores a "useful / not useful" on the last answer; a not-useful one joins the queue."""

    def name(self) -> str:
        return "action_rate_answer"

    def run(  # type: ignore[override]  # rasa_sdk awaits run() only if async
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        settings = get_settings()
        rating = next(tracker.get_latest_entity_values("rating"), None)
        entry_key = tracker.get_slot(ANSWERED_ENTRY)
        if not entry_key:
            dispatcher.utter_message(text=NOT_RATED)
            return []
        if rating not in ("helpful", "unhelpful"):  # typed, not a button: offer the buttons
            dispatcher.utter_message(text=RATE_PROMPT, buttons=RATE_BUTTONS)
            return []
        rate(tracker, settings, rating, str(entry_key))
        if rating == "unhelpful":
            question = rated_question(tracker)
            intent = question.get("intent") or {}
            record(
                tracker,
                settings,
                "unhelpful",
                message=question,
                intent=intent.get("name"),
                confidence=intent.get("confidence"),
                entry_key=str(entry_key),
            )
        reply = RATED_HELPFUL if rating == "helpful" else _text(RATED_UNHELPFUL, settings)
        dispatcher.utter_message(text=reply)
        return [SlotSet(ANSWERED_ENTRY, None)]
