"""Families' feedback: a short Rasa form, saved before the family is told, and status look-up.

The form asks the kind, the content in the family's own words (the raw message, kept whole),
the facility, and contact details only if the family wants an answer, after saying why and
for how long they are kept. It reads back a summary, then ``knowledge.feedback.spool.save`` commits
the item, or spools it when the database cannot be written, and the family gets a reference.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import phonenumbers
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.messages import raw_text, starting_text, stopped
from knowledge.channels import channel_of
from knowledge.db import session_factory
from knowledge.feedback.items import (
    KIND_LABELS,
    STATUS_LABELS,
    FeedbackDraft,
    is_urgent,
    items_of_sender,
    look_up,
    parse_reference,
    reference,
)
from knowledge.feedback.lookup import LookupThrottle, code_in, new_code, throttle, with_code
from knowledge.feedback.spool import Spool, SpoolWorker, save, spool_directory
from knowledge.kb.choose import Pick
from knowledge.kb.compose import compose
from knowledge.kb.queries import entry_by_key
from knowledge.kb.reading import Question, read, urgent_kind
from knowledge.masking import mask, mask_name
from knowledge.staff import audit
from settings import Settings, get_settings
from vietnamese.text import fold

logger = logging.getLogger(__name__)

SLOTS = ("fb_kind", "fb_content", "fb_facility", "fb_contact", "fb_name", "fb_phone", "fb_confirm")
CONTACT_SLOTS = ("fb_name", "fb_phone")
NO = re.compile(r"^\W*(khong|ko|k|chua|thoi|bo qua|khong can|khong muon|khong co)\b")
YES = re.compile(r"^\W*(co|dong y|vang|u|ok|duoc|muon|gui|dung)\b")
KINDS = (
    (
        r"(doi|xin|dua|nhan)( \w+){0,3} (tien|trieu)|\d+ trieu|chay an|chay dac xa|hoi lo|"
        r"tieu cuc|danh dap|bi danh|nguoc dai|sai pham|lua dao|to cao",
        "misconduct",
    ),
    (
        r"khieu nai|khong co ten|bi loai|khong cho lam don|khong nhan don|xep loai sai|"
        r"khong cong bang|that lac",
        "process_complaint",
    ),
    (r"gop y|de nghi|kien nghi|nen co|mong|khen|cam on|biet on", "suggestion"),
    (r"hoi|cau hoi|thac mac", "question"),
)
KIND_ANSWERS = {
    "khieu nai": "process_complaint",
    "to cao": "misconduct",
    "doi tien": "misconduct",
    "gop y": "suggestion",
    "cau hoi": "question",
    "hoi": "question",
}
QUESTION = re.compile(
    r"\?\s*$|\b(o dau|cho ai|the nao|bao lau|ai giai quyet|duoc khong|khong a)\W*$"
)
FACILITY = re.compile(r"\b(trại (?:tạm )?giam[^,.;!?\n]{0,40}|trai (?:tam )?giam[^,.;!?\n]{0,40})")
MIN_STORY_WORDS = 12
URGENT = (
    "Nếu tính mạng, sức khỏe của người thân đang gặp nguy hiểm, gia đình hãy gọi ngay 113 "
    "(Công an) hoặc 115 (Cấp cứu), đừng chờ trả lời qua trợ lý. Ý kiến này sẽ được đánh dấu "
    "khẩn để cán bộ xem trước."
)
# What to do next after an item is recorded: the knowledge base's own entry, so the route told
# here is the one the complaint answers give (one source, kept current by staff).
NEXT_STEPS = {
    "misconduct": "fees_asked_for_money",
    "custody": "custody_harm_complain_or_denounce",
    "default": "complaints_route",
}


def next_steps(kind: str | None, text: str, settings: Settings) -> list[str]:
    """The entry that tells the family where the formal complaint goes, as messages."""
    measure = read(text).measure
    key = NEXT_STEPS["misconduct" if kind == "misconduct" else "default"]
    if kind != "misconduct" and (measure == "custody_harm" or urgent_kind(text) in URGENT_HARM):
        key = NEXT_STEPS["custody"]
    with session_factory(settings.database_url)() as session:
        entry = entry_by_key(session, key)
        if entry is None:
            return []
        question = Question(entry.title, entry.measure, entry.facet, True)
        return compose(
            [Pick(question, entry, 0.0)], department=settings.department, contact=settings.contact
        ).messages


URGENT_HARM = ("harm", "death", "dying")

_workers: dict[str, SpoolWorker] = {}


def _settings() -> Settings:
    return get_settings()


def kind_of(text: str) -> str | None:
    folded = fold(text)
    return next((kind for words, kind in KINDS if re.search(rf"\b({words})", folded)), None)


SEND_WORDS = re.compile(
    r"\b(muon|xin|can|se) (khieu nai|to cao|to giac|phan anh|gop y|kien nghi)\b"
)


def wants_to_send(text: str) -> bool:
    """Whether a message says the family wants to complain or report ("em muốn khiếu nại")."""
    return bool(SEND_WORDS.search(fold(text)))


def valid_phone(text: str) -> str | None:
    """A Vietnamese phone number in the text, in E.164 form, or None."""
    for match in phonenumbers.PhoneNumberMatcher(text, "VN"):
        if phonenumbers.is_valid_number(match.number):
            return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


class ValidateFeedbackForm(FormValidationAction):
    """Asks only what is missing; contact details only when the family wants an answer."""

    def name(self) -> str:
        return "validate_feedback_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if stopped(tracker) or tracker.get_slot("fb_confirm") == "cancel":
            return []
        wanted = tracker.get_slot("fb_contact") is True
        return [s for s in SLOTS if wanted or s not in CONTACT_SLOTS]

    def extract_fb_kind(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """On the turn the form starts: a story told before the button is the content."""
        if tracker.get_slot("requested_slot") is not None:
            return {}
        story = starting_text(tracker)
        if len(story.split()) < MIN_STORY_WORDS or QUESTION.search(fold(story)):
            return {}
        found: dict[str, Any] = {"fb_content": story}
        kind = kind_of(story)
        if kind:
            found["fb_kind"] = kind
        facility = FACILITY.search(story)
        if facility:
            found["fb_facility"] = facility.group(1).strip()
        if is_urgent(story):
            dispatcher.utter_message(text=URGENT)
        return found

    def validate_fb_kind(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value in KIND_LABELS:
            return {"fb_kind": value}
        folded = fold(str(value or ""))
        kind = next((k for words, k in KIND_ANSWERS.items() if words in folded), None)
        kind = kind or kind_of(str(value or ""))
        if kind is None:
            dispatcher.utter_message(text='Bạn chọn một nút giúp tôi, hoặc gõ "dừng" để thôi.')
        return {"fb_kind": kind}

    def validate_fb_content(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "fb_content":
            return {"fb_content": value}  # taken from the story that started the form
        text = raw_text(tracker)
        if len(text) < 2:
            dispatcher.utter_message(text="Nội dung còn trống. Bạn viết lại giúp tôi nhé.")
            return {"fb_content": None}
        if is_urgent(text):
            dispatcher.utter_message(text=URGENT)
        return {"fb_content": text}

    def validate_fb_facility(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"fb_facility": "" if NO.match(fold(text)) else text[:300]}

    def validate_fb_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"fb_contact": value}
        folded = fold(str(value or ""))
        if NO.match(folded):
            return {"fb_contact": False}
        if YES.match(folded):
            return {"fb_contact": True}
        dispatcher.utter_message(text='Bạn chọn "Có" hoặc "Không" giúp tôi.')
        return {"fb_contact": None}

    def validate_fb_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = raw_text(tracker)
        if NO.match(fold(text)):
            return self._no_contact(dispatcher)
        return {"fb_name": text[:200]}

    def validate_fb_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = raw_text(tracker)
        if NO.match(fold(text)):
            return self._no_contact(dispatcher)
        phone = valid_phone(text)
        if phone is None:
            dispatcher.utter_message(
                text="Số điện thoại chưa đúng (ví dụ: 0912 345 678). Bạn gõ lại, hoặc gõ "
                '"không" nếu không muốn để lại số.'
            )
        return {"fb_phone": phone}

    def _no_contact(self, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        dispatcher.utter_message(
            text="Được, tôi không ghi thông tin liên lạc. Ý kiến vẫn được ghi nhận; gia đình "
            "xem kết quả bằng mã tra cứu trong cuộc trò chuyện này."
        )
        return {"fb_contact": False, "fb_name": None, "fb_phone": None}

    def validate_fb_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        folded = fold(str(value or ""))
        if re.match(r"^\W*(sua|viet lai)", folded):
            return {"fb_confirm": None, "fb_content": None}
        if re.match(r"^\W*(huy|khong gui|thoi)", folded):
            return {"fb_confirm": "cancel"}
        if YES.match(folded):
            return {"fb_confirm": "send"}
        dispatcher.utter_message(text='Bạn chọn "Gửi", "Sửa nội dung" hoặc "Hủy" giúp tôi.')
        return {"fb_confirm": None}


class ActionAskFbContact(Action):
    """Before any personal data: why it is asked, who sees it, how long it is kept."""

    def name(self) -> str:
        return "action_ask_fb_contact"

    def run(  # type: ignore[override]  # rasa_sdk awaits run() only if async
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        settings = _settings()
        dispatcher.utter_message(
            text=(
                "Gia đình có muốn cán bộ liên hệ trả lời không? Nếu có, tôi sẽ hỏi họ tên và số "
                f"điện thoại. Chỉ cán bộ tiếp nhận ý kiến của {settings.department} được xem, "
                "chỉ để trả lời ý kiến này; khi ý kiến đã xong, trợ lý xóa thông tin liên lạc sau "
                f"{settings.retention_days} ngày (thời hạn lưu giữ do {settings.department} đặt; "
                "dữ liệu cá nhân được xử lý theo Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15). "
                "Gia đình có thể không cho: ý kiến vẫn được ghi nhận."
            ),
            buttons=[
                {"title": "Có, tôi muốn được trả lời", "payload": "có"},
                {"title": "Không, chỉ gửi ý kiến", "payload": "không"},
            ],
        )
        return []


def summary(slots: dict[str, Any]) -> str:
    content = slots.get("fb_content") or ""
    shown = (
        content if len(content) <= 600 else content[:600] + f"… (còn {len(content) - 600} ký tự)"
    )
    lines = [
        "Tôi đọc lại để gia đình kiểm tra:",
        f"- Loại: {KIND_LABELS.get(slots.get('fb_kind') or '', '')}",
        f"- Nơi giam giữ: {slots.get('fb_facility') or 'không nêu'}",
        f"- Nội dung: {shown}",
    ]
    if slots.get("fb_contact"):
        name, phone = slots.get("fb_name") or "", slots.get("fb_phone") or ""
        lines.append(f"- Liên hệ: {mask_name(name)}, {mask(phone)}")
    else:
        lines.append("- Liên hệ: không để lại")
    return "\n".join(lines)


class ActionAskFbConfirm(Action):
    """Reads back a short summary before saving."""

    def name(self) -> str:
        return "action_ask_fb_confirm"

    def run(  # type: ignore[override]  # rasa_sdk awaits run() only if async
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            text=summary(dict(tracker.slots)),
            buttons=[
                {"title": "Gửi", "payload": "gửi"},
                {"title": "Sửa nội dung", "payload": "sửa"},
                {"title": "Hủy", "payload": "hủy"},
            ],
        )
        return []


def excerpt(tracker: Tracker, turns: int = 16) -> tuple[dict[str, Any], ...]:
    """The conversation around the item: the last user and bot turns, as they were."""
    kept = [
        {"who": e["event"], "text": e.get("text") or "", "at": e.get("timestamp")}
        for e in tracker.events
        if e.get("event") in ("user", "bot")
    ]
    return tuple(kept[-turns:])


def draft_from(tracker: Tracker) -> FeedbackDraft:
    message = tracker.latest_message or {}
    metadata = message.get("metadata") or {}
    key = metadata.get("delivery_key") or f"{tracker.sender_id}:{message.get('message_id')}"
    content = tracker.get_slot("fb_content") or ""
    channel = channel_of(tracker.sender_id)
    wanted = tracker.get_slot("fb_contact") is True
    return FeedbackDraft(
        kind=tracker.get_slot("fb_kind") or "question",
        content=content,
        channel=channel,
        sender_id=tracker.sender_id,
        delivery_key=str(key),
        facility=tracker.get_slot("fb_facility") or None,
        contact_name=tracker.get_slot("fb_name") if wanted else None,
        contact_phone=tracker.get_slot("fb_phone") if wanted else None,
        urgent=is_urgent(content),
        excerpt=excerpt(tracker),
    )


def _spool(settings: Settings) -> Spool:
    """The spool, with its retry worker started on first use (not at import)."""
    spool = Spool(spool_directory(settings))
    if settings.database_url not in _workers:
        worker = SpoolWorker(
            spool, session_factory(settings.database_url), settings.spool_retry_seconds
        )
        worker.start()
        _workers[settings.database_url] = worker
    return spool


class ActionFeedbackSubmit(Action):
    """Saves the item (database, else the durable spool), then tells the family."""

    def name(self) -> str:
        return "action_feedback_submit"

    def run(  # type: ignore[override]  # rasa_sdk awaits run() only if async
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clear = [SlotSet(s, None) for s in SLOTS]
        if stopped(tracker) or tracker.get_slot("fb_confirm") != "send":
            dispatcher.utter_message(text="Đã hủy, tôi không lưu ý kiến này.")
            return clear
        settings = _settings()
        code = new_code()  # given with the reference: "tra cứu" needs both
        draft = with_code(draft_from(tracker), code)
        try:
            saved = save(session_factory(settings.database_url), _spool(settings), draft)
        except (OSError, ValueError):
            logger.exception("feedback could not be kept")
            dispatcher.utter_message(
                text="Xin lỗi, hệ thống chưa lưu được ý kiến. Gia đình vui lòng gửi lại sau ít "
                f"phút, hoặc liên hệ {settings.department} qua {settings.contact}."
            )
            return clear
        if draft.urgent:
            dispatcher.utter_message(text=URGENT)
        if saved.reference:
            told = (
                f"Đã ghi nhận ý kiến của gia đình. Mã tra cứu: {saved.reference}, mã bí mật: "
                f'{code} (gia đình giữ riêng mã bí mật). Nhắn "tra cứu {saved.reference} {code}" '
                "để xem tình trạng và câu trả lời."
            )
        else:
            told = (
                "Hệ thống lưu trữ đang bận, nhưng ý kiến của gia đình đã được giữ lại an toàn và "
                f"sẽ tự động vào sổ của cán bộ. Mã bí mật của ý kiến này: {code} (gia đình giữ "
                'riêng). Ít phút nữa, gia đình nhắn "tra cứu ý kiến" để nhận mã tra cứu, rồi '
                "nhắn mã tra cứu kèm mã bí mật để xem tình trạng."
            )
        dispatcher.utter_message(text=told)
        try:
            for message in next_steps(draft.kind, draft.content, settings):
                dispatcher.utter_message(text=message)
        except Exception:  # the item is saved; only the reminder of the route is missing
            logger.exception("could not read the complaint route from the knowledge base")
        return clear


class ActionFeedbackStatus(Action):
    """ "tra cứu PA-2026-000123": the status and any answer, only for the family's own items."""

    def name(self) -> str:
        return "action_feedback_status"

    def run(  # type: ignore[override]  # rasa_sdk awaits run() only if async
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        settings = _settings()
        text = raw_text(tracker)
        try:
            with session_factory(settings.database_url).begin() as session:
                reply = status_reply(session, tracker.sender_id, text, throttle(settings))
        except Exception:
            logger.exception("feedback look-up failed")
            reply = "Xin lỗi, hệ thống đang gặp sự cố nên chưa tra cứu được. Bạn thử lại sau nhé."
        dispatcher.utter_message(text=reply)
        return []


NEEDS_CODE = (
    "Để xem tình trạng và câu trả lời, gia đình nhắn mã tra cứu kèm mã bí mật 6 chữ số được "
    'cho khi gửi ý kiến, ví dụ: "tra cứu PA-2026-000123 482913".'
)


def status_reply(session: Any, sender_id: str, text: str, limits: LookupThrottle) -> str:
    """What a family sees when it asks for the status of its feedback (the caller commits:
    every look-up is audited)."""
    wanted = parse_reference(text)
    if wanted is None:
        items = items_of_sender(session, sender_id)[:5]
        if not items:
            return (
                "Tôi chưa thấy ý kiến nào gửi từ cuộc trò chuyện này. Nếu gia đình có mã tra "
                "cứu (dạng PA-2026-000123), hãy nhắn mã đó kèm mã bí mật 6 chữ số."
            )
        refs = "\n".join(f"- {reference(i)}" for i in items)
        return f"Ý kiến gia đình đã gửi từ cuộc trò chuyện này:\n{refs}\n{NEEDS_CODE}"
    match = re.search(r"(?i)\bPA[\s-]*\d{4}[\s-]*\d{1,6}\b", text)
    asked = match.group(0) if match else text
    channel = channel_of(sender_id)
    if not limits.allow(f"PA:{wanted}", sender_id):
        audit(session, None, "feedback_lookup", asked[:40], {"channel": channel, "refused": True})
        return (
            "Gia đình đã tra cứu nhiều lần trong thời gian ngắn. Vì an toàn, xin vui lòng thử "
            "lại sau khoảng một giờ."
        )
    code = code_in(text)
    item = look_up(session, asked, code=code, sender_id=sender_id)
    detail = {"channel": channel, "found": item is not None, "code_given": code is not None}
    audit(session, None, "feedback_lookup", asked[:40], detail)
    if item is None and code is None:
        return NEEDS_CODE
    if item is None:
        return (
            "Không tìm thấy ý kiến nào với mã tra cứu và mã bí mật này. Gia đình kiểm tra lại "
            "hai mã đã được cho khi gửi ý kiến."
        )
    lines = [f"Ý kiến {reference(item)}: {STATUS_LABELS.get(item.status, item.status)}."]
    if item.answer:
        lines.append(f"Trả lời của cán bộ: {item.answer}")
    return "\n".join(lines)
