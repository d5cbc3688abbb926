"""The fixed intent contract (docs/intents.md) as seen by the knowledge base."""

CONTENT_INTENTS = (
    "ask_conditions",
    "ask_exclusions",
    "ask_procedure",
    "ask_documents",
    "ask_after_release",
    "ask_results",
    "ask_fees",
    "give_feedback",
    "ask_other_measures",
    "check_eligibility",
)
CONVERSATION_INTENTS = (
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "ask_human",
    "bot_challenge",
    "out_of_scope",
)
ALL_INTENTS = CONTENT_INTENTS + CONVERSATION_INTENTS

# Topics an entry may have: every content intent that has its own answers, plus
# out_of_scope for pointer answers (visits, letters, money...).
TOPICS = (*(i for i in CONTENT_INTENTS if i != "check_eligibility"), "out_of_scope")

# A check request (answered in conversation by the eligibility form) has its entries among
# the conditions.
TOPIC_FOR_INTENT = {intent: intent for intent in TOPICS} | {"check_eligibility": "ask_conditions"}

# When a check request is answered from the knowledge base (the entry-choice benchmark), the
# entry is the one that shows how to compare a case with the conditions.
ENTRY_FOR_INTENT = {"check_eligibility": "conditions_case_question"}

# Intents about the amnesty itself (a neighbouring or out-of-scope question must not land here).
AMNESTY_INTENTS = frozenset(
    {
        "ask_conditions",
        "ask_exclusions",
        "ask_procedure",
        "ask_documents",
        "ask_results",
        "check_eligibility",
    }
)

# Answers about one person's case end with the reminder that only the councils decide.
CASE_INTENTS = frozenset({"ask_conditions", "ask_exclusions", "check_eligibility"})

ROUND_IDS = ("law", "2024", "2025-1", "2025-2", "2026")
ROUND_STATUSES = ("considering", "completed", "unknown")

# What a question is about, finer than the intents (docs/knowledge-format.md).
MEASURES = (
    "amnesty",
    "reduction",
    "special_reduction",
    "early_release",
    "postponement",
    "suspension",
    "suspended_sentence",
    "exemption",
    "commutation",
    "record_clearing",
    "civil_judgment",
    "after_release",
    "detention",
    "prison_life",
    "custody_harm",
    "complaints",
    "trial",
    "foreign",
    "scams",
    "region",
    "out_of_scope",
)
# What an entry answers about its measure.
FACETS = (
    "overview",
    "conditions",
    "timing",
    "procedure",
    "documents",
    "where",
    "money",
    "effect",
    "difference",
    "rights",
)
# How a source is known: the text itself, a third-party copy of a 2026 text, the press, a
# lawyer's or commentary page, or only a document's title.
SOURCE_KINDS = ("text", "copy", "press", "secondary", "listing")

# How each intent is named on a "did you mean..." button.
INTENT_LABELS = {
    "ask_conditions": "Điều kiện để được đặc xá",
    "ask_exclusions": "Trường hợp không được đặc xá",
    "ask_procedure": "Thủ tục, thời gian xét đặc xá",
    "ask_documents": "Hồ sơ, giấy tờ cần có",
    "ask_after_release": "Sau khi được đặc xá",
    "ask_results": "Kết quả, số người được đặc xá",
    "ask_fees": "Chi phí, cảnh báo lừa đảo",
    "give_feedback": "Gửi ý kiến, khiếu nại",
    "ask_other_measures": "Giảm án, hoãn, tha tù trước thời hạn...",
    "check_eligibility": "Kiểm tra trường hợp cụ thể",
    "ask_human": "Liên hệ cán bộ",
    "out_of_scope": "Việc khác (thăm gặp, gửi đồ...)",
}
