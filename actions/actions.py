"""The actions: answer from the knowledge base, greet, point to a person, fallbacks."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import wants_to_send
from knowledge.answers import fill, render
from knowledge.case_text import states_case
from knowledge.db import session_factory
from knowledge.queries import choose_entry, entry_by_key, get_round
from knowledge.topics import CASE_INTENTS, ENTRY_FOR_INTENT, INTENT_LABELS, TOPIC_FOR_INTENT
from settings import Settings, get_settings

logger = logging.getLogger(__name__)

DomainDict = dict[str, Any]

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


def _buttons(intents: list[str]) -> list[dict[str, str]]:
    return [{"title": INTENT_LABELS[i], "payload": f"/{i}"} for i in intents]


def _text(template: str, settings: Settings) -> str:
    return fill(template, settings.department, settings.contact)


Buttons = list[dict[str, str]]


def answer_messages(intent: str, text: str, settings: Settings) -> tuple[list[str], Buttons]:
    """The messages that answer ``text`` recognised as ``intent`` (knowledge base read), and
    the buttons of the last one: the case check for a case, sending for a complaint."""
    topic = TOPIC_FOR_INTENT.get(intent, "out_of_scope")
    with session_factory(settings.database_url)() as session:
        entry = entry_by_key(session, ENTRY_FOR_INTENT.get(intent, ""))
        if entry is None:
            choice = choose_entry(session, topic, text, settings.current_round)
            if choice is None:
                return [_text(OUT_OF_SCOPE, settings)], []
            entry = choice.entry
        round_ = None
        if topic == "ask_conditions" and entry.round == "law":
            round_ = get_round(session, settings.current_round)
        has_case_facts = states_case(text)
        case = intent in CASE_INTENTS or has_case_facts
        messages = render(
            entry,
            department=settings.department,
            contact=settings.contact,
            current_round=round_,
            case_specific=case,
        )
    buttons: Buttons = []
    if has_case_facts and intent != "give_feedback":
        messages.append(CASE_HINT if topic == "ask_conditions" else CHECK_OFFER)
        buttons.append(CHECK_BUTTON)
    if intent == "give_feedback" or wants_to_send(text):
        messages.append(FEEDBACK_OFFER)
        buttons.append(FEEDBACK_BUTTON)
    return messages, buttons


class ActionAnswer(Action):
    """Answers a content question with the best-matching published entry of its topic."""

    def name(self) -> str:
        return "action_answer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        settings = get_settings()
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name") or "out_of_scope"
        try:
            messages, buttons = answer_messages(intent, message.get("text") or "", settings)
        except Exception:
            logger.exception("action_answer failed for intent %s", intent)
            dispatcher.utter_message(text=_text(APOLOGY, settings))
            return []
        for text in messages[:-1]:
            dispatcher.utter_message(text=text)
        dispatcher.utter_message(text=messages[-1], buttons=buttons)
        return []


class ActionGreet(Action):
    """The first greeting: what the assistant is, and that no personal data is needed."""

    def name(self) -> str:
        return "action_greet"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=_text(NOTICE, get_settings()), buttons=_buttons(MENU))
        return []


class ActionHuman(Action):
    """How to reach the department (configured; never invented)."""

    def name(self) -> str:
        return "action_human"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=_text(HUMAN, get_settings()))
        return []


class ActionAskAffirmation(Action):
    """First stage of the two-stage fallback: "did you mean..." with buttons."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        ranking = message.get("intent_ranking") or []
        candidates = [
            r["name"]
            for r in ranking
            if r.get("name") in INTENT_LABELS and r["name"] not in {"out_of_scope"}
        ][:2]
        if states_case(message.get("text") or "") and "check_eligibility" not in candidates:
            candidates = [*candidates[:1], "check_eligibility"]
        buttons = [
            *_buttons(candidates),
            {"title": "Không phải các ý trên", "payload": "/out_of_scope"},
        ]
        dispatcher.utter_message(text="Có phải bạn muốn hỏi về:", buttons=buttons)
        return []


class ActionDefaultFallback(Action):
    """Last stage: the assistant says it did not understand and where to ask instead."""

    def name(self) -> str:
        return "action_default_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=_text(NOT_UNDERSTOOD, get_settings()))
        return [UserUtteranceReverted()]
