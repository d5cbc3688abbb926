"""The router (actions/router.py) on the project's whole knowledge base, with the date pinned to
6/12/2026: safety first, several questions each answered, the case worked through, declines,
"did you mean" only as the last resort. The messages are our own, made up from the legal facts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from actions.case_entries import is_minor
from actions.router import Routed, case_of, projected, route
from knowledge.db import create_schema, make_engine
from knowledge.kb.loader import read_entries, read_laws, read_rounds, sync
from knowledge.kb.queries import entry_by_key
from settings import from_env
from tests.databases import database_url

TODAY = dt.date(2026, 12, 6)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    with database_url("sqlite", tmp_path_factory.mktemp("router")) as url:
        engine = make_engine(url)
        create_schema(engine)
        maker = sessionmaker(engine, expire_on_commit=False)
        with maker.begin() as session:
            sync(session, read_entries(), read_rounds(), read_laws())
        yield maker
        engine.dispose()


def ask(
    sessions: sessionmaker[Session],
    text: str,
    intent: str | None = None,
    confidence: float = 0.9,
    previous: str | None = None,
) -> Routed:
    settings = dataclasses.replace(from_env({"AMNESTY_VAR_DIR": str(Path("var"))}), today=TODAY)
    with sessions() as session:
        return route(
            text,
            intent=intent,
            confidence=confidence,
            session=session,
            settings=settings,
            previous=previous,
        )


def reply(routed: Routed) -> str:
    return "\n".join(routed.messages)


def test_several_questions_are_answered_with_the_case_worked_through(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Chồng em bị 7 năm tù tội trộm cắp, đã ở được 3 năm. Vậy anh ấy có được giảm án không, "
        "bao lâu thì được xét, làm đơn ở đâu?",
        "ask_other_measures",
    )
    text = reply(routed)
    assert routed.kind == "answer" and len(routed.entries) >= 2
    assert all(key.startswith(("reduction", "other_sentence")) for key in routed.entries)
    assert "Bạn hỏi" in text and "1)" in text and "2)" in text
    assert "1/3 mức án = 2 năm 4 tháng" in text and "đã qua mốc này" in text
    assert "Nguồn:" in routed.messages[-1]


def test_record_clearing_is_computed_from_the_sentence_and_the_release_year(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Anh tôi bị kết án 5 năm tù về tội cố ý gây thương tích, chấp hành xong năm 2007, từ đó "
        "không vi phạm gì. Anh tôi đã được xóa án tích chưa?",
        "ask_after_release",
    )
    text = reply(routed)
    assert routed.entries[0].startswith("record_clearing")
    assert "✔ Thời hạn 2 năm" in text and "đã đủ" in text
    assert not text.startswith("Không")  # never "no" when the record may already be cleared
    assert "án tích" in routed.messages[0]


def test_a_minor_gets_the_juvenile_rule_not_the_adult_one(sessions: sessionmaker[Session]) -> None:
    routed = ask(
        sessions,
        "con toi 16 tuoi dang chap hanh an 4 nam toi cuop giat, pham toi lan dau, da o duoc 2 "
        "nam, co duoc tha truoc thoi han khong a",
    )
    assert routed.entries[0] == "early_release_minors"
    assert "chưa kiểm chứng" in reply(routed)


def test_an_old_man_with_one_month_served_is_not_told_he_may_be_amnestied(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Bố tôi 72 tuổi, bị 10 năm tù tội lừa đảo, mới vào trại được 1 tháng. Đợt tới bố tôi có "
        "được đặc xá không?",
        "ask_conditions",
    )
    text = reply(routed)
    assert "CÓ THỂ" not in text and "có thể thuộc diện được xem xét" not in text
    assert "chưa thể nói chắc" in text
    assert "từ đủ 70 tuổi" in text and "1/3 mức án (3 năm 4 tháng)" in text
    assert "Chưa có thông tin về đợt tiếp theo" in text  # "đợt tới": no made-up date
    assert routed.offer_check


@pytest.mark.parametrize(
    ("text", "kind", "first_words"),
    [
        (
            "Anh trai tôi chết trong trại tạm giam, người nhà thấy nhiều vết bầm tím. Gia đình "
            "phải làm gì?",
            "death",
            "Xin chia buồn",
        ),
        (
            "Có người nói đưa 80 triệu sẽ lo cho chồng em có tên trong danh sách đặc xá, có "
            "nên đưa không?",
            "scam",
            "Không đưa, không chuyển thêm tiền",
        ),
        (
            "bo em ung thu giai doan cuoi trong trai, bac si bao chi con vai thang, gia dinh "
            "muon dua bo ve nha",
            "dying",
            "Pháp luật không có thủ tục riêng",
        ),
    ],
)
def test_urgent_messages_get_what_to_do_now_first_and_the_offer_to_send(
    sessions: sessionmaker[Session], text: str, kind: str, first_words: str
) -> None:
    routed = ask(sessions, text, "nlu_fallback", 0.2)
    assert (routed.kind, routed.urgent) == ("safety", kind)
    assert routed.messages[0].startswith(first_words)
    assert routed.offer_feedback


def test_an_urgent_message_with_another_question_gets_both(sessions: sessionmaker[Session]) -> None:
    routed = ask(
        sessions,
        "Chồng em bị quản giáo đánh bầm dập trong trại. Anh ấy án 6 năm, đã ở 4 năm, có được "
        "giảm án không?",
    )
    assert routed.urgent == "harm"
    assert routed.entries[0] == "custody_harm_beaten_injured"
    assert any(k.startswith(("reduction", "other_sentence")) for k in routed.entries[1:])


def test_a_scam_with_many_questions_keeps_a_place_for_another_matter(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Có người xưng cán bộ trại đòi 80 triệu để lo cho chồng em được đặc xá, em đã chuyển 20 "
        "triệu. Em có nên chuyển tiếp không? Đây có phải lừa đảo không, em phải làm gì để lấy "
        "lại tiền? Anh ta dặn không được nói với ai thì sao? Làm hồ sơ đặc xá có mất tiền không?",
    )
    assert routed.kind == "safety"
    assert "fees_free_of_charge" in routed.entries


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("vo e viet thu ve noi khong muon song nua, da cat tay mot lan", "custody_harm_self_harm"),
        ("Con tôi bị mấy người cùng buồng đánh gãy tay", "custody_harm_beaten_injured"),
        ("bố em sốt cao co giật mà trại không cho đi viện", "custody_harm_illness_untreated"),
    ],
)
def test_harm_gets_the_first_step_that_fits_it(
    sessions: sessionmaker[Session], text: str, first: str
) -> None:
    routed = ask(sessions, text)
    assert routed.urgent == "harm" and routed.entries[0] == first


def test_an_alarm_that_is_the_only_question_gets_the_safety_answer_alone(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(sessions, "có người đòi 50 triệu để chạy đặc xá", "ask_fees")
    assert (routed.kind, routed.entries) == ("safety", ["fees_asked_for_money"])


@pytest.mark.parametrize(
    ("intent", "text", "key"),
    [
        (
            "ask_conditions",
            "bố em năm nay 75 tuổi có được ưu tiên xét đặc xá không",
            "conditions_priority_age70",
        ),
        (
            "ask_conditions",
            "con em phạm tội lúc 16 tuổi thì điều kiện đặc xá thế nào",
            "conditions_priority_under18",
        ),
        (
            "ask_conditions",
            "me em dang duoc tam dinh chi chap hanh an thi co duoc dac xa khong",
            "conditions_suspension",
        ),
        ("ask_conditions", "tù chung thân có được đặc xá không", "conditions_life_sentence"),
        ("ask_documents", "giấy tờ y tế có giá trị bao lâu", "documents_medical"),
        ("ask_other_measures", "đại xá là gì", "other_general_amnesty"),
        ("out_of_scope", "khi nào được đi thăm gặp chồng trong trại", "prison_visits"),
        (None, "tháng này đi thăm bố được mấy lần", "prison_visits"),
        (
            "ask_after_release",
            "được đặc xá rồi có được xóa án tích không",
            "record_clearing_automatic",
        ),
    ],
)
def test_a_short_question_gets_the_entry_that_answers_it(
    sessions: sessionmaker[Session], intent: str | None, text: str, key: str
) -> None:
    routed = ask(sessions, text, intent)
    assert routed.kind == "answer" and routed.entries[0] == key


def test_out_of_scope_gets_a_kind_decline_never_an_unrelated_entry(
    sessions: sessionmaker[Session],
) -> None:
    vehicle = ask(sessions, "Cho hỏi làm lại giấy đăng ký xe máy bị mất thì làm ở đâu?")
    weather = ask(sessions, "mai trời có mưa không", "out_of_scope")
    assert vehicle.kind == "decline" and vehicle.entries == ["out_of_scope_vehicle"]
    assert weather.kind == "decline" and weather.entries == []
    assert "ngoài phạm vi" in reply(weather)


def test_one_prior_conviction_is_not_an_exclusion(sessions: sessionmaker[Session]) -> None:
    routed = ask(
        sessions,
        "Em tôi đã có 1 tiền án, giờ đang chấp hành án 5 năm, có được xét đặc xá không?",
        "ask_exclusions",
    )
    assert routed.entries[0] == "exclusions_prior_convictions"
    assert "02 tiền án" in reply(routed) or "2 tiền án" in reply(routed)


def test_compensation_partly_paid_is_not_read_as_unpaid(sessions: sessionmaker[Session]) -> None:
    routed = ask(
        sessions,
        "Chồng tôi bị bắt ngày 10/3/2023, tòa xử 6 năm tù tội trộm cắp, xếp loại khá, án phí"
        " đã nộp, bồi thường 85 triệu mới trả được 30 triệu. Anh có đủ điều kiện đặc xá không?",
        "ask_conditions",
    )
    text = reply(routed)
    assert "chưa đáp ứng" not in text  # some paid: it depends on the enforcement office's decision
    assert "chưa có điều kiện thi hành' phần còn lại" in text
    assert "tức 44 tháng" in text  # the time served, to today, in whole months too


def test_a_story_about_a_past_round_is_read_as_of_today(sessions: sessionmaker[Session]) -> None:
    routed = ask(
        sessions,
        "Con tôi án 8 năm, bị bắt 20/6/2022. Năm 2024 đặc xá cháu không được xét."
        " Đến giờ cháu đã đủ thời gian chưa?",
        "ask_conditions",
    )
    assert "tính đến 06/12/2026" in reply(routed)


def test_a_neighbour_named_is_neither_confirmed_nor_denied(sessions: sessionmaker[Session]) -> None:
    routed = ask(
        sessions,
        "Anh Đỗ Văn Khải hàng xóm nhà tôi đang ở trại giam, án 7 năm tội lừa đảo. Đợt đặc xá "
        "năm nay anh Khải có được tha không?",
        "ask_results",
    )
    assert "results_named_person" in routed.entries


def test_last_year_is_2025_with_its_total(sessions: sessionmaker[Session]) -> None:
    routed = ask(sessions, "năm ngoái có bao nhiêu người được đặc xá", "ask_results")
    assert "22.081" in reply(routed)
    assert routed.entries[0].startswith("results_2025")


def test_a_family_from_kon_tum_is_told_about_quang_ngai(sessions: sessionmaker[Session]) -> None:
    routed = ask(sessions, "Nhà tôi ở Kon Tum, con tôi đang thụ án, hồ sơ đặc xá nộp ở đâu?")
    assert "region_kon_tum" in routed.entries
    assert "Quảng Ngãi" in reply(routed)


def test_prison_visits_are_answered_under_the_law_in_force(sessions: sessionmaker[Session]) -> None:
    routed = ask(sessions, "mỗi tháng được thăm gặp chồng mấy lần, mang được bao nhiêu kg quà?")
    text = reply(routed)
    assert routed.entries[0].startswith("prison_")
    assert "127/2025" in text


def test_a_follow_up_that_adds_facts_continues_the_question(
    sessions: sessionmaker[Session],
) -> None:
    first = ask(sessions, "Bố em án 8 năm, đã ở 3 năm, có được đặc xá không?", "ask_conditions")
    second = ask(sessions, "bố e 72t r ạ", "affirm", 0.5, previous=first.question)
    assert second.kind == "answer"
    assert "72 tuổi" in reply(second) and "từ đủ 70 tuổi" in reply(second)


def test_no_round_note_after_saying_amnesty_does_not_apply(sessions: sessionmaker[Session]) -> None:
    routed = ask(sessions, "Người bị án treo có được đặc xá không?", "ask_conditions")
    text = reply(routed)
    assert "Không" in routed.messages[0][:40] or "chưa đáp ứng" in routed.messages[0][:60]
    assert "chưa có thông tin công khai về đợt" not in text
    assert not routed.offer_check


def test_nothing_understood_is_did_you_mean_only_as_the_last_resort(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(sessions, "thế còn cái kia thì sao", "nlu_fallback", 0.2)
    assert routed.kind == "did_you_mean"
    understood = ask(sessions, "hoãn thi hành án được bao lâu", "nlu_fallback", 0.2)
    assert understood.kind == "answer"  # low confidence, but the words name the measure


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            "Chồng tôi đang chấp hành án ở trại, lần nào lên thăm cũng bị cán bộ quát nạt, không "
            "cho gặp mà không nói lý do. Tôi muốn khiếu nại thì gửi đơn ở đâu?",
            "custody_harm_complain_or_denounce",
        ),
        ("con toi o trai tam giam an uong rat kem, gia dinh muon phan anh thi gui dau", None),
        ("Mẹ tôi 75 tuổi mà không có tên trong danh sách đặc xá, tôi muốn khiếu nại", None),
    ],
)
def test_a_complaint_about_treatment_in_custody_is_not_a_complaint_about_the_list(
    sessions: sessionmaker[Session], text: str, key: str | None
) -> None:
    routed = ask(sessions, text)
    if "danh sách" in text:
        assert routed.entries[0] == "complaints_route"
    else:
        assert routed.entries[0] == (key or "custody_harm_complain_or_denounce")
    assert routed.offer_feedback


def test_a_short_message_pointing_at_something_unnamed_gets_did_you_mean(
    sessions: sessionmaker[Session],
) -> None:
    # Even when the model is sure it is out of scope: it is unclear, not another matter.
    assert ask(sessions, "vậy còn cái kia thì sao", "out_of_scope", 0.8).kind == "did_you_mean"
    assert ask(sessions, "mai trời có mưa không", "out_of_scope", 0.8).kind == "decline"


@pytest.mark.parametrize(
    ("text", "by_court"),
    [
        (
            "Tôi bị 2 năm tù tội đánh bạc, ra tù năm 2015, muốn xóa án tích thì thủ tục thế nào?",
            False,
        ),
        (
            "Chú tôi bị 4 năm tù tội tuyên truyền chống Nhà nước, ra tù 2021, xóa án tích thế nào?",
            True,
        ),
    ],
)
def test_the_court_route_for_record_clearing_only_for_the_crimes_it_is_for(
    sessions: sessionmaker[Session], text: str, by_court: bool
) -> None:
    routed = ask(sessions, text, "ask_after_release")
    assert ("record_clearing_by_court" in routed.entries[:1]) == by_court


def test_a_letter_to_the_staff_asking_nothing_is_offered_to_them_as_feedback(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Thưa các cán bộ trại! Tôi là mẹ của một phạm nhân. Tuần trước tôi nhận được thư con "
        "gửi về, lần đầu tiên sau 9 năm con biết nhận lỗi với mẹ. Tôi đọc mà khóc mãi.",
        "out_of_scope",
    )
    assert routed.kind == "thanks" and routed.entries == [] and routed.offer_feedback
    assert "Gửi ý kiến cho cán bộ" in reply(routed)
    asked = ask(sessions, "Cảm ơn cán bộ. Cho tôi hỏi tháng mấy thì được thăm gặp con?")
    assert asked.kind == "answer"


@pytest.mark.parametrize(
    ("text", "held"),
    [
        (
            "Con tôi đang bị tạm giam để điều tra, chưa xét xử, sức khỏe yếu. Có được đặc xá "
            "không ạ?",
            True,
        ),
        ("em trai toi bi tam giu 3 thang nay chua ra toa, dip 2/9 co duoc an xa ko", True),
        ("Con tôi bị tòa xử 6 năm tù, bị tạm giam từ tháng 2/2024. Có được đặc xá không?", False),
    ],
)
def test_amnesty_for_someone_held_before_trial_says_first_it_is_for_the_sentenced(
    sessions: sessionmaker[Session], text: str, held: bool
) -> None:
    routed = ask(sessions, text, "ask_conditions")
    assert routed.kind == "answer"
    assert (routed.entries[0] == "conditions_not_yet_sentenced") is held
    assert held or "conditions_not_yet_sentenced" not in routed.entries


def test_the_rights_and_duties_of_a_person_proposed(sessions: sessionmaker[Session]) -> None:
    routed = ask(sessions, "Phạm nhân được đề nghị đặc xá thì có quyền và nghĩa vụ gì?")
    assert routed.entries[0] == "procedure_proposed_rights_duties"
    assert "khiếu nại" in reply(routed) and "cam kết" in reply(routed)


def test_money_sent_to_a_prisoner_is_the_deposit_rule_not_a_scam(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Tôi có người thân là phạm nhân. Nghe nói tiền nhà gửi vào thì anh ấy không được giữ, "
        "chỉ được mua hàng ở căng tin. Có đúng vậy không?",
        "out_of_scope",
    )
    assert routed.kind == "answer" and routed.urgent is None
    assert routed.entries[0] == "prison_money"


def test_a_question_about_people_in_general_gets_the_rule_not_a_verdict(
    sessions: sessionmaker[Session],
) -> None:
    general = ask(
        sessions,
        "Những người đang được tạm đình chỉ chấp hành án phạt tù mà chưa nộp xong án phí thì "
        "có được đặc xá không?",
        "ask_conditions",
    )
    assert "Theo những gì bạn kể" not in reply(general)
    told = ask(
        sessions,
        "Chồng tôi đang được tạm đình chỉ chấp hành án phạt tù, chưa nộp xong án phí. Anh ấy "
        "có được đặc xá không?",
        "ask_conditions",
    )
    assert "Theo những gì bạn kể" in reply(told)


def test_a_condition_the_case_does_not_meet_is_explained_by_its_own_entry(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "anh trai em có 2 tiền án rồi, lần này bị xử 4 năm tù tội trộm cắp, ở được 2 năm. "
        "Nhờ ad đối chiếu giúp trường hợp cụ thể của anh ấy với các điều kiện đặc xá.",
        "ask_conditions",
    )
    assert routed.entries[0] == "exclusions_prior_convictions"
    assert "✘" in reply(routed)


def test_a_death_in_custody_gets_no_steps_written_for_a_living_person(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Em tôi bị tạm giam được 1 tháng thì công an báo em tôi tự tử trong buồng giam. Nhưng "
        "gia đình thấy cái chết của em là do bị đánh đập, người đầy vết bầm. Gia đình phải làm "
        "gì, khiếu nại ở đâu?",
    )
    assert routed.kind == "safety" and routed.urgent == "death"
    assert routed.entries[0] == "custody_harm_death_first_steps"
    living = {
        "custody_harm_self_harm",
        "custody_harm_illness_untreated",
        "custody_harm_beaten_injured",
    }
    assert not living & set(routed.entries)


def test_record_clearing_from_a_sentence_begun_years_ago(sessions: sessionmaker[Session]) -> None:
    routed = ask(
        sessions,
        "Bố em bị phạt tù 2 năm, cách đây 15 năm rồi. Giờ em muốn thi công an, bố em đã được "
        "xóa án tích chưa ạ?",
        "ask_after_release",
    )
    text = reply(routed)
    assert "chậm nhất năm 2013" in text and "✔ Thời hạn 2 năm" in text


def test_time_served_from_an_arrest_last_year(sessions: sessionmaker[Session]) -> None:
    """ "tháng 3 năm ngoái" is March of last year (the date is pinned to 06/12/2026), never a
    sentence of 3 years."""
    routed = ask(
        sessions,
        "Chồng em bị bắt từ tháng 3 năm ngoái, bị xử 5 năm tù tội trộm cắp tài sản, đến giờ có "
        "được xét đặc xá chưa?",
    )
    text = reply(routed)
    assert "án 60 tháng tù" in text and "Đã chấp hành 1 năm 8 tháng" in text


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("Tạm giam để điều tra tối đa bao lâu?", "detention_how_long"),
        ("moi thang dc tham ck may lan, bn tieng", "prison_visits"),
        ("dk tam tru o dau", "out_of_scope_residence_id"),
    ],
)
def test_rasa_s_out_of_scope_does_not_outweigh_a_word_of_ours(
    sessions: sessionmaker[Session], text: str, entry: str
) -> None:
    routed = ask(sessions, text, "out_of_scope")
    assert routed.entries[:1] == [entry]


def test_amnesty_asked_with_a_fee_unpaid_leads_with_paying_it(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Người đang được tạm đình chỉ chấp hành án mà chưa nộp xong án phí thì có được xét "
        "đặc xá không?",
        "ask_conditions",
    )
    assert routed.entries[0] == "conditions_civil_obligations"
    assert "phải nộp xong" in routed.messages[0]


def test_someone_held_before_trial_asking_about_amnesty_and_visits(
    sessions: sessionmaker[Session],
) -> None:
    """Amnesty asked for someone held before trial is answered (it is for the sentenced) even
    when the question reads as one about detention; the visits are those of detainees."""
    routed = ask(
        sessions,
        "Bố em bị tạm giam từ tháng 9 năm nay, chưa ra tòa. Bố em đang tạm giam vậy có được xét "
        "đặc xá không? Nhà em gửi tiền cho bố mua đồ ở căng tin thế nào?",
        "out_of_scope",
    )
    assert routed.entries[0] == "conditions_not_yet_sentenced"
    assert "detention_gifts_money" in routed.entries
    assert not {"prison_money", "prison_visits"} & set(routed.entries)


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("Một tháng được lên thăm chồng mấy lần ạ, chồng em đang ở trại giam", "prison_visits"),
        (
            "trong thoi gian huong an treo thi co duoc xuat canh khong",
            "suspended_sentence_obligations",
        ),
        (
            "Con tôi ra tù rồi mà vẫn chưa trả hết tiền bồi thường thì có bị đòi tiếp không?",
            "civil_judgment_unpaid_after_release",
        ),
        (
            "Em trai tôi trộm cắp 2 lần, bị xử ở hai tòa thì án có cộng lại không?",
            "trial_sentence_length",
        ),
        (
            "Cháu tôi 16 tuổi đang ở trại, người chưa thành niên thì một tháng được thăm mấy lần?",
            "prison_life_juveniles",
        ),
        (
            "chồng em đã được giảm 2 lần, năm nay lập công thì có được giảm nhiều hơn không",
            "other_sentence_reduction_special",
        ),
        (
            "nếu một người bị án treo 2 năm thì có được đặc xá không?",
            "conditions_suspended_sentence",
        ),
        (
            "Chồng tôi từng có tiền án, nay lại đang ở tù. Như vậy anh ấy có được xét đặc xá "
            "không?",
            "exclusions_prior_convictions",
        ),
        ("cháu tôi 16 tuổi đang ở tù thì bao lâu được xét giảm án", "reduction_minors"),
        (
            "con tôi phạm tội lúc 17 tuổi, nay 20 tuổi thì có được ưu tiên không",
            "conditions_priority_under18",
        ),
        (
            "mãn hạn tù rồi có phải trả tiền bồi thường nữa không",
            "civil_judgment_unpaid_after_release",
        ),
        (
            "đưa tiền bồi thường trực tiếp cho người bị hại có được không",
            "civil_judgment_pay_victim_directly",
        ),
        (
            "chong em duoc tha co dk ve nha roi thi phai lam gi",
            "other_conditional_release_probation",
        ),
        (
            "phạm nhân bị ốm phải đi viện thì trại có báo cho gia đình không",
            "prison_life_medical_care",
        ),
        ("nộp tiền để khỏi phải đi tù có được không", "trial_no_substitute"),
        ("bản án có hiệu lực rồi thì gia đình còn làm gì được không", "trial_cassation"),
        ("quyết toán thuế tncn làm thế nào", "out_of_scope_tax"),
        (
            "vợ tôi đang mang bầu 4 tháng mà tòa gọi đi thi hành án, có hoãn dc ko",
            "postponement_pregnancy_child",
        ),
        ("cháu tôi 16 tuổi đâm người bị thương thì bị phạt thế nào", "trial_minors"),
        ("con toi 16t o trai co bi nhot chung voi nguoi lon khong", "prison_life_juveniles"),
        (
            "anh ấy là người Trung ở tù bên mình có được chuyển sang nước họ không",
            "foreign_transfer",
        ),
        ("giảm án khác tha có điều kiện chỗ nào", "early_release_vs_reduction"),
        (
            "đặc xá với tha tù trước thời hạn khác gì nhau, cái nào lợi hơn",
            "early_release_vs_amnesty",
        ),
        ("Viện kiểm sát có vai trò gì khi trại xét đặc xá", "complaints_procuracy"),
        ("mấy tháng bị tạm giam có được tính trừ vào án tù không", "detention_time_counts"),
        (
            "quý 2 năm nay em tôi bị xếp trung bình, việc xét giảm án và đặc xá có bị ảnh hưởng ko",
            "conditions_behaviour_rating",
        ),
        (
            "ông nội của chồng em là liệt sĩ thì chồng em có được ưu tiên xét đặc xá không",
            "conditions_priority_revolution",
        ),
    ],
)
def test_neighbouring_questions_get_their_own_entry(
    sessions: sessionmaker[Session], text: str, entry: str
) -> None:
    assert entry in ask(sessions, text).entries


def test_a_complaint_about_the_list_with_the_case_told_reads_the_case(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Anh tôi bị 8 năm tù tội trộm cắp tài sản, đã ở được 5 năm, các quý đều khá, án phí nộp "
        "rồi. Danh sách đề nghị đặc xá niêm yết ở trại không có tên anh. Tôi khiếu nại ở đâu?",
        "give_feedback",
    )
    text = reply(routed)
    assert routed.entries[0] == "complaints_route"
    assert "Với trường hợp bạn kể (án 96 tháng tù; đã chấp hành 60 tháng" in text


def test_the_safety_path_still_answers_the_other_questions_of_the_story(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Anh tôi bị xử phúc thẩm y án 9 năm tù. Bản án có hiệu lực rồi thì còn cách nào xem xét "
        "lại không? Có người đòi 100 triệu để lo giảm án, có tin được không?",
    )
    assert routed.kind == "safety" and routed.urgent == "scam"
    assert "trial_cassation" in routed.entries


def test_suspension_asked_with_a_listed_illness_is_answered_for_the_case(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Chồng tôi bị 6 năm tù, ở được 2 năm thì bị suy thận độ IV, phải chạy thận. Gia đình xin "
        "tạm đình chỉ cho anh về nhà chữa bệnh được không?",
        "ask_other_measures",
    )
    text = reply(routed)
    assert text.startswith("Có thể đề nghị tạm đình chỉ")
    assert "✔ Bệnh bạn kể (suy thận độ IV trở lên)" in text


def test_early_release_for_an_excluded_crime_gets_the_entry_on_exclusions(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Chồng em bị 9 năm tù tội mua bán trái phép chất ma túy, đã ở 5 năm, phạm tội lần đầu, "
        "các quý đều khá. Anh ấy có được tha tù trước thời hạn có điều kiện không?",
        "ask_other_measures",
    )
    assert routed.entries[0] == "early_release_exclusions"
    assert "✘ Tội (Điều 251)" in reply(routed)


def test_early_release_for_a_crime_it_does_not_exclude_gets_its_conditions(
    sessions: sessionmaker[Session],
) -> None:
    story = "Chồng em bị 3 năm tù tội trộm cắp tài sản, bị bắt từ tháng 3/2025, phạm tội lần đầu. "
    routed = ask(sessions, story + "Anh ấy có được tha tù trước thời hạn có điều kiện không?")
    assert routed.entries[0] == "other_conditional_release"
    assert "✔ Tội danh đã kể không thuộc diện bị loại trừ" in reply(routed)


def test_an_illness_untreated_gets_nothing_written_for_after_a_death(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Em trai tôi ở trại giam bị đau bụng, đi ngoài ra máu mấy tháng nay mà chỉ được uống thuốc "
        "giảm đau, chưa được đưa đi bệnh viện. Gia đình phải làm gì, gửi đơn cho ai?",
    )
    assert routed.kind == "safety" and routed.urgent == "harm"
    assert not {"custody_harm_death_notice_body", "custody_harm_death_first_steps"} & set(
        routed.entries
    )


@pytest.mark.parametrize(
    "text",
    ["tư vấn giúp em điện thoại dưới 5 triệu", "cho em xin vài bài hát ru con", "giá vàng hôm nay"],
)
def test_a_message_about_nothing_of_ours_is_declined(
    sessions: sessionmaker[Session], text: str
) -> None:
    routed = ask(sessions, text, "check_eligibility", 0.9)
    assert routed.kind == "decline" and not routed.entries


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("con em 15 tuổi đánh nhau làm bạn bị thương, bị xử thế nào", True),
        ("cháu tôi 17t bị bắt vì trộm cắp", True),
        ("em 16 tuổi, mẹ em bị bắt vì buôn ma túy thì em có được thăm không", False),
        ("con em 16 tuổi hỏi thủ tục làm căn cước", False),
    ],
)
def test_an_age_under_18_is_the_accused_s_only_when_an_offence_is_told(
    text: str, minor: bool
) -> None:
    case, facts = case_of(text, dt.date(2026, 12, 6))
    assert is_minor(case, facts, text) is minor


def test_a_question_staff_filed_under_an_entry_gets_it_though_no_word_is_ours(
    sessions: sessionmaker[Session],
) -> None:
    question = "ngày mai trời có mưa to không nhỉ"
    assert ask(sessions, question, "out_of_scope").kind == "decline"
    settings = dataclasses.replace(from_env({"AMNESTY_VAR_DIR": str(Path("var"))}), today=TODAY)
    with sessions() as session:  # not committed: the other tests see the entry unchanged
        entry = entry_by_key(session, "prison_other_topics")
        assert entry is not None
        entry.questions = [*entry.questions, question]
        session.flush()
        routed = route(
            question, intent="out_of_scope", confidence=0.9, session=session, settings=settings
        )
        session.rollback()
    assert routed.entries == ["prison_other_topics"]


def test_a_conditional_release_s_probation_is_not_a_suspended_sentence(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Con tôi được tha tù trước thời hạn có điều kiện, thời gian thử thách còn 2 năm. Có thể "
        "xin đặc xá để hết thời gian thử thách không?",
        "ask_conditions",
    )
    assert "conditions_suspended_sentence" not in routed.entries


def test_time_served_is_reckoned_to_a_later_day_the_family_asks_about(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Em trai em án 4 năm, bị bắt 19/9/2024. Tính đến 30/4/2027 thì nó ở được bao lâu, có đủ "
        "xét đặc xá không?",
        "ask_conditions",
    )
    text = "\n".join(routed.messages)
    assert "2 năm 7 tháng" in text and "30/04/2027" in text


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("tính đến 30/4/2027 thì được bao lâu", dt.date(2027, 4, 30)),
        ("bị bắt ngày 19/9/2024", None),  # a past day is not a projection
        ("đến 1/1/2035 thì sao", None),  # too far ahead
    ],
)
def test_projected_day(text: str, day: dt.date | None) -> None:
    assert projected(text, dt.date(2026, 12, 6)) == day


def test_amnesty_mentioned_by_someone_on_a_suspended_sentence_gets_why_not(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Cháu tôi bị xử 2 năm tù nhưng cho hưởng án treo. Có người bảo nếu có đợt đặc xá thì "
        "cháu cũng được xét để khỏi phải chịu thử thách nữa, không biết có đúng không?",
        "ask_conditions",
    )
    assert "conditions_suspended_sentence" in routed.entries


@pytest.mark.parametrize(
    ("text", "intent", "first"),
    [
        # an excluded crime told: the exclusions, not a priority group the words matched
        (
            "Bố tôi bị xử 8 năm tù về tội tuyên truyền chống nhà nước, nhà chỉ còn mẹ già. Gia "
            "đình muốn biết bố có được xét đặc xá không?",
            "ask_conditions",
            "exclusions_crimes",
        ),
        # "có thuộc diện này không" after a sentence about a priority group
        (
            "Vợ tôi đang ở tù 5 năm, ở nhà không còn ai làm ra tiền. Tôi nghe nói lao động duy "
            "nhất được ưu tiên khi xét đặc xá. Vợ tôi có thuộc diện này không?",
            "ask_conditions",
            "conditions_priority_breadwinner",
        ),
        # life not yet commuted: "có được làm đơn không" gets the life-sentence entry
        (
            "Bố tôi bị tù chung thân, bị bắt từ năm 2018, chưa được giảm lần nào. Đợt đặc xá tới "
            "bố tôi có được làm đơn không?",
            "ask_conditions",
            "conditions_life_sentence",
        ),
        # a crime early release excludes, whichever early-release entry the words chose
        (
            "Chồng em bị 10 năm tù tội mua bán trái phép chất ma túy. Chồng em có được xét tha "
            "tù trước thời hạn có điều kiện không?",
            "ask_other_measures",
            "early_release_exclusions",
        ),
        # "đợt đó" is the round the story named
        (
            "Đợt đặc xá dịp 30/4/2025 chồng em không có tên. Đợt đó cả nước có bao nhiêu người "
            "được đặc xá?",
            "ask_results",
            "results_2025_round1",
        ),
    ],
)
def test_the_entry_the_case_or_the_story_calls_for_comes_first(
    sessions: sessionmaker[Session], text: str, intent: str, first: str
) -> None:
    assert ask(sessions, text, intent).entries[0] == first


def test_no_round_note_after_a_case_reading_that_rules_amnesty_out(
    sessions: sessionmaker[Session],
) -> None:
    routed = ask(
        sessions,
        "Con trai tôi đang chấp hành án 4 năm tù tội trộm cắp, bị bắt từ 02/02/2024. Trước đó "
        "cháu đã 2 lần bị xử tù, chưa được xóa án tích. Cháu có được xét đặc xá không?",
        "ask_conditions",
    )
    text = reply(routed)
    assert "✘" in text and "đang được xét" not in text
