"""The words a case is read from: each message prepared once (folded words, clause breaks,
numbers), and the cue tables the readers in :mod:`knowledge.eligibility.case_text` use."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.eligibility.durations import Span, word_tokens
from vietnamese.text import fold, normalize

BREAKS = frozenset({",", "|"})
NEG = frozenset({"khong", "ko", "k", "chua", "chang", "hok", "khg", "hong"})
WINDOW = 6  # words looked at around a cue

# What the words just before a length say it is (nearest cue wins; two words before one).
SENTENCE, SERVED, REMAINING, IGNORED = "sentence", "served", "remaining", "ignored"
ROLE_BEFORE: dict[tuple[str, ...], str] = {
    ("con", "lai"): REMAINING,
    ("giam", "con"): SENTENCE,  # "chung thân được giảm còn 30 năm"
    ("giam", "xuong"): SENTENCE,
    ("duoc", "giam"): IGNORED,  # a reduction, not a sentence
    ("thu", "thach"): IGNORED,  # án treo's probation, not time served
    ("phai", "cho"): IGNORED,  # "phải chờ 3 năm": a waiting period
    ("can", "cho"): IGNORED,
    ("phai", "doi"): IGNORED,
    ("cho", "them"): IGNORED,  # "chờ thêm 3 năm"
    ("doi", "them"): IGNORED,
    ("cho",): IGNORED,  # "cứ nghĩ chỉ cần chờ ba năm"
    ("cach", "day"): IGNORED,  # "cách đây 13 năm": how long ago, not a sentence
    ("truoc", "day"): IGNORED,
    ("thoi", "han"): IGNORED,  # "thời hạn 3 năm": a period, not this sentence
    ("o", "tu"): SERVED,
    ("ngoi", "tu"): SERVED,
    ("di", "tu"): SERVED,
    ("vao", "tu"): SERVED,
    ("bi", "tu"): SENTENCE,
    ("an", "tu"): SENTENCE,
    ("tam", "giam"): SERVED,
    ("bi", "giam"): SERVED,
    ("thi", "hanh"): SERVED,
    ("chap", "hanh"): SERVED,
    ("cai", "tao"): SERVED,
    ("o",): SERVED,
    ("ngoi",): SERVED,
    ("duoc",): SERVED,
    ("da",): SERVED,
    ("mat",): SERVED,  # "mất 3 năm trong trại"
    ("bi",): SENTENCE,
    ("tuyen",): SENTENCE,
    ("xu",): SENTENCE,
    ("an",): SENTENCE,
    ("lanh",): SENTENCE,
    ("phat",): SENTENCE,
    ("muc",): SENTENCE,
    ("xuong",): SENTENCE,
    ("thanh",): SENTENCE,
    ("tong",): SENTENCE,
    ("tu",): SENTENCE,  # "tù 6 năm" (after "ở", "đi"... see the pairs above)
    ("moi",): IGNORED,  # "mỗi tháng": how often, not a length
    ("be", "duoc"): IGNORED,  # "sinh bé được 11 tháng": the child's age
    ("sinh", "duoc"): IGNORED,
    ("quy",): IGNORED,  # "quý 3 năm nay": a quarter, not a 3-year sentence
    ("bau",): IGNORED,  # "có bầu 5 tháng": a pregnancy, not a sentence
    ("thai",): IGNORED,
    ("bau", "duoc"): IGNORED,
    ("thai", "duoc"): IGNORED,
    ("duoi",): IGNORED,  # "con dưới 36 tháng"
    ("nho",): IGNORED,  # "con nhỏ 20 tháng": the child's age
    ("be",): IGNORED,
    ("tren",): IGNORED,
}
# "một tháng được thăm mấy lần", "1 năm giảm 2 lần": how often, not a length.
OFTEN = re.compile(r"(\w+ ){0,5}(may|nhieu|\d+|mot|hai|ba) lan\b")
ROLE_AFTER: dict[str, str] = {
    "tuoi": IGNORED,
    "truoc": IGNORED,  # "13 năm trước": how long ago
    "sau": IGNORED,  # "ba năm sau kể từ khi ra tù": a time after something
    "nua": REMAINING,
    "tu": SENTENCE,
    "roi": SERVED,
}

# The worst rating told counts ("quý II bị trung bình, các quý khác đều khá": not all khá).
RATINGS = {("trung", "binh"): "other", ("kem",): "other", ("kha",): "kha", ("tot",): "tot"}
RATING_CUES = frozenset({"loai", "tao", "hanh", "thuc", "luyen", "gia", "xep", "quy"})
NOT_QUARTER = frozenset({"dinh", "trinh", "che", "tac", "mo"})  # quy định, quy trình: not "quý"

# Payment status words near a cue, with the value they mean (longest match at a place wins).
FINE_CUES = (("an", "phi"), ("tien", "phat"), ("phat", "tien"), ("phat", "bo", "sung"))
FINE_STATUS: dict[tuple[str, ...], bool] = {
    ("khong", "phai"): True,  # nothing to pay
    ("khong", "bi"): True,
    ("khong", "co", "tien", "phat"): True,
    ("khong", "co", "tien", "nop"): False,
    ("khong", "co", "tien", "dong"): False,
    ("chua",): False,
    ("con", "no"): False,
    ("con", "thieu"): False,
    ("chua", "nop"): False,
    ("da",): True,
    ("xong",): True,
    ("roi",): True,
    ("het",): True,
    ("day", "du"): True,
    ("nop", "du"): True,
    ("da", "nop"): True,
    ("da", "dong"): True,
    ("duoc", "dong"): True,  # "lúc này tôi mới được đóng án phí"
}
CIVIL_CUES = (
    ("boi", "thuong"),
    ("den", "bu"),
    ("boi", "hoan"),
    ("tra", "lai", "tai", "san"),
    ("nghia", "vu", "dan", "su"),
)
CIVIL_STATUS: dict[tuple[str, ...], str] = {
    ("khong", "phai"): "none",
    ("khong", "co"): "none",
    ("khong", "bi", "buoc"): "none",
    ("khong", "co", "nghia", "vu"): "none",
    ("khong", "co", "tien"): "no",
    ("chua",): "no",
    ("con", "no"): "no",
    ("mot", "phan"): "partly",
    ("1", "phan"): "partly",
    # "mới trả được 30 triệu", "chưa trả hết", "còn thiếu 50 triệu": some of it paid
    ("tra", "duoc"): "partly",
    ("moi", "tra"): "partly",
    ("chua", "het"): "partly",
    ("chua", "tra", "het"): "partly",
    ("con", "thieu"): "partly",
    ("da",): "met",
    ("xong",): "met",
    ("het",): "met",
    ("day", "du"): "met",
    ("da", "boi", "thuong"): "met",
}
WEAK = frozenset({("da",), ("roi",)})  # a bare "đã" may belong to another verb
UNSURE = "unsure"  # "không biết", "chưa rõ": the family does not know
DONT_KNOW = re.compile(r"\b(khong|ko|k|chua) (biet|ro|nho|nam duoc)\b")
STATUS_WINDOW = 8
NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "nam": 5}
# Amnestied before: "đã được đặc xá", "năm 2021 được đặc xá" (not "... bao nhiêu người").
AMNESTIED = re.compile(
    r"\b(da|tung) (tung )?(duoc )?dac xa\b|\b(nam (19|20)\d\d|truoc day|lan truoc) (\w+ ){0,2}"
    r"duoc dac xa\b(?! (\w+ )?(bao nhieu|may))"
)
# Never amnestied; "không được đặc xá" alone says not eligible ("nghe nói tội này không được").
NEVER_AMNESTIED = re.compile(
    r"\b(chua( tung| he| bao gio)*|(khong|ko|k)( tung| he| bao gio)+) (duoc )?dac xa\b"
    r"|\bdac xa (truoc day|truoc kia|lan truoc) (chua|khong|ko)\b"
)
# A sentence that asks whether a group counts ("có xem xét thêm về con thương binh không") tells
# no fact, unless it says the person is in it ("bố tôi là thương binh thì có được không").
# A clause that asks ("... tốt có được đặc xá không", "làm tốt những gì"): what it names is asked.
ASKING = re.compile(
    r"\b(co (duoc|the|phai)|duoc khong|nhung gi|cai gi|the nao|ra sao|bao nhieu|bao lau)\b"
    r"|\b(khong|ko|k|chua)( a| ad| vay| nhi)?\s*$"
)
ASKS = re.compile(r"\b(khong|ko|k|chua|nao|gi|sao)( a| ad| vay| nhi)?\s*$")
# A sentence that says the family does not know, and what about ("tội gì em không nhớ").
UNSURE_CUES = {
    "sentence_kind": r"\b(an gi|loai an)\b",
    "sentence_months": r"\b(muc an|bao nhieu nam)\b",
    "served_months": r"\b(bao lau|duoc bao nhieu)\b",
    "crime": r"\b(toi gi|ten toi|toi danh|toi nao)\b",
    "rating": r"\b(xep loai|cai tao|ren luyen)\b",
    "prior_convictions": r"\btien an\b",
    "prosecuted_other": r"\b(truy cuu|truy to|toi khac|vu an khac)\b",
    "priority": r"\buu tien\b",
}

PRIORITY_WORDS: dict[str, tuple[str, ...]] = {
    "serious_illness": (
        "benh hiem ngheo",
        "benh nan y",
        "ung thu",
        "benh nang",
        "om nang",
        "om dau thuong xuyen",
        "suy than",
        "hiv",
        "tai bien",
    ),
    "pregnant_or_young_child": (
        "mang thai",
        "co thai",
        "con nho",
        "con duoi 36 thang",
        "sinh con",
        "o voi me",
    ),
    "severe_disability": ("khuyet tat", "mat nang luc", "han che nang luc"),
    "sole_breadwinner": (
        "lao dong duy nhat",
        "tru cot duy nhat",
        "hoan canh kho khan",
        r"chi (co )?(\w+ ){0,2}(di lam|lam ra tien|kiem tien)",
        r"khong (con )?ai (di lam|lam ra tien|kiem tien)",
    ),
    "revolution_merit": (
        "liet si",
        "nguoi co cong",
        "co cong voi cach mang",
        "thuong binh",
        "benh binh",
        "me viet nam anh hung",
    ),
    "great_merit": ("lap cong",),
    "president_other": ("chu tich nuoc quyet dinh",),
}
# The person a family writes about, by the first kin word with its owner ("chồng em", "vợ tôi"):
# a man cannot be in the group of pregnant women and mothers of children under 36 months.
KIN = re.compile(
    r"\b(chong|ck|bo|cha|anh trai|anh|em trai|con trai|ong|vo|vk|me|chi gai|chi|em gai|con gai)"
    r" (toi|em|e|minh|chau|con|t|tui)\b"
)
MEN = frozenset({"chong", "ck", "bo", "cha", "anh trai", "anh", "em trai", "con trai", "ong"})
POINT = re.compile(r"\bđiểm ([a-iđ])\)? (?:của )?khoản 3 (?:của )?điều 11\b")
NO_PRIORITY = re.compile(
    r"\b(khong|ko|k|chua) (thuoc|co|nam trong|phai|duoc huong)( \w+){0,2}? "
    r"(uu tien|dien uu tien|nhom uu tien|truong hop dac biet)"
)
DETENTION_CUE = re.compile(
    r"(bat|tam giam|tam giu|bi giam|vao trai|vao tu|di tu|o tu|nhap trai|chap hanh an)"
    r"\b[^.;|]{0,40}$"
)
DETENTION_AFTER = re.compile(r"^[^.;|]{0,25}\b(bi (\w+ ){0,2}bat|bi tam giam|bi giam)\b")


@dataclass(frozen=True)
class CaseText:
    words: list[str]  # folded, with "," and "|" breaks; "~" marks a mistyped number word
    plain: list[str]  # the same without the "~" marks, for cue words
    raw: list[str]  # the same words as typed (lower case, with marks if any)
    joined: str  # the plain words joined by spaces
    folded: str  # the folded message with its punctuation


def prepare(text: str) -> CaseText:
    lines = re.sub(r"\s*\n+\s*[-*•+]?\s*", ". ", text)  # one fact per line ends a clause
    lines = re.sub(r"(?<=\d)\s?t\b", " tuổi", lines.replace(":", " "))  # "17t": 17 tuổi
    norm = normalize(lines)
    words = word_tokens(norm, breaks=True)
    raw = re.findall(r"\d+(?:[.,]\d+)?|[^\W\d_]+|[,.;:!?\n()]", norm.lower())  # as word_tokens
    plain = [w.rstrip("~") for w in words]
    return CaseText(words, plain, raw, " ".join(plain), fold(norm))


def starts_at(words: list[str], k: int, pattern: tuple[str, ...]) -> bool:
    return words[k] == pattern[0] and tuple(words[k : k + len(pattern)]) == pattern


def positions(words: list[str], pattern: tuple[str, ...]) -> Iterable[int]:
    return (k for k in range(len(words)) if starts_at(words, k, pattern))


# Words just before a length that make it a reduction already granted, not the sentence.
REDUCED_BY = frozenset({("giam", "an"), ("duoc", "giam"), ("giam", "duoc")})
# ... or the time since release ("ra tù được 4 năm", "mãn hạn 2 năm nay").
RELEASED_FOR = frozenset(
    {("ra", "tu"), ("ra", "trai"), ("man", "han"), ("duoc", "tha"), ("tha", "ve"), ("het", "an")}
)
# Words that may stand between those and the length ("ra tù được gần 4 năm").
RELEASED_FILLERS = frozenset(
    {"tu", "trai", "duoc", "da", "gan", "hon", "khoang", "ngoai", "tron", "cung", "ve", "roi"}
)
# A date right after these is the end of the sentence, not the arrest ("ra tù năm 2008").
RELEASED_BEFORE = re.compile(
    r"(ra tu|ra trai|chap hanh xong|thi hanh xong|man han|het an|duoc tha|tha ve)\s*(\w+\s*){0,2}$"
)
# A life sentence already reduced: "được giảm xuống 30 năm", not "giảm xuống còn bao nhiêu năm?".
LIFE_REDUCED = re.compile(
    r"\b(giam (xuong |con |thanh )+(\d+|ba muoi|hai muoi)|xuong con \d+|da (duoc )?giam"
    r"|duoc giam (\w+ ){0,2}\d+ (lan|nam))\b"
)
# A condition put as a supposition ("nếu đã nộp đủ án phí thì ...", "giả sử có 2 tiền án") is
# a question, not a fact told: the span from the word to "thì" (or the sentence end) is not read
# for the conditions.
SUPPOSED = re.compile(
    r"\b(?:nếu|neu|giả sử|gia su|giả dụ|gia du|giả như|gia nhu|lỡ như|lo nhu)\b"
    r"[^.?!;\n]*?(?=\bthì\b|\bthi\b(?! hanh| hành)|[.?!;\n]|$)",
    re.IGNORECASE,
)


def without_suppositions(text: str) -> str:
    return SUPPOSED.sub(" , ", text)


def since_release(window: list[str]) -> bool:
    """The words before a length are "ra tù", "mãn hạn"... and only fillers ("được gần"), not
    "ra tù năm 2018, án 10 năm", where the length is the sentence."""
    for i in range(len(window) - 2, -1, -1):
        if tuple(window[i : i + 2]) in RELEASED_FOR:
            return all(w in RELEASED_FILLERS for w in window[i + 2 :])
    return False


# Arrested again ("năm 2024 bị bắt lại"): the lengths after it are those of the sentence now.
AGAIN = ("bi bat lai", "lai bi bat", "lai di tu", "lai vao tu", "lai vao trai")


def since_again(words: list[str], spans: list[Span]) -> list[Span]:
    joined = " ".join(words)
    at = min((joined.find(a) for a in AGAIN if a in joined), default=-1)
    if at < 0:
        return spans
    start = len(joined[:at].split())
    later = [s for s in spans if s.start > start]
    return later or spans
