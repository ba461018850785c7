"""The Gradio chat for members and the briefing export for officers.

`build_app()` returns the Blocks; `app.py` at the top level launches it. Every handler is a plain
method of `ChatHandlers`, so tests call them directly without a browser.
"""


import html
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from assistant.errors import AssistantError
from assistant.present.render import answer_as_text, markdown_literal, source_line, web_address
from assistant.records import Answer, Citation
from assistant.answer.service import Assistant
from assistant.present.audit import AnswerRecorder
from assistant.retrieve.filters import Filters
from assistant.text import place_name

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
log = logging.getLogger(__name__)

APP_CSS = """
.source-panel { max-height: 520px; overflow-y: auto; padding-right: 6px; }
#source-panel mark, #chat mark { background: #ffe066; padding: 0 2px; }
"""
RATING_CHOICES = [("Helpful", "helpful"), ("Not helpful", "not_helpful"), ("A source is wrong", "source_wrong")]


@dataclass
class Turn:
    """One answered question in a member's conversation (kept in the session's state)."""

    answer_id: str
    answer: Answer

    @property
    def label(self) -> str:
        question = self.answer.question
        return f"{self.answer_id[:6]} \u00b7 {question[:70]}{'…' if len(question) > 70 else ''}"


class ChatHandlers:
    """What the UI does, as plain functions over one Assistant."""

    def __init__(self, assistant: Assistant, briefing_dir: Path | None = None) -> None:
        self.assistant = assistant
        self.recorder = AnswerRecorder(assistant)
        self.briefing_dir = briefing_dir or Path(tempfile.mkdtemp(prefix="briefings-"))
        self._entries_read: tuple[object, dict] = (None, {})

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

    def index_now(self) -> tuple[str, list[str], list[str]]:
        """The status line and the filters' councils and committees, from the index as it now stands: what a page
        shows when it is (re)loaded, so that minutes ingested or fetched while the app serves can be chosen."""
        self.assistant.follow_index()
        return self.status_line(), [""] + self.councils(), [""] + self.committees()

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
    def stream_answer(self, question: str, council: str = "", committee: str = "", since: str = "",
                      until: str = "", user: str = "") -> Iterator[tuple[str, Turn | None]]:
        """Markdown of the answer so far, sentence by sentence; the last item carries the Turn."""
        shown: list[str] = []
        try:
            filters = Filters(council=council, committee=committee, since=since, until=until)
            for event in self.assistant.stream(question or "", filters):
                if isinstance(event, Answer):
                    answer_id = self.recorder.record(event, channel="app", user=user)
                    turn = Turn(answer_id, event)
                    yield self.render(event), turn
                    return
                verdict = event.verdict
                shown.append(markdown_literal(verdict.text) if verdict.shown else _unsupported(verdict.text))
                yield " ".join(shown), None
        except AssistantError as exc:  # a bad filter, or a language model that failed: say so in the chat
            yield markdown_literal(f"{exc.message} {exc.hint}".strip()), None
        except Exception:  # a fault of the assistant's own: the member gets a plain answer, the log the details
            log.exception("Answering %r failed", question)
            yield ("Sorry: the assistant failed on this question, and nothing was answered. The details are in the "
                   "app's log; please tell whoever runs it. Other questions can still be asked."), None

    def api_ask(self, question: str, council: str = "", committee: str = "", since: str = "",
                until: str = "") -> str:
        """Plain text: the answer, then its numbered sources (for scripts and gradio_client)."""
        final = ""
        turn = None
        for final, turn in self.stream_answer(question, council, committee, since, until):
            pass
        return answer_as_text(turn.answer) if turn else final

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
            sentences = [markdown_literal(s.text) if s.shown else _unsupported(s.text) for s in answer.sentences]
            parts = [f"**{markdown_literal(answer.short_answer)}**\n"] if answer.short_answer else []
            parts.append(" ".join(sentences))
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

    def _source_markdown(self, c: Citation) -> str:
        url = web_address(c.link)
        link = (f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{markdown_literal(url)}</a>' if url
                else markdown_literal(c.source_url))
        context = self.quote_in_context(c, width=160)
        return f"{c.marker}. {markdown_literal(source_line(c))} \u2014 {link}\n   > {context}"

    def quote_in_context(self, c: Citation, width: int = 160) -> str:
        """The quote highlighted within a short stretch of the minute text around it."""
        entry = self._chunk_text.get(c.chunk_id)
        text = entry.text if entry else c.quote
        words = " ".join(c.quote.split())
        plain = " ".join(text.split())
        at = plain.find(words)
        if at < 0:
            return f"<mark>{markdown_literal(words)}</mark>"
        start, end = max(0, at - width), min(len(plain), at + len(words) + width)
        before = ("\u2026" if start else "") + markdown_literal(plain[start:at])
        after = markdown_literal(plain[at + len(words):end]) + ("\u2026" if end < len(plain) else "")
        return f"{before}<mark>{markdown_literal(words)}</mark>{after}"

    def source_panel(self, turn: Turn | None, marker: int | None) -> str:
        """One source of an answer, opened in the app: breadcrumb, link and the item's indexed text."""
        if turn is None or marker is None:
            return "<p>Choose a source of the last answer to read it here.</p>"
        citation = next((c for c in turn.answer.citations if c.marker == marker), None)
        if citation is None:
            return "<p>That source is not part of the answer.</p>"
        chunks = sorted((e for e in self.assistant.lexical.entries
                         if e.metadata.get("source_id") == citation.source_url),
                        key=lambda e: e.metadata.get("position", 0))
        body = []
        for e in chunks:
            escaped = html.escape(" ".join(e.text.split()))
            quote = html.escape(" ".join(citation.quote.split()))
            if e.chunk_id == citation.chunk_id and quote in escaped:
                escaped = escaped.replace(quote, f"<mark>{quote}</mark>", 1)
            body.append(f"<p>{escaped}</p>")
        url = web_address(citation.link)
        link = (f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{html.escape(url)}</a>'
                if url else html.escape(citation.source_url))
        return (f'<div class="source-panel" style="max-height:520px;overflow-y:auto" '
                f'data-source="{html.escape(citation.source_url)}">'
                f"<h4>[{citation.marker}] {html.escape(source_line(citation))}</h4><p>{link}</p>{''.join(body)}</div>")

    # -- feedback and briefings ---------------------------------------------------------------
    def feedback(self, turn: Turn | None, rating: str, comment: str = "", user: str = "") -> str:
        if turn is None:
            return "Ask a question first; feedback is about an answer."
        if rating not in dict((v, k) for k, v in RATING_CHOICES):
            return "Choose helpful, not helpful or \u201ca source is wrong\u201d first."
        self.recorder.log.record_feedback(turn.answer_id, rating, comment or "", user=user)
        return "Thank you: your feedback is recorded with the answer."

    def export(self, turns: list[Turn], selected: list[str], fmt: str) -> tuple[str | None, str]:
        from assistant.present.briefing import entry_from_answer, write_briefing

        chosen = [t for t in turns if t.label in (selected or [])]
        if not chosen:
            return None, "Tick at least one answer to put in the briefing."
        suffix = ".docx" if fmt == "docx" else ".md"
        out = self.briefing_dir / f"briefing-{chosen[-1].answer_id[:8]}{suffix}"
        write_briefing([entry_from_answer(t.answer) for t in chosen], out)
        return str(out), f"Briefing with {len(chosen)} answers written."


def _unsupported(sentence: str) -> str:
    return f"~~{markdown_literal(sentence)}~~ _(not supported by the cited minutes)_"


def build_app(assistant: Assistant, briefing_dir: Path | None = None):
    """The Gradio Blocks of the chat; launch it with `launch_app` or `.launch()`."""
    import gradio as gr

    handlers = ChatHandlers(assistant, briefing_dir)
    with gr.Blocks(title="Council minutes assistant") as demo:
        gr.Markdown("## Council minutes assistant\nAsk about what committees said and decided. Every statement "
                    "is tied to the agenda item it came from; when the minutes do not say, the assistant says so.")
        status = gr.Markdown(handlers.status_line(), elem_id="status-line")
        turns = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Conversation", height=520, elem_id="chat", feedback_options=None)
                question = gr.Textbox(label="Your question", placeholder="e.g. How many children left care in 2018?",
                                      lines=2, max_lines=8, elem_id="question")
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("Clear conversation")
                gr.Examples(examples=[[q] for q in handlers.example_questions()], inputs=[question],
                            label="Example questions")
            with gr.Column(scale=2):
                gr.Markdown("### Filters")
                council = gr.Dropdown(choices=[""] + handlers.councils(), value="", label="Council",
                                      elem_id="council")
                committee = gr.Dropdown(choices=[""] + handlers.committees(), value="", label="Committee",
                                        elem_id="committee")
                with gr.Row():
                    since = gr.Textbox(label="Meetings from", placeholder="YYYY-MM-DD", elem_id="since")
                    until = gr.Textbox(label="Meetings until", placeholder="YYYY-MM-DD", elem_id="until")
                gr.Markdown("### Sources of the last answer")
                source_pick = gr.Dropdown(choices=[], label="Open a source", elem_id="source-pick")
                panel = gr.HTML(handlers.source_panel(None, None), elem_id="source-panel")
        with gr.Accordion("Feedback on the last answer", open=False):
            rating = gr.Radio(choices=RATING_CHOICES, label="Was it useful?", elem_id="rating")
            comment = gr.Textbox(label="Comment (optional)", lines=2)
            send_feedback = gr.Button("Send feedback", elem_id="send-feedback")
            feedback_status = gr.Markdown()
        with gr.Accordion("Briefing for officers", open=True):
            picked = gr.CheckboxGroup(choices=[], label="Answers to include", elem_id="briefing-pick")
            fmt = gr.Radio(choices=[("Word (.docx)", "docx"), ("Markdown (.md)", "md")], value="docx",
                           label="Format", elem_id="briefing-format")
            export = gr.Button("Export briefing", elem_id="export")
            briefing_file = gr.File(label="Briefing", elem_id="briefing-file")
            export_status = gr.Markdown()

        def respond(message, history, turns_so_far, council_v, committee_v, since_v, until_v,
                    request: gr.Request):
            user = getattr(request, "username", "") or ""
            # The member's words shown as typed, as the answer shows the minutes' words.
            history = list(history or []) + [{"role": "user", "content": markdown_literal(message or "")},
                                             {"role": "assistant", "content": "\u2026"}]
            turns_so_far = list(turns_so_far or [])
            yield history, "", turns_so_far, gr.update(), gr.update(), gr.update()
            for markdown, turn in handlers.stream_answer(message, council_v, committee_v, since_v, until_v, user):
                history[-1] = {"role": "assistant", "content": markdown}
                if turn is None:
                    yield history, "", turns_so_far, gr.update(), gr.update(), gr.update()
                    continue
                turns_so_far = turns_so_far + [turn]
                markers = [(f"[{c.marker}] {c.council or c.source_url}", c.marker) for c in handlers._cited(turn.answer)]
                first = markers[0][1] if markers else None
                yield (history, "", turns_so_far, gr.update(choices=markers, value=first),
                       handlers.source_panel(turn, first),
                       gr.update(choices=[t.label for t in turns_so_far if not t.answer.refused]))

        def open_source(turns_so_far, marker):
            return handlers.source_panel(turns_so_far[-1] if turns_so_far else None, marker)

        def give_feedback(turns_so_far, rating_v, comment_v, request: gr.Request):
            user = getattr(request, "username", "") or ""
            return handlers.feedback(turns_so_far[-1] if turns_so_far else None, rating_v, comment_v, user)

        def export_briefing(turns_so_far, selected, fmt_v):
            return handlers.export(turns_so_far or [], selected, fmt_v)

        outputs = [chat, question, turns, source_pick, panel, picked]
        inputs = [question, chat, turns, council, committee, since, until]
        ask.click(respond, inputs, outputs, api_visibility="private")
        question.submit(respond, inputs, outputs, api_visibility="private")
        clear.click(lambda: ([], [], gr.update(choices=[], value=None), handlers.source_panel(None, None),
                             gr.update(choices=[], value=[])),
                    None, [chat, turns, source_pick, panel, picked], api_visibility="private")
        source_pick.change(open_source, [turns, source_pick], panel, api_visibility="private")
        send_feedback.click(give_feedback, [turns, rating, comment], feedback_status, api_visibility="private")
        export.click(export_briefing, [turns, picked, fmt], [briefing_file, export_status], api_visibility="private")

        def ask_api(question: str, council: str = "", committee: str = "", since: str = "", until: str = "") -> str:
            """Answer a question from the minutes; returns the answer and its numbered sources as text."""
            return handlers.api_ask(question, council, committee, since, until)

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
    assistant = Assistant(settings)
    demo = build_app(assistant)
    auth = None
    if settings.auth_file:
        from assistant.present.auth import checker

        auth = checker(Path(settings.auth_file))
    else:
        log.warning("ASSISTANT_AUTH is not set: the app is open to anyone who can reach it.")
        print("Notice: ASSISTANT_AUTH is not set, so the app is open to anyone who can reach it.", flush=True)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=64)
    if hasattr(sys.stdout, "reconfigure"):  # Gradio prints "Running on ..." once: a log file should get it at once
        sys.stdout.reconfigure(line_buffering=True)
    # An empty GRADIO_SERVER_NAME would listen on every interface: it is taken as unset, for this machine only.
    server_name = os.environ.get("GRADIO_SERVER_NAME", "").strip() or "127.0.0.1"
    demo.launch(server_name=server_name, server_port=port, auth=auth,
                prevent_thread_lock=prevent_thread_lock, show_error=False, quiet=False, footer_links=["api"],
                css=APP_CSS)
    return demo  # still serving when prevent_thread_lock is set: `close()` stops it
