"""`assistant brief` as a council officer uses it, from a review of briefings on children's social care: questions
typed as a list in Word and saved as plain text, as the hint for a .docx given by mistake advises."""

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

