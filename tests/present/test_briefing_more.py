"""Briefings: what an answer says besides its sentences, what the questions file and the title may hold, and what
happens when the finished briefing cannot be written."""

import errno
import json

import pytest
from docx import Document

from assistant.errors import AssistantError
from assistant.records import Answer, Citation, SentenceVerdict

ODDLY_WRITTEN = "How many \x1b[31mchildren\x07 left\x00 care\x7f in\x9b 2018?\tIn\nRotherham?"


def _answer(question: str = "How many children left care?", *, mode: str = "extractive", fallback: bool = False,
            notes: tuple[str, ...] = (), link: str = "https://example.org/1") -> Answer:
    citation = Citation(1, "item-1", "Rotherham Council", "Board", "2019-01-01", "Children in care",
                        "In 2018 148 children left care.", "chunk-1", link)
    sentences = [SentenceVerdict("In 2018 148 children left care. [1]", (1,), True, True, 1.0, "verbatim")]
    return Answer(question, "In 2018 148 children left care. [1]", False, None, mode, fallback=fallback,
                  citations=[citation], sentences=sentences, notes=list(notes))


def _docx_text(path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs]


def _audit_count(settings) -> int:
    from assistant.present.audit import AuditLog

    if not settings.audit_path.exists():
        return 0
    log = AuditLog(settings.audit_path, read_only=True)
    try:
        return sum(1 for _ in log.entries())
    finally:
        log.close()


def test_a_briefing_keeps_the_caveats_the_member_was_shown(tmp_path):
    from assistant.present.briefing import entry_from_answer, write_briefing

    caveat = ("The question names Oldham Council, but the council filter (Sefton) leaves it out: only Sefton's "
              "minutes were searched.")
    entry = entry_from_answer(_answer("What did Oldham say?", notes=(caveat,)))
    text = write_briefing([entry], tmp_path / "b.md").read_text(encoding="utf-8")
    assert f"_Note: {caveat}_" in text
    assert f"Note: {caveat}" in _docx_text(write_briefing([entry], tmp_path / "b.docx"))


def test_a_date_filter_leaves_out_undated_items_and_the_briefing_says_so(hashing_seed_index, tmp_path):
    from assistant.present.briefing import make_briefing
    from assistant.retrieve.filters import Filters

    questions = tmp_path / "q.txt"
    questions.write_text("How many children were discharged from care?\n", encoding="utf-8")
    make_briefing(questions, tmp_path / "b.md", hashing_seed_index, Filters(since="2018"), progress=False)
    text = (tmp_path / "b.md").read_text(encoding="utf-8")
    assert "1 item without a known meeting date was left out by the date filter" in text


def test_the_header_names_the_filters_as_each_question_does(hashing_seed_index, tmp_path):
    """By the names of the command line's flags and of a line's keys, when the questions' filters differ too."""
    from assistant.present.briefing import make_briefing
    from assistant.retrieve.filters import Filters

    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "How many children were discharged from care?"}) + "\n"
                         + json.dumps({"question": "How many children were discharged from care?",
                                       "council": "Rotherham"}) + "\n", encoding="utf-8")
    make_briefing(questions, tmp_path / "b.md", hashing_seed_index, Filters(since="2018"), progress=False)
    text = (tmp_path / "b.md").read_text(encoding="utf-8")
    assert "Filters: since: 2018 for every question, with a question line's own merged in" in text
    assert "_Filters: since: 2018_" in text and "_Filters: council: Rotherham; since: 2018_" in text
    assert "meeting date:" not in text


def test_a_word_briefing_takes_a_title_longer_than_word_keeps_in_its_metadata(tmp_path):
    from assistant.present.briefing import entry_from_answer, write_briefing

    title = "Briefing on fostering and placements for the Corporate Parenting Panel, " * 4
    out = write_briefing([entry_from_answer(_answer())], tmp_path / "b.docx", title=title)
    document = Document(str(out))
    assert document.paragraphs[0].text == title.strip()  # the heading keeps the whole title
    kept = document.core_properties.title
    assert len(kept) <= 255 and kept.endswith("\u2026") and title.startswith(kept[:-1])


@pytest.mark.parametrize("title", ["", "   ", "\x1b\x07"])
def test_a_title_with_nothing_in_it_is_refused_before_anything_is_asked(hashing_seed_index, tmp_path, title):
    from assistant.present.briefing import make_briefing

    questions = tmp_path / "q.txt"
    questions.write_text("How many children were discharged from care?\n", encoding="utf-8")
    before = _audit_count(hashing_seed_index)
    with pytest.raises(AssistantError, match="title is empty") as refused:
        make_briefing(questions, tmp_path / "b.docx", hashing_seed_index, title=title, progress=False)
    assert "--title" in refused.value.hint
    assert _audit_count(hashing_seed_index) == before and not (tmp_path / "b.docx").exists()


def test_a_briefing_written_with_an_empty_title_has_the_default_one(tmp_path):
    from assistant.present.briefing import DEFAULT_TITLE, entry_from_answer, write_briefing

    entries = [entry_from_answer(_answer())]
    text = write_briefing(entries, tmp_path / "b.md", title=" ").read_text(encoding="utf-8")
    assert text.startswith(f"# {DEFAULT_TITLE}\n")
    assert _docx_text(write_briefing(entries, tmp_path / "b.docx", title=""))[0] == DEFAULT_TITLE


def test_a_json_question_with_a_lone_surrogate_is_read_as_text_that_can_be_written(tmp_path):
    from assistant.present.briefing import read_question_file

    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "How many children were discharged \\ud800 from care?", "council": "Sef\\udc80ton"}'
                    "\n", encoding="utf-8")
    [(question, filters)] = read_question_file(path)
    question.encode("utf-8")
    filters["council"].encode("utf-8")
    assert question.startswith("How many children were discharged ") and question.endswith(" from care?")


def test_markdown_leaves_out_characters_no_reader_sees(tmp_path):
    from assistant.present.briefing import entry_from_answer, write_briefing
    from assistant.present.render import markdown_literal

    assert markdown_literal(ODDLY_WRITTEN) == "How many \\[31mchildren left care in 2018? In Rotherham?"
    text = write_briefing([entry_from_answer(_answer(ODDLY_WRITTEN))], tmp_path / "b.md").read_text(encoding="utf-8")
    assert "## 1. How many \\[31mchildren left care in 2018? In Rotherham?\n" in text
    assert not [ch for ch in text if (ord(ch) < 0x20 and ch != "\n") or 0x7F <= ord(ch) < 0xA0]
    # The Word briefing leaves out the same characters.
    heading = _docx_text(write_briefing([entry_from_answer(_answer(ODDLY_WRITTEN))], tmp_path / "b.docx"))[4]
    assert heading == "1. How many [31mchildren left care in 2018?\tIn\nRotherham?"


@pytest.mark.parametrize("line, message", [
    ("Hello", ":2: I answer questions about what the committee minutes"),
    ("???", ":2: That question has no words in it"),
    ("How many children " * 150 + "?", ":2: That question is 2,701 characters long; the limit is 2,000."),
    (json.dumps({"question": "?!", "council": "Sefton"}), ":2: That question has no words in it"),
])
def test_a_question_ask_would_refuse_is_refused_with_its_line_before_any_is_asked(hashing_seed_index, tmp_path, line,
                                                                                  message):
    from assistant.present.briefing import make_briefing, read_question_file

    questions = tmp_path / "q.txt"
    questions.write_text(f"How many children were discharged from care?\n{line}\n", encoding="utf-8")
    with pytest.raises(AssistantError, match=message):
        read_question_file(questions)
    before = _audit_count(hashing_seed_index)
    with pytest.raises(AssistantError, match=message):
        make_briefing(questions, tmp_path / "b.md", hashing_seed_index, progress=False)
    assert _audit_count(hashing_seed_index) == before and not (tmp_path / "b.md").exists()


def test_a_briefing_that_cannot_be_written_says_where_its_answers_are(hashing_seed_index, tmp_path, monkeypatch):
    import assistant.present.briefing as briefing

    questions = tmp_path / "q.txt"
    questions.write_text("How many children were discharged from care?\nWhat did Barnsley say about early help?\n",
                         encoding="utf-8")
    out = tmp_path / "b.docx"

    def full_disk(path, data, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(briefing, "write_atomically", full_disk)
    with pytest.raises(AssistantError) as failed:
        briefing.make_briefing(questions, out, hashing_seed_index, progress=False)
    assert failed.value.message == f"Could not write the briefing to {out}: No space left on device."
    # The command names the index the answers went to (see test_briefing_review for the audit log's own path).
    assert failed.value.hint.startswith("The 2 answers given are in the audit log: `assistant audit --index "
                                        f"{hashing_seed_index.data_dir} --limit 2` (the first of them is answer ")


def test_a_source_address_with_characters_an_autolink_cannot_hold_is_still_a_working_link(tmp_path):
    import markdown_it

    from assistant.present.briefing import entry_from_answer, write_briefing

    url = 'https://example.org/item?title=<Care> "leavers"&x=1'.replace(" ", "")
    text = write_briefing([entry_from_answer(_answer(link=url))], tmp_path / "b.md").read_text(encoding="utf-8")
    encoded = "https://example.org/item?title=%3CCare%3E%22leavers%22&x=1"
    assert f"<{encoded}>" in text and "\\:" not in text
    html = markdown_it.MarkdownIt("commonmark").render(text)
    assert f'<a href="{encoded.replace("&", "&amp;")}">' in html


def test_a_briefing_says_whether_its_sentences_were_written_by_a_model_or_quoted(tmp_path):
    from assistant.present.briefing import entry_from_answer, write_briefing

    quoted = write_briefing([entry_from_answer(_answer())] * 2, tmp_path / "q.md").read_text(encoding="utf-8")
    assert quoted.count("Answers: quoted word for word from the minutes (extractive mode)\n") == 1
    assert "_Answer:" not in quoted
    written = entry_from_answer(_answer(mode="llm:openai:gpt-4o-mini"))
    fell_back = entry_from_answer(_answer("And in 2019?", mode="llm:openai:gpt-4o-mini", fallback=True))
    mixed = write_briefing([written, fell_back], tmp_path / "m.md").read_text(encoding="utf-8")
    assert "Answers: as said under each question\n" in mixed
    assert ("_Answer: written by a language model (openai:gpt-4o-mini), each sentence checked against the minutes "
            "it cites_") in mixed
    assert "_Answer: quoted word for word from the minutes, as the language model's (openai:gpt-4o-mini) reply" in mixed
    paragraphs = _docx_text(write_briefing([written, fell_back], tmp_path / "m.docx"))
    assert "Answers: as said under each question" in paragraphs
    assert any(p.startswith("Answer: written by a language model (openai:gpt-4o-mini)") for p in paragraphs)


# Three questions the reader finds an answer to, so that each reaches the language model.
QUESTIONS = ("How many children were discharged from care in Rotherham in 2018?",
             "What percentage of reports were available 3 days before child protection conferences in Sefton?",
             "What did Barnsley say about early help?")
# The same questions in other words: a questions file that gives one question twice is refused.
AGAIN = tuple(question.rstrip("?") + " in all?" for question in QUESTIONS)


def _overloaded_model(fails_on: set[int]):
    """A chat model whose server answers 503 "overloaded" to the requests numbered in `fails_on` (from 1), and
    copies a sentence of its first evidence block to the others."""
    import httpx
    import openai
    from langchain_core.language_models import GenericFakeChatModel

    class Overloaded(GenericFakeChatModel):
        calls: int = 0

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            self.calls += 1
            if self.calls in fails_on:
                request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
                raise openai.InternalServerError("Error code: 503 - overloaded",
                                                 response=httpx.Response(503, request=request), body=None)
            yield from super()._stream(messages, stop, run_manager, **kwargs)

    return Overloaded(messages=iter(["The evidence does not answer this question."] * 10))


def _brief_with(settings, model, tmp_path, monkeypatch, questions=QUESTIONS):
    from assistant.answer import llm
    from assistant.present.briefing import make_briefing

    monkeypatch.setattr(llm, "make_chat_model", lambda spec, settings, **kw: model)
    path = tmp_path / "q.txt"
    path.write_text("\n".join(questions) + "\n", encoding="utf-8")
    return make_briefing(path, tmp_path / "b.md", settings.with_(llm="openai:fake"), progress=False)


def test_a_model_failure_on_one_question_leaves_it_unanswered_and_the_rest_are_asked(hashing_seed_index, tmp_path,
                                                                                    monkeypatch):
    from assistant.present.briefing import BriefingIncomplete

    model = _overloaded_model(fails_on={2})
    before = _audit_count(hashing_seed_index)
    with pytest.raises(BriefingIncomplete) as incomplete:
        _brief_with(hashing_seed_index, model, tmp_path, monkeypatch)
    assert model.calls == 3  # the question after the failed one was asked too
    text = (tmp_path / "b.md").read_text(encoding="utf-8")
    for question in QUESTIONS:
        assert question.replace("?", "") in text.replace("\\", "")
    assert "Not answered: the language model could not answer it (the audit log records what failed)" in text
    assert text.count("Not answered") == 1 and "Error code" not in text  # the server's words are the operator's
    run = incomplete.value.run
    # The two asked were answered by the reader's quotes (the model declined), the failed one counts as not answered.
    assert (run.asked, run.failed, run.answered) == (3, (2,), 2)
    assert "1 question of 3 was not answered" in incomplete.value.message and "question 2;" in incomplete.value.message
    assert _audit_count(hashing_seed_index) == before + 3  # the failed question is audited with its error


def test_a_model_that_fails_question_after_question_stops_the_briefing(hashing_seed_index, tmp_path, monkeypatch):
    from assistant.present.briefing import FAILURES_IN_A_ROW

    model = _overloaded_model(fails_on=set(range(1, 10)))
    with pytest.raises(AssistantError) as failed:
        _brief_with(hashing_seed_index, model, tmp_path, monkeypatch, QUESTIONS + AGAIN)
    assert model.calls == FAILURES_IN_A_ROW and not (tmp_path / "b.md").exists()
    assert f"failed on {FAILURES_IN_A_ROW} questions in a row" in failed.value.message
    assert "nothing was written" in failed.value.message
    assert (f"`assistant audit --index {hashing_seed_index.data_dir} --limit {FAILURES_IN_A_ROW}`" in failed.value.hint
            and "ask again" in failed.value.hint)


def test_a_model_that_stops_answering_part_way_keeps_what_was_answered_and_the_rest_are_not_asked(
        hashing_seed_index, tmp_path, monkeypatch):
    from assistant.present.briefing import FAILURES_IN_A_ROW, BriefingIncomplete

    model = _overloaded_model(fails_on=set(range(2, 20)))  # the first question is answered, then none
    with pytest.raises(BriefingIncomplete) as incomplete:
        _brief_with(hashing_seed_index, model, tmp_path, monkeypatch, QUESTIONS + AGAIN)
    assert model.calls == 1 + FAILURES_IN_A_ROW  # not asked after three failures in a row
    text = (tmp_path / "b.md").read_text(encoding="utf-8")
    assert text.count("Not answered: the language model could not answer it") == FAILURES_IN_A_ROW
    assert text.count("so it was not asked") == len(QUESTIONS) * 2 - 1 - FAILURES_IN_A_ROW
    run = incomplete.value.run
    assert run.asked == len(QUESTIONS) * 2 and run.failed == tuple(range(2, len(QUESTIONS) * 2 + 1))
    assert "the last failure: The language model" in incomplete.value.message
    assert "were not asked" in incomplete.value.message


def test_the_brief_command_writes_a_partly_failed_briefing_warns_and_exits_1(hashing_seed_index, tmp_path,
                                                                          monkeypatch, capsys):
    from assistant.answer import llm
    from assistant.present.cli import main

    model = _overloaded_model(fails_on={2})
    monkeypatch.setattr(llm, "make_chat_model", lambda spec, settings, **kw: model)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", hashing_seed_index.embedding_model)
    path = tmp_path / "q.txt"
    path.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    status = main(["brief", "--questions", str(path), "--out", str(tmp_path / "b.md"), "--llm", "openai:fake",
                   "--index", str(hashing_seed_index.data_dir), "--no-progress"])
    out, err = capsys.readouterr()
    assert status == 1 and (tmp_path / "b.md").is_file()
    assert f"wrote {tmp_path / 'b.md'} (3 questions" in out
    assert "warning: Wrote" in err and "question 2;" in err and "how to fix:" in err and "Traceback" not in err


def test_a_briefing_says_when_and_by_what_it_was_made_and_what_its_answers_were_searched_from(hashing_seed_index,
                                                                                             tmp_path):
    """An officer's reader could not tell what "the minutes do not say" was said of: the header had only a date."""
    import datetime as dt
    import re

    from assistant import __version__
    from assistant.present.briefing import make_briefing

    questions = tmp_path / "q.txt"
    questions.write_text("How many children were discharged from care in Rotherham in 2018?\n", encoding="utf-8")
    before = dt.datetime.now().astimezone()
    for suffix in (".md", ".docx"):
        make_briefing(questions, tmp_path / f"b{suffix}", hashing_seed_index, progress=False)
    text = (tmp_path / "b.md").read_text(encoding="utf-8")
    made = re.search(r"^Made: (\d{1,2}) (\w+) (\d{4}) at (\d\d):(\d\d)\b.*, by the minutes assistant (\S+)$", text,
                     re.M)
    assert made and made.group(6) == __version__, text[:400]
    assert (int(made.group(1)), made.group(2), int(made.group(3))) in {
        (day.day, day.strftime("%B"), day.year) for day in (before, dt.datetime.now().astimezone())}
    # corpus/ holds five items of five councils, one undated; their meetings span 2018 to 2023.
    searched = ("Searched: 5 items of minutes from 5 councils, of meetings from 2018 to 2023 (1 undated); items last "
                "added or updated on ")
    assert searched in text
    paragraphs = _docx_text(tmp_path / "b.docx")
    assert any(p.startswith("Made: ") and p.endswith(f"by the minutes assistant {__version__}") for p in paragraphs)
    assert any(p.startswith(searched) for p in paragraphs)


def test_a_briefing_counts_a_council_named_two_ways_once_as_the_app_lists_it():
    """Sefton's minutes name it "Sefton Council" and "Sefton Metropolitan Borough Council": the app's Council list and
    the filters take them as one council, but the header counted two."""
    from assistant.index.manifest import ManifestRow
    from assistant.present.briefing import searched_line

    class Manifest:
        def rows(self):
            names = ("Sefton Council", "Sefton Metropolitan Borough Council", "Cyngor Gwynedd", "Gwynedd Council")
            return {f"item-{n}": ManifestRow(f"item-{n}", "f", "done", (), council=name, meeting_date="2023")
                    for n, name in enumerate(names)}

        def last_changed(self):
            return None

    assert searched_line(Manifest()).startswith("4 items of minutes from 2 councils, of meetings from 2023")


def test_questions_whose_filters_match_nothing_are_refused_before_any_is_asked(hashing_seed_index, tmp_path):
    """A misspelt council was found only after asking: the run said "3 questions, 2 answered" and the briefing held
    "Nothing in the minutes matches these filters" in place of an answer."""
    from assistant.present.briefing import make_briefing

    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "How many children were discharged from care in 2018?"}) + "\n"
                         + json.dumps({"question": "How many foster carers were approved?", "council": "Rotherhm"})
                         + "\n", encoding="utf-8")
    before = _audit_count(hashing_seed_index)
    with pytest.raises(AssistantError) as refused:
        make_briefing(questions, tmp_path / "b.md", hashing_seed_index, progress=False)
    message = refused.value.message
    assert message.startswith(f"1 question of {questions} has filters that match nothing in the index: question 2 "
                              "(\u201cHow many foster carers were approved?\u201d): Nothing in the minutes matches "
                              "these filters"), message
    assert "No council in the index is called Rotherhm. Councils with similar names: Rotherham" in message
    assert "nothing was asked yet" in refused.value.hint
    assert _audit_count(hashing_seed_index) == before and not (tmp_path / "b.md").exists()


def test_questions_with_no_topic_of_their_own_are_refused_before_any_is_asked(hashing_seed_index, tmp_path):
    """A follow-up written on the line below its question ('What about 2019?') was asked, refused as a question
    that names no topic, and the briefing held that refusal in place of an answer."""
    from assistant.present.briefing import make_briefing

    questions = tmp_path / "q.txt"
    questions.write_text("How many children were discharged from care in Rotherham in 2018?\nWhat about 2019?\n"
                         "# a comment\nAnd Sefton?\nWhat did Sefton do in 2019?\n", encoding="utf-8")
    before = _audit_count(hashing_seed_index)
    with pytest.raises(AssistantError) as refused:
        make_briefing(questions, tmp_path / "b.md", hashing_seed_index, progress=False)
    assert refused.value.message == (f"2 questions of {questions} name no topic to look for: question 2 "
                                     "(\u201cWhat about 2019?\u201d); question 3 (\u201cAnd Sefton?\u201d)")
    assert "answered on its own" in refused.value.hint and "Nothing was asked yet" in refused.value.hint
    assert _audit_count(hashing_seed_index) == before and not (tmp_path / "b.md").exists()
    questions.write_text("What about 2019?\n", encoding="utf-8")
    with pytest.raises(AssistantError) as refused:
        make_briefing(questions, tmp_path / "b.md", hashing_seed_index, progress=False)
    assert refused.value.message.startswith(f"1 question of {questions} names no topic to look for: question 1 ")
