"""Files the user gives (eval questions, support pairs, briefing questions, users): a bad one is refused with its
line and reason, before any result is written."""

import json
import re

import pytest

from assistant.errors import AssistantError
from assistant.present.eval_questions import load_questions
from assistant.present.evaluate import run_evaluation

GOOD = {"id": "q1", "question": "How many?", "kind": "numeric", "gold_urls": ["u"], "must_include": ["5"],
        "notes": "unknown keys are allowed"}


def _file(tmp_path, *rows, raw: bytes | None = None):
    path = tmp_path / "questions.jsonl"
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_good_file_loads_with_unknown_keys_and_blank_lines(tmp_path):
    [question] = load_questions(_file(tmp_path, GOOD, ""))
    assert question.id == "q1" and question.gold_urls == ("u",) and question.filters == {}


@pytest.mark.parametrize("rows, raw, message", [
    ((), None, "holds no questions"),
    (("", "   "), None, "holds no questions"),
    ((), "Café £5".encode("latin-1"), ":1 is not a valid question record"),  # read as Windows-1252, as brief reads it
    (({k: v for k, v in GOOD.items() if k != "id"},), None, ":1 is not a valid question record: it has no 'id' key"),
    ((GOOD, "{not json"), None, ":2 is not a valid question record"),
    (("[1, 2]",), None, ":1 is not a valid question record (not a JSON object)"),
    (({**GOOD, "gold_urls": "u"},), None, "must be lists"),
    (({**GOOD, "question": None},), None, "the question must be text, not null"),  # JSON's word, not Python's None
    (({**GOOD, "kind": True},), None, "not true"),
    (({**GOOD, "filters": {"since": "spring"}},), None,
     ":1 is not a valid question record (The since date must be like"),
    (({**GOOD, "filters": {"councl": "Leeds"}},), None, ":1 is not a valid question record"),
])
def test_a_bad_file_is_refused_with_its_line_and_reason(tmp_path, rows, raw, message):
    with pytest.raises(AssistantError, match=re.escape(message)):
        load_questions(_file(tmp_path, *rows, raw=raw))


def test_an_empty_file_leaves_earlier_results_as_they_were(tmp_path, fake_settings):
    out = tmp_path / "out"
    out.mkdir()
    (out / "answers.jsonl").write_text("earlier\n")
    with pytest.raises(AssistantError, match="holds no questions"):
        run_evaluation(_file(tmp_path), fake_settings, out, progress=False)
    assert (out / "answers.jsonl").read_text() == "earlier\n"


@pytest.mark.parametrize("pairs, corpus, message", [
    ("missing.jsonl", True, "No support pairs file"),
    ('{"id": "p1", "sentence": "s"}\n', True, ":1 is not a support pair: it has no source_url, start, end, supported"),
    ("[1, 2]\n", True, ":1 is not a support pair."),
    ('{"id": "p", "sentence": "s", "source_url": "u", "start": 9, "end": 3, "supported": true}\n', True,
     ":1: start and end must be character offsets"),
    ('{"id": "p", "sentence": "s", "source_url": "u", "start": 0, "end": 3, "supported": "yes"}\n', True,
     ":1: start and end must be character offsets"),
    ('{"id": "p1"', True, ":1 is not a support pair."),
    ("", False, "--pairs needs --corpus"),
])
def test_bad_support_pairs_are_refused_before_any_question_is_asked(tmp_path, fake_settings, pairs, corpus,
                                                                    message):
    pairs_path = tmp_path / "pairs.jsonl"
    if pairs != "missing.jsonl":
        pairs_path.write_text(pairs, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(AssistantError, match=re.escape(message)):
        run_evaluation(_file(tmp_path, GOOD), fake_settings, out, corpus=[tmp_path / "corpus"] if corpus else None,
                       pairs_path=pairs_path, progress=False)
    assert not out.exists()


def test_a_users_file_that_is_not_utf8_gets_a_message_and_a_questions_file_is_read(tmp_path):
    from assistant.present.auth import read_users
    from assistant.present.briefing import read_question_file

    latin = tmp_path / "latin.txt"
    latin.write_bytes("How many children in care in Gwynedd? Café\n".encode("latin-1"))
    with pytest.raises(AssistantError, match="is not UTF-8 text") as caught:
        read_users(latin)
    assert "Save" in caught.value.hint
    # A questions file is read as ingest reads text: Windows-1252 (Notepad's "ANSI") too.
    [(question, _)] = read_question_file(latin)
    assert question == "How many children in care in Gwynedd? Café"


@pytest.mark.parametrize("line, message", [
    ('{"question": ""}', ':1 is not a JSON object with a "question"'),
    ('{"question": 5}', ':1 is not a JSON object with a "question"'),
    ('{"question": "What was said?", "since": "spring"}', ":1: The since date must be like"),
    ('{"question": "What was said?", "council": 5}', ":1: The council filter must be text"),
])
def test_a_briefing_line_with_no_question_or_a_bad_filter_is_named(tmp_path, line, message):
    from assistant.present.briefing import read_question_file

    path = tmp_path / "brief.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(AssistantError, match=message):
        read_question_file(path)


def test_results_never_replace_files_no_eval_wrote(tmp_path, fake_settings):
    """--out had replaced any answers.jsonl, metrics.json or report.md in it: someone's own report, the questions
    file itself (`--questions clash/answers.jsonl --out clash`). Refused before any question is asked."""
    from assistant.files import EVAL_RESULTS_MARKER

    clash = tmp_path / "clash"
    clash.mkdir()
    questions = _file(tmp_path, GOOD)
    (clash / "answers.jsonl").write_bytes(questions.read_bytes())
    with pytest.raises(AssistantError, match="would get this run's answers.jsonl in place of") as refused:
        run_evaluation(clash / "answers.jsonl", fake_settings, clash, progress=False)
    assert "input of the run" in refused.value.message

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.md").write_text("# my own notes\n")
    with pytest.raises(AssistantError, match="holds report.md but not the .assistant-eval-results file") as refused:
        run_evaluation(questions, fake_settings, mine, progress=False)
    assert "new folder" in refused.value.hint and (mine / "report.md").read_text() == "# my own notes\n"
    assert not (mine / EVAL_RESULTS_MARKER).exists() and sorted(p.name for p in mine.iterdir()) == ["report.md"]

    index_folder = fake_settings.data_dir / "results"
    with pytest.raises(AssistantError, match="is inside the index folder") as refused:
        run_evaluation(questions, fake_settings, index_folder, progress=False)
    assert not index_folder.exists()
    given = tmp_path / "given-index"  # with --corpus and --index, the folder given is the index's
    with pytest.raises(AssistantError, match="is inside the index folder"):
        run_evaluation(questions, fake_settings, given / "out", corpus=[tmp_path / "minutes"], index_dir=given,
                       progress=False)


def test_a_run_that_fails_before_writing_leaves_no_empty_out_folder(tmp_path, fake_settings):
    out = tmp_path / "results" / "2026" / "out"
    with pytest.raises(AssistantError, match="no index|no minutes|There is no"):
        run_evaluation(_file(tmp_path, GOOD), fake_settings.with_(data_dir=tmp_path / "no-such-index"), out,
                       progress=False)
    assert not (tmp_path / "results").exists()  # nor the folders made on the way to it
    kept = tmp_path / "kept"
    kept.mkdir()  # a folder given that was there already stays
    with pytest.raises(AssistantError):
        run_evaluation(_file(tmp_path, GOOD), fake_settings.with_(data_dir=tmp_path / "no-such-index"), kept,
                       progress=False)
    assert kept.is_dir()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "cp1252", "utf-8-sig"])
def test_a_questions_file_saved_on_a_windows_desktop_is_read_as_brief_reads_it(tmp_path, encoding):
    """`eval` had refused UTF-16 (PowerShell's `>`) and Windows-1252 (Notepad's "ANSI") files that `brief` reads,
    saying only that byte 0 could not be read."""
    row = {**GOOD, "question": "What did the panel say about foster carers\u2019 allowances?"}
    if encoding.startswith("utf-16"):  # characters whose UTF-16 bytes read in part as UTF-8 ones
        row["notes"] = "\u80c3 \uc380 \u00a3"  # bytes C3 80 in little- and big-endian UTF-16: UTF-8's 'À'
    path = tmp_path / "questions.jsonl"
    data = (json.dumps(row, ensure_ascii=False) + "\r\n").encode(encoding)
    path.write_bytes(b"\xfe\xff" + data if encoding == "utf-16-be" else data)
    [question] = load_questions(path)
    assert question.question == row["question"]


def test_a_utf8_questions_file_with_one_stray_byte_is_refused_naming_it(tmp_path):
    """Read whole as Windows-1252, its must_include '£1.2m' would have become 'Â£1.2m', which no answer holds."""
    path = tmp_path / "questions.jsonl"
    good = json.dumps({**GOOD, "must_include": ["£1.2m"]}, ensure_ascii=False).encode("utf-8")
    stray = json.dumps({**GOOD, "id": "q2", "question": "Caf\u00e9 spending?"}, ensure_ascii=False).encode("cp1252")
    path.write_bytes(good + b"\n" + stray + b"\n")
    with pytest.raises(AssistantError, match=r"is UTF-8 text but for byte \d+ \(0xE9, on line 2\)") as refused:
        load_questions(path)
    assert "save the questions file as UTF-8" in refused.value.hint


def test_a_briefing_line_is_read_as_eval_reads_one_a_council_given_twice_refused_and_a_raw_line_separator_kept(
        tmp_path):
    """`brief` had its own reader: it refused a question holding U+2028 (which json.dumps(..., ensure_ascii=False)
    writes raw) and, given a council twice, answered for the second."""
    from assistant.present.briefing import read_question_file

    separated = json.dumps({"question": "What did Sefton say\u2028about care leavers?"}, ensure_ascii=False)
    path = tmp_path / "brief.jsonl"
    path.write_text(separated + "\r\n" + '{"question": "What was said?", "council": "Sefton", "council": "Rotherham"}\n',
                    encoding="utf-8")
    with pytest.raises(AssistantError, match=r"brief\.jsonl:2: the key 'council' is given twice\."):
        read_question_file(path)
    path.write_text(separated + "\n" + '{"question": "What was said?" "council": "Sefton"}\n', encoding="utf-8")
    with pytest.raises(AssistantError, match=r"brief\.jsonl:2: not valid JSON: Expecting ',' delimiter at column 31"):
        read_question_file(path)
    plain = tmp_path / "brief.txt"  # an old Mac's line ends too
    plain.write_text(separated + "\rHow many children were in care?\n", encoding="utf-8")
    assert [q for q, _ in read_question_file(plain)] == ["What did Sefton say\u2028about care leavers?",
                                                         "How many children were in care?"]


def test_a_csv_questions_file_saved_from_a_spreadsheet_is_read_by_its_column_headings(tmp_path):
    """Its heading line, "question", had been asked as a question, and shown answered with a nonsense quote."""
    from assistant.present.briefing import read_question_file

    path = tmp_path / "questions.csv"
    path.write_text('Council,Question\r\n,How many children were discharged from care in 2018?\r\n'
                    'Sefton,"What did Sefton say about\r\ncare leavers?"\r\n,\r\n', encoding="utf-8")
    assert read_question_file(path) == [("How many children were discharged from care in 2018?", {}),
                                        ("What did Sefton say about\ncare leavers?", {"council": "Sefton"})]
    path.write_text("questions,council\nHow many children left care?,Sefton\n", encoding="utf-8")
    with pytest.raises(AssistantError, match="has no column headed question") as refused:
        read_question_file(path)
    assert "Head the column of questions `question`" in refused.value.hint
    path.write_text("question,counsil\nHow many children left care?,Sefton\n", encoding="utf-8")
    with pytest.raises(AssistantError, match="has the unknown column 'counsil'"):
        read_question_file(path)
    path.write_text("question,council\nHow many children left care?,Sefton\n,Sefton\n", encoding="utf-8")
    with pytest.raises(AssistantError, match=r"questions\.csv:3 has nothing in its question column"):
        read_question_file(path)
    # A question holding an unquoted comma had been cut short there and asked; a heading given twice, the last kept.
    path.write_text("question\nHow much was spent on care, in 2019?\n", encoding="utf-8")
    with pytest.raises(AssistantError, match=r"questions\.csv:2 has more cells than the first line has headings"):
        read_question_file(path)
    path.write_text("question,council,Council\nHow many children left care?,Sefton,Rotherham\n", encoding="utf-8")
    with pytest.raises(AssistantError, match="heads two columns 'council'"):
        read_question_file(path)


def test_every_line_that_cannot_be_asked_is_named_at_once_a_repeated_question_among_them(tmp_path):
    """One bad line was named per run, so a file with three took three runs; a question given twice was asked
    twice and printed twice."""
    from assistant.present.briefing import read_question_file

    path = tmp_path / "questions.txt"
    path.write_text("How many children left care?\nhello\n???\nhow many  children LEFT care?\n"
                    '{"question": "How many children left care?", "council": "Sefton"}\n', encoding="utf-8")
    with pytest.raises(AssistantError) as refused:
        read_question_file(path)
    message = refused.value.message
    assert message.startswith(f"3 lines of {path} cannot be asked:")
    assert f"{path}:2: " in message and f"{path}:3: That question has no words in it" in message
    assert f"{path}:4 asks again the question of line 1, with the same filters." in message
    assert ":5" not in message  # the same words asked of one council is another question
    assert "nothing was asked yet" in refused.value.hint


@pytest.mark.parametrize("start, kind", [(b"PK\x03\x04", "a Word or Excel document"), (b"%PDF-1.7", "a PDF")])
def test_a_word_or_pdf_file_given_as_questions_is_named_for_what_it_is(tmp_path, start, kind):
    """It was read as text with a stray byte, and the officer told to retype the character."""
    from assistant.present.briefing import read_question_file

    path = tmp_path / "questions.docx"
    path.write_bytes(start + bytes(range(256)) * 4)
    with pytest.raises(AssistantError, match=f"is {kind}") as refused:
        read_question_file(path)
    assert "Plain Text (.txt)" in refused.value.hint and "retype" not in str(refused.value).lower()
    with pytest.raises(AssistantError, match=f"is {kind}"):
        load_questions(path)  # eval's questions too
