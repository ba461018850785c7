"""Briefings as an officer uses them, from the review of `assistant brief` and the app's export: an --out that would
destroy a file, refusals that can be checked, recovery commands that find the answers, what the checks left out,
answer ids, the Word file's properties, Ctrl-C, questions files from Windows, and what the app lets be ticked."""

import datetime as dt
import os
import shlex
import signal
import time

import pytest
from docx import Document

from assistant.errors import AssistantError
from assistant.records import Answer, Citation, NearestItem, SentenceVerdict

ROTHERHAM_Q = "How many children were discharged from care in Rotherham in 2018?"
BARNSLEY_Q = "What did Barnsley say about early help?"
NEAREST = (NearestItem("https://democracy.blackpool.gov.uk/mgAi.aspx?ID=38109", "Blackpool Council",
                       "Children and Young People's Scrutiny Committee", "2023", "Children's Social Care Update"),
           NearestItem("blackpool-2022-fostering", "Blackpool Council", "", "2022", "Fostering Service"))
REFUSAL = "The minutes in the index do not say this."


def _answered(question: str = "How many children left care?", mode: str = "extractive",
              left_out: int = 0) -> Answer:
    citation = Citation(1, "item-1", "Rotherham Council", "Board", "2019-01-01", "Children in care",
                        "In 2018 148 children left care.", "chunk-1", "https://example.org/1")
    sentences = [SentenceVerdict("In 2018 148 children left care. [1]", (1,), True, True, 1.0, "verbatim")]
    sentences += [SentenceVerdict(f"Rotherham was rated outstanding {n}. [1]", (1,), False, False, 0.1, "unsupported")
                  for n in range(left_out)]
    return Answer(question, "In 2018 148 children left care. [1]", False, None, mode, citations=[citation],
                  sentences=sentences)


def _refused(question: str = "How many children were in care in Blackpool?") -> Answer:
    return Answer(question, REFUSAL, True, "no_answer", "extractive", nearest=list(NEAREST))


def _questions(tmp_path, *questions: str, name: str = "q.txt"):
    path = tmp_path / name
    path.write_text("".join(f"{q}\n" for q in questions), encoding="utf-8")
    return path


def _audit_ids(settings) -> list[str]:
    from assistant.present.audit import AuditLog

    if not settings.audit_path.exists():
        return []
    log = AuditLog(settings.audit_path, read_only=True)
    try:
        return [entry.answer_id for entry in log.entries()]
    finally:
        log.close()


# 1. --out never destroys a file unasked, and never the questions ------------------------------------------------

@pytest.mark.parametrize("alias", ["same", "symlink", "hard link", "another spelling"])
def test_an_out_that_is_the_questions_file_is_refused_before_any_question_is_asked(hashing_seed_index, tmp_path,
                                                                                   alias):
    from assistant.present.briefing import make_briefing

    questions = _questions(tmp_path, ROTHERHAM_Q, name="questions.md")
    out = {"same": questions, "another spelling": tmp_path / "sub" / ".." / "questions.md",
           "symlink": tmp_path / "link.md", "hard link": tmp_path / "hard.md"}[alias]
    (tmp_path / "sub").mkdir()
    if alias == "symlink":
        out.symlink_to(questions)
    elif alias == "hard link":
        os.link(questions, out)
    before = _audit_ids(hashing_seed_index)
    said = "is a symbolic link" if alias == "symlink" else "is the questions file"  # a link is refused as one
    with pytest.raises(AssistantError, match=said) as refused:
        make_briefing(questions, out, hashing_seed_index, progress=False)
    assert ("the path of the file itself" if alias == "symlink" else "--out another name") in refused.value.hint
    with pytest.raises(AssistantError, match=said):  # --replace does not make it right
        make_briefing(questions, out, hashing_seed_index, progress=False, replace=True)
    assert questions.read_text(encoding="utf-8") == f"{ROTHERHAM_Q}\n"
    assert _audit_ids(hashing_seed_index) == before  # nothing was asked


def test_an_existing_out_is_refused_unless_replace_is_given(hashing_seed_index, tmp_path):
    from assistant.present.briefing import make_briefing

    questions = _questions(tmp_path, ROTHERHAM_Q)
    edited = tmp_path / "edited.docx"
    edited.write_text("MY EDITED NOTES")
    before = _audit_ids(hashing_seed_index)
    with pytest.raises(AssistantError) as refused:
        make_briefing(questions, edited, hashing_seed_index, progress=False)
    assert refused.value.message == f"{edited} exists: give --replace to write over it, or another --out."
    assert edited.read_text() == "MY EDITED NOTES" and _audit_ids(hashing_seed_index) == before
    make_briefing(questions, edited, hashing_seed_index, progress=False, replace=True)
    assert "How many children were discharged" in "\n".join(p.text for p in Document(str(edited)).paragraphs)


def test_the_brief_command_takes_replace_and_without_it_says_how_to_write_over(hashing_seed_index, tmp_path,
                                                                             monkeypatch, capsys):
    from assistant.present.cli import main

    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", hashing_seed_index.embedding_model)
    questions = _questions(tmp_path, ROTHERHAM_Q)
    out = tmp_path / "b.md"
    out.write_text("kept", encoding="utf-8")
    command = ["brief", "--questions", str(questions), "--out", str(out), "--index",
               str(hashing_seed_index.data_dir), "--no-progress"]
    assert main(command) == 2
    assert f"error: {out} exists: give --replace to write over it, or another --out." in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "kept"
    assert main(command + ["--replace"]) == 0
    assert f"wrote {out} (1 question" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("# Briefing from committee minutes")


def test_an_out_that_is_a_link_is_refused_and_nothing_is_written_where_it_points(hashing_seed_index, tmp_path,
                                                                                 monkeypatch, capsys):
    """A link another account left in a shared folder (dangling, or naming a file of yours) had the briefing, or the
    audit export, written where it pointed (from a security review)."""
    from assistant.present.cli import main

    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", hashing_seed_index.embedding_model)
    questions = _questions(tmp_path, ROTHERHAM_Q)
    mine = tmp_path / "mine.txt"
    mine.write_text("my own file", encoding="utf-8")
    dangling, existing = tmp_path / "shared" / "b.md", tmp_path / "shared" / "c.md"
    dangling.parent.mkdir()
    dangling.symlink_to(tmp_path / "made-by-the-link.md")
    existing.symlink_to(mine)
    for link in (dangling, existing):
        assert main(["brief", "--questions", str(questions), "--out", str(link), "--index",
                     str(hashing_seed_index.data_dir), "--no-progress", "--replace"]) == 2
        assert f"error: {link} is a symbolic link" in capsys.readouterr().err
    export = tmp_path / "shared" / "audit.csv"
    export.symlink_to(mine)
    assert main(["audit", "--index", str(hashing_seed_index.data_dir), "--out", str(export)]) == 2
    assert f"{export} is a symbolic link" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "my own file" and not (tmp_path / "made-by-the-link.md").exists()


def test_a_link_put_at_the_out_while_the_questions_are_asked_is_not_written_through(hashing_seed_index, tmp_path,
                                                                                   monkeypatch):
    """The link was looked for only before the questions were asked (from a code review)."""
    from assistant.answer.service import Assistant
    from assistant.present.briefing import make_briefing

    questions = _questions(tmp_path, ROTHERHAM_Q)
    out, mine = tmp_path / "b.md", tmp_path / "mine.txt"
    mine.write_text("my own file", encoding="utf-8")
    real_stream = Assistant.stream

    def stream_while_a_link_is_put_there(self, *args, **kwargs):
        if not out.is_symlink():
            out.symlink_to(mine)
        return real_stream(self, *args, **kwargs)

    monkeypatch.setattr(Assistant, "stream", stream_while_a_link_is_put_there)
    with pytest.raises(AssistantError, match="is a symbolic link"):
        make_briefing(questions, out, hashing_seed_index, progress=False, replace=True)
    assert mine.read_text(encoding="utf-8") == "my own file"


def test_a_file_made_at_the_out_while_the_questions_are_asked_is_not_written_over(hashing_seed_index, tmp_path,
                                                                                monkeypatch):
    from assistant.answer.service import Assistant
    from assistant.present.briefing import make_briefing

    questions = _questions(tmp_path, ROTHERHAM_Q)
    out = tmp_path / "b.md"
    real_stream = Assistant.stream

    def stream_while_someone_saves_the_out(self, *args, **kwargs):
        out.write_text("saved meanwhile", encoding="utf-8")
        return real_stream(self, *args, **kwargs)

    monkeypatch.setattr(Assistant, "stream", stream_while_someone_saves_the_out)
    with pytest.raises(AssistantError) as refused:
        make_briefing(questions, out, hashing_seed_index, progress=False)
    assert refused.value.message == f"{out} exists: give --replace to write over it, or another --out."
    assert "The 1 answer given is in the audit log" in refused.value.hint
    assert out.read_text(encoding="utf-8") == "saved meanwhile"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.md", "q.txt"]  # no staging file either


def test_writing_a_briefing_never_replaces_a_file_unless_asked(tmp_path):
    """The app's export writes through write_briefing, into a new folder each time: a name that is taken is refused
    all the same."""
    from assistant.present.briefing import entry_from_answer, write_briefing

    taken = tmp_path / "briefing-1.md"
    taken.write_text("someone's", encoding="utf-8")
    with pytest.raises(FileExistsError) as refused:
        write_briefing([entry_from_answer(_answered())], taken)
    assert refused.value.filename == str(taken)
    assert taken.read_text(encoding="utf-8") == "someone's" and [p.name for p in tmp_path.iterdir()] == [taken.name]
    write_briefing([entry_from_answer(_answered())], taken, replace=True)
    assert "148 children" in taken.read_text(encoding="utf-8")


def test_the_apps_export_is_a_new_file_that_names_its_answers_ids(hashing_assistant, tmp_path):
    from assistant.present.app import ChatHandlers, Turn

    handlers = ChatHandlers(hashing_assistant, tmp_path)
    turns = [Turn("a1b2c3d4e5f6" + "0" * 20, _answered()), Turn("f6e5d4c3b2a1" + "0" * 20, _refused()),
             Turn("0badc0ffee00" + "0" * 20, _answered())]
    for turn in turns[:2]:
        handlers.recorder.record(turn.answer, channel="app", answer_id=turn.answer_id)
    labels = ChatHandlers.briefing_choices(turns)
    first, _ = handlers.export(turns, labels, "md")
    second, _ = handlers.export(turns, labels, "md")
    assert first != second and os.path.exists(first) and os.path.exists(second)
    text = open(second, encoding="utf-8").read()
    assert "_Audit log: answer a1b2c3d4_" in text and "_Audit log: answer f6e5d4c3_" in text
    # Shown, but its recording failed: the log does not know it, so the briefing names no id for it.
    assert "0badc0ff" not in text


# 2. A refusal lists the nearest items searched, and is not a quote ------------------------------------------------

def test_a_refused_question_lists_the_nearest_items_searched_in_markdown(tmp_path):
    from assistant.present.briefing import entry_from_answer, write_briefing

    text = write_briefing([entry_from_answer(_answered()), entry_from_answer(_refused())],
                          tmp_path / "b.md").read_text(encoding="utf-8")
    refusal = text[text.index("## 2."):]
    assert f"_{REFUSAL}_" in refusal  # set apart from the quoted answers
    assert "_Nearest items searched:_" in refusal
    assert ("- Blackpool Council \u2014 Children and Young People's Scrutiny Committee \u2014 2023 \u2014 Children's "
            "Social Care Update. <https://democracy.blackpool.gov.uk/mgAi.aspx?ID=38109>") in refusal
    # An item with no web address has its id labelled: shown bare, it read as part of the title.
    assert ("- Blackpool Council \u2014 (committee unknown) \u2014 2022 \u2014 Fostering Service. "
            "_(no web address; source: blackpool-2022-fostering)_") in refusal
    # The header's "quoted word for word" is about the answers; refusals are said to be the assistant's words.
    header = text[:text.index("## 1.")]
    assert "Answers: quoted word for word from the minutes (extractive mode)" in header
    assert "Questions the minutes do not answer: said so in the assistant's own words (not quoted" in header
    # The two ways a refusal is worded, told apart for whoever reads the briefing.
    assert ("\u201cDo not say this\u201d: minutes on the subject were found, but none states what was asked; "
            "\u201cdo not cover this question\u201d: none on the subject was found") in header


def test_a_refused_question_lists_the_nearest_items_searched_in_word(tmp_path):
    from assistant.present.briefing import entry_from_answer, write_briefing

    out = write_briefing([entry_from_answer(_refused())], tmp_path / "b.docx")
    document = Document(str(out))
    paragraphs = {p.text: p for p in document.paragraphs}
    assert not any("quoted word for word" in text for text in paragraphs)  # nothing here is a quote
    assert any(text.startswith("Questions the minutes do not answer:") for text in paragraphs)
    assert all(run.italic for run in paragraphs[REFUSAL].runs)
    assert "Nearest items searched:" in paragraphs
    assert ("Blackpool Council \u2014 Children and Young People's Scrutiny Committee \u2014 2023 \u2014 Children's "
            "Social Care Update. https://democracy.blackpool.gov.uk/mgAi.aspx?ID=38109") in paragraphs
    links = [r.target_ref for r in document.part.rels.values() if r.reltype.endswith("/hyperlink")]
    assert links == ["https://democracy.blackpool.gov.uk/mgAi.aspx?ID=38109"]
    assert not any(p.style.name == "Quote" for p in document.paragraphs)
    # A list, as in the Markdown (they had been plain paragraphs, like the text around them), and an item with no web
    # address has its id labelled.
    nearest = [p for p in document.paragraphs if p.style.name == "List Bullet"]
    assert len(nearest) == 2 and nearest[1].text == ("Blackpool Council \u2014 (committee unknown) \u2014 2022 \u2014 "
                                                     "Fostering Service. (no web address; source: blackpool-2022-fostering)")


def test_a_word_briefing_is_a4_in_british_english_without_the_templates_leftovers(tmp_path):
    """python-docx's template is US Letter and US English (Word marked 'organisation' in every quote), says it was
    written by Word 14 for the Mac, and carries a blank page as the preview file browsers show."""
    import zipfile

    from assistant.present.briefing import entry_from_answer, write_briefing

    out = write_briefing([entry_from_answer(_refused())], tmp_path / "b.docx")
    section = Document(str(out)).sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    with zipfile.ZipFile(out) as package:
        names = set(package.namelist())
        styles = package.read("word/styles.xml").decode("utf-8")
        relationships = package.read("_rels/.rels").decode("utf-8")
    assert 'w:val="en-GB"' in styles and "en-US" not in styles
    assert "docProps/app.xml" not in names and "docProps/thumbnail.jpeg" not in names
    assert "thumbnail" not in relationships and "extended-properties" not in relationships
    assert "docProps/core.xml" in names  # the title, author and time stay


# 3. The recovery command finds the answers ----------------------------------------------------------------------

def _full_disk(monkeypatch):
    import errno

    import assistant.present.briefing as briefing

    def full_disk(path, data, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(briefing, "write_atomically", full_disk)


def _follow(hint: str, monkeypatch, capsys) -> str:
    """Run the command a hint gives between backticks, as the officer would paste it, and return what it prints."""
    from assistant.present.cli import main

    words = shlex.split(hint.split("`")[1])
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        monkeypatch.setenv(name, value)
    assert words[:2] == ["assistant", "audit"]
    capsys.readouterr()
    assert main(words[1:]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.mark.parametrize("own_audit_log", [False, True])
def test_the_audit_command_a_failed_briefing_gives_lists_its_answers(hashing_seed_index, tmp_path, monkeypatch,
                                                                     capsys, own_audit_log):
    from assistant.present.briefing import make_briefing

    settings = (hashing_seed_index.with_(audit_file=str(tmp_path / "elsewhere" / "audit.sqlite")) if own_audit_log
                else hashing_seed_index)
    _full_disk(monkeypatch)
    monkeypatch.chdir(tmp_path)  # where no default index is, as when an officer gives --index
    with pytest.raises(AssistantError) as failed:
        make_briefing(_questions(tmp_path, ROTHERHAM_Q, BARNSLEY_Q), tmp_path / "b.md", settings, progress=False)
    given = _audit_ids(settings)[-2:]
    assert ("ASSISTANT_AUDIT_PATH=" in failed.value.hint) == own_audit_log
    assert f"the first of them is answer {given[0][:8]}" in failed.value.hint
    listed = _follow(failed.value.hint, monkeypatch, capsys)
    assert [line.split()[0] for line in listed.splitlines()] == given


def test_an_interrupted_briefing_says_which_audit_log_holds_its_answers(hashing_seed_index, tmp_path, monkeypatch):
    from assistant.answer.service import Assistant
    from assistant.present.briefing import BriefingInterrupted, make_briefing

    real_stream, calls = Assistant.stream, []

    def stream_until_ctrl_c(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_stream(self, *args, **kwargs)

    monkeypatch.setattr(Assistant, "stream", stream_until_ctrl_c)
    with pytest.raises(BriefingInterrupted) as stopped:
        make_briefing(_questions(tmp_path, ROTHERHAM_Q, BARNSLEY_Q), tmp_path / "b.md", hashing_seed_index,
                      progress=False)
    first = _audit_ids(hashing_seed_index)[-1]
    assert getattr(stopped.value, "in_audit_log", None) == (
        f"The 1 answer given is in the audit log: `assistant audit --index {hashing_seed_index.data_dir} --limit 1` "
        f"(answer {first[:8]}; should others have been answered since, raise --limit until it is listed).")


# 4. and 5. What the checks left out, and each answer's id -----------------------------------------------------

def test_a_briefing_says_how_many_generated_sentences_the_checks_left_out(tmp_path):
    from assistant.present.briefing import entry_from_answer, write_briefing
    from assistant.present.render import not_shown_note

    answer = _answered(mode="llm:openai:gpt-4o-mini", left_out=2)
    note = not_shown_note(2, answer.mode)
    assert note == "(Not shown: 2 generated sentences that the checks left out.)"
    entries = [entry_from_answer(answer), entry_from_answer(_answered("And in 2019?", mode=answer.mode))]
    text = write_briefing(entries, tmp_path / "b.md").read_text(encoding="utf-8")
    assert text.count("Not shown:") == 1 and "_(Not shown: 2 generated sentences that the checks left out.)_" in text
    assert "outstanding" not in text
    paragraphs = [p.text for p in Document(str(write_briefing(entries, tmp_path / "b.docx"))).paragraphs]
    assert paragraphs.count(note) == 1


def test_each_entry_of_a_briefing_names_its_answer_in_the_audit_log(hashing_seed_index, tmp_path):
    from assistant.present.briefing import make_briefing

    # Two questions with one answer: told apart by their ids.
    questions = _questions(tmp_path, ROTHERHAM_Q, ROTHERHAM_Q.rstrip("?") + " in all?")
    make_briefing(questions, tmp_path / "b.md", hashing_seed_index, progress=False)
    make_briefing(questions, tmp_path / "b.docx", hashing_seed_index, progress=False)
    ids = _audit_ids(hashing_seed_index)[-4:]
    text = (tmp_path / "b.md").read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if "Audit log" in line] == [
        f"_Audit log: answer {answer_id[:8]}_" for answer_id in ids[:2]]
    paragraphs = [p.text for p in Document(str(tmp_path / "b.docx")).paragraphs]
    assert [p for p in paragraphs if "Audit log" in p] == [
        f"Audit log: answer {answer_id[:8]}" for answer_id in ids[2:]]


# 6. The Word file's properties --------------------------------------------------------------------------------

def test_a_word_briefing_says_who_made_it_and_when(tmp_path):
    from assistant.present.briefing import entry_from_answer, write_briefing

    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    out = write_briefing([entry_from_answer(_answered())], tmp_path / "b.docx", title="Fostering")
    after = dt.datetime.now(dt.timezone.utc)
    properties = Document(str(out)).core_properties
    assert properties.author == "Minutes assistant" and properties.last_modified_by == "Minutes assistant"
    assert properties.comments == "" and properties.title == "Fostering"
    for stamp in (properties.created, properties.modified):
        assert before <= stamp.replace(tzinfo=dt.timezone.utc) <= after


# 7. Ctrl-C says so at once, and stops a language model's reply ----------------------------------------------------

def test_ctrl_c_is_acknowledged_at_once_and_stops_a_models_reply_which_is_not_kept(hashing_seed_index, tmp_path,
                                                                                   monkeypatch, capsys):
    from langchain_core.language_models import GenericFakeChatModel

    from assistant.answer import llm
    from assistant.present.briefing import BriefingInterrupted, make_briefing

    told = []

    class PressedMidReply(GenericFakeChatModel):
        """A model whose officer presses Ctrl-C once the second piece of its reply is on its way."""
        served: int = 0

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            for chunk in super()._stream(messages, stop, run_manager, **kwargs):
                self.served += 1
                if self.served == 2:
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(0.05)  # the signal's handler runs here, in this (the main) thread
                    told.append(capsys.readouterr().err)
                yield chunk

    reply = " ".join(["In 2018 148 children have been discharged [1]."] * 20)
    model = PressedMidReply(messages=iter([reply] * 3))
    monkeypatch.setattr(llm, "make_chat_model", lambda spec, settings, **kw: model)
    before, handler_before = _audit_ids(hashing_seed_index), signal.getsignal(signal.SIGINT)
    with pytest.raises(BriefingInterrupted) as stopped:
        make_briefing(_questions(tmp_path, ROTHERHAM_Q, BARNSLEY_Q), tmp_path / "b.md",
                      hashing_seed_index.with_(llm="openai:fake"), progress=False)
    # Said while the question was still being answered.
    assert told and "Stopping after the current question (press Ctrl-C again to stop at once)." in told[0]
    assert model.served <= 3  # the reply (some 300 pieces) was read no further
    # The answer cut short is neither written nor recorded as if it were whole, and the next question is not asked.
    assert (stopped.value.recorded, stopped.value.asked, stopped.value.total) == (0, 0, 2)
    assert not (tmp_path / "b.md").exists() and _audit_ids(hashing_seed_index) == before
    assert signal.getsignal(signal.SIGINT) is handler_before  # the briefing's own handler is gone


# 8. Questions files: a folder, and the encodings Windows writes ------------------------------------------------

def test_a_questions_folder_is_named_as_a_folder(tmp_path):
    from assistant.present.briefing import read_question_file

    with pytest.raises(AssistantError) as refused:
        read_question_file(tmp_path)
    assert refused.value.message == f"{tmp_path} is a folder, not a questions file."
    assert "--questions" in refused.value.hint


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252", "utf-8-sig"])
def test_questions_files_saved_by_windows_are_read_as_ingest_reads_text(tmp_path, encoding):
    from assistant.present.briefing import read_question_file

    path = tmp_path / "questions.txt"
    path.write_bytes(f"{BARNSLEY_Q}\r\nWhat did Barnsley\u2019s panel say about caf\u00e9 staff?\r\n".encode(encoding))
    assert [q for q, _ in read_question_file(path)] == [
        BARNSLEY_Q, "What did Barnsley\u2019s panel say about caf\u00e9 staff?"]


def test_a_questions_file_in_utf16_without_its_mark_is_refused_with_how_to_save_it(tmp_path):
    from assistant.present.briefing import read_question_file

    path = tmp_path / "questions.txt"
    path.write_bytes(f"{BARNSLEY_Q}\n".encode("utf-16-le"))
    with pytest.raises(AssistantError) as refused:
        read_question_file(path)
    assert "UTF-16 LE text without a byte order mark" in refused.value.message
    assert "Save the questions file as UTF-8" in refused.value.hint


# 9. A run that fails before writing leaves no folder -------------------------------------------------------------

def test_a_briefing_with_no_index_leaves_no_new_folder_behind(settings, tmp_path):
    from assistant.present.briefing import make_briefing

    questions = _questions(tmp_path, ROTHERHAM_Q)
    with pytest.raises(AssistantError, match="no index"):
        make_briefing(questions, tmp_path / "out" / "fresh" / "b.md", settings.with_(data_dir=tmp_path / "nope"),
                      progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.txt"]


def test_checking_a_place_to_write_can_leave_no_folder_made(tmp_path):
    from assistant.files import check_writable

    (tmp_path / "kept").mkdir()
    check_writable(tmp_path / "kept" / "new" / "deeper" / "b.md", "the briefing", keep_folders=False)
    assert [p.name for p in tmp_path.rglob("*")] == ["kept"]


# 10. The app lets refusals be ticked ---------------------------------------------------------------------------

def test_the_app_offers_refused_answers_for_the_briefing_and_exports_their_nearest_items(hashing_assistant,
                                                                                       tmp_path):
    from assistant.present.app import ChatHandlers, Turn

    answered, refused = Turn("1" * 32, _answered()), Turn("2" * 32, _refused())
    assert ChatHandlers.briefing_choices([answered, refused]) == [answered.label, refused.label]
    path, status = ChatHandlers(hashing_assistant, tmp_path).export([answered, refused], [refused.label], "docx")
    paragraphs = [p.text for p in Document(path).paragraphs]
    assert status == "Briefing with 1 answer written." and REFUSAL in paragraphs
    assert any(p.startswith("Blackpool Council \u2014 Children and Young People's") for p in paragraphs)


@pytest.mark.parametrize("suffix", [".md", ".docx"])
def test_a_briefing_warns_in_its_header_when_quoted_sources_have_no_meeting_date(tmp_path, suffix):
    """Most scraped minutes carry no date: an officer reading a figure in a briefing could not tell it was years
    old. The header counts such sources; a briefing whose sources are all dated says nothing of it."""
    from dataclasses import replace

    from assistant.present.briefing import entry_from_answer, write_briefing

    dated = _answered()
    undated = replace(dated, citations=[replace(dated.citations[0], source_url="item-2", meeting_date="")])

    def header(answers) -> str:
        out = write_briefing([entry_from_answer(a) for a in answers], tmp_path / f"b-{len(answers)}{suffix}")
        if suffix == ".md":
            text = out.read_text(encoding="utf-8")
            return text[:text.index("## 1.")]
        return "\n".join(p.text for p in Document(str(out)).paragraphs[:6])

    assert "Sources with no meeting date recorded: 1 of 2" in header([dated, undated])
    assert "no meeting date recorded" not in header([dated])
