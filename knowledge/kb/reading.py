"""Reading a family's message: is it urgent, which questions does it ask, and what is each about.

A long story often ends with two or three questions ("...có được giảm án không, bao lâu thì được
xét, làm đơn ở đâu?"). Each question gets the measure it is about (giảm án, xóa án tích, đặc
xá…) and what it asks (the facet: when, how, where, what papers…). The cue patterns are data
(``cues.yml``) matched on folded text, so text with or without diacritics reads the same. Pure
functions: no database, no Rasa.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.kb import asked_for as asks
from knowledge.kb.question_limit import within
from vietnamese.text import fold, normalize

CUES_FILE = Path(__file__).resolve().parent / "cues.yml"
MAX_QUESTIONS = 5  # families ask up to four or five things in one story; each gets its answer
URGENT_KINDS = ("scam", "harm", "death", "dying")
MONEY = re.compile(r"\b(tien|trieu|tr|ty|cu|chuyen khoan|dua|nop|chi phi)\b")
# A death word of the blunt kind families use for a death in custody, and a custody word.
DEATH = re.compile(r"\b(chet|tu vong|treo co|that co|dot tu)\b")  # "tu tu" is also "tù từ"
CUSTODY = re.compile(
    r"\b(trai giam|trai tam giam|tam giam|tam giu|buong giam|phong giam|quan giao|thu an|"
    r"chap hanh an|ngoi tu|o tu|pham nhan|xa lim|trong trai)\b"
)
# Papers that are out of scope in general but ours for someone just released.
RELEASE_PAPERS = re.compile(r"\b(can cuoc|cccd|cmnd|ho khau|cu tru|thuong tru|ho chieu|vay von)\b")
# How much a cue counts: in the question itself or elsewhere in the story; naming the measure
# (strong) or only hinting at it (weak).
WEIGHTS = {("strong", True): 3.0, ("strong", False): 1.5, ("weak", True): 1.0, ("weak", False): 0.3}
# A question's own cues must reach this to decide its measure; below it, the story decides.
OWN_MEASURE = 1.5  # one strong cue, or two weak ones
# The intents whose measure is clear (a prior when the words say nothing).
INTENT_MEASURE = {
    "ask_conditions": "amnesty",
    "ask_exclusions": "amnesty",
    "ask_procedure": "amnesty",
    "ask_documents": "amnesty",
    "ask_results": "amnesty",
    "check_eligibility": "amnesty",
    "ask_fees": "amnesty",
    "ask_after_release": "record_clearing",
    "ask_other_measures": "reduction",
    "give_feedback": "complaints",
    "out_of_scope": "out_of_scope",
}


@dataclass(frozen=True)
class Cues:
    measures: dict[str, dict[str, tuple[re.Pattern[str], ...]]]
    sentenced: tuple[re.Pattern[str], ...]
    facets: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    question_words: tuple[re.Pattern[str], ...]
    urgent: dict[str, tuple[re.Pattern[str], ...]]
    scam_if_money: tuple[re.Pattern[str], ...]
    not_urgent: tuple[re.Pattern[str], ...]
    always_mention: tuple[str, ...]
    only_when: dict[str, tuple[re.Pattern[str], ...]]
    priority: tuple[str, ...]


def _compile(patterns: Any) -> tuple[re.Pattern[str], ...]:
    """Each pattern matched on whole words only ("an giam" is not inside "lan giam")."""
    return tuple(re.compile(rf"(?<!\w)(?:{p})(?!\w)") for p in patterns or ())


@cache
def load_cues(path: Path = CUES_FILE) -> Cues:
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    urgent = raw["urgent"]
    return Cues(
        measures={
            m: {"strong": _compile(c.get("strong")), "weak": _compile(c.get("weak"))}
            for m, c in raw["measures"].items()
        },
        sentenced=_compile(raw["sentenced"]),
        facets=tuple((f, _compile(ps)) for f, ps in raw["facets"].items()),
        question_words=_compile(raw["question_words"]),
        urgent={kind: _compile(urgent[kind]) for kind in URGENT_KINDS},
        scam_if_money=_compile(urgent["scam_if_money"]),
        not_urgent=_compile(urgent["not_urgent"]),
        always_mention=tuple(raw.get("always_mention") or ()),
        only_when={key: _compile(ps) for key, ps in (raw.get("only_when") or {}).items()},
        priority=tuple(raw.get("priority") or ()),
    )


# --- Text ----------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def folded(text: str) -> str:
    """Lower case, no diacritics, words separated by one space, punctuation kept apart (cached:
    a message's sentences are folded again for every entry that may answer them)."""
    flat = fold(normalize(text))
    flat = re.sub(r"([?!.,;:()\"'])", r" \1 ", flat)
    return re.sub(r"\s+", " ", flat).strip()


def _words(flat: str) -> str:
    """Only the words (for patterns that must not see punctuation)."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w/ ]", " ", flat)).strip()


def flat_words(text: str) -> str:
    """The folded words of ``text``, without punctuation."""
    return _words(folded(text))


@dataclass(frozen=True)
class Sentence:
    text: str  # as the family wrote it
    flat: str  # folded words
    asks: bool  # a question (a "?" or question words)
    stated: bool = False  # its sentence ends with "." or "!": a statement where "?" is used
    sentence: int = -1  # which sentence of the message it is part of


_SPLIT = re.compile(r"(?<=[?!.;\n])\s+|\n+")
# Inside a sentence, a clause that asks after another that asks is a new question:
# "có được giảm án không, bao lâu thì được xét, làm đơn ở đâu?" asks three things.
# ("không còn", "chưa còn": "no longer", not a new clause.)
_CLAUSE = re.compile(
    r",\s+|(?<!không)(?<!khong)(?<!chưa)(?<!chua)(?<!\bko)(?<!cho)(?<!của)(?<!cua)(?<!với)"
    r"\s+(?=(?:và|va|còn|con(?! (?:gái|gai|trai|nhỏ|nho|tôi|toi|em|mình|minh|út|cả|cháu))"
    r"|hay|hoặc|hoac)\s)",
    re.IGNORECASE,
)
# Written without punctuation, a question ends on its last word and the next one starts with a
# capital: "... có được giảm án không Và nếu muốn được giảm thì phải làm gì".
_ENDS_QUESTION = frozenset({"không", "ko", "k", "chưa", "ạ", "nhỉ", "vậy", "sao", "gì", "nào"})
_YES_NO = frozenset({"co", "duoc", "phai"})  # "có ... không", "được không", "phải ... không"
_AFTER_NOT = frozenset(
    {"duoc", "dc", "phai", "co", "bi", "the", "can", "nen", "biet", "hieu", "ro", "xet", "cho"}
)
_PARTICLES = frozenset({"a", "ad", "ha", "nhi", "vay", "the", "nhe", "anh", "chi", "ban", "ls"})


# "chưa biết gì", "không hiểu gì cả": a statement, though it ends like a question.
# "không vi phạm gì", "chưa nhận được gì": nothing done, nothing asked.
_NOT_ASKING = re.compile(
    r"\b(chua|khong|ko) (\w+ )?(biet|hieu|ro) gi( ca| het)?$"
    r"|\b(khong|chua|ko) ((?!thi |ma |neu )\w+ ){1,2}gi( ca| het)?$"
)
# "cho em hỏi", "xin hỏi": announces a question, which may be in the next clause.
_PREFACE = re.compile(r"\b(xin|cho|muon) (\w+ ){0,3}hoi\b")


# "Tính đến nay em đủ thời gian chưa ad, án có 2 năm thôi": a yes-no question closed mid-sentence.
_CLAUSE_ASKS = re.compile(
    r"\b(co|da|du|duoc|dc)\b( \w+){0,8} (?<!ma )(khong|ko|chua)( (a|ad|ah|anh|chi|ban|nhi|vay))?$"
)


def _closes_early(text: str) -> bool:
    """A yes-no question closes before the sentence's last comma ("... không, vì ...")."""
    return any(_CLAUSE_ASKS.search(_words(folded(c))) for c in text.split(",")[:-1])


def _asks(part: str, flat: str, *, preface: bool = True) -> bool:
    if _NOT_ASKING.search(flat):
        return False
    if (
        part.rstrip().endswith("?")
        or any(q.search(flat) for q in load_cues().question_words)
        or _closes_early(part)
    ):
        return not (not preface and _PREFACE.search(flat) and not _interrogative(flat))
    return False


def _interrogative(flat: str) -> bool:
    """Asks something besides announcing a question."""
    return any(q.search(_PREFACE.sub(" ", flat)) for q in load_cues().question_words)


# A clause of one word and the yes/no ending continues the question before it.
_LISTED = re.compile(r"\w+ (khong|ko|k|chua)( a| ad| vay| nhi)?")


def _questions_in(part: str) -> list[str]:
    """``part`` cut where a second question starts; the words in between stay with the
    question before them."""
    groups: list[list[str]] = []
    asked = False
    for clause in _CLAUSE.split(part):
        flat = _words(folded(clause))
        asks = (
            bool(flat) and _asks(clause, flat, preface=False) and not clause.rstrip().endswith(",")
        )
        if groups and _LISTED.fullmatch(flat):
            # "có được miễn, giảm không", "... 70 tuổi hay không": the end of the question before
            groups[-1].append(clause)
            asked = True
            continue
        if not groups or (asks and asked):
            groups.append([clause])
            asked = asks
        else:
            groups[-1].append(clause)
            asked = asked or asks
    return [", ".join(g) for g in groups]


def _run_on(chunk: str) -> list[str]:
    """``chunk`` cut after a word that ends a question when the next word starts a sentence,
    or after the "không" closing a "có ... không" when what follows asks again."""
    words = chunk.split(" ")
    pieces: list[list[str]] = [[]]
    for i, word in enumerate(words):
        pieces[-1].append(word)
        following = words[i + 1] if i + 1 < len(words) else ""
        if len(pieces[-1]) <= 3 or word.lower() not in _ENDS_QUESTION:
            continue
        if following[:1].isupper() or _asks_again(pieces[-1], words[i + 1 :]):
            pieces.append([])
    return [" ".join(p) for p in pieces if p]


def _asks_again(before: list[str], after: list[str]) -> bool:
    """ "có phải viết đơn không gd làm gì để giúp": a yes-no question closed, then another."""
    following = _words(folded(after[0])) if len(after) >= 3 else ""
    if not following or following in _PARTICLES or following in _AFTER_NOT:
        return False  # "thì không được đặc xá đúng không": "không" negates what follows
    frame = _words(folded(" ".join(before[:-1]))).split()
    rest = _words(folded(" ".join(after)))
    closes = _words(folded(before[-1])) in ("khong", "ko", "k")
    return closes and bool(_YES_NO & set(frame)) and _interrogative(rest)


def sentences(text: str) -> list[Sentence]:
    result = []
    chunks = [piece for chunk in _SPLIT.split(text.strip()) for piece in _run_on(chunk)]
    for number, chunk in enumerate(chunks):
        chunk = chunk.strip(" -•*+\t")
        stated = chunk.rstrip(" )\"'").endswith((".", "!")) and not _closes_early(chunk)
        for part in _questions_in(chunk):
            part = part.strip(" ,")
            flat = _words(folded(part))
            if flat:
                result.append(Sentence(part, flat, _asks(part, flat), stated, number))
    return result


def questions_asked(every: list[Sentence]) -> list[Sentence]:
    """The sentences that ask. A writer who marks questions with "?" ends statements with a
    full stop: there, "bên đó hỏi em có án tích không." reports a question and asks none."""
    asked = [s for s in every if s.asks]
    if any(s.text.rstrip().endswith("?") for s in every):
        asked = [s for s in asked if not s.stated or s.text.rstrip().endswith("?")]
    return asked or every[-1:]


# --- Urgency -------------------------------------------------------------------------------------


_ALIVE = re.compile(r"\b(muon|doi|dinh|thiet) chet\b|\bsap (mat|chet|ra di)\b")


def urgent_kind(text: str) -> str | None:
    """``scam``, ``harm``, ``death`` or ``dying`` when the message needs the safety path first;
    words used in an ordinary sense ("lo lắng", "tội đánh bạc", "chạy thận") do not count."""
    cues = load_cues()
    # "Tôi cũng lo. Xin hỏi người được đặc xá...": "cũng lo", "rất lo" ending a sentence worry.
    flat = _words(re.sub(r"\b(cung|rat) lo (?=[.!?])", r"\1 lo lang ", folded(text)))
    for pattern in cues.not_urgent:
        flat = pattern.sub(" _ ", flat)
    # "muốn chết" (a wish) and "sắp mất" (about to) are not a death that happened
    alive = _ALIVE.sub(" _ ", flat)
    for kind in ("death", "dying", "harm", "scam"):
        if any(p.search(alive if kind == "death" else flat) for p in cues.urgent[kind]):
            return kind
    if MONEY.search(flat) and any(p.search(flat) for p in cues.scam_if_money):
        return "scam"
    if DEATH.search(alive) and CUSTODY.search(flat):  # "chết", "tử vong" of someone held
        return "death"
    return None


def special_case_said(key: str, text: str) -> bool:
    """Whether ``text`` says it is the special case entry ``key`` is for (true for any other)."""
    patterns = load_cues().only_when.get(key)
    return not patterns or any(p.search(_words(folded(text))) for p in patterns)


# --- Measures and facets -------------------------------------------------------------------------


def _asked_about(scores: dict[str, float], flat: str) -> tuple[str, float] | None:
    """The question's measure: the best scored; between equals, the one named last, which is
    what the question asks about ("án treo có được đặc xá không" asks about đặc xá)."""
    best = _best(scores)
    if best is None:
        return None
    tied = [m for m, s in scores.items() if s == best[1]]
    if chosen := asks.asked_among(tied, list(scores), flat):
        return chosen, best[1]
    if len(tied) < 2:
        return best

    def last(measure: str) -> tuple[int, int]:
        """Where its last cue ends; at the same end, the longer cue ("giấy chứng nhận đặc xá"
        is about the paper, not about đặc xá)."""
        strong = load_cues().measures[measure]["strong"]
        spans = [(m.end(), -m.start()) for p in strong for m in p.finditer(flat)]
        return max(spans, default=(-1, 0))

    return max(tied, key=last), best[1]


def detention_story(flat: str, sentenced: bool) -> bool:
    """The person is held before trial (a strong detention cue, no sentence told)."""
    return not sentenced and any(
        p.search(flat) for p in load_cues().measures["detention"]["strong"]
    )


def held_before_trial(text: str) -> bool:
    """The message tells of someone held in custody before any sentence."""
    flat = _words(folded(text))
    return detention_story(flat, is_sentenced(flat))


def is_sentenced(flat: str) -> bool:
    """The story says the person was sentenced (so detention words tell the past)."""
    return any(p.search(flat) for p in load_cues().sentenced)


def measure_scores(flat: str, *, own: bool, sentenced: bool = False) -> dict[str, float]:
    """How strongly ``flat`` points at each measure."""
    scores: defaultdict[str, float] = defaultdict(float)
    for measure, kinds in load_cues().measures.items():
        for kind, patterns in kinds.items():
            hits = sum(1 for p in patterns if p.search(flat))
            if hits:
                scores[measure] += WEIGHTS[(kind, own)] * hits
    if sentenced and scores.get("detention") and not own:
        scores["detention"] *= 0.2
    return scores


def measures_named(text: str) -> frozenset[str]:
    """The measures ``text`` names outright (a strong cue)."""
    flat = _words(folded(text))
    cues = load_cues().measures
    return frozenset(m for m, kinds in cues.items() if any(p.search(flat) for p in kinds["strong"]))


def facet_of(flat: str) -> str | None:
    if asks.MAY_APPLY.search(flat):
        return "conditions"
    for facet, patterns in load_cues().facets:
        if any(p.search(flat) for p in patterns):
            return facet
    return None


@dataclass(frozen=True)
class Question:
    text: str  # the question as written (the sentence that asks it)
    measure: str
    facet: str
    confident: bool  # the question's own words named the measure
    context: str = ""  # the sentence before it, which a short question often refers to
    hints: str = ""  # words the case told adds ("từ 70 tuổi" when the person is 72)
    prefer: tuple[str, ...] = ()  # entries the case points to (the priority group asked about)
    sentence: int = -1  # which sentence of the message asks it


@dataclass(frozen=True)
class Reading:
    questions: tuple[Question, ...]
    measure: str  # the main measure of the message
    scores: dict[str, float]  # the whole message's measure scores
    urgent: str | None

    @property
    def main(self) -> Question:
        return self.questions[0]


def _best(scores: dict[str, float]) -> tuple[str, float] | None:
    """The measure scored highest; a tie goes to the more specific one (cues.yml priority)."""
    if not scores:
        return None
    order = {m: i for i, m in enumerate(load_cues().priority)}
    measure, score = max(scores.items(), key=lambda kv: (kv[1], -order.get(kv[0], 99)))
    return measure, score


def _hinted(own: dict[str, float], story: dict[str, float]) -> str | None:
    """Of the measures a question only hints at, the one the story is most about, if it is."""
    hinted = [m for m, score in own.items() if score > 0 and story.get(m, 0) >= OWN_MEASURE]
    return max(hinted, key=lambda m: story[m]) if hinted else None


def read(text: str, intent: str | None = None) -> Reading:
    """The questions of ``text`` (at most MAX_QUESTIONS, the main one first) and their measures."""
    whole = _words(folded(text))
    sentenced = is_sentenced(whole)
    story = measure_scores(whole, own=False, sentenced=sentenced)
    prior = INTENT_MEASURE.get(intent or "")
    context = _best(story)
    default = context[0] if context else (prior or "amnesty")
    if prior and (not context or context[1] < OWN_MEASURE):
        # Rasa's "out of scope" does not outweigh a word of ours ("tạm giam", "ưu tiên")
        default = context[0] if context and prior == "out_of_scope" else prior
    urgent = urgent_kind(text)
    if urgent == "dying" and default not in ("suspension", "postponement"):  # to go home
        default = "postponement" if asks.NOT_IN_YET.search(whole) else "suspension"
    every = sentences(text)
    asked = questions_asked(every)
    held = detention_story(whole, sentenced)
    # In custody and nothing about amnesty: a complaint is about how the person is treated.
    held_somewhere = CUSTODY.search(whole) or any(
        story.get(m, 0) >= OWN_MEASURE for m in ("prison_life", "detention", "custody_harm")
    )
    treatment = bool(held_somewhere) and story.get("amnesty", 0) < OWN_MEASURE
    questions: list[Question] = []
    seen: set[str] = set()
    for sentence in asked:
        scores = measure_scores(sentence.flat, own=True, sentenced=sentenced)
        if asks.ASKS_AMNESTY.search(sentence.flat):  # what "có được ... không" asks for
            scores["amnesty"] = scores.get("amnesty", 0) + WEIGHTS[("weak", True)]
        own = _asked_about(scores, sentence.flat)
        confident = bool(own and own[1] >= OWN_MEASURE)
        hinted = _hinted(scores, story)
        if own and confident:
            measure = own[0]
        elif hinted:  # a weak cue of its own, for a measure the story is about
            measure = hinted
        else:  # "xóa từ ngày nào?" after a question about xóa án tích asks about that
            measure = next((q.measure for q in reversed(questions) if q.confident), default)
        facet = facet_of(sentence.flat) or "overview"
        if facet == "difference" and measure == "amnesty":
            # "giảm án với đặc xá khác nhau thế nào": the other measure's entries tell it
            others = [m for m, s in scores.items() if m != "amnesty" and s >= OWN_MEASURE]
            # "cái này khác đặc xá thế nào": the measure the question before was about
            earlier = [q.measure for q in questions if q.confident and q.measure != "amnesty"]
            measure = others[0] if others else earlier[-1] if earlier else measure
        released = story.get("after_release", 0) >= OWN_MEASURE
        if measure == "out_of_scope" and released and RELEASE_PAPERS.search(sentence.flat):
            measure = "after_release"  # "làm lại căn cước ở đâu" after release is ours
        hints = ""
        if measure == "complaints" and treatment:
            measure = "custody_harm"  # a complaint about treatment in custody, not the list
            hints = "khiếu nại tố cáo"
        if measure == "postponement" and asks.in_prison_now(whole):
            measure = "suspension"  # "xin hoãn" for someone already in prison: tạm đình chỉ
        if measure == "prison_life" and held:
            measure = "detention"  # visits, parcels, money before trial: the detention rules
        if sentence.flat in seen:  # the same question asked twice
            continue
        seen.add(sentence.flat)
        before = every[every.index(sentence) - 1].text if every.index(sentence) else ""
        q = Question(sentence.text, measure, facet, confident, before, hints, (), sentence.sentence)
        questions.append(q)
    questions = within(questions, MAX_QUESTIONS)
    if not questions:
        questions.append(Question(text.strip(), default, "overview", False))
    ranked = sorted(questions, key=lambda q: (not q.confident, questions.index(q)))
    main = ranked[0]
    ordered = [main, *[q for q in questions if q is not main]]
    for measure in load_cues().always_mention:
        said = any(p.search(whole) for p in load_cues().measures[measure]["strong"])
        if said and all(q.measure != measure for q in ordered):
            ordered.append(Question(text.strip(), measure, "where", True))
    return Reading(tuple(ordered), main.measure, dict(story), urgent)
