"""Briefings for officers: cited answers written to Markdown or Word (DOCX).

A briefing holds only what the member saw: the question, the answer's accepted sentences with
their numbered references, and the cited sources. No prompt text, no uncited evidence, no
sentence the guard did not accept.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError
from assistant.files import read_utf8, write_atomically
from assistant.present.render import markdown_literal, source_line
from assistant.records import Answer, Citation
from assistant.retrieve.filters import Filters


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


def briefing_format(out: Path) -> str:
    """The briefing's format from its file name (".md" or ".docx"), checked before any question is asked."""
    suffix = out.suffix.lower()
    if suffix not in (".md", ".docx"):
        raise AssistantError(f"Cannot write a briefing as {out.name}.", "Name the output file .md or .docx.")
    return suffix


def write_briefing(entries: list[BriefingEntry], out: Path, title: str = "Briefing from committee minutes",
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
    lines = [f"# {literal(title)}", "", f"Date: {today.isoformat()}", "",
             f"Filters: {literal(filters or _entry_filters(entries))}", ""]
    for number, entry in enumerate(entries, start=1):
        lines += [f"## {number}. {literal(entry.question)}", ""]
        if entry.filters != "none":
            lines += [f"_Filters: {literal(entry.filters)}_", ""]
        lines += [entry.answer_text(literal), ""]
        if entry.sources:
            lines += ["Sources:", ""]
            for c in entry.sources:
                lines.append(f"- [{c.marker}] {literal(source_line(c))}. {literal(c.link or c.source_url)}")
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
    document.add_paragraph(text(f"Filters: {filters or _entry_filters(entries)}"))
    for number, entry in enumerate(entries, start=1):
        document.add_heading(text(f"{number}. {entry.question}"), level=1)
        if entry.filters != "none":
            document.add_paragraph().add_run(text(f"Filters: {entry.filters}")).italic = True
        document.add_paragraph(entry.answer_text(text))
        if entry.sources:
            document.add_heading("Sources", level=2)
            for c in entry.sources:
                # A plain paragraph led by its [n]: Word's numbered lists would run on from one question to the next.
                paragraph = document.add_paragraph()
                paragraph.add_run(text(f"[{c.marker}] {source_line(c)}. "))
                paragraph.add_run(text(c.link or c.source_url)).italic = True
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


def _entry_filters(entries: list[BriefingEntry]) -> str:
    distinct = list(dict.fromkeys(e.filters for e in entries))
    return distinct[0] if len(distinct) == 1 else "as given for each question"


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
                question = row["question"]
                if not isinstance(question, str) or not question.strip():
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                raise AssistantError(f"{path}:{number} is not a JSON object with a \"question\".",
                                     "Fix that line, or give one plain question a line.") from None
            filters = {k: row[k] for k in ("council", "committee", "since", "until") if row.get(k)}
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
