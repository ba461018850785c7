"""`assistant brief` as a council officer uses it, from a review of briefings on children's social care: questions
typed as a list in Word and saved as plain text, as the hint for a .docx given by mistake advises, and a date
filter over a council whose minutes have no meeting date recorded."""

import pytest

from assistant.errors import AssistantError
from assistant.present.briefing import read_question_file


def test_a_list_saved_from_word_as_plain_text_is_read_without_its_numbers_and_bullets(tmp_path):
    # Word's Save As › Plain Text writes a numbered list's numbers and a bulleted list's bullets (Windows-1252's 0x95)
    # before a tab; kept, they were asked and audited, and headed "2. 1. How many ..." in the briefing.
    path = tmp_path / "questions.txt"
    path.write_bytes(b"1.\tHow many care leavers are there in Medway?\r\n"
                     b"2)\tWhen was the first Ofsted monitoring visit rescheduled to?\r\n"
                     b"\x95\tWhich councils would form the Regional Adoption Agency?\r\n"
                     b"- By how much did the Youth Offending Team reduce reoffending?\r\n")
    assert [question for question, _ in read_question_file(path)] == [
        "How many care leavers are there in Medway?",
        "When was the first Ofsted monitoring visit rescheduled to?",
        "Which councils would form the Regional Adoption Agency?",
        "By how much did the Youth Offending Team reduce reoffending?"]


def test_a_question_numbered_in_one_list_and_not_in_another_is_the_same_question(tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text("1. How many care leavers are there in Medway?\nHow many care leavers are there in Medway?\n",
                    encoding="utf-8")
    with pytest.raises(AssistantError, match="asks again the question of line 1"):  # one answer twice, else
        read_question_file(path)


def test_a_figure_or_a_year_at_the_start_of_a_question_is_kept(tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text("2023/24: what was the overspend on placements?\n100 children: when was that reported?\n",
                    encoding="utf-8")
    assert [question for question, _ in read_question_file(path)] == [
        "2023/24: what was the overspend on placements?", "100 children: when was that reported?"]


def test_a_date_filter_that_leaves_out_a_councils_undated_minutes_is_refused_saying_so(hashing_seed_index, tmp_path):
    # A council whose minutes have no meeting date recorded (Worcestershire's, in the review) is matched by nothing
    # under --since: `ask` says why, the briefing had said only "Nothing in the minutes matches these filters", of a
    # council with 18 items in the index, and joined the two questions' reasons with ".;".
    from assistant.present.briefing import make_briefing
    from assistant.retrieve.filters import Filters

    questions = tmp_path / "q.txt"
    questions.write_text("How many children were in care in Sefton?\nWhat did the annual report say about "
                         "adoption?\n", encoding="utf-8")
    with pytest.raises(AssistantError) as refused:
        make_briefing(questions, tmp_path / "b.md", hashing_seed_index, filters=Filters(council="Sefton",
                                                                                        since="2018-01-01"),
                      progress=False)
    assert refused.value.message == (
        f"2 questions of {questions} have filters that match nothing in the index: question 1 (\u201cHow many children "
        "were in care in Sefton?\u201d); question 2 (\u201cWhat did the annual report say about adoption?\u201d). "
        "Nothing in the minutes matches these filters (council: Sefton; meeting date: 2018-01-01 to any). 1 item "
        "without a known meeting date was left out by the date filter.")
    assert not (tmp_path / "b.md").exists()


def test_questions_refused_for_different_filters_are_named_one_a_line(hashing_seed_index, tmp_path):
    from assistant.present.briefing import make_briefing

    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "How many children were in care?", "council": "Sefton", "since": "2018"}\n'
                         '{"question": "How many foster carers were approved?", "council": "Rotherhm"}\n',
                         encoding="utf-8")
    with pytest.raises(AssistantError) as refused:
        make_briefing(questions, tmp_path / "b.md", hashing_seed_index, progress=False)
    lines = refused.value.message.split("\n")
    assert lines[0] == f"2 questions of {questions} have filters that match nothing in the index:"
    assert lines[1].startswith("  question 1 (\u201cHow many children were in care?\u201d): Nothing in the minutes")
    assert lines[1].endswith("1 item without a known meeting date was left out by the date filter.")
    assert lines[2].startswith("  question 2 (\u201cHow many foster carers were approved?\u201d): Nothing in the minutes")
    assert ".;" not in refused.value.message
