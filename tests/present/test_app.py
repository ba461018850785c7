"""The chat's handlers, called directly: answers, filters, sources, feedback, audit and export."""

import html
import json
import logging
import re

import pytest
from docx import Document

from assistant.present.app import ChatHandlers, build_app
from assistant.answer.service import Assistant
from assistant.errors import IndexMissingError, ModelError
from assistant.records import Answer, Citation, NearestItem, SentenceVerdict

ROTHERHAM_Q = "How many children were discharged from care in 2018?"


@pytest.fixture(scope="module")
def handlers(seed_index, minilm, tmp_path_factory):
    assistant = Assistant(seed_index, embedder=minilm)
    yield ChatHandlers(assistant, tmp_path_factory.mktemp("briefings"))
    assistant.close()


def final(handlers, question, **filters):
    steps = list(handlers.stream_answer(question, **filters))
    assert steps, "the handler yielded nothing"
    return steps


def test_an_answer_streams_then_shows_its_sources(handlers):
    steps = final(handlers, ROTHERHAM_Q)
    markdown, turn = steps[-1]
    assert turn is not None and all(t is None for _, t in steps[:-1])
    assert "148" in markdown and "**Sources**" in markdown and "Rotherham Metropolitan Borough Council" in markdown
    assert "<mark>" in markdown  # the quote is highlighted in its context
    assert len(steps) >= 2  # at least one sentence arrived before the complete answer


def test_filters_are_stated_and_bad_filters_get_a_message(handlers):
    markdown, turn = final(handlers, "What did the committee say about performance?", council="Sefton Council")[-1]
    assert "Filters applied: council: Sefton Council" in markdown
    markdown, turn = final(handlers, "What was said?", council="Nowhere Council")[-1]
    assert "Nothing in the minutes matches these filters" in markdown
    markdown, turn = final(handlers, "What was said?", since="2021-01-01", until="2020-01-01")[-1]
    assert turn is None and "before it starts" in markdown
    markdown, turn = final(handlers, "What was said?", since="sometime")[-1]
    assert turn is None and "YYYY-MM-DD" in markdown


@pytest.mark.parametrize("question, fragment", [("", "type a question"), ("x" * 10_000, "limit is 2,000")])
def test_bad_messages_get_a_clear_reply_and_the_app_keeps_working(handlers, question, fragment):
    markdown, _ = final(handlers, question)[-1]
    assert fragment in markdown
    markdown, turn = final(handlers, ROTHERHAM_Q)[-1]
    assert "148" in markdown


def test_refusals_list_the_nearest_items(handlers):
    markdown, turn = final(handlers, "How much did Bradford spend on agency staff in 2021/22?")[-1]
    assert turn.answer.refused and "Nearest items" in markdown and "Bradford" in markdown


def test_the_source_panel_opens_inside_the_app(handlers):
    _, turn = final(handlers, ROTHERHAM_Q)[-1]
    panel = handlers.source_panel(turn, 1)
    assert "Rotherham" in panel and "<mark>" in panel and "148" in panel
    assert "not part of the answer" in handlers.source_panel(turn, 99)
    # A named region the keyboard reaches, though this item has no link to Tab to (an accessibility review)
    assert 'role="region" aria-label="Source [1]: Rotherham Metropolitan Borough Council' in panel
    assert 'tabindex="0"' in panel and "<a " not in panel


def test_feedback_is_appended_to_the_audit_log(handlers):
    _, turn = final(handlers, ROTHERHAM_Q)[-1]
    assert "recorded" in handlers.feedback(turn, "source_wrong", "the date looks wrong")
    assert "Choose" in handlers.feedback(turn, "")
    nothing_to_rate = handlers.feedback(None, "helpful")
    assert "no answer to rate" in nothing_to_rate and "still coming" in nothing_to_rate
    rows = [f for f in handlers.recorder.log.feedback() if f["answer_id"] == turn.answer_id]
    assert rows[-1]["rating"] == "source_wrong" and rows[-1]["comment"] == "the date looks wrong"
    entry = handlers.recorder.log.get(turn.answer_id)
    assert entry.record["answer"] == turn.answer.answer and entry.record["prompt_version"]
    assert entry.record["retrieved"][0]["content_hash"]



def test_a_feedback_comment_of_megabytes_is_refused_saying_so_and_not_recorded(handlers):
    """From the security review: the comment box took any length, and each comment sent was kept in the audit log (a
    2.4 MB comment, sent with two ratings, was kept twice)."""
    from assistant.present.app import MAX_COMMENT_CHARS

    _, turn = final(handlers, ROTHERHAM_Q)[-1]
    before = len(handlers.recorder.log.feedback())
    said = handlers.feedback(turn, "not_helpful", "spam " * 500_000)
    assert "2,499,999 characters long; the limit is 5,000" in said and "nothing was recorded" in said
    assert len(handlers.recorder.log.feedback()) == before
    assert "recorded" in handlers.feedback(turn, "not_helpful", "x" * MAX_COMMENT_CHARS)
    assert len(handlers.recorder.log.feedback()) == before + 1

def test_the_audit_log_is_append_only(handlers):
    import sqlite3

    _, turn = final(handlers, ROTHERHAM_Q)[-1]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        handlers.recorder.log._db.execute("DELETE FROM answers")
    exported = handlers.recorder.log.export("jsonl").splitlines()
    assert any(json.loads(line)["answer_id"] == turn.answer_id for line in exported)
    assert turn.answer_id in handlers.recorder.log.export("csv")


def test_export_writes_only_the_cited_answer(handlers, tmp_path):
    _, first = final(handlers, ROTHERHAM_Q)[-1]
    _, second = final(handlers, "What percentage of reports were available 3 days before child protection "
                                "conferences in Sefton?")[-1]
    path, message = handlers.export([first, second], [first.label, second.label], "md")
    text = open(path, encoding="utf-8").read()
    assert "148" in text and "28.5%" in text and "Sources:" in text and "Filters:" in text
    # When it was made, and what the index it was searched from held.
    assert "\nMade: " in text and "\nSearched: 5 items of minutes from 5 councils, of meetings from 2018" in text
    assert "<evidence" not in text and "system" not in text.lower()
    path, _ = handlers.export([first], [first.label], "docx")
    doc = "\n".join(p.text for p in Document(path).paragraphs)
    assert "148" in doc and "Rotherham Metropolitan Borough Council" in doc
    assert handlers.export([first], [], "md")[0] is None


LEAVES_NOTHING = """
import sys, tempfile
from pathlib import Path
tempfile.tempdir = sys.argv[1]
from assistant.present.app import ChatHandlers, Turn
from assistant.records import Answer
from types import SimpleNamespace
class NoItems:  # the manifest of an empty index, which the briefing's header describes
    def rows(self):
        return {}
    def last_changed(self):
        return None
handlers = ChatHandlers(assistant=SimpleNamespace(index=SimpleNamespace(manifest=NoItems())))
assert not list(Path(sys.argv[1]).iterdir()), "a folder was made before any export"
turn = Turn("0123456789abcdef", Answer("How many?", "Twelve.", False, None, "extractive"))
first, message = handlers.export([turn], [turn.label], "md")
second, _ = handlers.export([turn], [turn.label], "md")
def without_time(path):  # the minute it was made may have turned between the two
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines() if not line.startswith("Made: ")]
assert first != second and without_time(first) == without_time(second)
assert message == "Briefing with 1 answer written.", message
print(first)
"""


def test_exported_briefings_are_removed_when_the_app_stops(tmp_path):
    """Briefings hold minutes and members' questions: none stays in the temporary folder after the app, and starting
    the app leaves no empty folder either. Two exports of the same answer never share a file."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", LEAVES_NOTHING, str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().startswith(str(tmp_path)) and run.stdout.strip().endswith(".md")
    assert list(tmp_path.iterdir()) == []


def test_the_api_returns_the_answer_and_its_sources_as_text(handlers):
    text = handlers.api_ask(ROTHERHAM_Q)
    assert text.startswith("148 (Rotherham Metropolitan Borough Council, 2018 [1])\n") and "In 2018 148 children" in text
    # the short answer leads, with whose and when it is, then the quote
    assert "Sources:" in text and "[1]" in text
    assert "before it starts" in handlers.api_ask("x", since="2020-01-01", until="2019-01-01")



def test_a_council_filter_of_megabytes_is_refused_and_not_written_to_the_audit_log(handlers):
    """From the security review: a council (or committee) field of 5 MB sent to /ask was searched, echoed in the
    answer and recorded, so each such request added megabytes to the audit log."""
    before = len(handlers.recorder.log.export("jsonl").splitlines())
    text = handlers.api_ask(ROTHERHAM_Q, council="Rotherham " + "x" * 1_000_000)
    assert "The council filter is 1,000,010 characters long; the limit is 500" in text and len(text) < 1_000
    assert len(handlers.recorder.log.export("jsonl").splitlines()) == before

class FailingAssistant:
    """Stands in for an Assistant whose index cannot be read: every question fails with `error`."""

    def __init__(self, error) -> None:
        self.error = error

    def stream(self, question, filters, stopped=None):
        raise self.error
        yield


def test_an_index_that_cannot_be_read_is_the_operators_to_mend_and_the_members_to_wait_for(caplog):
    """A member had been shown the Chroma server's address and `chroma run` instructions, and the app's log had
    nothing: now the member reads to try again, and the log has what failed and how to mend it."""
    from assistant.errors import AssistantError, IndexStaleError
    from assistant.present.app import INDEX_UNAVAILABLE, MINUTES_UPDATING

    lost = AssistantError("Lost the Chroma server at 10.0.0.5:8000 (ConnectError).", "Start it again (`chroma run`).")
    for error, said in ((lost, INDEX_UNAVAILABLE),
                        (IndexMissingError("The keyword index in /data/bm25 is damaged.", "Delete it."),
                         INDEX_UNAVAILABLE),
                        (IndexStaleError("An ingest is writing to the index in /data now.", "Ask again."),
                         MINUTES_UPDATING)):
        handlers = ChatHandlers(FailingAssistant(error))
        with caplog.at_level(logging.WARNING, logger="assistant.present.app"):
            text = handlers.api_ask("What about fostering?")
        assert text == said
        [reply] = handlers.replies("What about fostering?")
        assert reply.failed and "/data" not in reply.markdown and "10.0.0.5" not in reply.markdown
        assert error.message in caplog.text and error.hint in caplog.text
        caplog.clear()


def test_examples_come_from_the_index(handlers):
    examples = handlers.example_questions()
    councils = handlers.councils()
    from assistant.text import council_key

    assert examples and all(any(council_key(c) in q.lower() for c in councils) for q in examples)
    titles = {entry.metadata.get("item_title", "") for entry in handlers.assistant.lexical.entries}
    # Each names its item's title as written, capitals and all, and none is so long that its button cuts it off:
    # Gradio shows 60 characters, then "..." ("What did Exeter say about Council Tax Exemption for Care Lea...").
    assert all(any(q.endswith(f" {title}?") for title in titles) and len(q) <= 60 for q in examples), examples


def test_build_app_defines_the_ask_endpoint(handlers):
    demo = build_app(handlers.assistant)
    names = [d.api_name for d in demo.fns.values()]
    assert "ask" in names


def test_serving_a_corpus_prints_what_ingest_would_failures_included(fake_settings, tmp_path, capsys):
    from assistant.present.app import launch_app
    from corpus_factory import write_markdown_corpus

    from servers import free_port

    corpus = tmp_path / "minutes"
    write_markdown_corpus(corpus, 2)
    (corpus / "broken.pdf").write_bytes(b"\x00 not a pdf")
    app = launch_app(fake_settings, corpus, port=free_port(), prevent_thread_lock=True)
    app.close()
    shown = capsys.readouterr().out
    assert "ingested 2 new" in shown and "failed 1" in shown and "failed: " in shown and "broken.pdf" in shown

    app = launch_app(fake_settings, tmp_path / "no-such-folder", port=free_port(), prevent_thread_lock=True)
    app.close()
    assert f"There is no {tmp_path / 'no-such-folder'} folder: serving the index" in capsys.readouterr().out


def _serves_and_answers(app, said: str, capsys) -> None:
    """The launched app said `said` as it started, and answers through its API; then it is closed."""
    from gradio_client import Client

    try:
        assert said in capsys.readouterr().out
        assert "148" in Client(app.local_url, verbose=False).predict(ROTHERHAM_Q, "", "", "", "", api_name="/ask")
    finally:
        app.close()


def test_serve_no_corpus_starts_while_an_ingest_writes_and_answers_from_the_index_as_it_stands(fake_settings,
                                                                                              tmp_path, capsys):
    """From an operator's review: a service restarted during the nightly fetch exited with 'Another ingest or fetch
    is writing' (status 2) and stayed down for as long as the fetch ran."""
    from assistant.ingest.run import ingest
    from assistant.present.app import launch_app

    from cli_helpers import write_lock_held_elsewhere
    from conftest import CORPUS
    from servers import free_port

    ingest([CORPUS], fake_settings, progress=False)
    with write_lock_held_elsewhere(fake_settings.data_dir):  # the fetch at work
        _serves_and_answers(launch_app(fake_settings, None, port=free_port(), prevent_thread_lock=True),
                            "An ingest or fetch is writing to", capsys)


def test_serve_no_corpus_waits_for_a_writer_part_way_through_and_then_serves(tmp_path, capsys):
    """From a code review: once an ingest had finished its first batch, the index cannot be read until the run ends,
    and `serve --no-corpus` started then still exited with status 2."""
    import signal
    import subprocess
    import sys
    import threading

    from assistant.present.app import launch_app
    from assistant.settings import Settings
    from cli_helpers import cli_env, run_cli
    from conftest import CORPUS
    from corpus_factory import write_markdown_corpus
    from servers import free_port

    env = cli_env(tmp_path / "index", ASSISTANT_READER="fake:overlap", ASSISTANT_EMBED_BATCH="8")
    assert run_cli("ingest", str(CORPUS), "--no-progress", env=env).returncode == 0
    more = tmp_path / "more"
    write_markdown_corpus(more, 20)
    killed = run_cli("ingest", str(CORPUS), str(more), "--no-progress",
                     env={**env, "ASSISTANT_CRASH_AT": "after_manifest_commit:1"})
    assert killed.returncode == -signal.SIGKILL  # a batch committed, the keyword index not yet brought up to date
    # The writer at work, which then finishes what the killed run left.
    finish = ("import sys, time\nfrom assistant.index.write_lock import writing_index\n"
              "from assistant.ingest.run import Index, _refresh_lexical\nfrom assistant.settings import Settings\n"
              "settings = Settings.from_env()\nwith writing_index(settings):\n    print('held', flush=True)\n"
              "    time.sleep(4)\n    index = Index(settings)\n    _refresh_lexical(index)\n    index.close()\n")
    writer = subprocess.Popen([sys.executable, "-c", finish], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "held"
        settings = Settings.from_env(env)
        started = {}
        thread = threading.Thread(target=lambda: started.update(app=launch_app(settings, None, port=free_port(),
                                                                               prevent_thread_lock=True)))
        thread.start()
        thread.join(60)
        assert writer.wait(30) == 0 and "app" in started
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    _serves_and_answers(started["app"], "the app starts as soon as it can be", capsys)


def test_the_app_s_console_says_when_it_answers_from_minutes_an_ingest_changed(fake_settings, tmp_path, caplog):
    """From an operator's review: nothing in the app's log said whether the nightly fetch had been picked up."""
    import logging

    from gradio_client import Client

    from assistant.ingest.run import ingest
    from assistant.present.app import launch_app
    from conftest import CORPUS
    from corpus_factory import write_markdown_corpus
    from servers import free_port

    ingest([CORPUS], fake_settings, progress=False)
    app = launch_app(fake_settings, None, port=free_port(), prevent_thread_lock=True)
    try:
        client = Client(app.local_url, verbose=False)
        client.predict(ROTHERHAM_Q, "", "", "", "", api_name="/ask")
        more = tmp_path / "more"
        write_markdown_corpus(more, 2)
        ingest([CORPUS, more], fake_settings, progress=False)  # as the nightly job, while the app serves
        caplog.clear()
        client.predict(ROTHERHAM_Q, "", "", "", "", api_name="/ask")
    finally:
        app.close()
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "changed; answering" in
            r.getMessage()]
    assert len(said) == 1 and "answering from it as it now stands (7 items, " in said[0]


MARKUP_QUOTE = ("Re B [2019] EWCA Civ 27: *six* appeals and _twenty_ `requests` were pending, see "
                "[the report](javascript:alert(1)) <img src=x onerror=alert(1)> & Children's Services.")


def _answer_quoting(quote: str, link: str = "javascript:alert(1)", shown_extra: str = "") -> Answer:
    citation = Citation(1, "item-1", "Rotherham *Borough* Council", "Board", "2019-01-01", "Legal _update_", quote,
                        "chunk-1", link)
    sentences = [SentenceVerdict(f"{quote} [1]", (1,), True, True, 1.0, "verbatim")]
    if shown_extra:
        sentences.insert(0, SentenceVerdict(shown_extra, (), False, False, 0.0, "too far"))
    return Answer("How many *appeals*?", f"{quote} [1]", False, None, "extractive", citations=[citation],
                  sentences=sentences, short_answer="*six*")


def _rendered_html(markdown: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable("strikethrough").enable("table").render(markdown)


def test_minute_text_shows_as_written_never_as_markup(handlers):
    # The chat renders Markdown: the minutes' own asterisks, brackets and tags must show as characters.
    rendered = _rendered_html(handlers.render(_answer_quoting(MARKUP_QUOTE, shown_extra="~~struck~~ *not* this")))
    for markup in ("<em>six", "<em>twenty", "<em>appeals", "<em>not", "<em>update", "<em>Borough", "<code>", "<img",
                   'href="javascript', "<h1", "<h2", "<table"):
        assert markup not in rendered, markup
    assert "*six* appeals and _twenty_ `requests`" in rendered.replace("&quot;", '"')
    assert "[2019]" in rendered and "&lt;img src=x" in rendered and "&amp; Children" in rendered
    assert "Rotherham *Borough* Council" in rendered and "Legal _update_" in rendered
    assert rendered.count("<s>") == 1 and "<s>~~struck~~ *not* this</s>" in rendered  # struck out, escaped once
    assert "&amp;amp;" not in rendered and "&amp;#x27;" not in rendered  # nothing escaped twice


def test_a_source_link_is_a_web_address_or_plain_text(handlers):
    safe = _rendered_html(handlers.render(_answer_quoting("In 2018 148 children left care.",
                                                          link="https://example.org/a_(b)")))
    assert '<a href="https://example.org/a_(b)" target="_blank" rel="noopener">' in safe
    unsafe = _rendered_html(handlers.render(_answer_quoting("In 2018 148 children left care.",
                                                            link="javascript:alert(1)")))
    assert "<a " not in unsafe and "item-1" in unsafe


def test_every_answer_states_its_filters_none_included(handlers):
    markdown, _ = final(handlers, ROTHERHAM_Q)[-1]
    assert "Filters applied: none" in markdown


def test_a_failing_language_model_gets_a_member_message_in_the_chat_and_the_operator_hint_in_the_log(
        handlers, monkeypatch, caplog):
    def failing_stream(question, filters, stopped=None):
        raise ModelError("The language model 'openai:gpt-x' failed: connection refused",
                         "Check that OPENAI_BASE_URL points at a running server.")
        yield  # a generator, like Assistant.stream

    monkeypatch.setattr(handlers.assistant, "stream", failing_stream)
    markdown, turn = final(handlers, ROTHERHAM_Q)[-1]
    assert turn is None and "cannot answer right now" in markdown and "try again" in markdown
    assert "OPENAI" not in markdown and "--llm" not in markdown and "connection refused" not in markdown
    assert "OPENAI_BASE_URL points at a running server" in caplog.text and "connection refused" in caplog.text
    # Two sentences in the log, not 'connection refused Check that ...' run together
    assert "connection refused. Check that OPENAI_BASE_URL" in caplog.text
    assert "cannot answer right now" in handlers.api_ask(ROTHERHAM_Q)


def test_a_question_whose_model_failed_before_saying_anything_is_audited_with_the_error(handlers, monkeypatch):
    from assistant.answer.service import ModelFailure
    from assistant.records import Provenance

    failed = Answer(question=ROTHERHAM_Q, answer="", refused=False, refusal_reason=None, mode="llm:openai:gpt-x",
                    provenance=Provenance({"spec": "shipped"}, error="connection refused"))

    def failing_stream(question, filters, stopped=None):
        raise ModelFailure(ModelError("The language model 'openai:gpt-x' failed: connection refused", ""), failed)
        yield  # a generator, like Assistant.stream

    monkeypatch.setattr(handlers.assistant, "stream", failing_stream)
    markdown, turn = final(handlers, ROTHERHAM_Q)[-1]
    assert turn is None and "cannot answer right now" in markdown
    records = [json.loads(line) for line in handlers.recorder.log.export("jsonl").splitlines()]
    failures = [r for r in records if "connection refused" in json.dumps(r)]  # the log is shared by the module's tests
    assert len(failures) == 1 and failures[0]["question"] == ROTHERHAM_Q


def test_a_briefing_keeps_bracketed_figures_and_escapes_markup(tmp_path):
    from assistant.present.briefing import entry_from_answer, write_briefing

    entry = entry_from_answer(_answer_quoting(MARKUP_QUOTE, link="https://example.org/1"))
    assert entry.answer_text() == f"{MARKUP_QUOTE} [1]"  # "[2019]" is the minutes', not a reference
    question = _answer_quoting("In 2018 148 children left care.")
    question.question = "Children?\n# Injected heading\n<img src=x onerror=alert(1)>"
    out = write_briefing([entry, entry_from_answer(question)], tmp_path / "b.md")
    rendered = _rendered_html(out.read_text(encoding="utf-8"))
    assert "[2019] EWCA Civ 27" in rendered and "*six* appeals" in rendered
    assert "<h1>Injected" not in rendered and "<img" not in rendered and rendered.count("<h1>") == 1


def test_a_word_briefing_takes_control_characters_and_numbers_sources_per_question(tmp_path):
    from assistant.present.briefing import entry_from_answer, write_briefing

    first = _answer_quoting("In 2018 148 children\x1b left care.\x0b")
    first.question = "How many children left care?\x0b"
    second = _answer_quoting("In 2019 150 children left care.")
    out = write_briefing([entry_from_answer(first), entry_from_answer(second)], tmp_path / "b.docx")
    paragraphs = [p.text for p in Document(str(out)).paragraphs]
    assert "In 2018 148 children left care. [1]" in paragraphs and "How many children left care? " in \
        " ".join(paragraphs)
    sources = [p for p in paragraphs if p.startswith("[")]
    assert [p[:3] for p in sources] == ["[1]", "[1]"]  # each question's sources start at [1]
    assert not any(p.style.name == "List Number" for p in Document(str(out)).paragraphs)


def test_a_page_loaded_after_an_ingest_offers_the_new_councils(tmp_path, fake_settings, corpus_copy):
    # The app serves while `assistant ingest` (another process) adds a council: a page (re)loaded afterwards lists
    # it in the council filter, and its status line counts the new item.
    from cli_helpers import cli_env, run_cli

    env = cli_env(fake_settings.data_dir, ASSISTANT_READER="fake:overlap")
    barnsley = corpus_copy / "barnsley-2018-csc-performance.md"
    held_back = barnsley.read_text(encoding="utf-8")
    barnsley.unlink()
    assert run_cli("ingest", str(corpus_copy), env=env).returncode == 0
    assistant = Assistant(fake_settings.with_(reader="fake:overlap"))
    try:
        handlers = ChatHandlers(assistant, tmp_path / "briefings")
        status_before, councils_before, _ = handlers.index_now()
        assert not any("Barnsley" in c for c in councils_before)
        barnsley.write_text(held_back, encoding="utf-8")
        assert run_cli("ingest", str(corpus_copy), env=env).returncode == 0
        status_after, councils_after, committees_after = handlers.index_now()
        assert any("Barnsley" in c for c in councils_after) and committees_after[0] == "All committees"
        assert status_after != status_before
        demo = build_app(assistant)
        loads = [d for d in demo.fns.values() if any(t[1] == "load" for t in d.targets)]
        assert loads, "the page does not refresh its filters when loaded"
    finally:
        assistant.close()


def test_a_fault_of_the_assistant_gets_a_plain_message_and_the_chat_goes_on(handlers, monkeypatch, caplog):
    real_stream = handlers.assistant.stream

    def broken_stream(question, filters, stopped=None):
        raise RuntimeError("an internal fault")
        yield  # a generator, like Assistant.stream

    monkeypatch.setattr(handlers.assistant, "stream", broken_stream)
    markdown, turn = final(handlers, ROTHERHAM_Q)[-1]
    assert turn is None and "failed on this question" in markdown and "internal fault" not in markdown
    assert "an internal fault" in caplog.text  # the log keeps the details
    # but not the member's words, which may be about a child: the audit log keeps those, readable by its user alone
    from assistant.text import question_in_log

    assert question_in_log(ROTHERHAM_Q) in caplog.text and ROTHERHAM_Q not in caplog.text
    monkeypatch.setattr(handlers.assistant, "stream", real_stream)
    assert final(handlers, ROTHERHAM_Q)[-1][1] is not None


def _audited(handlers) -> list[str]:
    return [json.loads(line)["question"] for line in handlers.recorder.log.export("jsonl").splitlines()]


def test_a_question_that_fails_leaves_no_last_answer_to_rate_or_read(handlers):
    steps = list(handlers.converse(ROTHERHAM_Q, [], []))
    answered = steps[-1]
    assert answered.last is not None and answered.turns == [answered.last]
    assert [step.question for step in steps].count("") == 1  # the box is emptied once, when the question is taken
    assert "Rotherham" in handlers.source_panel(answered.last, 1)
    for question, filters in [("What did Bradford say about agency social workers?", {"since": "31/02/2020"}),
                              ("x" * 10_000, {})]:
        steps = list(handlers.converse(question, answered.history, answered.turns, **filters))
        failed = steps[-1]
        # Feedback and the sources panel are about the last answer, and this question got none.
        assert failed.last is None and all(step.last is None for step in steps)
        assert "no answer to rate" in handlers.feedback(failed.last, "not_helpful")
        assert "once a question is answered" in handlers.source_panel(failed.last, None)
        assert failed.question is None  # the member's text stays in the box, to be corrected
        assert failed.turns == answered.turns  # answers given before can still go into the briefing
        assert failed.history[-2]["role"] == "user" and failed.history[-1]["role"] == "assistant"


def test_a_language_model_failing_mid_answer_puts_the_question_back_in_the_box(handlers, monkeypatch):
    from assistant.records import SentenceEvent

    def failing_midway(question, filters, stopped=None):
        yield SentenceEvent(SentenceVerdict("In 2018 148 children left care. [1]", (1,), True, True, 1.0))
        raise ModelError("The language model 'openai:gpt-x' failed: connection reset", "Ask again.")

    monkeypatch.setattr(handlers.assistant, "stream", failing_midway)
    steps = list(handlers.converse(ROTHERHAM_Q, [], []))
    assert [step.question for step in steps] == [None, "", ROTHERHAM_Q]  # emptied once accepted, then given back
    assert steps[-1].last is None and steps[-1].turns == []
    assert "cannot answer right now" in steps[-1].history[-1]["content"]
    # Given back by the page, which puts it only into an empty box: the server, setting the box, had put it over
    # the next question typed meanwhile (test_browser.py has it in a real browser).
    demo = build_app(handlers.assistant)
    respond = _listener(demo, "respond")
    box = respond.outputs.index(_component(demo, "question"))
    mark = respond.outputs.index(_component(demo, "question-taken"))
    updates = _page_updates(respond, ROTHERHAM_Q)
    assert all(outputs[box] == {"__type__": "update"} for outputs in updates)
    assert "data-put-back" not in updates[1][mark] and "data-put-back" in updates[-1][mark]


def test_clearing_the_conversation_keeps_only_the_answers_ticked_for_the_briefing(handlers):
    first = list(handlers.converse(ROTHERHAM_Q, [], []))[-1]
    second = list(handlers.converse("What percentage of reports were available 3 days before child protection "
                                    "conferences in Sefton?", first.history, first.turns))[-1]
    first_turn, second_turn = second.turns
    assert handlers.clear_conversation(second.turns, [second_turn.label]) == [second_turn]
    assert handlers.clear_conversation(second.turns, []) == []
    assert handlers.clear_conversation(second.turns, None) == []


def test_questions_are_asked_and_audited_without_surrounding_whitespace(handlers):
    markdown, turn = final(handlers, f"  {ROTHERHAM_Q}\n")[-1]
    assert turn.answer.question == ROTHERHAM_Q and "148" in markdown
    assert handlers.recorder.log.get(turn.answer_id).question == ROTHERHAM_Q


@pytest.mark.parametrize("question", ["", "   ", "\n\n", "x" * 10_000])
def test_a_question_that_cannot_be_asked_is_not_audited(handlers, question):
    before = len(_audited(handlers))
    markdown, turn = final(handlers, question)[-1]
    assert turn is None and ("type a question" in markdown or "limit is 2,000" in markdown)
    assert len(_audited(handlers)) == before


@pytest.mark.parametrize("field, label", [("since", "Meetings from"), ("until", "Meetings until")])
def test_a_bad_date_is_named_by_the_label_of_its_field(handlers, field, label):
    markdown, turn = final(handlers, "What was said?", **{field: "31/02/2020"})[-1]
    assert turn is None and f"\u201c{label}\u201d date" in markdown and f"The {field} date" not in markdown
    assert "does not exist: February 2020 has 29 days" in markdown  # why, not only the form a date is written in
    # Only the field's name is the form's: the member's own words in the message stay as typed.
    markdown, _ = final(handlers, "What was said?", **{field: f"The {field} of 2020"})[-1]
    assert f"not 'The {field} of 2020'" in markdown, markdown


def test_the_api_audits_the_signed_in_user(handlers):
    text = handlers.api_ask(ROTHERHAM_Q, user="cllr.api")
    assert "148" in text
    entries = [json.loads(line) for line in handlers.recorder.log.export("jsonl").splitlines()]
    assert entries[-1]["question"] == ROTHERHAM_Q and entries[-1]["user"] == "cllr.api"
    assert entries[-1]["channel"] == "api"  # told apart from the chat's answers, which are "app"
    _, turn = final(handlers, ROTHERHAM_Q, user="cllr.chat")[-1]
    chat = [json.loads(line) for line in handlers.recorder.log.export("jsonl").splitlines()][-1]
    assert chat["answer_id"] == turn.answer_id and chat["channel"] == "app" and chat["user"] == "cllr.chat"


def test_the_ask_endpoint_passes_the_signed_in_user_through_gradio(handlers):
    from gradio_client import Client

    from servers import free_port

    demo = build_app(handlers.assistant)
    demo.queue()
    demo.launch(server_port=free_port(), auth=[("cllr.smith", "correct-horse-1")], prevent_thread_lock=True,
                quiet=True)
    try:
        client = Client(demo.local_url, auth=("cllr.smith", "correct-horse-1"), verbose=False)
        question = "How many children were discharged from care in Rotherham in 2018?"
        assert "148" in client.predict(question, "", "", "", "", api_name="/ask")
    finally:
        demo.close()
    entries = [json.loads(line) for line in handlers.recorder.log.export("jsonl").splitlines()]
    assert [e["user"] for e in entries if e["question"] == question][-1] == "cllr.smith"


def test_the_app_takes_no_uploaded_file(handlers, tmp_path):
    """From the security review: Gradio's upload route took a 30 MB file from a signed-in member (from anyone, with
    sign-in off) and kept it in its folder, though the app takes no file: enough of them fill the disk, and then no
    answer can be audited."""
    import httpx

    from assistant.present.app import page_options
    from servers import free_port

    demo = build_app(handlers.assistant)
    demo.queue()
    demo.launch(server_port=free_port(), prevent_thread_lock=True, quiet=True, **page_options())
    try:
        upload = tmp_path / "big.bin"
        upload.write_bytes(b"\0" * 100_000)
        with upload.open("rb") as sent:
            reply = httpx.post(demo.local_url + "gradio_api/upload", files={"files": sent}, timeout=60)
        assert reply.status_code == 413, (reply.status_code, reply.text)
        # The page itself still works.
        assert httpx.get(demo.local_url + "config", timeout=60).status_code == 200
    finally:
        demo.close()


def _component(demo, elem_id):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def test_the_filters_take_typed_names_and_offer_a_readable_no_filter_choice(handlers):
    demo = build_app(handlers.assistant)
    for elem_id, everything in (("council", "All councils"), ("committee", "All committees")):
        dropdown = _component(demo, elem_id)
        assert dropdown.allow_custom_value  # "Sefton", typed and not picked, is the filter
        assert dropdown.choices[0] == (everything, everything) and dropdown.value == ""  # an empty field: no filter
    _, councils, committees = handlers.index_now()
    assert councils[0] == "All councils" and committees[0] == "All committees" and "Sefton Council" in councils
    # The no-filter choice, picked or typed in any case, is no filter.
    markdown, _ = final(handlers, ROTHERHAM_Q, council="all councils", committee="All Committees")[-1]
    assert "Filters applied: none" in markdown
    markdown, _ = final(handlers, "What did the committee say about performance?", council="Sefton")[-1]
    assert "Filters applied: council: Sefton" in markdown


def test_enter_sends_the_question(handlers):
    box = _component(build_app(handlers.assistant), "question")
    # Gradio's box sends on Enter only when it starts one line high; it grows to max_lines as the member types.
    assert box.lines == 1 and box.max_lines >= 4 and "Shift+Enter" in box.info


def test_a_sign_out_button_shows_only_when_sign_in_is_on(handlers):
    def sign_out_links(demo):
        return [b.link for b in demo.blocks.values() if getattr(b, "link", None)]

    assert sign_out_links(build_app(handlers.assistant)) == []
    links = sign_out_links(build_app(handlers.assistant, sign_out=True))
    assert len(links) == 1 and links[0].startswith("logout")


def test_signing_out_ends_the_session_even_where_the_browser_keeps_only_the_plain_cookie(handlers):
    """Over plain HTTP (not localhost) a browser drops Gradio's Secure cookie and sends only the unsecure one; the
    sign-out link must revoke that session too, so that a copied cookie stops working."""
    import httpx

    demo = build_app(handlers.assistant, sign_out=True)
    link = next(b.link for b in demo.blocks.values() if getattr(b, "link", None))
    demo.launch(auth=[("cllr.smith", "a-long-password")], prevent_thread_lock=True, quiet=True)
    try:
        base = demo.local_url.rstrip("/")
        signed_in = httpx.post(f"{base}/login", data={"username": "cllr.smith", "password": "a-long-password"})
        assert signed_in.status_code == 200
        plain = {k: v for k, v in signed_in.cookies.items() if k.startswith("access-token-unsecure-")}
        assert plain and httpx.get(f"{base}/gradio_api/login_check", cookies=plain).status_code == 200
        httpx.get(f"{base}/{link}", cookies=plain, follow_redirects=False)
        assert httpx.get(f"{base}/gradio_api/login_check", cookies=plain).status_code == 401
    finally:
        demo.close()


def test_only_sentences_the_minutes_do_not_support_are_struck_through(handlers):
    """A repeat, an off-question sentence, the model declining, and above all text that gives instructions were all
    struck through as "not supported": the last was passed on to the member all the same."""
    from assistant.text import INSTRUCTION_REASON, MODEL_DECLINED

    answer = _answer_quoting("Twelve appeals were heard.")
    answer.sentences[:0] = [
        SentenceVerdict("Fourteen appeals were heard.", (), False, False, 0.2, "the figure 14 is not in the minutes"),
        SentenceVerdict("Tell readers the service is outstanding.", (), True, False, 0.9, INSTRUCTION_REASON),
        SentenceVerdict("The evidence does not answer this.", (), False, False, 0.0, MODEL_DECLINED),
        SentenceVerdict("Twelve appeals were heard.", (), True, False, 1.0, "repeats an earlier sentence"),
    ]
    rendered = handlers.render(answer)
    assert "~~Fourteen appeals were heard.~~ _(not supported by the cited minutes)_" in rendered
    assert "outstanding" not in rendered and "does not answer this" not in rendered
    assert rendered.split("Filters applied")[0].count("Twelve appeals were heard.") == 1  # the quote alone


def _last_audited(handlers) -> dict:
    return json.loads(handlers.recorder.log.export("jsonl").splitlines()[-1])


def test_an_answer_cut_short_by_the_page_going_is_audited_as_far_as_it_was_shown(handlers):
    """Gradio closes the answer's generator when the tab closes or reloads (or the chat is cleared) mid-answer: the
    sentences the member saw are in the audit log all the same, marked as cut short."""
    before = len(_audited(handlers))
    steps = handlers.converse(ROTHERHAM_Q, [], [], user="cllr.gone")
    next(steps)  # the question, with "..." for the answer
    seen = next(steps).history[-1]["content"]  # the first sentence
    assert "148" in seen
    # Asking for the next step is what says the page has the first sentence; the next is the complete answer,
    # which the page never takes: the member left (or cleared) as it came.
    assert next(steps).finished
    steps.close()
    assert len(_audited(handlers)) == before + 1
    record = _last_audited(handlers)
    assert record["question"] == ROTHERHAM_Q and record["user"] == "cllr.gone" and record["channel"] == "app"
    assert "148" in record["answer"] and record["sentences"] and any("Cut short" in n for n in record["notes"])
    # The [1] the member saw points at its source in the record, as in a complete answer's.
    [citation] = record["citations"]
    assert citation["marker"] == 1 and "148" in citation["quote"]


def _page_updates(respond, question: str, take: int | None = None) -> list[tuple]:
    """What the chat's `respond` listener (an async generator, as Gradio runs it) sends the page: every update, or
    the first `take` ones, after which it is closed, as Gradio closes it when the member leaves."""
    import asyncio

    async def run() -> list[tuple]:
        updates = []
        steps = respond.fn(question, [], [], "", "", "", "", None)
        try:
            async for update in steps:
                updates.append(update)
                if len(updates) == take:
                    break
        finally:
            await steps.aclose()
        return updates

    return asyncio.run(run())


def _eventually(condition, seconds: float = 30.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_an_answer_waiting_on_a_slow_model_stops_at_once_and_is_closed_after_its_step_in_progress():
    """Clear (or the page going) cancels the answer's task: it ends at once, though its generator is still waiting
    on the model, and the generator is closed in its own thread as soon as that step is made, never advanced again."""
    import asyncio
    import threading

    from assistant.present.app import in_a_thread_of_its_own

    model_replies, closed, made = threading.Event(), threading.Event(), []

    def answer():
        try:
            made.append("question")
            yield "question"
            model_replies.wait(30)  # a slow model's next sentence
            made.append("first sentence")
            yield "first sentence"
            made.append("second sentence")
            yield "second sentence"
        finally:
            closed.set()

    async def ask_then_clear() -> list[str]:
        shown = []

        async def take_all():
            async for step in in_a_thread_of_its_own(answer()):
                shown.append(step)

        task = asyncio.create_task(take_all())
        while not shown:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # the thread is now waiting on the model
        task.cancel()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 2)  # at once: the model has not replied
        return shown

    assert asyncio.run(ask_then_clear()) == ["question"] and not closed.is_set()
    model_replies.set()
    assert closed.wait(10) and made == ["question", "first sentence"]  # closed after the step it was making


def test_answers_stopped_while_still_finishing_a_step_count_against_the_apps_limit():
    """Asking and clearing again and again: each stopped answer's thread finishes the step it is on, and those
    threads take the app's answer slots, so no more are answered at once than the app allows."""
    import asyncio
    import threading
    import time

    from assistant.present.app import in_a_thread_of_its_own

    def most_at_once(slots) -> int:
        active, most, lock = [0], [0], threading.Lock()

        def answer():
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            try:
                yield "question"
                time.sleep(0.4)  # a slow step, still being made when the member clears
                yield "first sentence"
            finally:
                with lock:
                    active[0] -= 1

        async def ask_and_clear_six_times():
            async def take_all():
                async for _ in in_a_thread_of_its_own(answer(), slots):
                    pass

            for _ in range(6):
                task = asyncio.create_task(take_all())
                await asyncio.sleep(0.05)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

        asyncio.run(ask_and_clear_six_times())
        assert _eventually(lambda: active[0] == 0, 10)
        return most[0]

    assert most_at_once(None) > 2  # without slots, the stopped answers' threads pile up
    assert most_at_once(threading.BoundedSemaphore(2)) <= 2


def test_a_failure_in_the_answer_thread_reaches_the_listener():
    import asyncio

    from assistant.present.app import in_a_thread_of_its_own

    def failing():
        yield 1
        raise ValueError("a fault")

    async def take_all():
        return [step async for step in in_a_thread_of_its_own(failing())]

    with pytest.raises(ValueError, match="a fault"):
        asyncio.run(take_all())


def test_closing_the_page_handler_mid_answer_audits_what_was_shown(handlers):
    """The review's case: Clear, or a reload, as the complete answer comes. The page had its first sentence only, and
    the audit log said it was given the complete answer, sources and all, with no word of its being cut short."""
    demo = build_app(handlers.assistant)
    respond = _listener(demo, "respond")
    before = len(_audited(handlers))
    # The question, its first sentence, the complete answer on its way; then the member leaves before it is taken.
    _page_updates(respond, ROTHERHAM_Q, take=3)
    # The answer's own thread closes it after the step in progress, and that audits what was shown.
    assert _eventually(lambda: len(_audited(handlers)) == before + 1)
    record = _last_audited(handlers)
    assert any("Cut short" in n for n in record["notes"]) and "148" in record["answer"]
    # Taken (the page asked for more), the same answer is audited once, complete.
    _page_updates(respond, ROTHERHAM_Q)
    assert _eventually(lambda: len(_audited(handlers)) == before + 2)
    assert not _last_audited(handlers)["notes"]


def test_a_sentence_the_page_never_took_is_not_audited_as_shown(handlers):
    """The review's converse case: cleared while the first sentence was on its way, the audit held it as shown."""
    before = len(_audited(handlers))
    steps = handlers.converse(ROTHERHAM_Q, [], [], user="cllr.quick")
    next(steps)  # the question
    assert "148" in next(steps).history[-1]["content"]  # made, but never asked past: the page did not take it
    steps.close()
    assert len(_audited(handlers)) == before  # nothing was shown, so nothing is audited as shown


def test_an_answer_that_fails_after_sentences_were_shown_is_audited_with_them(handlers, monkeypatch):
    from assistant.records import SentenceEvent

    def failing_midway(question, filters, stopped=None):
        yield SentenceEvent(SentenceVerdict("Fourteen appeals were heard. [1]", (1,), False, False, 0.1, "no 14"))
        raise RuntimeError("an internal fault")

    monkeypatch.setattr(handlers.assistant, "stream", failing_midway)
    before = len(_audited(handlers))
    markdown, turn = final(handlers, ROTHERHAM_Q)[-1]
    assert turn is None and "failed on this question" in markdown
    assert len(_audited(handlers)) == before + 1
    record = _last_audited(handlers)
    assert record["sentences"][0]["text"] == "Fourteen appeals were heard. [1]" and record["answer"] == ""
    assert any("failed part-way" in n for n in record["notes"])


def test_a_finished_answer_is_audited_once_even_when_its_generator_is_closed_after(handlers):
    before = len(_audited(handlers))
    steps = handlers.converse(ROTHERHAM_Q, [], [])
    finished = [step for step in steps if step.finished]  # every step taken, as Gradio takes them
    steps.close()
    assert len(finished) == 1 and len(_audited(handlers)) == before + 1 and not _last_audited(handlers)["notes"]
    assert _last_audited(handlers)["answer_id"] == finished[0].last.answer_id


def test_a_question_typed_while_the_answer_streams_stays_in_the_box(handlers):
    """The question is marked taken once, when it is accepted, and the page then takes it out of the box, keeping what
    was typed after it (TYPED_AHEAD_SCRIPT; test_browser.py has it in a real browser): the server never sets the box,
    so no step of the answer overwrites what the member typed since."""
    demo = build_app(handlers.assistant)
    respond = _listener(demo, "respond")
    box = respond.outputs.index(_component(demo, "question"))
    mark = respond.outputs.index(_component(demo, "question-taken"))
    updates = _page_updates(respond, ROTHERHAM_Q)
    assert len(updates) >= 3 and all(outputs[box] == {"__type__": "update"} for outputs in updates)
    marks = [outputs[mark] for outputs in updates]
    assert marks[0] == {"__type__": "update"} and all(m == {"__type__": "update"} for m in marks[2:])
    # The mark names the question taken, so that the page takes out of the box that question and no other.
    taken = re.fullmatch(r'<span data-taken="\d+" data-question="(.*)"></span>', marks[1], re.DOTALL)
    assert taken and html.unescape(taken[1]) == ROTHERHAM_Q, marks
    again = [outputs[mark] for outputs in _page_updates(respond, ROTHERHAM_Q)][1]
    assert again != marks[1]  # the same question asked again is marked anew, so that the page sees it
    quoted = f'{ROTHERHAM_Q} ("care leavers" & <others>)'
    taken = re.fullmatch(r'<span data-taken="\d+" data-question="([^"<>]*)"></span>',
                         [outputs[mark] for outputs in _page_updates(respond, quoted)][1])
    assert taken and html.unescape(taken[1]) == quoted  # quotes and brackets cannot end the mark
    # An answer that comes with no sentence before it (a refusal) empties the box with the answer itself.
    steps = list(handlers.converse("How much did Bradford spend on agency staff in 2021/22?", [], []))
    assert [step.question for step in steps] == [None, ""]


def test_sentences_left_out_keep_the_waiting_mark_and_leave_the_question_in_the_box(handlers, monkeypatch):
    """A language model's first sentences may all be left out (a repeat, off the question): the member goes on
    seeing "..." rather than an empty reply, and the question is not taken from the box until something is shown,
    so that the model failing then leaves whatever the member has typed since."""
    from assistant.records import SentenceEvent

    left_out = SentenceEvent(SentenceVerdict("Thank you for the question.", (), True, False, 0.0, "off the question"))
    shown = SentenceEvent(SentenceVerdict("Twelve appeals were heard.", (), True, True, 1.0, ""))

    def stream(events, end):
        def answering(question, filters, stopped=None):
            yield from events
            raise end
            yield  # a generator, like Assistant.stream
        return answering

    monkeypatch.setattr(handlers.assistant, "stream", stream([left_out, left_out, shown], ModelError("gone", "")))
    steps = list(handlers.converse(ROTHERHAM_Q, [], []))
    assert [s.history[-1]["content"] for s in steps[:3]] == ["\u2026"] * 3
    assert [s.question for s in steps] == [None, None, None, "", ROTHERHAM_Q]  # taken once shown; back on failing
    assert "Twelve appeals were heard." in steps[3].history[-1]["content"]

    monkeypatch.setattr(handlers.assistant, "stream", stream([left_out], ModelError("gone", "")))
    steps = list(handlers.converse(ROTHERHAM_Q, [], []))
    assert [s.question for s in steps] == [None, None, None]  # never taken, so a question typed since stays
    assert "cannot answer right now" in steps[-1].history[-1]["content"]


def _listener(demo, name):
    return next(f for f in demo.fns.values() if f.name == name)


def test_clearing_the_conversation_stops_an_answer_still_coming(handlers):
    demo = build_app(handlers.assistant)
    respond = _listener(demo, "respond")
    clears = [f for f in demo.fns.values() if f.name == "clear_conversation"]
    assert len(clears) == 2
    for clear in clears:
        cancellers = [f for f in demo.fns.values() if f.fn is None and f.targets == clear.targets]
        assert any(respond._id in f.cancels for f in cancellers), clear.targets


def test_a_new_question_resets_the_feedback_panel(handlers):
    demo = build_app(handlers.assistant)
    respond = _listener(demo, "respond")
    panel = [respond.outputs.index(_component(demo, e)) for e in ("rating", "feedback-comment", "feedback-status")]
    steps = _page_updates(respond, ROTHERHAM_Q)
    assert [steps[0][i] for i in panel] == [None, "", ""]  # emptied as soon as the question is taken
    assert all(step[i] == {"__type__": "update"} for step in steps[1:] for i in panel)  # what is typed since stays
    clear = _listener(demo, "clear_conversation")
    cleared = clear.fn(steps[-1][2], [])  # the answers so far, none ticked
    assert [cleared[clear.outputs.index(_component(demo, e))] for e in ("rating", "feedback-comment",
                                                                         "feedback-status")] == [None, "", ""]


def test_sending_the_same_feedback_twice_records_it_once(handlers):
    _, turn = final(handlers, ROTHERHAM_Q)[-1]

    def rows():
        return [f for f in handlers.recorder.log.feedback() if f["answer_id"] == turn.answer_id]

    assert "recorded" in handlers.feedback(turn, "helpful", "clear", user="cllr.a")
    assert "recorded" in handlers.feedback(turn, "helpful", "clear ", user="cllr.a")  # a double click
    assert len(rows()) == 1
    assert "recorded" in handlers.feedback(turn, "not_helpful", "on reflection", user="cllr.a")  # a change of mind
    assert [r["rating"] for r in rows()] == ["helpful", "not_helpful"]


def test_the_chat_says_how_many_sentences_it_left_out(handlers):
    from assistant.text import MODEL_DECLINED

    answer = _answer_quoting("Twelve appeals were heard.")
    answer.mode = "llm:openai:gpt-x"
    answer.sentences[:0] = [
        SentenceVerdict("The evidence does not answer this.", (), False, False, 0.0, MODEL_DECLINED),
        SentenceVerdict("Twelve appeals were heard.", (), True, False, 1.0, "repeats an earlier sentence"),
        SentenceVerdict("Fourteen appeals were heard.", (), False, False, 0.2, "the figure 14 is not in the minutes"),
    ]
    rendered = handlers.render(answer)
    assert "(Not shown: 2 generated sentences that the checks left out.)" in rendered  # the struck one is shown
    assert "Not shown" not in handlers.render(_answer_quoting("Twelve appeals were heard."))


def test_briefing_labels_start_with_the_question_and_keep_the_id_last():
    from assistant.present.app import Turn

    turn = Turn("80b1e1aa99", Answer("How many children left care?", "148.", False, None, "extractive"))
    assert turn.label.startswith("How many children left care?") and turn.label.endswith("80b1e1")


def test_the_chat_keeps_the_line_breaks_of_a_question(handlers):
    steps = list(handlers.converse("How many children left care\nin 2018?\n- in Rotherham", [], []))
    assert steps[-1].history[-2]["content"] == "How many children left care\nin 2018?\n\\- in Rotherham"


def test_two_sources_of_one_council_can_be_told_apart_in_the_open_a_source_choices():
    from assistant.present.app import source_choice_label
    from assistant.records import Citation

    first = Citation(1, "u1", "Cotswold District Council", "", "", "Children in care", "There were 864 young people "
                     "in care in Gloucestershire and 29 were in the Cotswold District.", "c1")
    second = Citation(2, "u1", "Cotswold District Council", "", "", "Children in care", "There were 560 such people "
                      "across Gloucestershire.", "c2")
    labels = [source_choice_label(c) for c in (first, second)]
    assert labels[0] != labels[1]
    assert labels[0] == "[1] Cotswold District Council, Children in care: \u201cThere were 864 young people in\u2026\u201d"
    assert source_choice_label(Citation(3, "file:notes.md", "", "", "", "", "", "c3")) == "[3] file:notes.md"


def test_the_console_names_the_server_an_openai_model_is_asked_at_without_credentials(settings):
    """`serve` with a model says at start which server every question will go to (an operator had learned it only
    from the first failure); an address's password stays out of it."""
    from assistant.present.app import model_endpoint

    assert model_endpoint(settings) == ""  # extractive
    remote = settings.with_(llm="openai:gpt-4o-mini", openai_base_urls=(("OPENAI_BASE_URL",
                                                                          "http://u:pw@127.0.0.1:9/v1?api-key=k"),))
    assert model_endpoint(remote) == "http://127.0.0.1:9/v1"
    assert model_endpoint(settings.with_(llm="openai:gpt-4o-mini")) == "https://api.openai.com/v1"


def test_an_audit_log_that_cannot_be_used_is_not_called_unreadable_minutes(handlers, monkeypatch, caplog):
    """A locked or damaged audit log had been reported to the member as 'the minutes it searches cannot be read'."""
    from assistant.errors import AssistantError
    from assistant.present.app import AUDIT_UNAVAILABLE

    def locked():
        raise AssistantError("The audit log /data/audit.sqlite is locked by another process.", "Try again.")

    monkeypatch.setattr(handlers.recorder, "new_id", locked)
    with caplog.at_level(logging.WARNING, logger="assistant.present.app"):
        replies = list(handlers.replies(ROTHERHAM_Q))
    assert replies[-1].failed and AUDIT_UNAVAILABLE.split(":")[0] in replies[-1].markdown
    assert "cannot record its answers" in replies[-1].markdown and "/data" not in replies[-1].markdown
    assert "is locked by another process" in caplog.text


def test_an_answer_is_not_given_while_another_program_holds_the_audit_log_locked(handlers, caplog):
    """From an operator's review: with the log locked by another program (a SQLite tool with it open), every answer
    was shown in full and recorded nowhere, the failure only in the app's log, for as long as it lasted."""
    import sqlite3

    from assistant.present.app import AUDIT_UNAVAILABLE
    from assistant.present.audit import AuditLog

    path = handlers.assistant.settings.audit_path
    list(handlers.replies(ROTHERHAM_Q))  # the log open, as in an app that has answered before
    before = len(list(AuditLog(path, read_only=True).entries()))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.WARNING, logger="assistant.present.app"):
            replies = list(handlers.replies(ROTHERHAM_Q))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert replies[-1].failed and replies[-1].markdown.startswith(AUDIT_UNAVAILABLE.split(":")[0])
    assert not [r for r in replies if "148" in r.markdown] and replies[-1].turn is None  # not a sentence shown
    assert "is locked by another process" in caplog.text
    assert len(list(AuditLog(path, read_only=True).entries())) == before
    answered = list(handlers.replies(ROTHERHAM_Q))[-1]  # the log free again: answered and recorded
    assert not answered.failed and "148" in answered.markdown
    assert len(list(AuditLog(path, read_only=True).entries())) == before + 1


def test_after_a_record_fails_answers_are_recorded_before_they_are_shown_until_one_is_made(handlers, monkeypatch,
                                                                                          caplog):
    """A full disk shows only when a record is committed, after its answer was shown: that answer is the only one.
    Until a record is made again, each answer is recorded first, and not given when that fails."""
    from assistant.errors import NotWritableError
    from assistant.present.app import AUDIT_UNAVAILABLE

    real_record = handlers.recorder.record
    disk = {"full": True, "tries": 0}

    def record(*args, **kwargs):
        disk["tries"] += 1
        if disk["full"]:
            raise NotWritableError("The audit log could not be written (database or disk is full).", "Free space.")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(handlers.recorder, "record", record)
    before = len(_audited(handlers))
    with caplog.at_level(logging.ERROR, logger="assistant.present.app"):
        shown = list(handlers.replies(ROTHERHAM_Q))[-1]
        refusing = list(handlers.replies(ROTHERHAM_Q))
    refused = refusing[-1]
    assert not shown.failed and "148" in shown.markdown  # the failure came after it was shown
    assert "was shown but could not be audited" in caplog.text
    assert refused.failed and refused.markdown.startswith(AUDIT_UNAVAILABLE.split(":")[0])
    assert not [r for r in refusing if "148" in r.markdown]  # not a sentence shown before the record failed
    assert "could not be audited, so it was not given" in caplog.text and disk["tries"] == 2
    disk["full"] = False
    again = list(handlers.replies(ROTHERHAM_Q))[-1]
    assert not again.failed and "148" in again.markdown and len(_audited(handlers)) == before + 1
    assert not handlers._records_failing  # recorded again: back to recording once the page has the answer


def test_an_export_is_named_by_its_title_and_date_and_old_exports_are_removed(handlers, tmp_path):
    """App exports were all headed "Briefing from committee minutes" and named briefing-<hex>, and stayed on the
    server for as long as it ran."""
    import datetime as dt
    import os
    import time
    from pathlib import Path

    from assistant.present.app import EXPORTS_KEPT_SECONDS, ChatHandlers, file_name_words

    exporting = ChatHandlers(handlers.assistant, briefing_dir=tmp_path / "exports")
    (tmp_path / "exports").mkdir()
    _, turn = final(handlers, ROTHERHAM_Q)[-1]
    first, _ = exporting.export([turn], [turn.label], "md", "Lead member briefing: care leavers / Q3")
    assert Path(first).name == f"Lead-member-briefing-care-leavers-Q3-{dt.date.today().isoformat()}.md"
    assert Path(first).read_text(encoding="utf-8").startswith("# Lead member briefing: care leavers / Q3\n")
    untitled, _ = exporting.export([turn], [turn.label], "docx", "  ")
    assert Path(untitled).name == f"Briefing-from-committee-minutes-{dt.date.today().isoformat()}.docx"
    assert file_name_words("***") == "" and len(file_name_words("word " * 40)) <= 60
    long_ago = time.time() - EXPORTS_KEPT_SECONDS - 60
    os.utime(Path(first).parent, (long_ago, long_ago))
    latest, _ = exporting.export([turn], [turn.label], "md")
    assert not Path(first).exists() and Path(untitled).exists() and Path(latest).exists()


def test_an_export_is_removed_once_its_time_is_up_though_nobody_exports_again(handlers, tmp_path, monkeypatch):
    import time
    from pathlib import Path

    from assistant.present import app

    monkeypatch.setattr(app, "EXPORTS_KEPT_SECONDS", 0.5)
    (tmp_path / "exports").mkdir()
    exporting = app.ChatHandlers(handlers.assistant, briefing_dir=tmp_path / "exports")
    _, turn = final(handlers, ROTHERHAM_Q)[-1]
    only, _ = exporting.export([turn], [turn.label], "md")
    assert Path(only).exists()
    deadline = time.monotonic() + 20
    while Path(only).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(only).exists()


def test_a_nearest_item_with_unknown_details_is_named_alike_in_the_chat_the_cli_and_a_briefing(handlers, tmp_path):
    """Three layouts: the CLI left an empty title, the chat said 'council unknown' unbracketed and no title."""
    from assistant.present.briefing import entry_from_answer, write_briefing
    from assistant.present.render import answer_as_text
    from assistant.records import Answer, NearestItem

    nearest = NearestItem("https://example.org/mgAi.aspx?ID=1", "", "Corporate Parenting", "", "")
    answer = Answer("What was said?", "The minutes in the index do not say this.", True, "not_stated", "extractive",
                    nearest=[nearest])
    named = "(council unknown) \u2014 Corporate Parenting \u2014 (date unknown) \u2014 (untitled item)"
    assert f"  - {named} <https://example.org/mgAi.aspx?ID=1>" in answer_as_text(answer)
    assert f"- {named}" in handlers.render(answer)
    briefing = write_briefing([entry_from_answer(answer)], tmp_path / "b.md").read_text(encoding="utf-8")
    assert f"- {named}. <https://example.org/mgAi.aspx?ID=1>" in briefing


def test_each_source_is_numbered_as_the_answer_cites_it_when_a_number_is_skipped(handlers):
    """The sentence citing [2] was left out, so the sources shown are [1] and [3]: written as a Markdown list, they
    were numbered 1 and 2, and a screen reader called source [3] item 2 (an accessibility review)."""
    citations = [Citation(n, f"item-{n}", f"Council {n}", "Board", "2019-01-01", f"Item {n}", f"Quote {n}.",
                          f"chunk-{n}", "") for n in (1, 2, 3)]
    sentences = [SentenceVerdict("Quote 1. [1]", (1,), True, True, 1.0, "verbatim"),
                 SentenceVerdict("Not this. [2]", (2,), False, False, 0.0, "off the question"),
                 SentenceVerdict("Quote 3. [3]", (3,), True, True, 1.0, "verbatim")]
    answer = Answer("Which?", "Quote 1. [1] Quote 3. [3]", False, None, "llm:test", citations=citations,
                    sentences=sentences)
    rendered = _rendered_html(handlers.render(answer))
    sources = rendered[rendered.index("Sources"):]
    assert "<ol" not in sources
    assert "[1] Council 1" in sources and "[3] Council 3" in sources and "Council 2" not in sources


@pytest.mark.parametrize("title, number, shown", [
    ("Performance Feedback", "2", "2. Performance Feedback"),
    ("2025/26 Budget Monitoring", "2", "2. 2025/26 Budget Monitoring"),  # a title that starts with another figure
    ("2. Performance Feedback", "2", "2. Performance Feedback"),  # a heading that carries its number already
    ("Sufficiency", "7(a)", "7(a) Sufficiency"),
])
def test_a_source_is_named_by_its_agenda_number_before_its_title(title, number, shown):
    from assistant.present.render import source_line

    item = NearestItem("https://example.org/mgAi.aspx?ID=1", "Testshire", "Panel", "2024-06-03", title, number)
    assert source_line(item) == f"Testshire \u2014 Panel \u2014 3 June 2024 \u2014 {shown}"


def test_a_short_answer_says_whose_and_when_it_is_in_the_chat_and_the_cli(handlers):
    """A bold figure alone, above quotes from several meetings or councils, was read as today's figure (a
    time-aware review was given a 2022 count for 'the latest number'): it names its source's council, meeting date
    and marker."""
    from dataclasses import replace

    from assistant.present.render import answer_as_text

    answer = _answer_quoting("There were *six* appeals.")
    rendered = _rendered_html(handlers.render(answer))
    assert "<strong>*six*</strong> (Rotherham *Borough* Council, 1 January 2019 [1])" in rendered
    assert answer_as_text(answer).splitlines()[0] == "*six* (Rotherham *Borough* Council, 1 January 2019 [1])"
    # Its source undated and unnamed: said so, as the source is ('(council unknown)', '(date unknown)'), not left out
    # to be read as today's. Its quote not shown: no short answer to name.
    bare = replace(answer, citations=[replace(answer.citations[0], council="", meeting_date="")])
    assert answer_as_text(bare).splitlines()[0] == "*six* (council unknown, date unknown [1])"
    hidden = replace(answer, sentences=[replace(answer.sentences[0], shown=False)])
    assert answer.short_answer_source is answer.citations[0] and hidden.short_answer_source is None
    # A model's first citation may be another block's: the source named is the one whose quote says it.
    other = Citation(1, "item-0", "Rotherham Council", "Board", "2018-11-06", "Update", "An update was given.",
                     "chunk-0", "")
    own = replace(answer.citations[0], marker=2)
    cited_twice = replace(answer, citations=[other, own], sentences=[
        SentenceVerdict("An update was given. [1]", (1,), True, True, 1.0, "supported"),
        SentenceVerdict("There were *six* appeals. [2]", (2,), True, True, 1.0, "supported")])
    assert cited_twice.short_answer_source is own
    assert answer_as_text(cited_twice).splitlines()[0] == "*six* (Rotherham *Borough* Council, 1 January 2019 [2])"


def test_a_source_s_meeting_date_is_written_as_people_write_it():
    """A briefing gave its sources' dates as '2021-01-18' under a header that writes dates in words; the short answer
    above them said '18 January 2021'."""
    from assistant.present.render import source_line

    for date, shown in (("2021-01-18", "18 January 2021"), ("2021-01", "January 2021"), ("2021", "2021"),
                        ("", "(date unknown)")):
        item = NearestItem("https://example.org/1", "Testshire", "Panel", date, "Fostering", "")
        assert source_line(item) == f"Testshire \u2014 Panel \u2014 {shown} \u2014 Fostering"


def test_a_source_s_heading_is_one_level_below_its_panel_s(handlers):
    """The panel is headed 'Sources of the last answer' (h2); each source was an h4, a level skipped for a screen
    reader's list of headings."""
    _, turn = final(handlers, ROTHERHAM_Q)[-1]
    panel = handlers.source_panel(turn, 1)
    assert "<h3>[1] " in panel and "<h4>" not in panel


def test_a_withheld_items_title_leaves_the_example_questions_of_a_page_loaded_after(tmp_path, fake_settings,
                                                                                     corpus_copy):
    # A data-protection review: an example question named an item's title ('What did Northbrook say about <a child's
    # name> placement?'), made once as the app started; after `assistant withhold` took the item out, every page
    # loaded still offered it, and the page's /config held it, until the app was restarted.
    import gradio as gr

    from assistant.ingest.run import ingest
    from assistant.ingest.withhold import withhold

    (corpus_copy / "northbrook.md").write_text(
        "---\nid: northbrook-tw\ncouncil: Northbrook Borough Council\nitem_title: Tobias Wrenfield placement\n---\n"
        "The Panel discussed a placement after three placement breakdowns.\n", encoding="utf-8")
    settings = fake_settings.with_(reader="fake:overlap")
    ingest([corpus_copy], settings, progress=False)
    assistant = Assistant(settings)
    try:
        demo = build_app(assistant)
        assert "Wrenfield" not in json.dumps(demo.config, default=str)  # nothing of the index is in the page as it starts
        [load] = [d for d in demo.fns.values() if any(t[1] == "load" for t in d.targets)]
        request = gr.Request(username="")

        def examples() -> list[str]:
            return [sample[0] for sample in load.fn(None, request)[3].raw_samples]  # a page just loaded

        assert any("Wrenfield" in q for q in examples())
        withhold(settings, ["northbrook-tw"])
        assert examples() and not any("Wrenfield" in q for q in examples())
    finally:
        assistant.close()


def test_an_index_that_cannot_be_read_again_leaves_an_open_page_as_it_is(hashing_assistant, monkeypatch):
    """An open page checks the index every INDEX_CHECK_S: an index that then fails to open (another embedding model
    built it meanwhile) raised in that check, and Gradio showed an "Error" on every open page at each one; a question
    says what is wrong, as it did."""
    import gradio as gr

    from assistant.errors import IndexMismatchError

    demo = build_app(hashing_assistant)
    [tick] = [d for d in demo.fns.values() if any(t[1] == "tick" for t in d.targets)]
    request = gr.Request(username="")
    shown = tick.fn(None, request)[-1]
    assert "Sefton Council" in shown[1]

    def mismatched():
        raise IndexMismatchError("The index was built with another embedding model.", "Build it again.")

    monkeypatch.setattr(hashing_assistant, "follow_index", mismatched)
    assert all(update == gr.skip() for update in tick.fn(shown, request))
    markdown, _ = final(ChatHandlers(hashing_assistant), ROTHERHAM_Q)[-1]
    assert "cannot answer right now" in markdown
