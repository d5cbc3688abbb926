"""Reading a message (knowledge/kb/reading.py): urgency, the questions asked, and what each is
about — case tables written by the team (the blind sets are measured by the benchmark)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.kb.question_limit import within
from knowledge.kb.reading import Question, read, sentences, urgent_kind

URGENT = [
    ("scam", "có người hứa chắc chắn có tên trong danh sách đặc xá nếu đưa 80 triệu"),
    ("scam", "anh cán bộ trại gọi bảo chuyển khoản 20 triệu để được giảm án cho chồng em"),
    ("scam", "co nguoi quen ben tren noi lo duoc cho ck e ve som, mat 50tr, co nen tin ko"),
    ("scam", "một người tự xưng là cán bộ tòa án nhắn tin yêu cầu nộp tiền hồ sơ đặc xá"),
    ("harm", "con em bị bạn cùng buồng đánh gãy tay mà trại không cho đi khám"),
    ("harm", "ck e bi quan giao danh bam dap trong trai, e phai lam sao"),
    ("harm", "em trai tôi bị các phạm nhân khác tống tiền, đe dọa hằng tuần"),
    ("death", "bố em chết trong trại tạm giam, trại báo là đột tử nhưng người đầy vết bầm"),
    ("death", "trại đã hỏa táng anh tôi mà không báo cho gia đình"),
    ("death", "con toi tu vong o nha tam giu, gia dinh muon giam dinh phap y"),
    ("dying", "bố em ung thư giai đoạn cuối, bác sĩ bảo chỉ còn vài tháng, gia đình muốn đưa về"),
    ("dying", "chong em dang hon me trong benh xa trai, gia dinh muon gap lan cuoi"),
    ("death", "con tôi đang bị tạm giam thì tử vong, công an bảo do bệnh tim"),
    ("death", "em nhận được tin báo anh em đã mất khi đang chấp hành án"),
    ("scam", "có anh quen bên trên nhận chạy chọt giảm án, đưa trước một nửa 40 triệu"),
    ("harm", "thằng bé bị bỏ đói, bị trói rồi đánh trong buồng giam"),
    ("dying", "bố em đang được cấp cứu, tình trạng rất nguy, gia đình xin cho gặp"),
    ("scam", "vợ người cùng đội khoe đã đưa 50 triệu cho cán bộ để được đưa vào danh sách"),
    ("scam", "co sdt la goi bao chuyen tien lam thu tuc dac xa, e phai lam sao"),
    ("scam", "can bo trai bao phai nop het tien 50tr moi dc xet dac xa"),  # a sum demanded
    ("harm", "con e goi ve noi muon chet, ko chiu noi trong trai nua"),  # a wish, not a death
    ("dying", "bố em ung thư sắp mất trong trại, gia đình xin cho ông về nhà"),  # about to die
]
ORDINARY = [
    "đặc xá có mất tiền không ạ",
    "em lo lắng quá không biết chồng em có được đặc xá không",
    "anh em bị tội đánh bạc 2 năm thì có được giảm án không",
    "bố em bị ung thư, có được ưu tiên khi xét đặc xá không",
    "nhà em đang lo tiền bồi thường 60 triệu cho bị hại",
    "em mất giấy ra trại rồi thì xin lại ở đâu",
    "tội cố ý gây thương tích 3 năm có được đặc xá không",
    "Tôi muốn gửi quà cho chồng ở trại giam thì được gửi bao nhiêu kg, có được gửi tiền không?",
    "bị đánh giá xếp loại kém thì có được xét không",
    "me em chay than moi tuan 3 lan, anh em o tu co duoc ve tham khong",
    "gia đình đang lo hồ sơ đặc xá cho bố thì cần giấy gì",
]


@pytest.mark.parametrize(("kind", "text"), URGENT)
def test_urgent_messages_take_the_safety_path(kind: str, text: str) -> None:
    assert urgent_kind(text) == kind


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_worry_money_or_illness_is_not_urgent(text: str) -> None:
    assert urgent_kind(text) is None


def test_several_questions_in_one_sentence_are_each_read() -> None:
    reading = read(
        "Chồng em bị 7 năm tù tội trộm cắp, đã ở được 3 năm. Vậy anh ấy có được giảm án "
        "không, bao lâu thì được xét, làm đơn ở đâu?"
    )
    assert [q.measure for q in reading.questions] == ["reduction"] * 3
    assert [q.facet for q in reading.questions] == ["conditions", "timing", "procedure"]


@pytest.mark.parametrize(
    ("text", "measure", "facet"),
    [
        (
            "bố em đi tù 18 tháng, ra năm 2008, đã được xóa án tích chưa",
            "record_clearing",
            "conditions",
        ),
        ("vợ tôi có thai, có được hoãn thi hành án không", "postponement", "conditions"),
        ("con toi 16 tuoi co duoc tha truoc thoi han khong", "early_release", "conditions"),
        ("em trai đang bị tạm giam, gia đình có được gửi tiền không", "detention", "conditions"),
        ("mỗi tháng được thăm gặp mấy lần", "prison_life", "timing"),
        ("án treo có phải vào trại không", "suspended_sentence", "overview"),
        ("giảm án với đặc xá khác nhau thế nào", "reduction", "difference"),
        ("đại xá và đặc xá khác gì nhau", "amnesty", "difference"),
        ("chồng tôi đi làm ăn xa có được không", "amnesty", "conditions"),  # "làm ăn xa" ≠ ân xá
        ("cho hỏi làm lại bằng lái xe ở đâu", "out_of_scope", "where"),
        ("hồ sơ đề nghị đặc xá gồm những giấy tờ gì", "amnesty", "documents"),
    ],
)
def test_each_question_gets_its_measure_and_facet(text: str, measure: str, facet: str) -> None:
    question = read(text).main
    assert (question.measure, question.facet) == (measure, facet)


def test_an_arrest_in_the_story_is_not_a_detention_question_once_sentenced() -> None:
    reading = read("Chồng em bị tạm giam từ 2021, tòa xử 5 năm tù. Giờ có được giảm án không?")
    assert reading.main.measure == "reduction"


def test_the_story_decides_a_question_that_names_no_measure() -> None:
    reading = read("Chồng tôi bị án treo 2 năm. Có phải đi trình diện hằng tháng không?")
    assert reading.main.measure == "suspended_sentence" and not reading.main.confident


def test_a_family_from_kon_tum_is_always_told_about_the_merger() -> None:
    reading = read("Nhà tôi ở Kon Tum, hồ sơ đặc xá của con tôi thì nộp ở đâu?")
    assert [q.measure for q in reading.questions] == ["amnesty", "region"]


def test_the_intent_is_only_a_prior_when_the_words_name_nothing() -> None:
    assert read("mấy lần một năm?", "ask_other_measures").main.measure == "reduction"
    assert read("xóa án tích sau mấy năm?", "ask_conditions").main.measure == "record_clearing"


def test_sentences_never_fail_and_keep_the_family_s_words() -> None:
    assert sentences("") == []
    parts = sentences("Dạ em chào anh chị.\nEm muốn hỏi: con em bị xử 3 năm thì bao lâu được về?")
    assert parts[-1].text.endswith("bao lâu được về?") and parts[-1].asks


@pytest.mark.parametrize(
    "text",
    [
        "nộp tiền bồi thường thì mới được xét đặc xá phải không",
        "phải nộp bao nhiêu tiền án phí thì mới được đặc xá",
        "chồng em bị xử đã 3 năm, cải tạo tốt",
        "anh tôi mất 3 năm ở tù rồi mà vẫn chưa được giảm án",
        "em trai gây tai nạn làm người ta bị thương nặng, gia đình đã bồi thường",
        "vụ án có giám định pháp y tỉ lệ thương tật 30% thì án bao nhiêu năm",
        "chỉ còn 3 tháng nữa là chồng em ra tù, có cần làm giấy tờ gì không",
        "đơn xin đặc xá có phải cam kết chấp hành pháp luật không",
        "có nên gửi tiền lưu ký cho chồng mỗi tháng không",
        "tội lừa đảo chiếm đoạt tài sản có được đặc xá không",
        "có đợt đặc xá thì gia đình được báo lúc nào ạ",  # "báo lúc" is not "bạo lực"
        "lần nào lên thăm cũng bị cán bộ quát nạt, tôi muốn khiếu nại",
        "xin hỏi người được đặc xá có bị cấm xuất cảnh không, còn nợ 10 triệu bồi thường",
        "bố tôi đang chấp hành án 6 năm tội nhận hối lộ, bị xơ gan, có được xét đặc xá không",
        "tội tham ô tài sản có được giảm án không",
        "an treo co phai o tu k",  # "treo" of án treo, not "treo cổ"
        "bồi thường có bắt buộc nộp đủ 30 triệu không",  # "bắt buộc": required, not forced
        "sau này có ảnh hưởng đi học, đi bộ đội không ạ",  # bộ đội (army), not bỏ đói
        "chồng tôi lái xe va chạm làm một người chết, bị xử 2 năm, đang ở tù",  # the crime
        "em tôi bị tử hình vì đâm chết người, đang ở trại tạm giam chờ ân giảm",
        "cán bộ bảo chồng tôi không được đưa vào danh sách đề nghị đặc xá",  # danh sách
        "Tôi muốn nhận anh ấy vào làm nhưng cũng lo. Xin hỏi người được đặc xá có quyền gì?",
        "gia đình tôi lo việc bị trích xuất sẽ làm anh mất cơ hội, có mất 10 triệu nào không",
        "năm 2026 anh lại bị bắt vì đánh người gây thương tích, có được đặc xá không",
        "nghe nói tội tham ô thì phải nộp hết tiền mới được xét đặc xá",  # the law's condition
    ],
)
def test_legal_payments_and_prison_time_are_not_urgent(text: str) -> None:
    assert urgent_kind(text) is None


def _dev_set() -> dict[str, list[dict[str, str]]]:
    """The development sets (each later one written by another writer, blind)."""
    import yaml

    merged: dict[str, list[dict[str, str]]] = {"urgent": [], "ordinary": []}
    for name in ("urgent_dev.yml", "urgent_dev_2.yml", "urgent_dev_3.yml"):
        data = yaml.load(
            Path(__file__).with_name(name).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
        )
        for key in merged:
            merged[key] += data[key]
    return merged


def test_the_development_set_of_urgent_messages_is_caught_as_their_kind() -> None:
    """Written by a second writer, blind to the held-out urgent set (tests/heldout/urgent.yml),
    which the benchmark measures: this set is for development and may be tuned on."""
    urgent = _dev_set()["urgent"]
    missed = [u["text"][:60] for u in urgent if urgent_kind(u["text"]) is None]
    assert len(missed) <= len(urgent) // 20, missed  # at least 95 %
    other_kind = [u["text"][:60] for u in urgent if urgent_kind(u["text"]) not in (None, u["kind"])]
    assert len(other_kind) <= len(urgent) // 20, other_kind  # a death is not a dying prisoner


def test_the_development_set_of_ordinary_messages_stays_off_the_safety_path() -> None:
    ordinary = _dev_set()["ordinary"]
    flagged = [o["text"][:60] for o in ordinary if urgent_kind(o["text"]) is not None]
    assert len(flagged) <= len(ordinary) // 20, flagged  # at most 5 %


@pytest.mark.parametrize(
    ("text", "measure"),
    [
        ("muốn kháng cáo xin án treo cho cháu thì còn kịp không", "trial"),
        ("án treo có được đặc xá không", "amnesty"),
        ("mẹ già 74 tuổi có được xã cho hưởng trợ cấp không", "out_of_scope"),
        ("giay chung nhan dac xa ai cap?", "after_release"),  # the paper, not the amnesty
        ("ve nha roi ck e co phai len xa trinh dien ko", "after_release"),
        ("chau e 16 tuoi vua bi cong an huyen tam giu, nha phai lam gi", "detention"),
        ("toa huyen giai the roi thi nop don o toa nao", "region"),
        ("bo e dau lung lam, o trai co dc kham benh ko", "prison_life"),
        ("anh trai e sap cuoi vo, em dang o tu co dc ve du ko", "prison_life"),
        ("lay trom dien thoai 10 trieu thi bi may nam tu", "trial"),
        ("a e ra tu nam ngoai, gio muon di xkld dai loan dc ko", "after_release"),
        # what "có được ... không" asks for, whatever else the sentence tells
        ("ban an dang bi vien kiem sat khang nghi thi co dc xet dac xa ko", "amnesty"),
        ("kháng cáo xin án treo có được không", "trial"),
        ("có người nhận lo đặc xá cho chồng em, có thật không?", "scams"),
        ("em lo dac xa nam nay khong co", "amnesty"),  # "lo" is worry here
        # a postponement asked for someone already in prison is a suspension
        (
            "bo e dang o trai giam, an 8 nam, bi suy than. gd muon xin hoan thi hanh an cho bo ve "
            "nha chua benh thi lam don gui toa nao",
            "suspension",
        ),
        (
            "Vợ tôi đang chấp hành án 7 năm tù ở trại giam, có thai 4 tháng. Gia đình làm đơn xin "
            "cho vợ về nhà sinh con thế nào?",
            "suspension",
        ),
        (
            "Em bị tuyên 2 năm tù, chưa phải vào trại, muốn xin hoãn thì làm đơn ở đâu?",
            "postponement",
        ),
        ("nha khong ai lao dong, xin cho em toi tam ra tu de lo cho gia dinh dc ko", "suspension"),
        ("nếu được ân giảm thì phải ở tù bao lâu mới được xét giảm án", "commutation"),
        ("don xin an giam gui qua dau", "commutation"),  # gửi qua (via), not gửi quà (gifts)
        (
            "bố tôi được đặc xá và ra trại năm ngoái, về địa phương phải trình diện ở đâu",
            "after_release",
        ),
    ],
)
def test_the_measure_a_question_asks_about(text: str, measure: str) -> None:
    assert read(text).main.measure == measure


def test_questions_written_without_punctuation_are_each_read() -> None:
    reading = read(
        "Chị tôi bị xử 5 năm tù tội lừa đảo em muốn hỏi chị ấy có được ân xá không Và muốn "
        "được giảm án thì gia đình phải làm gì"
    )
    assert [q.measure for q in reading.questions] == ["amnesty", "reduction"]
    # a capital after "không" inside a sentence that goes on is not cut when few words precede
    assert len(sentences("Không Biết hỏi ai")) == 1


def test_a_clause_asking_who_is_a_question_of_its_own() -> None:
    asked = read("gio ck e muon di lam xa thi co dc ko, hang thang phai bao cao voi ai").questions
    assert [q.text for q in asked] == [
        "gio ck e muon di lam xa thi co dc ko",
        "hang thang phai bao cao voi ai",
    ]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("muon dc giam an thi gia dinh co phai viet don gui toa ko gd lam j de giup", 2),
        ("co duoc tha truoc thoi han ko va lam don o dau", 2),
        ("chong em co duoc dac xa khong a", 1),
        ("nguoi ta noi co tien an roi thi ko dc dac xa dung ko ad", 1),  # "không" negates
        ("bố em có được giảm án không ạ", 1),
    ],
)
def test_a_yes_no_question_closed_then_another_without_punctuation(text: str, count: int) -> None:
    assert len(read(text).questions) == count


def test_lan_dau_is_no_question_word() -> None:
    asked = read("Con tôi phạm tội lần đầu, bây giờ có được xin giảm án không?").questions
    assert [q.text for q in asked] == [
        "Con tôi phạm tội lần đầu, bây giờ có được xin giảm án không?"
    ]


def test_a_difference_asked_of_what_came_before_is_about_that_measure() -> None:
    asked = read("Ck e co dc xet tha truoc thoi han k ad? Cai nay khac dac xa ntn a?").questions
    assert [(q.measure, q.facet) for q in asked][-1] == ("early_release", "difference")


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        # two things listed are one question; "không còn" is "no longer", not a new clause
        ("Khoản nợ này có được miễn, giảm không?", ["civil_judgment"]),
        ("Bây giờ không còn chi cục thi hành án huyện thì tôi nộp ở đâu?", ["civil_judgment"]),
        # "phải làm những gì" asks, even with no question mark and another word after it
        ("neu dc tha ve thi phai lam nhung gi o dia phuong a", [None]),
    ],
)
def test_lists_no_longer_and_what_to_do(text: str, asked: list[str | None]) -> None:
    questions = read(text).questions
    assert len(questions) == len(asked)
    assert all(s.asks for s in sentences(text))
    for question, measure in zip(questions, asked, strict=True):
        assert measure is None or question.measure == measure
    assert not any(s.asks for s in sentences("em khong biet phai lam gi nua."))


def test_which_day_asks_when() -> None:
    assert read("co ten trong quyet dinh dac xa thi ngay nao dc ve?").main.facet == "timing"


def test_another_way_home_a_way_to_shorten_and_the_end_of_a_postponement() -> None:
    asked = read(
        "Chồng em bị xử 2 năm tù. Có cách nào khác để anh về sớm không? Nếu không thì có cách "
        "nào rút ngắn, và bao lâu thì được xóa án tích?"
    ).questions
    assert [q.measure for q in asked] == ["early_release", "early_release", "record_clearing"]
    later = read("chi e dang dc hoan thi hanh an. het thoi gian hoan thi phai lam gi").main
    assert later.measure == "postponement"


def test_co_bi_khong_asks_even_when_the_sentence_goes_on() -> None:
    asked = read("neu man han thi vk e co bi truc xuat ve nuoc ko, e muon vk o lai vn").questions
    assert len(asked) == 1 and asked[0].measure == "foreign"


def test_an_in_scope_question_beside_an_out_of_scope_one_keeps_its_measure() -> None:
    asked = read(
        "Chồng tôi đang ở tù. Tôi muốn ly hôn thì nộp đơn ở đâu? Trước đó tôi muốn vào trại "
        "gặp anh, cần mang theo giấy tờ gì, cho con gái đi cùng có được không?"
    ).questions
    assert [q.measure for q in asked] == ["out_of_scope", "prison_life", "prison_life"]
    assert read("vợ chồng được gặp nhau trong phòng riêng ở trại không").main.measure == (
        "prison_life"
    )


def test_custody_counted_into_the_sentence_and_its_longest_term_are_detention_questions() -> None:
    asked = read(
        "Chồng em bị tạm giam, chưa xét xử. Bị giam hơn 1 năm rồi thì sau này xử có được trừ "
        "vào án không, và tạm giam kiểu này tối đa được bao lâu?"
    ).questions
    assert [q.measure for q in asked] == ["detention", "detention"]


@pytest.mark.parametrize(
    "text",
    [
        "Không biết ông có thuộc diện ưu tiên vì trên 70 tuổi hay không, và người già phải ở tù "
        "tối thiểu bao lâu mới được xét?",
        "Em tôi cần có những điều kiện gì để được xét tha trước thời hạn, và phải chấp hành được "
        "bao lâu thì mới đủ?",
    ],
)
def test_hay_khong_closes_a_question_and_the_next_clause_asks_again(text: str) -> None:
    assert len(read(text).questions) == 2


def test_parts_of_one_sentence_become_one_question_when_there_are_too_many() -> None:
    text = (
        "Chồng em ở trại giam, án 9 năm, bác sĩ nói ung thư giai đoạn cuối chỉ còn vài tháng. "
        "Em phải làm đơn gì, nộp ở đâu, cần giấy tờ gì, ai quyết định và bao lâu có kết quả? "
        "Nếu được về thì thời gian ở nhà có tính vào án không? Ở nhà có phải trình diện không?"
    )
    reading = read(text)
    asked = [q.text for q in reading.questions]
    assert len(asked) <= 5
    assert any("tính vào án" in q for q in asked)  # the later question is not dropped
    assert any("trình diện" in q for q in asked)
    assert reading.measure == "suspension" and reading.urgent == "dying"


@pytest.mark.parametrize(
    ("parts", "limit", "expected"),
    [
        # (sentence, measure) of each question → the questions kept
        ([(0, "a"), (0, "a"), (1, "a")], 3, ["q0", "q1", "q2"]),  # within the limit
        ([(0, "a"), (0, "a"), (0, "a"), (1, "a")], 2, ["q0, q1, q2", "q3"]),  # parts join
        ([(0, "a"), (0, "b"), (1, "a")], 2, ["q0", "q1"]),  # another measure: not joined
        ([(0, "a"), (1, "a"), (2, "a")], 2, ["q0", "q1"]),  # other sentences: not joined
    ],
)
def test_questions_within_the_limit(
    parts: list[tuple[int, str]], limit: int, expected: list[str]
) -> None:
    questions = [
        Question(f"q{i}", measure, "overview", False, sentence=sentence)
        for i, (sentence, measure) in enumerate(parts)
    ]
    assert [q.text for q in within(questions, limit)] == expected


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Tinh den nay em e du thoi gian chua ad, an co 2 nam thoi", True),
        ("Chồng em đã được giảm án chưa ạ, em không rõ lắm", True),
        ("Án phí nộp rồi, bồi thường thì chưa, nhà em nghèo lắm", False),
        ("Em đã hỏi trại rồi mà chưa, giờ vẫn chờ", False),
    ],
)
def test_a_yes_no_question_closed_mid_sentence_asks(text: str, asks: bool) -> None:
    assert any(s.asks for s in sentences(text)) == asks


def test_a_question_closed_before_a_reason_is_asked_where_question_marks_are_used() -> None:
    text = (
        "Em chồng tôi có được xét đặc xá đợt tới không? "
        "Và làm hồ sơ có phải đóng khoản phí nào không, vì tôi nghe bảo tốn kém lắm."
    )
    asked = [q.text for q in read(text).questions]
    assert any("khoản phí" in q for q in asked)
    assert read(text).questions[-1].facet == "money"
