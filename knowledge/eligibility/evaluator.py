"""Whether one person's case may be proposed for amnesty, checked condition by condition.

The rules are data: ``rules/law.yml`` (floors and lists of the Luật Đặc xá 2018) plus each
round's rules from the calendar (``knowledge/kb/rounds.yml``, then the database).
``evaluate`` is a pure function of a ``Case`` and the rules: an unknown answer stays unknown
and is reported as a missing fact, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import cache

from knowledge.eligibility.case import (
    ASK,
    LAW,
    Case,
    Check,
    Outcome,
    Verdict,
)
from knowledge.eligibility.round_rules import (
    LAW_ROUND,
    Group,
    Item,
    Law,
    RoundRules,
    folded_words,
)
from knowledge.eligibility.time_served import (
    time_check,
)

# --- Facts derived from the case ---------------------------------------------------------------


@cache
def _alias_patterns(
    aliases: tuple[tuple[str, str], ...],
) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each crime alias as a whole-word pattern, compiled once."""
    return tuple((re.compile(rf"(?<!\w){re.escape(a)}(?!\w)"), code) for a, code in aliases)


def crime_codes(text: str | None, law: Law) -> frozenset[str] | None:
    """The BLHS articles a crime answer names ("Điều 173", "trộm cắp"); None if none is found."""
    if not text:
        return None
    words = folded_words(text)
    codes = set(re.findall(r"\bdieu (\d{3}[a-z]?)\b", words))
    if re.fullmatch(r"\d{3}[a-z]?", words):
        codes.add(words)
    taken: list[tuple[int, int]] = []
    for pattern, code in _alias_patterns(law.aliases):  # longest first: "cướp giật tài sản"
        for m in pattern.finditer(words):
            if all(m.end() <= a or m.start() >= b for a, b in taken):
                taken.append(m.span())
                codes.add(code)
    return frozenset(codes) or None


def _serious(case: Case, codes: frozenset[str] | None, law: Law) -> bool | None:
    """Điều 11 khoản 1 điểm b, đoạn 2: the group that must serve 1/2 or 17 years."""
    if case.serious_crime is not None or codes is None:
        return case.serious_crime
    first, last = law.persons_chapter
    answers: list[bool | None] = []
    for code in codes:
        number = int(re.sub(r"\D", "", code))
        if code in law.serious_any:
            answers.append(True)
            continue
        if first <= number <= last and code not in law.negligent:
            years = law.persons_min_years
        elif code in law.property_drugs:
            years = law.property_min_years
        else:
            answers.append(False)
            continue
        if case.sentence_kind == "life_commuted":
            answers.append(True)
        else:
            # The law looks at the sentence for THIS crime: with several crimes only the total
            # is known, and a total under the threshold is the only sure answer (no).
            months = case.sentence_months
            if months is None or (len(codes) > 1 and months >= years * 12):
                answers.append(None)
            else:
                answers.append(months >= years * 12)
    if True in answers:
        return True
    return None if None in answers else False


def _priority(case: Case, law: Law) -> tuple[bool | None, tuple[Item, ...]]:
    """Điều 11 khoản 3: the groups stated or implied by the ages."""
    by_name = {name: i for i in law.priority_groups.values() for name in (i.key, i.point)}
    groups = []
    for name in sorted(case.priority or ()):
        if name not in by_name:
            raise ValueError(f"priority: unknown group {name!r}; use one of {sorted(by_name)}")
        groups.append(by_name[name])
    if case.age_at_offence is not None and case.age_at_offence < 18:
        groups.append(law.priority_groups["under_18_at_offence"])
    if case.age_now is not None and case.age_now >= 70:
        groups.append(law.priority_groups["aged_70"])
    if groups:
        return True, tuple(dict.fromkeys(groups))
    return (None if case.priority is None else False), ()


def _juvenile_now(case: Case) -> bool | None:
    """Điều 11 khoản 4 is for a person under 18 while serving, not only at the offence."""
    if case.age_now is not None:
        return case.age_now < 18
    return None if case.age_at_offence is not None and case.age_at_offence < 18 else False


# --- The other conditions ----------------------------------------------------------------------


def _kind(case: Case, law: Law) -> Check:
    if case.sentence_kind is None:
        reason = "Chưa biết loại án (tù có thời hạn, chung thân đã giảm, tạm đình chỉ...)."
        cite = f"{LAW}, Điều 11 khoản 1, 2"
        return Check("sentence_kind", "unknown", reason, cite, ("sentence_kind",))
    kind = law.kinds[case.sentence_kind]
    if kind["covered"]:
        return Check(
            "sentence_kind", "met", f"Thuộc diện được xét: {kind['text']}.", kind["source"]
        )
    return Check("sentence_kind", "not_met", kind["text"], kind["source"])


def _rating(case: Case, rules: RoundRules) -> Check:
    suspended = case.sentence_kind == "on_suspension"
    cite = f"{LAW}, Điều 11 khoản {'2' if suspended else '1'} điểm a; "
    cite += "Nghị định 52/2019/NĐ-CP, Điều 4 khoản 1"
    when = " trong thời gian chấp hành án trước khi tạm đình chỉ" * suspended
    extra = ""
    if rules.rating.value:
        extra = f" {rules.rating.value}" + " Thông tin này chưa kiểm chứng." * (
            not rules.rating.verified
        )
    if case.rating in ("kha", "tot"):
        word = {"kha": "khá", "tot": "tốt"}[case.rating]
        reason = f"Được xếp loại {word}{when}: đạt, nếu mọi quý đã xếp loại đều khá hoặc tốt."
        return Check("rating", "met", reason + extra, cite)
    if case.rating == "other":
        reason = (
            f"Phải được xếp loại chấp hành án khá hoặc tốt{when}; loại trung bình, kém là chưa đạt."
        )
        return Check("rating", "not_met", reason, cite)
    reason = f"Chưa biết xếp loại chấp hành án{when}; cần loại khá hoặc tốt.{extra}"
    return Check("rating", "unknown", reason, cite, ("rating",))


def _fines(case: Case) -> Check:
    cite = f"{LAW}, Điều 11 khoản 1 điểm c; Điều 14 khoản 3"
    if case.fines_paid:
        return Check("fines", "met", "Đã nộp xong tiền phạt (nếu có) và án phí.", cite)
    if case.fines_paid is False:
        reason = (
            "Phải nộp xong tiền phạt và án phí (hoặc có quyết định miễn của Tòa án) mới được "
            "đề nghị đặc xá. Nộp tại cơ quan thi hành án dân sự và giữ biên lai."
        )
        return Check("fines", "not_met", reason, cite)
    reason = "Chưa biết đã nộp xong tiền phạt và án phí chưa."
    return Check("fines", "unknown", reason, cite, ("fines_paid",))


def _civil(case: Case, rules: RoundRules, codes: frozenset[str] | None) -> Check:
    """Điều 11 khoản 1 điểm d (corruption: all paid) and điểm đ (others: partly may do)."""
    full = rules.law.corruption | (rules.full_civil_crimes.value or frozenset())
    corrupt = None if codes is None else bool(codes & full)
    cite = f"{LAW}, Điều 11 khoản 1 điểm d, đ"
    if case.civil in ("met", "none"):
        done = "Không phải bồi thường" if case.civil == "none" else "Đã thi hành xong"
        return Check("civil", "met", f"{done} nghĩa vụ trả lại tài sản, bồi thường.", cite)
    if case.civil is None:
        reason = "Chưa biết đã bồi thường, trả lại tài sản chưa."
        return Check("civil", "unknown", reason, cite, ("civil",))
    if corrupt:
        reason = (
            "Người bị kết án về tội tham nhũng phải thi hành xong toàn bộ nghĩa vụ trả lại tài "
            "sản, bồi thường; trả một phần là chưa đủ."
        )
        return Check("civil", "not_met", reason, f"{LAW}, Điều 11 khoản 1 điểm d")
    cite = f"{LAW}, Điều 11 khoản 1 điểm đ; Nghị định 52/2019/NĐ-CP, Điều 4 khoản 3"
    if case.civil == "no":
        reason = (
            "Phải thi hành xong, hoặc đã thi hành một phần và có quyết định 'chưa có điều kiện "
            "thi hành' của cơ quan thi hành án dân sự (và, nếu người được bồi thường là cá nhân, "
            "người đó đồng ý bằng văn bản)."
        )
        return Check("civil", "not_met", reason, cite)
    if case.civil == "partly_paid" and corrupt is False:
        reason = (
            "Mới bồi thường một phần: vẫn có thể đạt nếu cơ quan thi hành án dân sự đã ra quyết "
            "định 'chưa có điều kiện thi hành' phần còn lại (và, nếu người được bồi thường là cá "
            "nhân, người đó đồng ý bằng văn bản). Gia đình hỏi cơ quan thi hành án dân sự."
        )
        return Check("civil", "unknown", reason, cite, ("civil_decision",))
    if corrupt is None:  # partly paid: enough, except for corruption
        reason = (
            "Trả một phần, có quyết định 'chưa có điều kiện thi hành' và (nếu người được bồi "
            "thường là cá nhân) người đó đồng ý bằng văn bản thì đạt, trừ tội tham nhũng (phải "
            "trả hết). Cần biết tội danh."
        )
        return Check("civil", "unknown", reason, cite, ("crime",))
    reason = "Đã thi hành một phần, phần còn lại thuộc diện 'chưa có điều kiện thi hành'"
    if case.creditor_agreed:
        reason += "; người được bồi thường đã đồng ý (hoặc đó là tài sản Nhà nước)."
        return Check("civil", "met", reason, cite)
    reason += (
        "; nếu phần còn lại là tài sản không thuộc Nhà nước thì người được bồi thường phải "
        "đồng ý hoãn hoặc không yêu cầu thi hành"
    )
    if case.creditor_agreed is False:
        return Check("civil", "not_met", f"{reason}, mà họ chưa đồng ý.", cite)
    return Check("civil", "unknown", f"{reason}.", cite, ("creditor_agreed",))


def _not_needed_if_minor(check: Check) -> Check:
    """Age now unknown but under 18 at the offence: khoản 4 would drop this condition."""
    if check.status != "not_met":
        return check
    reason = f"{check.reason} Nếu hiện nay người đó vẫn dưới 18 tuổi thì không cần điều kiện này."
    cite = f"{check.citation}; {LAW}, Điều 11 khoản 4"
    return Check(check.name, "unknown", reason, cite, ("age_now",))


def _suspension(case: Case) -> Check:
    cite = f"{LAW}, Điều 11 khoản 2 điểm d; Điều 14 khoản 5"
    name = "suspension_conduct"
    if case.complied_on_suspension:
        return Check(name, "met", "Chấp hành nghiêm pháp luật khi được tạm đình chỉ.", cite)
    if case.complied_on_suspension is False:
        return Check(
            name, "not_met", "Phải chấp hành nghiêm pháp luật khi được tạm đình chỉ.", cite
        )
    reason = "Cần nhận xét của Ủy ban nhân dân cấp xã về việc chấp hành pháp luật khi tạm đình chỉ."
    return Check(name, "unknown", reason, cite, ("complied_on_suspension",))


def _exclusions(case: Case, rules: RoundRules, codes: frozenset[str] | None) -> list[Check]:
    """Điều 12: never proposed, whatever else is met."""
    law = rules.law
    cite = f"{LAW}, Điều 12 khoản 1"
    if codes is None:
        said = "Chưa rõ tội danh" if case.crime is None else "Chưa nhận ra tội danh"
        reason = f"{said}; cần tên tội hoặc điều luật."
        checks = [Check("excluded_crime", "unknown", reason, cite, ("crime",))]
    elif hit := sorted(codes & law.exclusions["excluded_crime"].crimes):
        names = "; ".join(law.crimes.get(c, f"Điều {c} BLHS") for c in hit)
        reason = f"{names}: thuộc các tội không được đề nghị đặc xá."
        checks = [Check("excluded_crime", "not_met", reason, cite)]
    elif codes & law.reference_exclusions.crimes:
        added = law.reference_exclusions
        reason = (
            f"Luật không loại tội này, nhưng {added.text} ({added.source}). Đợt tới có loại hay "
            "không do Quyết định của đợt đó; hỏi trại giam."
        )
        checks = [Check("excluded_crime", "unknown", reason, cite)]
    else:
        reason = "Tội danh không thuộc danh sách bị loại trừ của Luật."
        checks = [Check("excluded_crime", "met", reason, cite)]
    count = case.prior_convictions
    # Khoản 2–5: (the answer, what it means when true, when false).
    flags = {
        "under_protest": (
            case.under_protest,
            "Bản án đang bị kháng nghị giám đốc thẩm, tái thẩm theo hướng tăng nặng.",
            "Bản án không bị kháng nghị theo hướng tăng nặng.",
        ),
        "prosecuted_other": (
            case.prosecuted_other,
            "Đang bị truy cứu trách nhiệm hình sự về tội khác.",
            "Không bị truy cứu về tội khác.",
        ),
        "amnestied_before": (
            case.amnestied_before,
            "Trước đây đã được đặc xá; mỗi người chỉ được đặc xá một lần.",
            "Chưa từng được đặc xá.",
        ),
        "prior_convictions": (
            None if count is None else count >= law.prior_limit,
            f"Có {count} tiền án (từ 02 tiền án trở lên).",
            "Không có tiền án." if count == 0 else f"Có {count} tiền án, dưới mức 02 tiền án.",
        ),
    }
    for name, (value, yes, no) in flags.items():
        item = law.exclusions[name]
        cite = f"{LAW}, Điều 12 khoản {item.point}"
        if value:
            checks.append(Check(name, "not_met", f"{yes} Không được đề nghị đặc xá.", cite))
        elif value is False:
            checks.append(Check(name, "met", no, cite))
        elif name != "under_protest":  # rarely known to families: a note says it instead
            checks.append(Check(name, "unknown", f"Chưa biết: {item.text}.", cite, (name,)))
    for extra in rules.extra_exclusions.value or ():
        if codes and codes & frozenset(map(str, extra.get("crimes", ()))):
            cite = f"{rules.decision.value} ({rules.extra_exclusions.source})"
            checks.append(Check("round_exclusions", "not_met", extra["text"], cite))
    return checks


# --- Evaluate ----------------------------------------------------------------------------------


def evaluate(case: Case, rules: RoundRules, *, as_of: dt.date | None = None) -> Verdict:
    """Check ``case`` against ``rules``, condition by condition.

    ``as_of`` is the day to count time served to when the round's cut-off date is unknown.
    """
    law = rules.law
    kind = _kind(case, law)
    if kind.status == "not_met":  # death, life, suspended, postponed: not covered at all
        return Verdict(rules.round_id, "does_not_meet", (kind,), ())
    codes = crime_codes(case.crime, law)
    priority, groups = _priority(case, law)
    juvenile = _juvenile_now(case)
    facts = {"juvenile": juvenile, "priority": priority, "serious": _serious(case, codes, law)}
    notes = []

    checks = [kind, _rating(case, rules), time_check(case, rules, facts, as_of)]
    if juvenile:
        notes.append(
            "Người dưới 18 tuổi đang chấp hành án chỉ cần cải tạo tốt (điểm a) và không thuộc "
            "trường hợp bị loại trừ (điểm g); không xét tiền phạt, bồi thường, và thời gian "
            f"phải chấp hành do Chủ tịch nước quyết định ngắn hơn ({LAW}, Điều 11 khoản 4)."
        )
    else:
        money = [_fines(case), _civil(case, rules, codes)]
        checks += [_not_needed_if_minor(c) for c in money] if juvenile is None else money
    if case.sentence_kind == "on_suspension":
        checks.append(_suspension(case))
    checks += _exclusions(case, rules, codes)

    if groups:
        listed = "; ".join(f"{g.point}) {g.text}" for g in groups)
        notes.append(f"Nhóm ưu tiên ({LAW}, Điều 11 khoản 3): {listed}.")
    notes += _notes(case, rules)
    statuses = {c.status for c in checks}
    outcome: Outcome = "may_be_considered"
    if "not_met" in statuses:
        outcome = "does_not_meet"
    elif "unknown" in statuses:
        outcome = "cannot_tell"
    missing = tuple(dict.fromkeys(m for c in checks for m in c.missing))
    return Verdict(rules.round_id, outcome, tuple(checks), missing, tuple(notes), _group(facts))


def _group(facts: Mapping[str, bool | None]) -> Group | None:
    if facts["juvenile"]:
        return "juvenile"
    if facts["priority"]:
        return "priority"
    if None in (facts["juvenile"], facts["priority"], facts["serious"]):
        return None
    return "serious" if facts["serious"] else "ordinary"


def _notes(case: Case, rules: RoundRules) -> list[str]:
    notes = [
        "Điều kiện 'khi được đặc xá không ảnh hưởng xấu đến an ninh, trật tự' (Điều 11 khoản 1 "
        "điểm e) do trại giam và các cơ quan có thẩm quyền đánh giá."
    ]
    if case.under_protest is None:
        notes.append(
            "Nếu bản án đang bị kháng nghị giám đốc thẩm, tái thẩm theo hướng tăng nặng thì "
            "không được đề nghị đặc xá (Điều 12 khoản 2)."
        )
    for rule in rules.law.counting:
        notes.append(rule.value + " (Chưa kiểm chứng cho mọi đợt.)" * (not rule.verified))
    if rules.round_id == LAW_ROUND:
        return notes
    if not rules.extra_exclusions.value:
        count = rules.extra_exclusion_count
        if count:
            # The round's list repeats the law's own cases (Điều 12 khoản 1–5, checked above)
            # and adds those the President decides for the round (khoản 6): the count is of
            # both, not of khoản 6 alone (legal review W3).
            notes.append(
                f"Quyết định về {rules.name} liệt kê {count} trường hợp không được đề nghị đặc "
                "xá, gồm cả các trường hợp Luật đã quy định (Điều 12 khoản 1–5) và các trường "
                "hợp Chủ tịch nước quyết định thêm cho đợt này (Điều 12 khoản 6); danh sách "
                f"chưa được kiểm chứng. {ASK}"
            )
        else:
            notes.append(
                f"{rules.name} có thể có thêm trường hợp không được đề nghị đặc xá do Chủ tịch "
                f"nước quyết định (Điều 12 khoản 6); danh sách chưa được kiểm chứng. {ASK}"
            )
    if rules.cutoff.value is None:
        notes.append(f"Mốc tính thời gian đã chấp hành của {rules.name} chưa được kiểm chứng.")
    if not rules.decision.verified:
        notes.append(f"Thông tin về {rules.name} chưa được kiểm chứng với văn bản gốc. {ASK}")
    return notes
