"""`assistant brief` and `assistant ask`, from a review of the briefing and the CLI: file names printed without
driving the terminal, `ask --json` keeping the promises the README makes for scripts, questions files as officers
write them (a question that opens with a brace, a CSV saved by a European Excel) and dates that do not exist."""

import json

import pytest

from assistant.errors import AssistantError

ROTHERHAM_Q = "How many children were discharged from care in Rotherham in 2018?"
# A name a script might make from a meeting's title: an escape sequence that clears the screen and sets the window's
# title, a bell, and a line break that would start a forged line.
ODD_NAME = "esc\x1b[2J\x1b]0;owned\x07\nline.md"


@pytest.fixture
def index_env(hashing_seed_index, monkeypatch):
    """The command line's settings for the shared index (its embedder, which --index does not name)."""
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", hashing_seed_index.embedding_model)
    return ["--index", str(hashing_seed_index.data_dir)]


def _questions(tmp_path, text: str, name: str = "q.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _one_safe_line(printed: str) -> str:
    """The one line printed, checked to hold no character that drives a terminal."""
    assert printed.endswith("\n") and printed.count("\n") == 1, printed
    assert not any(ch in printed for ch in "\x1b\x07"), printed
    return printed


# 2. File names printed as one line, with no character that drives the terminal ---------------------------------

def test_the_wrote_line_and_the_exists_error_print_an_odd_out_on_one_safe_line(index_env, tmp_path, capsys):
    from assistant.present.cli import main

    questions = _questions(tmp_path, f"{ROTHERHAM_Q}\n")
    command = ["brief", "--questions", str(questions), "--out", str(tmp_path / ODD_NAME), "--no-progress", *index_env]
    assert main(command) == 0
    wrote = _one_safe_line(capsys.readouterr().out)
    assert wrote.startswith(f"wrote {tmp_path}/esc\\x1b[2J\\x1b]0;owned\\x07 line.md (1 question")
    assert (tmp_path / ODD_NAME).is_file()  # the file itself has the name given
    assert main(command) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {tmp_path}/esc\\x1b[2J\\x1b]0;owned\\x07 line.md exists: give --replace")
    assert "\x1b" not in error and "\x07" not in error and len(error.splitlines()) == 2  # the error and its hint


def test_a_questions_file_with_an_odd_name_is_named_on_one_safe_line(tmp_path):
    from assistant.present.briefing import read_question_file

    with pytest.raises(AssistantError) as missing:
        read_question_file(tmp_path / ODD_NAME)
    assert missing.value.message == f"No questions file at {tmp_path}/esc\\x1b[2J\\x1b]0;owned\\x07 line.md."
    empty = _questions(tmp_path, "# nothing yet\n", name="q\x1b[31m.txt")
    with pytest.raises(AssistantError, match=r"q\\x1b\[31m\.txt holds no questions"):
        read_question_file(empty)


def test_the_audit_command_of_a_briefing_not_written_names_an_odd_index_folder_safely(hashing_seed_index):
    from assistant.present.briefing import answers_in_audit_log

    odd = hashing_seed_index.with_(data_dir=hashing_seed_index.data_dir / "new\x1b[2Jline")
    said = answers_in_audit_log(2, odd, "0123456789")
    assert "\x1b" not in said and "new\\x1b[2Jline" in said


def test_any_commands_error_shows_an_escape_sequence_it_quotes_escaped(tmp_path, capsys):
    from assistant.present.cli import main

    assert main(["stats", "--index", str(tmp_path / "not\x1b]0;owned\x07here")]) == 2
    error = capsys.readouterr().err
    assert "\x1b" not in error and "\x07" not in error and "not\\x1b]0;owned\\x07here" in error


# 3. and 4. `ask --json`: a question turned away is an error object; an answer gives its audit log id ------------

@pytest.mark.parametrize("question, hint", [("", "Ask about the minutes in words"), ("hello", "Ask about the minutes"),
                                            ("What about 2019?", "Name the topic too")])
def test_ask_json_that_exits_2_on_a_question_turned_away_prints_error_and_hint(index_env, capsys, question, hint):
    from assistant.present.cli import main

    assert main(["ask", question, "--json", *index_env]) == 2
    printed = json.loads(capsys.readouterr().out)  # one object, as every --json error is
    assert printed["error"] == printed["answer"] and printed["hint"].startswith(hint)
    assert printed["refusal_reason"] == "bad_question" and printed["answer_id"] is None  # not recorded


def test_ask_json_gives_the_id_the_answer_has_in_the_audit_log(index_env, capsys):
    from assistant.present.cli import main

    assert main(["ask", ROTHERHAM_Q, "--json", *index_env]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["answer_id"] and not printed["refused"]
    assert main(["audit", "--show", printed["answer_id"], *index_env]) == 0
    recorded = json.loads(capsys.readouterr().out)
    assert recorded["answer"] == printed["answer"] and recorded["question"] == ROTHERHAM_Q


# 5. A plain question that opens with a brace ------------------------------------------------------------------

def test_a_txt_line_opening_with_a_brace_that_is_not_json_is_a_plain_question(tmp_path):
    from assistant.present.briefing import read_question_file

    path = _questions(tmp_path, f"{{Urgent}} {ROTHERHAM_Q}\n"
                                + json.dumps({"question": "What did Barnsley say?", "council": "Barnsley"}) + "\n")
    assert read_question_file(path) == [(f"{{Urgent}} {ROTHERHAM_Q}", {}),
                                        ("What did Barnsley say?", {"council": "Barnsley"})]


@pytest.mark.parametrize("line", ['{"question": "How many?", council: "Sefton"}',  # broken, but meant as JSON
                                  '{"question": "How many children left care?", "council": "Sefton"',  # no }
                                  "{'question': 'How many children left care?'}"])
def test_a_txt_line_meant_as_json_is_refused_with_the_rule_not_asked_without_its_filters(tmp_path, line):
    from assistant.present.briefing import read_question_file

    with pytest.raises(AssistantError, match=":1: not valid JSON") as refused:
        read_question_file(_questions(tmp_path, line + "\n"))
    assert "read as JSON when { is followed by a \" or the line ends with }" in refused.value.hint


def test_a_jsonl_line_that_is_not_json_is_still_refused(tmp_path):
    from assistant.present.briefing import read_question_file

    with pytest.raises(AssistantError, match=":1: not valid JSON"):
        read_question_file(_questions(tmp_path, f"{{Urgent}} {ROTHERHAM_Q}\n", name="q.jsonl"))


# 6. A CSV file separated by semicolons (or tabs) ---------------------------------------------------------------

@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_csv_file_separated_by_semicolons_or_tabs_is_read(tmp_path, separator):
    from assistant.present.briefing import read_question_file

    path = tmp_path / "q.csv"
    # As Excel saves "CSV (semicolon)" in much of Europe: a byte order mark, Windows line ends, commas unquoted.
    path.write_bytes(f"Question{separator}Council\r\nHow many children, aged under 16, left care?{separator}"
                     f"Rotherham\r\n".encode("utf-8-sig"))
    assert read_question_file(path) == [("How many children, aged under 16, left care?", {"council": "Rotherham"})]


def test_a_semicolon_csv_row_with_an_extra_cell_names_the_semicolon(tmp_path):
    from assistant.present.briefing import read_question_file

    path = _questions(tmp_path, "question;council\nHow many; children left care?;Rotherham\n", name="q.csv")
    with pytest.raises(AssistantError, match="has more cells than the first line has headings") as refused:
        read_question_file(path)
    assert refused.value.hint.startswith("Put a question that holds a semicolon in double quotes")


# 7. A date that does not exist says so, wherever a filter is read ----------------------------------------------

@pytest.mark.parametrize("name, value, said, example", [
    ("since", "2022-02-30", "The since date 2022-02-30 does not exist: February 2022 has 28 days.", "2022-02-28"),
    ("until", "2024-02-30", "The until date 2024-02-30 does not exist: February 2024 has 29 days.", "2024-02-29"),
    ("since", "2022-13-01", "The since date 2022-13-01 does not exist: there is no month 13.", "2022-04-01"),
    ("until", "2022-13", "The until date 2022-13 does not exist: there is no month 13.", "2022-04")])
def test_a_filter_date_that_does_not_exist_says_what_is_wrong(name, value, said, example):
    from assistant.retrieve.filters import Filters

    with pytest.raises(AssistantError) as refused:
        Filters(**{name: value})
    assert refused.value.message == said and refused.value.hint.endswith(f"for example {example}.")


def test_ask_and_brief_say_what_is_wrong_with_a_date_that_does_not_exist(index_env, tmp_path, capsys):
    from assistant.present.briefing import read_question_file
    from assistant.present.cli import main

    assert main(["ask", ROTHERHAM_Q, "--since", "2022-02-30", *index_env]) == 2
    assert "error: The since date 2022-02-30 does not exist: February 2022 has 28 days." in capsys.readouterr().err
    questions = _questions(tmp_path, f"{ROTHERHAM_Q}\n")
    assert main(["brief", "--questions", str(questions), "--out", str(tmp_path / "b.md"), "--until", "2023-04-31",
                 "--no-progress", *index_env]) == 2
    assert "The until date 2023-04-31 does not exist: April 2023 has 30 days." in capsys.readouterr().err
    line = _questions(tmp_path, json.dumps({"question": ROTHERHAM_Q, "since": "2023-02-29"}) + "\n", name="q.jsonl")
    with pytest.raises(AssistantError, match="since date 2023-02-29 does not exist: February 2023 has 28 days"):
        read_question_file(line)
