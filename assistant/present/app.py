"""The Gradio chat for members and the briefing export for officers.

`build_app()` returns the Blocks; `app.py` at the top level launches it. Every handler is a plain
method of `ChatHandlers`, so tests call them directly without a browser.
"""


import asyncio
import atexit
import html
import logging
import os
import shutil
import sys
import tempfile
import threading
from contextlib import aclosing, closing, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from assistant.errors import AssistantError, BadFilterError, ModelError
from assistant.present.render import answer_as_text, markdown_literal, not_shown_note, source_line, web_address
from assistant.records import Answer, Citation, Provenance, SentenceVerdict
from assistant.answer.service import Assistant, ModelFailure
from assistant.present.audit import AnswerRecorder
from assistant.retrieve.filters import Filters
from assistant.text import INSTRUCTION_REASON, MODEL_DECLINED, REPLY_CUT_OFF, addresses_in, counted, place_name

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
log = logging.getLogger(__name__)

APP_CSS = """
.source-panel { max-height: 520px; overflow-y: auto; padding-right: 6px; }
#source-panel mark, #chat mark { background: #ffe066; padding: 0 2px; }
"""
RATING_CHOICES = [("Helpful", "helpful"), ("Not helpful", "not_helpful"), ("A source is wrong", "source_wrong")]
# The filters' no-filter choice, in words a screen reader can read; it means what an empty field means.
ALL_COUNCILS, ALL_COMMITTEES = "All councils", "All committees"
# The filters' messages name the CLI's --since and --until; the app names its own fields instead.
APP_FIELD_NAMES = {"The since ": "The \u201cMeetings from\u201d ", "The until ": "The \u201cMeetings until\u201d "}
NO_SOURCES = "<p>The sources of an answer show here once a question is answered.</p>"
# The note an answer that stopped part-way is audited with: what the member saw, and why the rest never came.
CUT_SHORT_LEFT = ("Cut short: the answer stopped before it was complete (the page was closed or reloaded, or the "
                  "chat cleared); these are the sentences sent to the member's page until then, the last of them "
                  "perhaps after the member had left it.")
CUT_SHORT_FAILED = ("Cut short: answering failed part-way (the app's log says why); these are the sentences shown to "
                    "the member before it failed.")
# What a member reads when the language model cannot be reached; the operator's hint goes to the log.
MODEL_UNAVAILABLE = ("Sorry: the assistant cannot answer right now, because a model it relies on is not working. "
                     "Please try again in a few minutes; if it keeps happening, tell whoever runs the assistant.")


@dataclass
class Turn:
    """One answered question in a member's conversation (kept in the session's state)."""

    answer_id: str
    answer: Answer

    @property
    def label(self) -> str:
        question = self.answer.question
        # The question first, for a screen reader; the id last, to tell apart the same question asked twice.
        return f"{question[:70]}{'…' if len(question) > 70 else ''} \u00b7 {self.answer_id[:6]}"


@dataclass(frozen=True)
class Reply:
    """The chat's reply to a question so far; `turn` is set on the complete answer, `failed` when none will come."""

    markdown: str
    turn: Turn | None = None
    failed: bool = False
    plain: str = ""  # a failure's message as plain text, for the API (`markdown` escapes it for the chat)


@dataclass(frozen=True)
class ChatStep:
    """What the page holds after each step of a question, for `build_app` to show."""

    history: list[dict]
    turns: list[Turn]  # every answer of the conversation: the briefing offers them
    last: Turn | None  # the answer feedback and the sources panel are about; None while asking and after a failure
    question: str | None  # what the question box should hold; None leaves the member's text as it is
    finished: bool = False


class ChatHandlers:
    """What the UI does, as plain functions over one Assistant."""

    def __init__(self, assistant: Assistant, briefing_dir: Path | None = None) -> None:
        self.assistant = assistant
        self.recorder = AnswerRecorder(assistant)
        self._briefing_dir = briefing_dir
        self._entries_read: tuple[object, dict] = (None, {})
        self._feedback_sent: set[tuple[str, str, str, str]] = set()
        self._feedback_lock = threading.Lock()

    @property
    def _chunk_text(self) -> dict:
        """Each indexed chunk by id, from the keyword index the assistant reads now (an ingest while the app
        serves makes it read the index again)."""
        lexical = self.assistant.lexical
        if self._entries_read[0] is not lexical:
            self._entries_read = (lexical, {e.chunk_id: e for e in lexical.entries})
        return self._entries_read[1]

    # -- the index ----------------------------------------------------------------------------
    def councils(self) -> list[str]:
        return sorted({e.metadata.get("council", "") for e in self.assistant.lexical.entries} - {""})

    def committees(self) -> list[str]:
        return sorted({e.metadata.get("committee", "") for e in self.assistant.lexical.entries} - {""})

    def council_choices(self) -> list[str]:
        return [ALL_COUNCILS] + self.councils()

    def committee_choices(self) -> list[str]:
        return [ALL_COMMITTEES] + self.committees()

    def index_now(self) -> tuple[str, list[str], list[str]]:
        """The status line and the filters' choices of council and committee, from the index as it now stands: what
        a page shows when it is (re)loaded, so that minutes ingested or fetched while the app serves can be chosen."""
        self.assistant.follow_index()
        return self.status_line(), self.council_choices(), self.committee_choices()

    def status_line(self) -> str:
        stats = self.assistant.index.manifest.rows()
        items = sum(1 for r in stats.values() if r.status == "done")
        mode = self.assistant.mode
        described = "extractive (verbatim quotes from the minutes, no language model)" if mode == "extractive" \
            else f"language model {mode.removeprefix('llm:')}, every sentence checked against the minutes"
        return f"**Answering mode:** {described} \u00b7 **Index:** {items} items, {self.assistant.chunk_count} chunks"

    def example_questions(self, limit: int = 4) -> list[str]:
        """Questions about items that are really indexed, one per council where possible."""
        seen: set[str] = set()
        examples = []
        for entry in self.assistant.lexical.entries:
            meta = entry.metadata
            council, title = meta.get("council", ""), meta.get("item_title", "")
            if not council or not title or council in seen:
                continue
            seen.add(council)
            examples.append(f"What did {place_name(council)} say about {title[0].lower() + title[1:]}?")
            if len(examples) == limit:
                break
        return examples

    # -- asking ---------------------------------------------------------------------------------
    def replies(self, question: str, council: str = "", committee: str = "", since: str = "", until: str = "",
                user: str = "", field_names: dict[str, str] = APP_FIELD_NAMES, channel: str = "app") -> Iterator[Reply]:
        """The reply so far, sentence by sentence; the last one carries the Turn, or says that the question failed.

        `field_names` rewrites the date fields' names in a filter's message (the API's parameters keep theirs);
        `channel` is what the audit log records the answer as given through ("app" for the chat, "api")."""
        # An Enter or a paste leaves spaces and newlines around a question: they are not part of it, nor of its audit.
        question = (question or "").strip()
        shown: list[str] = []
        judged: list[SentenceVerdict] = []  # every sentence so far, shown or not: what a cut-short answer's audit keeps
        cited: dict[int, Citation] = {}  # and the sources its markers point to
        made_with = None  # and what it was made with (the reader; a model, its evidence and its reply so far)
        filters = None
        recorded = False
        try:
            filters = Filters(council=_unless_everything(council, ALL_COUNCILS),
                              committee=_unless_everything(committee, ALL_COMMITTEES), since=since, until=until)
            for event in self.assistant.stream(question, filters):
                if isinstance(event, Answer) and event.refusal_reason == "bad_question":
                    # Not a question at all (empty, or too long): like `ask` and `brief`, nothing is audited.
                    yield _failure(event.answer)
                    return
                if isinstance(event, Answer):
                    answer_id = self.recorder.record(event, channel=channel, user=user)
                    recorded = True
                    turn = Turn(answer_id, event)
                    yield Reply(self.render(event), turn)
                    return
                verdict = event.verdict
                judged.append(verdict)
                cited.update((c.marker, c) for c in event.citations)
                made_with = event.provenance or made_with
                if verdict.shown or _marked_unsupported(verdict):
                    shown.append(markdown_literal(verdict.text) if verdict.shown else _unsupported(verdict.text))
                yield Reply(" ".join(shown))
        except GeneratorExit:
            # The page was closed or reloaded, or the chat cleared, mid-answer: what the member saw is still audited.
            if shown and not recorded:
                self._record_cut_short(question, filters, judged, cited, made_with, CUT_SHORT_LEFT, channel, user)
            raise
        except ModelError as exc:  # the model's server is down or failing: the member can only try again later
            log.warning("Answering %r failed: %s %s", question, exc.message, exc.hint)
            if shown:
                self._record_cut_short(question, filters, judged, cited, made_with, CUT_SHORT_FAILED, channel, user)
            elif isinstance(exc, ModelFailure):  # nothing was shown, but the question and the error are audited
                try:
                    self.recorder.record_failure(exc, channel=channel, user=user)
                except Exception:  # the audit failing must not hide from the member that the model failed
                    log.exception("Recording the failed question %r failed", question)
            yield _failure(MODEL_UNAVAILABLE)
        except AssistantError as exc:  # a bad filter, or an index that cannot be read: say so in the chat
            message = _renamed(exc.message, field_names) if isinstance(exc, BadFilterError) else exc.message
            if shown:
                self._record_cut_short(question, filters, judged, cited, made_with, CUT_SHORT_FAILED, channel, user)
            yield _failure(f"{message} {exc.hint}".strip())
        except Exception:  # a fault of the assistant's own: the member gets a plain answer, the log the details
            log.exception("Answering %r failed", question)
            if shown:
                self._record_cut_short(question, filters, judged, cited, made_with, CUT_SHORT_FAILED, channel, user)
            yield _failure("Sorry: the assistant failed on this question, and nothing was answered. The details are in "
                           "the app's log; please tell whoever runs it. Other questions can still be asked.")

    def _record_cut_short(self, question: str, filters: Filters, judged: list[SentenceVerdict],
                          cited: dict[int, Citation], made_with: Provenance | None, why: str, channel: str,
                          user: str) -> None:
        """Audit the sentences of an answer that stopped part-way, as far as they went, with the sources their
        markers point to, what they were made with and a note saying why."""
        answer = Answer(question, " ".join(v.text for v in judged if v.shown), False, None, self.assistant.mode,
                        citations=[cited[m] for m in sorted(cited)], sentences=list(judged),
                        filters=filters.as_dict(), notes=[why], provenance=made_with)
        try:
            self.recorder.record(answer, channel=channel, user=user)
        except Exception:  # the audit failing must not hide the failure that cut the answer short
            log.exception("Recording the cut-short answer to %r failed", question)

    def stream_answer(self, question: str, council: str = "", committee: str = "", since: str = "",
                      until: str = "", user: str = "") -> Iterator[tuple[str, Turn | None]]:
        """Markdown of the answer so far, sentence by sentence; the last item carries the Turn."""
        for reply in self.replies(question, council, committee, since, until, user):
            yield reply.markdown, reply.turn

    def converse(self, message: str, history: list[dict] | None, turns: list[Turn] | None, council: str = "",
                 committee: str = "", since: str = "", until: str = "", user: str = "") -> Iterator[ChatStep]:
        """One question in the chat, step by step: the conversation, the answers so far and the last answer.

        A new question replaces the last answer at once, so feedback or a source opened meanwhile, or after the
        question failed, can never be taken for the answer before. The question box is emptied once the question
        is accepted (its first sentence or its answer), and only then: a question typed while the answer streams stays.
        A failed question is left there to be corrected. Closing this generator closes the answer's, which audits
        what was shown."""
        # The member's words shown as typed, as the answer shows the minutes' words, line breaks included.
        history = list(history or []) + [{"role": "user", "content": _typed_lines(message)},
                                         {"role": "assistant", "content": "\u2026"}]
        turns = list(turns or [])
        yield ChatStep(history, turns, None, None)
        accepted = False
        with closing(self.replies(message, council, committee, since, until, user)) as replies:
            for reply in replies:
                if reply.turn is None and not reply.failed and not reply.markdown:
                    # Only sentences the chat leaves out so far: the member still sees "...", and the question is
                    # not yet taken from the box. A step all the same, so that Clear can stop the answer here.
                    yield ChatStep(history, turns, None, None)
                    continue
                history = history[:-1] + [{"role": "assistant", "content": reply.markdown}]
                if reply.turn is not None:
                    turns = turns + [reply.turn]
                    yield ChatStep(history, turns, reply.turn, None if accepted else "", finished=True)
                    return
                if reply.failed:  # back in the box if it had been emptied (a language model failing mid-answer)
                    yield ChatStep(history, turns, None, message if accepted else None, finished=True)
                    return
                first = not accepted
                accepted = True
                yield ChatStep(history, turns, None, "" if first else None)

    def clear_conversation(self, turns: list[Turn] | None, ticked: list[str] | None) -> list[Turn]:
        """The answers kept when the chat is cleared: those ticked for the briefing, which the member chose to keep."""
        return [t for t in turns or [] if t.label in (ticked or [])]

    @staticmethod
    def briefing_choices(turns: list[Turn]) -> list[str]:
        return [t.label for t in turns if not t.answer.refused]

    def api_ask(self, question: str, council: str = "", committee: str = "", since: str = "",
                until: str = "", user: str = "") -> str:
        """Plain text: the answer, then its numbered sources (for scripts and gradio_client)."""
        final = Reply("")
        for final in self.replies(question, council, committee, since, until, user, field_names={}, channel="api"):
            pass
        return answer_as_text(final.turn.answer) if final.turn else final.plain or final.markdown

    def render(self, answer: Answer) -> str:
        """The answer as the chat shows it: marked sentences, applied filters, numbered sources."""
        if answer.refused:
            parts = [markdown_literal(answer.answer)]
            if answer.nearest:
                parts.append("\n**Nearest items in the minutes** (they do not state the answer):")
                for n in answer.nearest:
                    parts.append(f"- {markdown_literal(n.council or 'council unknown')} \u2014 "
                                 f"{markdown_literal(n.committee or 'committee unknown')} \u2014 "
                                 f"{markdown_literal(n.meeting_date or 'date unknown')} \u2014 "
                                 f"{markdown_literal(n.item_title)}")
        else:
            sentences = [markdown_literal(s.text) if s.shown else _unsupported(s.text) for s in answer.sentences
                         if s.shown or _marked_unsupported(s)]
            parts = [f"**{markdown_literal(answer.short_answer)}**\n"] if answer.short_answer else []
            parts.append(" ".join(sentences))
            left_out = sum(1 for s in answer.sentences if not s.shown and not _marked_unsupported(s))
            if left_out:  # the /ask text counts what it leaves out; the chat says so too, in the same words
                parts.append(f"\n_{not_shown_note(left_out, answer.mode)}_")
        parts.extend(f"\n_{markdown_literal(note)}_" for note in answer.notes)
        # Every answer says which filters it used, "none" included.
        parts.append("\n_Filters applied: " + markdown_literal(Filters(**answer.filters).describe()) + "_")
        cited = self._cited(answer)
        if cited:
            parts.append("\n**Sources**")
            for c in cited:
                parts.append(self._source_markdown(c))
        return "\n".join(parts)

    def _cited(self, answer: Answer) -> list[Citation]:
        shown = {m for s in answer.sentences if s.shown for m in s.markers}
        return [c for c in answer.citations if c.marker in shown]

    def source_choices(self, turn: Turn | None) -> list[tuple[str, int]]:
        """The "Open a source" choices: the sources the answer shows, by number."""
        if turn is None:
            return []
        return [(f"[{c.marker}] {c.council or c.source_url}", c.marker) for c in self._cited(turn.answer)]

    def _source_markdown(self, c: Citation) -> str:
        url = web_address(c.link)
        link = (f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{markdown_literal(url)}</a>' if url
                else markdown_literal(c.source_url))
        context = self.quote_in_context(c, width=160)
        return f"{c.marker}. {markdown_literal(source_line(c))} \u2014 {link}\n   > {context}"

    def quote_in_context(self, c: Citation, width: int = 160) -> str:
        """The quote highlighted within a short stretch of the minute text around it."""
        run = self._passage_of(c)
        text = run if run else c.quote
        words = " ".join(c.quote.split())
        plain = " ".join(text.split())
        at = plain.find(words)
        if at < 0:
            return f"<mark>{markdown_literal(words)}</mark>"
        start, end = max(0, at - width), min(len(plain), at + len(words) + width)
        before = ("\u2026" if start else "") + markdown_literal(plain[start:at])
        after = markdown_literal(plain[at + len(words):end]) + ("\u2026" if end < len(plain) else "")
        return f"{before}<mark>{markdown_literal(words)}</mark>{after}"

    def _passage_of(self, c: Citation) -> str:
        """The passage holding the cited chunk ('' when the index no longer has it)."""
        if c.chunk_id not in self._chunk_text:
            return ""
        runs = self.assistant.passages.joined_runs(c.source_url)
        return next((text for ids, text in runs if c.chunk_id in ids), "")

    def source_panel(self, turn: Turn | None, marker: int | None) -> str:
        """One source of an answer, opened in the app: breadcrumb, link and the item's indexed text."""
        if turn is None:
            return NO_SOURCES
        if marker is None:
            return ("<p>Choose a source of the last answer to read it here.</p>" if self._cited(turn.answer)
                    else "<p>The last answer cites no sources.</p>")
        citation = next((c for c in turn.answer.citations if c.marker == marker), None)
        if citation is None:
            return "<p>That source is not part of the answer.</p>"
        body = []
        quote = html.escape(" ".join(citation.quote.split()))
        for ids, text in self.assistant.passages.joined_runs(citation.source_url):
            escaped = html.escape(" ".join(text.split()))
            if citation.chunk_id in ids and quote in escaped:
                escaped = escaped.replace(quote, f"<mark>{quote}</mark>", 1)
            body.append(f"<p>{escaped}</p>")
        url = web_address(citation.link)
        link = (f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{html.escape(url)}</a>'
                if url else html.escape(citation.source_url))
        return (f'<div class="source-panel" style="max-height:520px;overflow-y:auto" '
                f'data-source="{html.escape(citation.source_url)}">'
                f"<h4>[{citation.marker}] {html.escape(source_line(citation))}</h4><p>{link}</p>{''.join(body)}</div>")

    # -- feedback and briefings ---------------------------------------------------------------
    @property
    def briefing_dir(self) -> Path:
        """Where exported briefings are written for the browser to download. Without a folder given, a private one
        is made at the first export and removed when the app stops: briefings hold minutes and members' questions,
        and each start of the app would otherwise leave one more folder behind."""
        if self._briefing_dir is None:
            self._briefing_dir = Path(tempfile.mkdtemp(prefix="briefings-"))
            atexit.register(shutil.rmtree, self._briefing_dir, ignore_errors=True)
        return self._briefing_dir

    def feedback(self, turn: Turn | None, rating: str, comment: str = "", user: str = "") -> str:
        if turn is None:
            return ("There is no answer to rate: feedback is about the last complete answer, and there is none (an "
                    "answer still coming, no question yet, the last one not answered, or the chat cleared). Rate an "
                    "answer once it is complete.")
        if rating not in dict((v, k) for k, v in RATING_CHOICES):
            return "Choose helpful, not helpful or \u201ca source is wrong\u201d first."
        # A second click on Send (or a double click) sends the same feedback again: it is recorded once.
        sent = (turn.answer_id, user, rating, (comment or "").strip())
        with self._feedback_lock:
            if sent not in self._feedback_sent:
                self.recorder.log.record_feedback(turn.answer_id, rating, comment or "", user=user)
                self._feedback_sent.add(sent)
        return "Thank you: your feedback is recorded with the answer."

    def export(self, turns: list[Turn], selected: list[str], fmt: str) -> tuple[str | None, str]:
        from assistant.present.briefing import entry_from_answer, write_briefing

        chosen = [t for t in turns if t.label in (selected or [])]
        if not chosen:
            return None, "Tick at least one answer to put in the briefing."
        suffix = ".docx" if fmt == "docx" else ".md"
        # A folder of its own for each export: two members exporting at once never write the same file.
        out = Path(tempfile.mkdtemp(dir=self.briefing_dir)) / f"briefing-{chosen[-1].answer_id[:8]}{suffix}"
        write_briefing([entry_from_answer(t.answer) for t in chosen], out)
        return str(out), f"Briefing with {counted(len(chosen), 'answer')} written."


async def in_a_thread_of_its_own(steps: Iterator, slots: threading.Semaphore | None = None):
    """The items of a blocking generator as an async generator, each made in a thread of its own when asked for.

    Gradio stops an answer (Clear, or the page going) by cancelling its task, and waits for the task to end. A
    plain generator's task ends only once its thread has made the next item, which a slow language model may take
    seconds to give, and until then the member's next question is dropped (the chat takes one at a time). Here the
    task ends at once; the thread stops after the item in progress and closes the generator there, which audits
    what was shown. Items are made one at a time, as they are asked for, as a plain generator's are. `slots`, when
    given, is taken by the thread for its whole life: a thread still finishing a stopped answer's step counts, so
    that stopping answers and asking again never has more answered at once than the app allows."""
    loop = asyncio.get_running_loop()
    made: asyncio.Queue = asyncio.Queue()
    wanted = threading.Semaphore(0)
    stop = threading.Event()
    finished = object()

    def hand_over(item, failure: BaseException | None = None) -> None:
        try:
            loop.call_soon_threadsafe(made.put_nowait, (item, failure))
        except RuntimeError:  # the event loop has closed (the app is shutting down): nobody is waiting
            pass

    def make() -> None:
        try:
            with slots or nullcontext(), closing(steps):
                while wanted.acquire() and not stop.is_set():
                    item = next(steps, finished)
                    hand_over(item)
                    if item is finished:
                        return
        except BaseException as exc:  # raised again where the items are taken
            hand_over(finished, exc)

    threading.Thread(target=make, name="chat-answer", daemon=True).start()
    try:
        while True:
            wanted.release()
            item, failure = await made.get()
            if failure is not None:
                raise failure
            if item is finished:
                return
            yield item
    finally:
        stop.set()
        wanted.release()  # wakes the thread if it waits to be asked, so that it closes the generator


def _typed_lines(message: str | None) -> str:
    """The member's question for the chat: each line as typed (Shift+Enter's line breaks kept), never as markup."""
    return "\n".join(markdown_literal(line.strip()) for line in (message or "").splitlines() if line.strip())


def _failure(message: str) -> Reply:
    return Reply(markdown_literal(message), failed=True, plain=message)


def _marked_unsupported(verdict: SentenceVerdict) -> bool:
    """A hidden sentence the chat shows struck through: one the guard found the cited minutes do not support. The
    rest are left out: a repeat, one off the question, text that gives instructions (struck through, it would still
    be passed on), the model declining, or a sentence a cut-off reply never finished."""
    if verdict.supported:
        return False  # hidden although supported: a repeat, off the question, or instructions
    if addresses_in(verdict.text):
        return False  # 'councillors should visit http://...', 'email ... to admin@...': a lure, even struck through
    return verdict.reason not in (MODEL_DECLINED, REPLY_CUT_OFF, INSTRUCTION_REASON)


def _unsupported(sentence: str) -> str:
    return f"~~{markdown_literal(sentence)}~~ _(not supported by the cited minutes)_"


def _unless_everything(value: str | None, everything: str) -> str:
    """A filter's value, or "" for its no-filter choice (whose label a member may also type, in any case)."""
    value = (value or "").strip()
    return "" if value.casefold() == everything.casefold() else value


def _renamed(message: str, field_names: dict[str, str]) -> str:
    for name, label in field_names.items():
        message = message.replace(name, label)
    return message


def build_app(assistant: Assistant, briefing_dir: Path | None = None, sign_out: bool = False):
    """The Gradio Blocks of the chat; launch it with `launch_app` or `.launch()`. `sign_out` shows a sign-out
    button, for an app launched with sign-in."""
    import gradio as gr

    handlers = ChatHandlers(assistant, briefing_dir)
    # Gradio's concurrency limit counts answers whose task is running; a stopped answer's thread may still be
    # finishing its step, so the threads take these slots too.
    answer_slots = threading.BoundedSemaphore(assistant.settings.concurrency)
    with gr.Blocks(title="Council minutes assistant") as demo:
        with gr.Row():
            # The chat looks like a conversation, but each question is searched and answered alone: say so, or a
            # follow-up ('What about 2019?') is answered from whatever its few words find.
            gr.Markdown("## Council minutes assistant\nAsk about what committees said and decided. Every statement "
                        "is tied to the agenda item it came from; when the minutes do not say, the assistant says so. "
                        "Each question is answered on its own, so name the council and the topic every time.")
            if sign_out:
                # Relative, so that it works under a proxy's path too. Every session of the member: Gradio's
                # this-browser-only sign-out revokes the token of the Secure cookie alone, which a browser does not
                # send over plain HTTP, so the session it meant to end stayed valid.
                gr.Button("Sign out", link="logout", size="sm", scale=0, min_width=100,
                          elem_id="sign-out")
        status = gr.Markdown(handlers.status_line(), elem_id="status-line")
        turns = gr.State([])
        last = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Conversation", height=520, elem_id="chat", feedback_options=None)
                # One line high, so that Gradio sends on Enter (and a new line takes Shift+Enter); it grows as typed.
                question = gr.Textbox(label="Your question", placeholder="e.g. How many children left care in 2018?",
                                      info="Enter sends the question; Shift+Enter starts a new line.",
                                      lines=1, max_lines=8, elem_id="question")
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("Clear conversation", elem_id="clear")
                gr.Examples(examples=[[q] for q in handlers.example_questions()], inputs=[question],
                            label="Example questions")
            with gr.Column(scale=2):
                gr.Markdown("### Filters")
                # A name typed and not picked counts (the search matches it loosely, and says when nothing matches),
                # and an emptied field is no filter. The fields start empty, not showing the no-filter choice, so
                # that a name typed into them is not appended to "All councils".
                council = gr.Dropdown(choices=handlers.council_choices(), value="", label="Council",
                                      info="Choose or type a council; leave it empty for all councils.",
                                      allow_custom_value=True, elem_id="council")
                committee = gr.Dropdown(choices=handlers.committee_choices(), value="", label="Committee",
                                        info="Choose or type a committee; leave it empty for all committees.",
                                        allow_custom_value=True, elem_id="committee")
                with gr.Row():
                    since = gr.Textbox(label="Meetings from", placeholder="YYYY-MM-DD", elem_id="since")
                    until = gr.Textbox(label="Meetings until", placeholder="YYYY-MM-DD", elem_id="until")
                gr.Markdown("### Sources of the last answer")
                source_pick = gr.Dropdown(choices=[], label="Open a source", elem_id="source-pick")
                panel = gr.HTML(handlers.source_panel(None, None), elem_id="source-panel")
        with gr.Accordion("Feedback on the last answer", open=False):
            rating = gr.Radio(choices=RATING_CHOICES, label="Was it useful?", elem_id="rating")
            comment = gr.Textbox(label="Comment (optional)", lines=2, elem_id="feedback-comment")
            send_feedback = gr.Button("Send feedback", elem_id="send-feedback")
            feedback_status = gr.Markdown(elem_id="feedback-status")
        with gr.Accordion("Briefing for officers", open=True):
            picked = gr.CheckboxGroup(choices=[], label="Answers to include", elem_id="briefing-pick")
            fmt = gr.Radio(choices=[("Word (.docx)", "docx"), ("Markdown (.md)", "md")], value="docx",
                           label="Format", elem_id="briefing-format")
            export = gr.Button("Export briefing", elem_id="export")
            briefing_file = gr.File(label="Briefing", elem_id="briefing-file")
            export_status = gr.Markdown()

        def page_after(n: int, step: ChatStep) -> tuple:
            box = gr.update() if step.question is None else step.question
            # The sources follow the last answer, which a new question or a failed one leaves empty.
            markers = handlers.source_choices(step.last)
            first = markers[0][1] if markers else None
            # The feedback panel is about the last answer: the question replaces it, so the panel starts afresh,
            # and a rating or comment left there is never sent about the new answer.
            fresh_feedback = (None, "", "") if n == 0 else (gr.update(),) * 3
            return (step.history, box, step.turns, step.last, gr.update(choices=markers, value=first),
                    handlers.source_panel(step.last, first),
                    gr.update(choices=handlers.briefing_choices(step.turns)) if step.finished else gr.update(),
                    *fresh_feedback)

        async def respond(message, history, turns_so_far, council_v, committee_v, since_v, until_v,
                          request: gr.Request):
            user = getattr(request, "username", "") or ""
            if not (message or "").strip():
                # Ask (or Enter) on an empty box, as a second click after an answer arrived: nothing to send, so
                # the chat, the last answer and its sources stay as they are.
                yield tuple(gr.update() for _ in outputs)
                return
            # Stopped at once when the page goes or the chat is cleared mid-answer; the steps are then closed in
            # their thread, which audits what was shown.
            steps = handlers.converse(message, history, turns_so_far, council_v, committee_v, since_v, until_v, user)
            async with aclosing(in_a_thread_of_its_own(steps, answer_slots)) as made:
                n = 0
                async for step in made:
                    yield page_after(n, step)
                    n += 1

        def clear_conversation(turns_so_far, ticked):
            kept = handlers.clear_conversation(turns_so_far, ticked)
            return ([], kept, None, gr.update(choices=[], value=None), handlers.source_panel(None, None),
                    gr.update(choices=handlers.briefing_choices(kept), value=[t.label for t in kept]), None, "", "")

        def open_source(last_turn, marker):
            return handlers.source_panel(last_turn, marker)

        def give_feedback(last_turn, rating_v, comment_v, request: gr.Request):
            user = getattr(request, "username", "") or ""
            return handlers.feedback(last_turn, rating_v, comment_v, user)

        def export_briefing(turns_so_far, selected, fmt_v):
            return handlers.export(turns_so_far or [], selected, fmt_v)

        outputs = [chat, question, turns, last, source_pick, panel, picked, rating, comment, feedback_status]
        inputs = [question, chat, turns, council, committee, since, until]
        # One listener for both ways of sending: two would each run an Enter followed at once by a click on Ask
        # (Gradio's "once" holds back a listener's own repeat only), answering and auditing the question twice.
        asking = gr.on([ask.click, question.submit], respond, inputs, outputs, api_visibility="private",
                       trigger_mode="once")
        # The chat's own Clear (its bin icon) and the button do the same: stop an answer still coming (or it would
        # put itself back), and forget the last answer, its sources and any feedback begun on it.
        cleared = [chat, turns, last, source_pick, panel, picked, rating, comment, feedback_status]
        clear.click(clear_conversation, [turns, picked], cleared, api_visibility="private", cancels=[asking])
        chat.clear(clear_conversation, [turns, picked], cleared, api_visibility="private", cancels=[asking])
        source_pick.change(open_source, [last, source_pick], panel, api_visibility="private")
        send_feedback.click(give_feedback, [last, rating, comment], feedback_status, api_visibility="private")
        export.click(export_briefing, [turns, picked, fmt], [briefing_file, export_status], api_visibility="private")

        def ask_api(question: str, council: str = "", committee: str = "", since: str = "", until: str = "",
                    request: gr.Request = None) -> str:
            """Answer a question from the minutes; returns the answer and its numbered sources as text."""
            # Audited under the signed-in user, as the chat's answers are (gradio_client signs in with `auth=`).
            return handlers.api_ask(question, council, committee, since, until,
                                    user=getattr(request, "username", "") or "")

        def index_now():
            status_line, councils, committees = handlers.index_now()
            return status_line, gr.update(choices=councils), gr.update(choices=committees)

        demo.load(index_now, None, [status, council, committee], api_visibility="private")

        gr.api(ask_api, api_name="ask")
    demo.handlers = handlers  # for tests and the launcher
    return demo


def launch_app(settings, corpus: Path | None, port: int | None = None, prevent_thread_lock: bool = False):
    """Bring the index in line with corpus/ (with progress on the console), then serve the chat."""
    from assistant.ingest.run import ensure_index

    summary = ensure_index(settings, corpus) if corpus is not None else None
    if corpus is None:  # serve the index as it is, once its keyword index is brought up to date
        from assistant.errors import IndexMissingError
        from assistant.ingest.run import Index, refresh_lexical

        if not settings.manifest_path.is_file():
            raise IndexMissingError(f"There is no index in {settings.data_dir} to serve.",
                                    "Fetch or ingest minutes first (`assistant fetch ...` or `assistant ingest PATH`).")
        index = Index(settings)
        try:
            refresh_lexical(index)
        finally:
            index.close()
    if summary is not None:  # what `assistant ingest` would print, failures included, before the app starts
        print(summary.report(), flush=True)
    elif corpus is not None:
        print(f"There is no {corpus} folder: serving the index in {settings.data_dir} as it is.", flush=True)
    auth = None
    if settings.auth_file:
        from assistant.present.auth import checker

        auth = checker(Path(settings.auth_file))
    else:
        log.warning("ASSISTANT_AUTH is not set: the app is open to anyone who can reach it.")
        print("Notice: ASSISTANT_AUTH is not set, so the app is open to anyone who can reach it.", flush=True)
    assistant = Assistant(settings)
    demo = build_app(assistant, sign_out=auth is not None)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=64)
    if hasattr(sys.stdout, "reconfigure"):  # Gradio prints "Running on ..." once: a log file should get it at once
        sys.stdout.reconfigure(line_buffering=True)
    # An empty GRADIO_SERVER_NAME would listen on every interface: it is taken as unset, for this machine only.
    server_name = os.environ.get("GRADIO_SERVER_NAME", "").strip() or "127.0.0.1"
    demo.launch(server_name=server_name, server_port=port, auth=auth,
                prevent_thread_lock=prevent_thread_lock, show_error=False, quiet=False, footer_links=["api"],
                css=APP_CSS)
    return demo  # still serving when prevent_thread_lock is set: `close()` stops it
