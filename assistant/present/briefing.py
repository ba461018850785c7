"""Briefings for officers: cited answers written to Markdown or Word (DOCX).

A briefing holds only what the member saw: the question, the answer's accepted sentences with
their numbered references, and the cited sources. No prompt text, no uncited evidence, no
sentence the guard did not accept.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from assistant.errors import AssistantError
from assistant.files import check_writable, read_utf8, write_atomically
from assistant.present.render import markdown_literal, source_line, web_address
from assistant.records import Answer, Citation
from assistant.retrieve.filters import Filters

if TYPE_CHECKING:
    from assistant.settings import Settings

DEFAULT_TITLE = "Briefing from committee minutes"
# The keys of a JSONL questions line. Any other is refused, so that a misspelt filter ("counsil") is not silently
# dropped from every answer; a note for the officer has no need of a key, as # lines are comments.
QUESTION_KEYS = ("question", "council", "committee", "since", "until")


@dataclass(frozen=True)
class BriefingEntry:
    question: str
    sentences: tuple[tuple[str, tuple[int, ...]], ...]  # only those the guard accepted, each with its markers
    sources: tuple[Citation, ...]  # only the cited ones, renumbered 1..n
    refused: bool
    filters: str
    refusal: str = ""  # what a refused answer said

    def answer_text(self, literal=lambda text: text) -> str:
        """The answer as the member saw it, each sentence followed by its [n]; `literal` makes the minutes' words
        safe for the briefing's format."""
        if self.refused:
            return literal(self.refusal)
        return " ".join(f"{literal(claim)} {''.join(f'[{m}]' for m in markers)}" for claim, markers in self.sentences)


def entry_from_answer(answer: Answer) -> BriefingEntry:
    """Keep shown sentences and the citations they use; renumber references from 1. Sentences are taken with their
    markers apart, so a bracketed figure in the minutes ("[2019] EWCA Civ 27") is never read as a reference."""
    shown = [s for s in answer.sentences if s.shown]
    order = list(dict.fromkeys(m for s in shown for m in s.markers))
    renumber = {old: new for new, old in enumerate(order, start=1)}
    by_marker = {c.marker: c for c in answer.citations}
    sources = tuple(Citation(**{**c.__dict__, "marker": renumber[c.marker]})
                    for old in order if (c := by_marker.get(old)))
    sentences = () if answer.refused else tuple((s.claim, tuple(renumber[m] for m in s.markers)) for s in shown)
    filters = "; ".join(f"{k}: {v}" for k, v in answer.filters.items()) or "none"
    return BriefingEntry(answer.question, sentences, sources, answer.refused, filters,
                         answer.answer.strip() if answer.refused else "")


@dataclass(frozen=True)
class BriefingRun:
    out: Path
    asked: int
    answered: int  # not refused


class BriefingInterrupted(KeyboardInterrupt):
    """Ctrl-C while the questions were being asked: nothing was written; `asked` of `total` questions were asked,
    and `recorded` answers went into the audit log (a question that could not be asked is not recorded). A
    KeyboardInterrupt still, for any caller that does not look for this one."""

    def __init__(self, recorded: int, asked: int, total: int) -> None:
        super().__init__(f"interrupted after {asked} of {total} questions")
        self.recorded, self.asked, self.total = recorded, asked, total


def make_briefing(questions_path: Path, out: Path, settings: "Settings", filters: Filters | None = None,
                  title: str = DEFAULT_TITLE, progress: bool | None = None) -> BriefingRun:
    """Ask every question of the file (each with its own filters over `filters`) and write the briefing to `out`.

    All that can be checked is checked before the first question is asked, since asking takes minutes and each
    answer goes into the audit log: the output's format and folder, every line of the file, every question's
    filters. A progress bar goes to standard error (by default only when it is a terminal, as for `ingest`).
    Ctrl-C writes nothing, rather than a briefing that looks whole but is not, and raises BriefingInterrupted."""
    from assistant.answer.service import Assistant
    from assistant.ingest.run import progress_bar
    from assistant.present.audit import AnswerRecorder

    common = filters or Filters()
    briefing_format(out)
    planned = []  # every question's filters, its own over the common ones
    for number, (question, own) in enumerate(read_question_file(questions_path), start=1):
        try:
            planned.append((question, Filters(**{**common.as_dict(), **own})))
        except AssistantError as exc:
            raise AssistantError(f"{questions_path}, question {number}, with the command line's filters: "
                                 f"{exc.message}", exc.hint) from None
    check_writable(out, "the briefing")
    entries: list[BriefingEntry] = []
    recorded = 0
    assistant = recorder = bar = None
    interrupted = _CtrlC()
    try:
        with interrupted:
            assistant = Assistant(settings)
            recorder = AnswerRecorder(assistant)
            bar = progress_bar(len(planned), progress, unit="question", desc="Asking")
            for question, question_filters in planned:
                if interrupted.pressed:
                    raise KeyboardInterrupt
                answer = assistant.ask(question, question_filters)
                if answer.refusal_reason != "bad_question":
                    recorder.record(answer, channel="brief")
                    recorded += 1
                entries.append(entry_from_answer(answer))
                if bar is not None:
                    bar.update()
            if interrupted.pressed:  # during the last question: the member asked to stop, so nothing is written
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise BriefingInterrupted(recorded, len(entries), len(planned)) from None
    finally:
        if bar is not None:
            bar.close()
        if recorder is not None:
            recorder.close()
        if assistant is not None:
            assistant.close()
    write_briefing(entries, out, title=title, filters=common.describe() if common.active else "")
    return BriefingRun(out, len(entries), sum(not e.refused for e in entries))


class _CtrlC:
    """Ctrl-C while a briefing is asked takes effect between questions: raised inside a question, it could land
    in the vector store's or the model's native code and leave the closing of the index hanging (seen under load).
    A second Ctrl-C stops at once. Off the main thread, where no signal can be caught, it does nothing."""

    def __init__(self) -> None:
        self.pressed = False
        self._previous = None

    def __enter__(self) -> "_CtrlC":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._press)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _press(self, signum, frame) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True


def briefing_format(out: Path) -> str:
    """The briefing's format from its file name (".md" or ".docx"), checked before any question is asked."""
    suffix = out.suffix.lower()
    if suffix not in (".md", ".docx"):
        raise AssistantError(f"Cannot write a briefing as {out.name}.", "Name the output file .md or .docx.")
    return suffix


def write_briefing(entries: list[BriefingEntry], out: Path, title: str = DEFAULT_TITLE,
                   filters: str = "", today: dt.date | None = None) -> Path:
    today = today or dt.date.today()
    suffix = briefing_format(out)
    if not entries:
        raise AssistantError("There is nothing to put in the briefing.", "Select at least one answer.")
    if suffix == ".md":
        return write_atomically(out, _markdown(entries, title, filters, today))
    document = io.BytesIO()
    _docx(entries, title, filters, today).save(document)
    return write_atomically(out, document.getvalue())


def _markdown(entries: list[BriefingEntry], title: str, filters: str, today: dt.date) -> str:
    literal = markdown_literal  # the minutes' and the members' words, never read as Markdown
    heading, each_own = _filters_heading(entries, filters)
    lines = [f"# {literal(title)}", "", f"Date: {today.isoformat()}", "", f"Filters: {literal(heading)}", ""]
    for number, entry in enumerate(entries, start=1):
        lines += [f"## {number}. {literal(entry.question)}", ""]
        if each_own:
            lines += [f"_Filters: {literal(entry.filters)}_", ""]
        lines += [entry.answer_text(literal), ""]
        if entry.sources:
            lines += ["Sources:", ""]
            for c in entry.sources:
                lines.append(f"- [{c.marker}] {literal(source_line(c))}. {_markdown_address(c.link or c.source_url)}")
                lines.append(f"  > {literal(c.quote)}")
            lines.append("")
    return "\n".join(lines)


def _docx(entries: list[BriefingEntry], title: str, filters: str, today: dt.date):
    from docx import Document

    text = xml_text  # Word's XML takes no control characters, which minutes read from PDFs may hold
    document = Document()
    document.core_properties.title = text(title)
    document.add_heading(text(title), level=0)
    document.add_paragraph(f"Date: {today.isoformat()}")
    heading, each_own = _filters_heading(entries, filters)
    document.add_paragraph(text(f"Filters: {heading}"))
    for number, entry in enumerate(entries, start=1):
        document.add_heading(text(f"{number}. {entry.question}"), level=1)
        if each_own:
            document.add_paragraph().add_run(text(f"Filters: {entry.filters}")).italic = True
        document.add_paragraph(entry.answer_text(text))
        if entry.sources:
            document.add_heading("Sources", level=2)
            for c in entry.sources:
                # A plain paragraph led by its [n]: Word's numbered lists would run on from one question to the next.
                paragraph = document.add_paragraph()
                paragraph.add_run(text(f"[{c.marker}] {source_line(c)}. "))
                address = text(c.link or c.source_url)
                if _is_web_address(address):
                    _add_hyperlink(paragraph, address)
                else:  # a file: path or an id, which Word could not open
                    paragraph.add_run(address).italic = True
                quote = document.add_paragraph(style="Quote")
                quote.add_run(text(" ".join(c.quote.split())))
    return document


def xml_text(text: str) -> str:
    """The text without the characters XML 1.0 cannot hold (C0 controls other than tab and line ends, lone
    surrogates, U+FFFE and U+FFFF); a vertical tab, as Word itself writes a line break, becomes a space."""
    kept = []
    for ch in text:
        code = ord(ch)
        if ch in "\t\n\r" or (0x20 <= code < 0xD800) or (0xE000 <= code <= 0xFFFD) or code >= 0x10000:
            kept.append(ch)
        elif ch in "\x0b\x0c":
            kept.append(" ")
    return "".join(kept)


def _filters_heading(entries: list[BriefingEntry], filters: str) -> tuple[str, bool]:
    """The header's filters, and whether each question shows its own. A question line's filters are merged with the
    command's, a line's value replacing the command's of the same name: when every question was asked with the same
    filters the header names them, else it says so and each question shows those it was asked with."""
    distinct = list(dict.fromkeys(e.filters for e in entries))
    if len(distinct) <= 1:
        return (distinct[0] if distinct else filters or "none"), False
    if filters:
        return f"{filters} for every question, with a question line's own merged in (shown under each question)", True
    return "as given under each question", True


def _is_web_address(text: str) -> bool:
    """An http(s) address with a host (render.web_address, as the app links), and no space to break it."""
    return bool(web_address(text)) and not any(ch.isspace() for ch in text)


def _markdown_address(address: str) -> str:
    """A source's address as it must be copied: a web address as an autolink, `<...>`, in which Markdown takes no
    backslash escapes (an escaped "\\&" in a URL would be copied with its backslash); anything else as text."""
    if not _is_web_address(address) or any(ch in "<>" or ord(ch) < 0x20 for ch in address):
        return markdown_literal(address)
    return f"<{address}>"


def _add_hyperlink(paragraph, url: str) -> None:
    """A clickable link to `url` at the end of the paragraph, shown as the address itself. python-docx has no call
    for one: the link is an external relationship of the document part, which a w:hyperlink element names."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True))
    run = OxmlElement("w:r")
    look = OxmlElement("w:rPr")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "0563C1")  # Word's own hyperlink blue and underline: the default template has no style
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    look.extend([colour, underline])
    words = OxmlElement("w:t")
    words.text = url
    run.extend([look, words])
    link.append(run)
    paragraph._p.append(link)


def read_question_file(path: Path) -> list[tuple[str, dict]]:
    """Questions for `assistant brief`: one a line (# comments, blank lines ignored) or JSONL."""
    if not path.is_file():
        raise AssistantError(f"No questions file at {path}.", "Check the path given to --questions.")
    questions: list[tuple[str, dict]] = []
    for number, line in enumerate(read_utf8(path, "the questions file").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if path.suffix.lower() == ".jsonl" or stripped.startswith("{"):
            try:
                row = json.loads(stripped)
            except ValueError:
                row = None
            if isinstance(row, dict) and (unknown := [key for key in row if key not in QUESTION_KEYS]):
                raise AssistantError(f"{path}:{number} has the unknown key{'s' if len(unknown) > 1 else ''} "
                                     f"{', '.join(map(repr, unknown))}.",
                                     f"The keys of a line are {', '.join(QUESTION_KEYS)}; correct the spelling, "
                                     "or put a note on a # line of its own.")
            question = row.get("question") if isinstance(row, dict) else None
            if not isinstance(question, str) or not question.strip():
                raise AssistantError(f"{path}:{number} is not a JSON object with a \"question\".",
                                     "Fix that line, or give one plain question a line.")
            filters = {k: row[k] for k in QUESTION_KEYS if k != "question" and row.get(k)}
            try:
                Filters(**filters)
            except AssistantError as exc:
                raise AssistantError(f"{path}:{number}: {exc.message}", exc.hint) from None
            questions.append((question, filters))
        else:
            questions.append((stripped, {}))
    if not questions:
        raise AssistantError(f"{path} holds no questions.", "Write one question a line.")
    return questions
