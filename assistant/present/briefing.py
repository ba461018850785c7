"""Briefings for officers: cited answers written to Markdown or Word (DOCX).

A briefing holds only what the member saw: the question, its short answer with its source, the answer's accepted
sentences with their numbered references, its caveats, how it was written (by a language model or quoted), how many
sentences the checks left out, the cited sources, and for a refusal the nearest items searched; and each
answer's id in the audit log. No prompt text, no uncited evidence, no sentence the guard did not accept.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shlex
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING, Iterator
from urllib.parse import quote

from assistant.errors import AssistantError
from assistant.files import check_writable, refuse_link, write_atomically
from assistant.present.eval_questions import json_lines, parse_line, questions_text
from assistant.present.render import (BIDI_CONTROLS, NO_WEB_ADDRESS, markdown_literal, not_shown_note,
                                      short_answer_said, source_line, visible_text, web_address)
from assistant.records import Answer, Citation, NearestItem
from assistant.retrieve.filters import Filters
from assistant.text import (MONTH_NAMES, WELSH, council_key, counted, language_runs, printed_path, readable_date,
                            without_bullet)

if TYPE_CHECKING:
    from assistant.settings import Settings

DEFAULT_TITLE = "Briefing from committee minutes"
# The keys of a JSONL questions line. Any other is refused, so that a misspelt filter ("counsil") is not silently
# dropped from every answer; a note for the officer has no need of a key, as # lines are comments.
QUESTION_KEYS = ("question", "council", "committee", "since", "until")
# Word keeps a document's title (its metadata, not the heading) to 255 characters and refuses a longer one.
METADATA_TITLE_CHARS = 255
# A question whose language model failed (a 503, a timeout) is marked as not answered and the next one is asked;
# this many failures in a row mean the model is not answering at all, and waiting on every other question is futile.
FAILURES_IN_A_ROW = 3
# Who the Word document's properties say wrote it: the product, as the README names it (python-docx's template
# says "python-docx", in 2013).
DOCUMENT_AUTHOR = "Minutes assistant"
# How much of an audit answer id a briefing shows: as `assistant audit --show` takes the start of an id.
SHOWN_ID_CHARS = 8
# Said under the header when some question was refused: a refusal is the assistant's words, not the minutes'.
REFUSALS_HEADING = ("Questions the minutes do not answer: said so in the assistant's own words (not quoted from the "
                    "minutes), with the nearest items that were searched. \u201cDo not say this\u201d: minutes on the "
                    "subject were found, but none states what was asked; \u201cdo not cover this question\u201d: none "
                    "on the subject was found")
NEAREST_LABEL = "Nearest items searched:"
# The language Word checks a briefing's spelling in: the minutes are British English.
BRIEFING_LANGUAGE = "en-GB"
# The language Word gives a Welsh sentence of the minutes: its screen readers read it as Welsh, its spelling is checked
# as Welsh (WCAG 3.1.2, Language of Parts).
WELSH_WORD_LANGUAGE = "cy-GB"
# The colour of a briefing's second-level headings ("Sources"): python-docx's template gives them #4F81BD, 4.0:1 on
# white, under the 4.5:1 WCAG AA asks of text their size (13 pt bold is not large text); this, Heading 1's, is 6.6:1.
HEADING_2_COLOUR = "365F91"
STOPPING_NOTE = "Stopping after the current question (press Ctrl-C again to stop at once)."


@dataclass(frozen=True)
class BriefingEntry:
    question: str
    sentences: tuple[tuple[str, tuple[int, ...]], ...]  # only those the guard accepted, each with its markers
    sources: tuple[Citation, ...]  # only the cited ones, renumbered 1..n
    refused: bool
    filters: str
    refusal: str = ""  # what a refused answer said
    notes: tuple[str, ...] = ()  # the answer's caveats, as `ask` and the app show them
    written: str = ""  # how the answer was written: by a language model, or quoted; "" for a refusal
    failure: str = ""  # why a question was not answered: its language model failed
    nearest: tuple[NearestItem, ...] = ()  # a refusal's nearest items, as `ask` and the app list them
    not_shown: str = ""  # render.not_shown_note's words, when the checks left sentences out
    answer_id: str = ""  # the answer's id in the audit log ("" when it was not recorded)
    by_item: bool = False  # quoted word for word: a paragraph for each item quoted, as `ask` prints the answer
    short_answer: str = ""  # the figure, name or date the answer leads with in `ask` and the app ("" when none)
    short_answer_source: Citation | None = None  # of `sources`, the one it is said in, numbered as the briefing's

    @property
    def short_id(self) -> str:
        return self.answer_id[:SHOWN_ID_CHARS]

    def answer_text(self, literal=lambda text: text) -> str:
        """The answer as the member saw it, each sentence followed by its [n]; `literal` makes the minutes' words
        safe for the briefing's format."""
        return "\n\n".join(self.answer_paragraphs(literal))

    def answer_paragraphs(self, literal=lambda text: text) -> list[str]:
        """answer_text's paragraphs: a quoted answer starts a new one where the item quoted changes, as `ask` prints
        it, so that two items' words, two councils' perhaps, do not read as one statement."""
        if self.failure:
            return [literal(f"Not answered: {self.failure}")]
        if self.refused:
            return [literal(self.refusal)]
        item_of = {c.marker: c.source_url for c in self.sources}
        paragraphs: list[list[str]] = []
        previous = None
        for claim, markers in self.sentences:
            item = item_of.get(markers[0]) if markers else None
            if not paragraphs or (self.by_item and item is not None and previous not in (None, item)):
                paragraphs.append([])
            paragraphs[-1].append(f"{literal(claim)} {''.join(f'[{m}]' for m in markers)}")
            previous = item or previous
        return [" ".join(paragraph) for paragraph in paragraphs] or [""]


def entry_from_answer(answer: Answer, answer_id: str = "") -> BriefingEntry:
    """Keep shown sentences and the citations they use; renumber references from 1. Sentences are taken with their
    markers apart, so a bracketed figure in the minutes ("[2019] EWCA Civ 27") is never read as a reference.
    `answer_id` is the answer's id in the audit log."""
    from assistant.answer.service import EXTRACTIVE

    shown = [s for s in answer.sentences if s.shown]
    order = list(dict.fromkeys(m for s in shown for m in s.markers))
    renumber = {old: new for new, old in enumerate(order, start=1)}
    by_marker = {c.marker: c for c in answer.citations}
    sources = tuple(Citation(**{**c.__dict__, "marker": renumber[c.marker]})
                    for old in order if (c := by_marker.get(old)))
    sentences = () if answer.refused else tuple((s.claim, tuple(renumber[m] for m in s.markers)) for s in shown)
    # Counted as `ask` counts them (render.answer_as_text): a briefing shows no sentence the checks left out.
    left_out = sum(not s.shown for s in answer.sentences)
    said_in = answer.short_answer_source
    short_source = next((c for c in sources if said_in is not None and c.marker == renumber.get(said_in.marker)), None)
    return BriefingEntry(answer.question, sentences, sources, answer.refused, describe_filters(answer.filters),
                         answer.answer.strip() if answer.refused else "", tuple(answer.notes),
                         "" if answer.refused else how_written(answer),
                         nearest=tuple(answer.nearest) if answer.refused else (),
                         not_shown=not_shown_note(left_out, answer.mode) if left_out and not answer.refused else "",
                         answer_id=answer_id, by_item=answer.mode == EXTRACTIVE or answer.fallback,
                         short_answer="" if answer.refused else (answer.short_answer or "").strip(),
                         short_answer_source=short_source)


def entry_for_failure(question: str, filters: Filters, failure, answer_id: str = "") -> BriefingEntry:
    """The entry of a question that was not answered because its language model failed (a ModelFailure)."""
    model = failure.answer.mode.removeprefix("llm:")
    return BriefingEntry(question, (), (), False, describe_filters(filters.as_dict()),
                         written=f"not answered, as the language model ({model}) failed",
                         # For its readers: what failed, and how to fix it, is for whoever runs the assistant,
                         # which the command's warnings and the audit log (its answer id below) tell.
                         failure="the language model could not answer it (the audit log records what failed). Ask "
                                 "this question again later.",
                         answer_id=answer_id)


def entry_not_asked(question: str, filters: Filters) -> BriefingEntry:
    """The entry of a question not asked, as the language model had failed on the questions just before it."""
    return BriefingEntry(question, (), (), False, describe_filters(filters.as_dict()),
                         written="not asked, as the language model had stopped answering",
                         failure=f"the language model failed on {FAILURES_IN_A_ROW} questions in a row before this "
                                 "one, so it was not asked. Ask it again later.")


def describe_filters(filters: dict) -> str:
    """Filters as the briefing names them, by the names of the command line's flags and a line's keys
    ("council: Sefton; since: 2022"), in the header and under each question alike."""
    return "; ".join(f"{k}: {v}" for k, v in filters.items() if v) or "none"


def how_written(answer: Answer) -> str:
    """Whether the answer's sentences were written by a language model or quoted word for word from the minutes."""
    from assistant.answer.service import EXTRACTIVE

    if answer.mode == EXTRACTIVE:
        return "quoted word for word from the minutes (extractive mode)"
    model = answer.mode.removeprefix("llm:")
    if answer.fallback:
        return f"quoted word for word from the minutes, as the language model's ({model}) reply could not be used"
    return f"written by a language model ({model}), each sentence checked against the minutes it cites"


def answers_in_audit_log(recorded: int, settings: "Settings", first_id: str = "") -> str:
    """Where the answers of a briefing that was not written are, and how to get them; "" when none were recorded.
    The command names the audit log these answers went to, as `assistant audit` finds it: ASSISTANT_AUDIT_PATH
    when set, else the index folder's log (given as --index, so that the default index's is never listed)."""
    if not recorded:
        return ""
    if settings.audit_file:
        command = (f"ASSISTANT_AUDIT_PATH={shlex.quote(printed_path(settings.audit_file))} assistant audit "
                   f"--limit {recorded}")
    else:
        command = f"assistant audit --index {shlex.quote(printed_path(settings.data_dir))} --limit {recorded}"
    # --limit counts the most recent answers, and the app or `ask` may have answered others since: the first id
    # tells where this run's begin.
    first = (f" ({'the first of them is ' if recorded > 1 else ''}answer {first_id[:SHOWN_ID_CHARS]}; should "
             "others have been answered since, raise --limit until it is listed)" if first_id else "")
    return (f"The {counted(recorded, 'answer')} given {'is' if recorded == 1 else 'are'} in the audit log: "
            f"`{command}`{first}.")


@dataclass(frozen=True)
class BriefingRun:
    out: Path
    asked: int
    answered: int  # not refused, and not failed
    failed: tuple[int, ...] = ()  # the numbers of the questions whose language model failed
    refused: int = 0  # the questions the minutes do not answer
    seconds: float = 0.0  # from the first check to the file written

    def describe(self) -> str:
        """The line that says where the briefing went and what it holds, for a script's log as for the officer:
        'wrote /home/me/briefing.docx (16 questions: 11 answered, 5 the minutes do not answer) in 3.5 s'."""
        parts = [f"{self.answered} answered"]
        if self.refused:
            parts.append(f"{self.refused} the minutes do not answer")
        if self.failed:
            parts.append(f"{len(self.failed)} not answered, as the language model failed")
        return (f"wrote {printed_path(self.out.expanduser().resolve())} ({counted(self.asked, 'question')}: "
                f"{', '.join(parts)}) in {self.seconds:.1f} s")


class BriefingIncomplete(AssistantError):
    """The briefing was written, but the language model failed on some questions, whose entries say so: an error
    still, so that a run with unanswered questions does not pass for a whole one. `run` is what was written."""

    def __init__(self, message: str, hint: str, run: BriefingRun) -> None:
        super().__init__(message, hint)
        self.run = run


class BriefingInterrupted(KeyboardInterrupt):
    """Ctrl-C while the questions were being asked: nothing was written; `asked` of `total` questions were asked,
    and `recorded` answers went into the audit log (a question that could not be asked is not recorded), which
    `in_audit_log` says how to list. A KeyboardInterrupt still, for any caller that does not look for this one."""

    def __init__(self, recorded: int, asked: int, total: int, in_audit_log: str = "") -> None:
        super().__init__(f"interrupted after {asked} of {total} questions")
        self.recorded, self.asked, self.total = recorded, asked, total
        self.in_audit_log = in_audit_log


def make_briefing(questions_path: Path, out: Path, settings: "Settings", filters: Filters | None = None,
                  title: str = DEFAULT_TITLE, progress: bool | None = None, replace: bool = False) -> BriefingRun:
    """Ask every question of the file (each with its own filters over `filters`) and write the briefing to `out`.

    All that can be checked is checked before the first question is asked, since asking takes minutes and each
    answer goes into the audit log: the output's format, name and folder (an existing file is written over only
    with `replace`, and the questions file never), the title (a briefing with no answers is rendered with it),
    every line of the file, every question as `ask` checks it and every question's filters. A progress bar goes to
    standard error (by default only when it is a terminal, as for `ingest`). Ctrl-C writes nothing, rather than a
    briefing that looks whole but is not, and raises BriefingInterrupted. A question whose language model failed
    is audited with its error and marked in the briefing as not answered, and the others are asked: the briefing
    is written, then BriefingIncomplete raised. FAILURES_IN_A_ROW failures in a row stop the run with nothing
    written."""
    from assistant.answer.service import Assistant, ModelFailure
    from assistant.ingest.run import progress_bar
    from assistant.present.audit import AnswerRecorder

    started = time.perf_counter()
    named = printed_path(out)  # --out as messages name it
    common = filters or Filters()
    suffix = briefing_format(out)
    _check_new_output(out, questions_path, replace)
    if out.expanduser().resolve().is_relative_to(settings.data_dir.expanduser().resolve()):
        raise AssistantError(f"{named} is inside the index folder {printed_path(settings.data_dir)}: a briefing kept "
                             "there goes with the index (emptied, replaced, restored from a backup).",
                             "Give --out a file outside the index folder.")
    if not _title(title):
        raise AssistantError("The briefing's title is empty.",
                             f"Give --title some words, or leave it out for the default title, {DEFAULT_TITLE!r}.")
    header_filters = describe_filters(common.as_dict()) if common.active else ""
    _render([], suffix, title, header_filters, _now(), "")
    planned = []  # every question's filters, its own over the common ones
    for number, (question, own) in enumerate(read_question_file(questions_path), start=1):
        try:
            planned.append((question, Filters(**{**common.as_dict(), **own})))
        except AssistantError as exc:
            raise AssistantError(f"{printed_path(questions_path)}, question {number}, with the command line's filters: "
                                 f"{exc.message}", exc.hint) from None
    # The folder is made again when the briefing is written: a run that fails first (no index) leaves none behind.
    check_writable(out, "the briefing", keep_folders=False)
    entries: list[BriefingEntry] = []
    recorded: list[str] = []  # the audit log's ids of the answers recorded, in order
    failures: list[tuple[int, str]] = []  # each failed question's number and what failed
    in_a_row = 0
    assistant = recorder = bar = None
    searched = ""

    def say_stopping() -> None:  # on a line of its own, below the progress bar
        _tell_at_once(("\n" if bar is not None else "") + STOPPING_NOTE)

    def in_audit_log() -> str:
        return answers_in_audit_log(len(recorded), settings, recorded[0] if recorded else "")

    interrupted = _CtrlC(say_stopping)
    try:
        with interrupted:
            assistant = Assistant(settings)
            _refuse_questions_without_a_topic(assistant, planned, questions_path)
            _refuse_filters_matching_nothing(assistant, planned, questions_path)
            searched = searched_line(assistant.index.manifest)
            recorder = AnswerRecorder(assistant)
            bar = progress_bar(len(planned), progress, unit="question", desc="Asking")
            for number, (question, question_filters) in enumerate(planned, start=1):
                if interrupted.pressed:
                    raise KeyboardInterrupt
                try:
                    answer = _answer_unless_stopped(assistant, question, question_filters, interrupted)
                except ModelFailure as failure:  # audited with its error, as every question asked is
                    recorded.append(recorder.record_failure(failure, channel="brief"))
                    failures.append((number, failure.message))
                    in_a_row += 1
                    entries.append(entry_for_failure(question, question_filters, failure, recorded[-1]))
                    if bar is not None:
                        bar.update()
                    if in_a_row < FAILURES_IN_A_ROW:
                        continue
                    if not any(not entry.failure for entry in entries):  # nothing answered: no briefing at all
                        raise AssistantError(
                            f"The language model failed on {FAILURES_IN_A_ROW} questions in a row (the last, "
                            f"question {number} of {len(planned)}: {failure.message}); nothing was written to "
                            f"{named}.", f"{failure.hint} {in_audit_log()} Run the command again once the model "
                            "answers.") from failure
                    # The model has stopped answering: the rest are not asked, and the briefing keeps what was.
                    for later, (rest, rest_filters) in enumerate(planned[number:], start=number + 1):
                        entries.append(entry_not_asked(rest, rest_filters))
                        failures.append((later, "not asked"))
                    break
                in_a_row = 0
                answer_id = ""
                if answer.refusal_reason != "bad_question":
                    answer_id = recorder.record(answer, channel="brief")
                    recorded.append(answer_id)
                entries.append(entry_from_answer(answer, answer_id))
                if bar is not None:
                    bar.update()
            if interrupted.pressed:  # during the last question: the member asked to stop, so nothing is written
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise BriefingInterrupted(len(recorded), len(entries), len(planned), in_audit_log()) from None
    finally:
        if bar is not None:
            bar.close()
        if recorder is not None:
            recorder.close()
        if assistant is not None:
            assistant.close()
    try:
        write_briefing(entries, out, title=title, filters=header_filters, replace=replace, searched=searched)
    except FileExistsError:  # made while the questions were asked
        raise AssistantError(f"{named} exists: give --replace to write over it, or another --out.",
                             f"{in_audit_log()} The file appeared while the questions were asked; run the command "
                             "again for the briefing.".lstrip()) from None
    except OSError as exc:  # a disk that filled up while the questions were asked, say
        raise AssistantError(f"Could not write the briefing to {named}: {exc.strerror or exc}.",
                             f"{in_audit_log()} Free some space, or give --out a folder that can be written, and "
                             "run the command again for the briefing.".lstrip()) from None
    run = BriefingRun(out, len(entries), sum(not e.refused and not e.failure for e in entries),
                      tuple(n for n, _ in failures), refused=sum(e.refused for e in entries),
                      seconds=time.perf_counter() - started)
    if failures:
        numbers = ", ".join(str(n) for n, _ in failures)
        last = [why for _, why in failures if why != "not asked"][-1]
        not_asked = sum(why == "not asked" for _, why in failures)
        stopped = (f"; after {FAILURES_IN_A_ROW} failures in a row the last {counted(not_asked, 'question')} "
                   "were not asked" if not_asked else "")
        raise BriefingIncomplete(
            f"Wrote {named}, but {counted(len(failures), 'question')} of {len(planned)} "
            f"{'was' if len(failures) == 1 else 'were'} not answered, as the language model failed "
            f"({'question' if len(failures) == 1 else 'questions'} {numbers}; the last failure: {last}{stopped}).",
            "The briefing marks each as not answered. Ask again when the model's server answers, or with "
            "`--llm extractive` to answer without a model.", run)
    return run


def _refuse_questions_without_a_topic(assistant, planned: list[tuple[str, Filters]], questions_path: Path) -> None:
    """Refuse, before any is asked, questions that name no topic of their own but this index's councils ('What about
    2019?', a follow-up to the line before): each would be refused, and the briefing hold that in place of an answer.
    Known only once the index is open, since its councils' names are no topic."""
    _refuse_questions(
        [(number, question, "") for number, (question, _) in enumerate(planned, start=1)
         if assistant.question_problem(question)],
        questions_path, ("names no topic to look for", "name no topic to look for"),
        "Every question is answered on its own, not as a follow-up to the one before: ask each in full, such as "
        "'How many children left care in Sefton in 2019?'. Nothing was asked yet.")


def _refuse_filters_matching_nothing(assistant, planned: list[tuple[str, Filters]], questions_path: Path) -> None:
    """Refuse, before any is asked, questions whose filters select no indexed minutes (a council misspelt, a date
    range with no meetings): each would be refused as such, and the briefing would hold that in place of an answer."""
    _refuse_questions(
        [(number, question, why) for number, (question, filters) in enumerate(planned, start=1)
         if (why := assistant.filters_match_nothing(question, filters))],
        questions_path, ("has filters that match nothing in the index", "have filters that match nothing in the index"),
        "Correct those filters (on the command line, or the question's line), or leave them out: nothing was asked "
        "yet.")


def _refuse_questions(refused: list[tuple[int, str, str]], questions_path: Path, what: tuple[str, str],
                      hint: str) -> None:
    """One message naming each question refused (its number, its first words and why, when that differs between
    them), when any is; `what` is what is wrong with them, said of one and of several."""
    if not refused:
        return
    # Named by their words too: the file's blank lines and comments make a question's number no line number.
    named = [f"question {number} ({_opening(question)})" for number, question, _ in refused[:_PROBLEMS_SHOWN]]
    whys = list(dict.fromkeys(why for *_, why in refused[:_PROBLEMS_SHOWN]))
    if len(refused) == 1 or whys == [""]:
        shown = " " + "; ".join(f"{name}: {why}" if why else name for name, (*_, why) in zip(named, refused))
    elif len(whys) == 1:  # the command line's filters, most often: why is said once, not once a question
        shown = f" {'; '.join(named)}. {whys[0]}"
    else:  # a reason is whole sentences: one a line, where "; " would follow a full stop
        shown = "".join(f"\n  {name}: {why}" if why else f"\n  {name}"
                        for name, (*_, why) in zip(named, refused))
    more = f" (and {len(refused) - _PROBLEMS_SHOWN} more)" if len(refused) > _PROBLEMS_SHOWN else ""
    said = what[0] if len(refused) == 1 else what[1]
    raise AssistantError(f"{counted(len(refused), 'question')} of {printed_path(questions_path)} {said}{more}:"
                         f"{shown}", hint)


def _opening(question: str, words: int = 8) -> str:
    """A question's first words, quoted, to find it by in the file."""
    said = question.split()
    return "\u201c" + " ".join(said[:words]) + ("\u2026" if len(said) > words else "") + "\u201d"


def _answer_unless_stopped(assistant, question: str, filters: Filters, interrupted: "_CtrlC") -> Answer:
    """The question's answer. Once Ctrl-C is pressed a language model's reply is read no further (the service's
    `stopped`); an answer cut short that way is not whole, so it raises KeyboardInterrupt unrecorded: nobody was
    given it, as the app records no answer its page never took. A quoted answer is not cut short: it is whole."""
    cut_short = False

    def stopped() -> bool:
        nonlocal cut_short
        cut_short = cut_short or interrupted.pressed
        return cut_short

    answer = None
    for event in assistant.stream(question, filters, stopped=stopped):
        if isinstance(event, Answer):
            answer = event
    if cut_short:
        raise KeyboardInterrupt
    assert answer is not None
    return answer


def _check_new_output(out: Path, questions_path: Path, replace: bool) -> None:
    """Refuse an `out` that is the questions file (by any name: a symlink or a hard link to it too), and one that
    exists unless `replace`: a briefing never destroys the questions, nor, unasked, a briefing edited since."""
    named = printed_path(out)
    try:
        same = out.exists() and questions_path.exists() and os.path.samefile(out, questions_path)
    except OSError:  # one of them cannot be looked at: reading or writing it says so
        same = False
    if same:
        raise AssistantError(f"--out {named} is the questions file {printed_path(questions_path)}: the briefing would "
                             "write over the questions.", "Give --out another name, such as briefing.md.")
    if out.is_file() and not replace:
        raise AssistantError(f"{named} exists: give --replace to write over it, or another --out.",
                             "Nothing was asked yet. Choose another --out to keep the file (it may be a briefing "
                             "edited since), or give --replace if it may go.")


def _tell_at_once(message: str) -> None:
    """Print a line to standard error from a signal handler. The handler may run while the progress bar is being
    drawn, when a second write to the same stream fails ("reentrant call"): the line then goes to the descriptor."""
    try:
        print(message, file=sys.stderr, flush=True)
    except (RuntimeError, OSError, ValueError, AttributeError):
        try:
            os.write(2, (message + "\n").encode("utf-8", "replace"))
        except OSError:  # standard error is closed: there is nobody to tell
            pass


class _CtrlC:
    """Ctrl-C while a briefing is asked takes effect between questions (and ends a language model's reply at its
    next piece): raised inside a question, it could land in the vector store's or the model's native code and leave
    the closing of the index hanging (seen under load). The first press says so at once, through `announce`, so
    that nobody presses again for want of a sign; a second Ctrl-C stops at once. Off the main thread, where no
    signal can be caught, it does nothing."""

    def __init__(self, announce=lambda: None) -> None:
        self.pressed = False
        self._announce = announce
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
        self._announce()


def briefing_format(out: Path) -> str:
    """The briefing's format from its file name (".md" or ".docx"), checked before any question is asked."""
    suffix = out.suffix.lower()
    refuse_link(out, "--out")
    if out.is_dir():
        raise AssistantError(f"{printed_path(out)} is a folder: a briefing is written to a file.",
                             "Give --out a file's name, in that folder if you like: "
                             f"{printed_path(out / 'briefing.docx')}.")
    if suffix not in (".md", ".docx"):
        meant = out.with_suffix(".docx") if suffix in ("", ".doc", ".rtf", ".odt") else out.with_suffix(".md")
        raise AssistantError(f"Cannot write a briefing as {out.name!r}: its name says neither Word nor Markdown.",
                             "Name the output file .docx (Word) or .md (Markdown), such as "
                             f"{printed_path(meant.name)}.")
    return suffix


def write_briefing(entries: list[BriefingEntry], out: Path, title: str = DEFAULT_TITLE,
                   filters: str = "", made_at: dt.datetime | None = None, replace: bool = False,
                   searched: str = "") -> Path:
    """Write the briefing to `out`; a title with no words in it gives the default title. An existing file is
    written over only with `replace` (else FileExistsError), even one made while the briefing was."""
    suffix = briefing_format(out)
    if not entries:
        raise AssistantError("There is nothing to put in the briefing.", "Select at least one answer.")
    return write_atomically(out, _render(entries, suffix, title, filters, made_at or _now(), searched),
                            replace=replace, through_links=False)


def _render(entries: list[BriefingEntry], suffix: str, title: str, filters: str, made_at: dt.datetime,
            searched: str) -> str | bytes:
    title = _title(title) or DEFAULT_TITLE
    if suffix == ".md":
        return _markdown(entries, title, filters, _made_and_searched(made_at, searched))
    document = io.BytesIO()
    _docx(entries, title, filters, made_at, _made_and_searched(made_at, searched)).save(document)
    return document.getvalue()


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()  # local time, with its zone: an officer's clock, named


def _made_and_searched(made_at: dt.datetime, searched: str) -> list[str]:
    """The header's lines saying when and by what the briefing was made, and what its answers were searched from:
    'the minutes do not say' means something only beside what the index held."""
    from assistant import __version__

    return ([f"Made: {_spoken_time(made_at)}, by the minutes assistant {__version__}"]
            + ([f"Searched: {searched}"] if searched else []))


def _spoken_time(moment: dt.datetime) -> str:
    """'5 December 2026 at 09:19 GMT', as an officer writes a time (the zone's name when it has one)."""
    return f"{moment.day} {MONTH_NAMES[moment.month - 1]} {moment.year} at {moment:%H:%M %Z}".rstrip()


def searched_line(manifest) -> str:
    """What the index held, for a briefing's header: its items, their councils, the meetings' span and when it last
    changed ('45 items of minutes from 24 councils, of meetings from 12 March 2017 to 9 October 2023 (3 undated);
    items last added or updated on 5 December 2026 at 09:12 UTC')."""
    rows = [row for row in manifest.rows().values() if row.status == "done"]
    # One council under two names ('Sefton Council', 'Sefton Metropolitan Borough Council') is one council, as the
    # app's Council list and the filters take it: counted by name, it was counted twice.
    councils = {council_key(row.council) for row in rows if row.council}
    dates = sorted(row.meeting_date for row in rows if row.meeting_date)
    undated = len(rows) - len(dates)
    line = f"{counted(len(rows), 'item')} of minutes from {counted(len(councils), 'council')}"
    if dates:
        # As people write a date, as every source's line below gives its meeting's ('12 March 2024'), and as the line
        # ends with when the items last changed: '2017-03-12' was the one date of the header left in figures.
        line += (f", of meetings from {readable_date(dates[0])} to {readable_date(dates[-1])}"
                 + (f" ({undated} undated)" if undated else ""))
    if changed := manifest.last_changed():
        line += f"; items last added or updated on {_spoken_time(dt.datetime.fromtimestamp(changed).astimezone())}"
    return line


def _title(title: str) -> str:
    """The title as a briefing shows it, on one line and without characters no reader sees; "" when nothing is left."""
    return " ".join(visible_text(title).split())


def _markdown(entries: list[BriefingEntry], title: str, filters: str, head: list[str]) -> str:
    literal = markdown_literal  # the minutes' and the members' words, never read as Markdown
    heading, each_own = _filters_heading(entries, filters)
    written, each_written = _written_heading(entries)
    lines = [f"# {literal(title)}", ""]
    for line in head:
        lines += [literal(line), ""]
    lines += [f"Filters: {literal(heading)}", ""]
    if written:
        lines += [f"Answers: {literal(written)}", ""]
    if any(entry.refused for entry in entries):
        lines += [f"{literal(REFUSALS_HEADING)}.", ""]
    if undated := _undated_sources(entries):
        lines += [literal(undated), ""]
    for number, entry in enumerate(entries, start=1):
        lines += [f"## {number}. {literal(entry.question)}", ""]
        if each_own:
            lines += [f"_Filters: {literal(entry.filters)}_", ""]
        if each_written and entry.written:
            lines += [f"_Answer: {literal(entry.written)}_", ""]
        if entry.short_answer:  # in bold, with whose and when it is, as the app leads with it
            lines += [f"**{literal(entry.short_answer)}**{short_answer_said(entry.short_answer_source, literal)}", ""]
        # A refusal is the assistant's words, in italics as its notes are: set apart from the quoted answers.
        lines += [f"_{entry.answer_text(literal)}_" if entry.refused else entry.answer_text(literal), ""]
        if entry.not_shown:
            lines += [f"_{literal(entry.not_shown)}_", ""]
        for note in entry.notes:
            lines += [f"_Note: {literal(note)}_", ""]
        if entry.nearest:
            lines += [f"_{literal(NEAREST_LABEL)}_", ""]
            lines += [f"- {literal(_ended(source_line(item)))} {_markdown_address(item.source_url)}".rstrip()
                      for item in entry.nearest]
            lines.append("")
        if entry.sources:
            lines += ["Sources:", ""]
            for c in entry.sources:
                address = _markdown_address(c.link or c.source_url)
                lines.append(f"- [{c.marker}] {literal(_ended(source_line(c)))} {address}")
                lines.append(f"  > {literal(c.quote)}")
            lines.append("")
        if entry.answer_id:
            lines += [f"_Audit log: answer {literal(entry.short_id)}_", ""]
    return "\n".join(lines)


def _docx(entries: list[BriefingEntry], title: str, filters: str, made_at: dt.datetime, head: list[str]):
    from docx import Document

    text = visible_text  # Word's XML takes no control characters, which minutes read from PDFs may hold
    document = Document()
    # The whole title is the heading; the document's metadata keeps as much of it as Word takes.
    properties = document.core_properties
    properties.title = (title if len(title) <= METADATA_TITLE_CHARS
                        else title[:METADATA_TITLE_CHARS - 1].rstrip() + "\u2026")
    # The template's own say the document was made in 2013 by "python-docx": a records system would file it so.
    properties.created = properties.modified = made_at.astimezone(dt.timezone.utc).replace(microsecond=0)
    properties.author = properties.last_modified_by = DOCUMENT_AUTHOR
    properties.comments = ""
    _for_a_uk_office(document)
    _readable_headings(document)
    document.add_heading(title, level=0)
    for line in head:
        document.add_paragraph(text(line))
    heading, each_own = _filters_heading(entries, filters)
    document.add_paragraph(text(f"Filters: {heading}"))
    written, each_written = _written_heading(entries)
    if written:
        document.add_paragraph(text(f"Answers: {written}"))
    if any(entry.refused for entry in entries):
        document.add_paragraph(f"{REFUSALS_HEADING}.")
    if undated := _undated_sources(entries):
        document.add_paragraph(text(undated))
    for number, entry in enumerate(entries, start=1):
        _add_in_languages(document.add_heading(level=1), text(f"{number}. {entry.question}"))
        if each_own:
            document.add_paragraph().add_run(text(f"Filters: {entry.filters}")).italic = True
        if each_written and entry.written:
            document.add_paragraph().add_run(text(f"Answer: {entry.written}")).italic = True
        if entry.short_answer:  # in bold, with whose and when it is, as the app leads with it
            short = document.add_paragraph()
            _add_in_languages(short, text(entry.short_answer))
            for run in short.runs:
                run.bold = True
            short.add_run(text(short_answer_said(entry.short_answer_source)))
            short.paragraph_format.keep_with_next = True  # on the page of the quote it is read from
        if entry.refused:  # the assistant's words, in italics as its notes are: set apart from the quoted answers
            document.add_paragraph().add_run(entry.answer_text(text)).italic = True
        else:
            for paragraph in entry.answer_paragraphs(text):
                _add_in_languages(document.add_paragraph(), paragraph)
        if entry.not_shown:
            document.add_paragraph().add_run(text(entry.not_shown)).italic = True
        for note in entry.notes:
            document.add_paragraph().add_run(text(f"Note: {note}")).italic = True
        if entry.nearest:
            document.add_paragraph().add_run(NEAREST_LABEL).italic = True
            for item in entry.nearest:  # a list, as in the Markdown: set apart from an answer's sources
                _add_source_paragraph(document, f"{_ended(source_line(item))} ", item.source_url, style="List Bullet")
        if entry.sources:
            document.add_heading("Sources", level=2)
            for c in entry.sources:
                # A plain paragraph led by its [n]: Word's numbered lists would run on from one question to the next.
                source = _add_source_paragraph(document, f"[{c.marker}] {_ended(source_line(c))} ",
                                               c.link or c.source_url)
                # On the page of its quote: a quote at the top of a page, its council, meeting and item left at the
                # foot of the last, is a quote whose source the reader must turn back for.
                source.paragraph_format.keep_with_next = True
                _add_in_languages(document.add_paragraph(style="Quote"), text(" ".join(c.quote.split())))
        if entry.answer_id:
            document.add_paragraph().add_run(text(f"Audit log: answer {entry.short_id}")).italic = True
    return document


def _for_a_uk_office(document) -> None:
    """A4 paper and British English for spelling (python-docx's template is US Letter and US English, so Word
    marked 'organisation' and 'programme' in every quote as misspelt), and none of the template's leftovers: its
    app.xml says it was written by Word 14 for the Mac, one page long, and its thumbnail is a blank page, which
    file browsers show as the document's preview. Both parts are optional; without them Word fills in its own."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Mm

    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
    for language in document.styles.element.iter(qn("w:lang")):
        language.set(qn("w:val"), BRIEFING_LANGUAGE)
        language.set(qn("w:eastAsia"), BRIEFING_LANGUAGE)
    package_rels = document.part.package.rels
    for rel_id, relationship in list(package_rels.items()):
        if relationship.reltype in (RELATIONSHIP_TYPE.THUMBNAIL, RELATIONSHIP_TYPE.EXTENDED_PROPERTIES):
            package_rels.pop(rel_id)


def _add_in_languages(paragraph, text: str) -> None:
    """The text as runs of the paragraph, each Welsh sentence's run in WELSH_WORD_LANGUAGE (the rest the document's
    British English)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for span, language in language_runs(text):
        run = paragraph.add_run(span.of(text))
        if language == WELSH:
            marked = OxmlElement("w:lang")
            marked.set(qn("w:val"), WELSH_WORD_LANGUAGE)
            run._r.get_or_add_rPr().append(marked)


def _readable_headings(document) -> None:
    """Second-level headings at AA contrast (HEADING_2_COLOUR), in place of the template's theme blue."""
    from docx.shared import RGBColor

    document.styles["Heading 2"].font.color.rgb = RGBColor.from_string(HEADING_2_COLOUR)


def _ended(line: str) -> str:
    """An item's line ended with a full stop before its address, unless its title ends a sentence already: 'Response to
    Tackling Child Criminal Exploitation.' had a second one ('Exploitation.. <https://...>')."""
    return line if line.endswith((".", "?", "!", "\u2026")) else f"{line}."


def _add_source_paragraph(document, lead: str, address: str, style: str | None = None):
    """A paragraph naming an item, then its address: a clickable link when it is a web address, else labelled as
    the item's source (a file's path, or the id of an item with no address), which Word could not open."""
    paragraph = document.add_paragraph(style=style)
    paragraph.add_run(visible_text(lead))
    address = visible_text(address)
    if _is_web_address(address):
        _add_hyperlink(paragraph, address)
    elif address:
        paragraph.add_run(NO_WEB_ADDRESS.format(address)).italic = True
    return paragraph


def _undated_sources(entries: list[BriefingEntry]) -> str:
    """The header's warning that some quoted sources have no meeting date recorded ('' when all have one): a figure
    from such an item cannot be placed in time by whoever reads the briefing, and may be years old."""
    sources = {c.source_url: c for entry in entries for c in entry.sources}
    undated = [c for c in sources.values() if not c.meeting_date]
    if not undated:
        return ""
    return (f"Sources with no meeting date recorded: {len(undated)} of {len(sources)} (marked \u201cdate unknown\u201d "
            "below): check their dates before quoting their figures as current.")


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


def _written_heading(entries: list[BriefingEntry]) -> tuple[str, bool]:
    """How the answers were written, for the header, and whether each question says its own: a language model's
    reply that could not be used leaves that answer quoted from the minutes."""
    distinct = list(dict.fromkeys(e.written for e in entries if e.written))  # a refusal is written by neither
    if len(distinct) == 1:
        return distinct[0], False
    return ("as said under each question" if distinct else ""), bool(distinct)


def _is_web_address(text: str) -> bool:
    """An http(s) address with a host (render.web_address, as the app links), and no space to break it."""
    return bool(web_address(text)) and not any(ch.isspace() for ch in text)


def _markdown_address(address: str) -> str:
    """A source's address as it must be copied: a web address as an autolink, `<...>`, in which Markdown takes no
    backslash escapes (an escaped "\\&" in a URL would be copied with its backslash), with the characters an
    autolink cannot hold (<, >, controls), '"' and the bidirectional controls that would reorder the line
    percent-encoded; anything else as text, labelled."""
    if not _is_web_address(address):
        return f"_{markdown_literal(NO_WEB_ADDRESS.format(address))}_" if address else ""
    return "<" + "".join(quote(ch) if ch in '<>"' or ch in BIDI_CONTROLS or ord(ch) < 0x20 or ord(ch) == 0x7F else ch
                         for ch in address) + ">"


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
    """Questions for `assistant brief`: one a line (# comments, blank lines ignored), JSONL, or a CSV file whose first
    line names its columns (question, and any of the filters' keys), as a spreadsheet saves one. Every line is
    checked, and all that cannot be asked are named at once; a question asked twice with the same filters is one."""
    from assistant.answer.service import question_problem

    where = printed_path(path)  # the file as messages name it
    if path.is_dir():
        raise AssistantError(f"{where} is a folder, not a questions file.",
                             "Give --questions the file of questions itself, such as questions.txt in that folder.")
    if not path.is_file():
        raise AssistantError(f"No questions file at {where}.", "Check the path given to --questions.")
    questions: list[tuple[str, dict]] = []
    problems: list[AssistantError] = []
    first_line: dict[tuple, int] = {}  # each question's first line, by its words and filters
    lines = _csv_rows(path) if path.suffix.lower() == ".csv" else _question_lines(path)
    for number, row in lines:
        if isinstance(row, AssistantError):
            problems.append(row)
            continue
        if isinstance(row, str):
            question, filters = row, {}
        else:
            question = row.get("question")
            if not isinstance(question, str) or not question.strip():
                problems.append(AssistantError(f"{where}:{number} is not a JSON object with a \"question\".",
                                               "Fix that line, or give one plain question a line."))
                continue
            filters = {k: v for k in QUESTION_KEYS if k != "question" and (v := row.get(k))}
            try:
                Filters(**filters)
            except AssistantError as exc:
                problems.append(AssistantError(f"{where}:{number}: {exc.message}", exc.hint))
                continue
        # A list written out as text keeps its numbers and bullets: Word's Save As › Plain Text, which the hint for a
        # .docx given here advises, writes "1.<tab>How many ...?" and "•<tab>...". The briefing numbers its questions
        # itself ("2. 1. How many ...?" otherwise), and a number is no part of what is asked or audited.
        question = without_bullet(question)
        if problem := question_problem(question):  # what `assistant ask` would refuse, refused before any is asked
            problems.append(AssistantError(f"{where}:{number}: {problem}",
                                           "Correct that line or delete it: every question is checked as `assistant "
                                           "ask` checks one, before any is asked."))
            continue
        same = (" ".join(question.casefold().split()), tuple(sorted((k, str(v)) for k, v in filters.items())))
        if same in first_line:
            problems.append(AssistantError(f"{where}:{number} asks again the question of line {first_line[same]}, "
                                           "with the same filters.",
                                           "Delete one of them: the briefing would hold the same answer twice."))
            continue
        first_line[same] = number
        questions.append((question, filters))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        shown = problems[:_PROBLEMS_SHOWN]
        more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
        raise AssistantError(f"{len(problems)} lines of {where} cannot be asked{more}:\n"
                             + "\n".join(f"  {problem.message}" for problem in shown),
                             "Correct or delete each of them: every line is checked before any question is asked, "
                             "so nothing was asked yet.")
    if not questions:
        raise AssistantError(f"{where} holds no questions.", "Write one question a line.")
    return questions


_PROBLEMS_SHOWN = 10  # lines named in one message; the rest are counted
# How a file of plain questions (not .jsonl) tells a JSON line from a question that starts with a brace.
JSON_LINE_RULE = ("a line that starts with { is read as JSON when { is followed by a \" or the line ends with }; to "
                  "ask it as a plain question, reword its start.")
# The separators a questions CSV may use, in the order tried: a comma, the ";" Excel writes where a comma is the
# decimal mark (much of Europe), a tab. The one under which the first line heads a question column is the file's.
CSV_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}


def _question_lines(path: Path) -> Iterator[tuple[int, "str | dict | AssistantError"]]:
    """Each line of a text or JSONL questions file: a plain question, a JSON object, or what is wrong with it. Read
    as `eval` reads its questions: the same line ends, and a key given twice refused (json alone would keep the
    second council of a line and answer for it). In a file not named .jsonl, a line that starts with "{" is JSON only
    when it is, or was meant to be (_meant_as_json): "{Urgent} How many...?" is a question."""
    where = printed_path(path)
    jsonl = path.suffix.lower() == ".jsonl"
    for number, line in json_lines(path, "the questions file"):
        stripped = line.strip()
        if not (jsonl or stripped.startswith("{")):
            yield number, stripped
            continue
        try:
            row = parse_line(line)
        except ValueError as exc:
            if jsonl:
                yield number, AssistantError(f"{where}:{number}: {exc}.", "Fix that line, or give one plain question "
                                             "a line.")
            elif _meant_as_json(stripped):
                yield number, AssistantError(f"{where}:{number}: {exc}.", f"Fix that line: {JSON_LINE_RULE}")
            else:
                yield number, stripped
            continue
        if isinstance(row, dict) and (unknown := [key for key in row if key not in QUESTION_KEYS]):
            yield number, AssistantError(f"{where}:{number} has the unknown key{'s' if len(unknown) > 1 else ''} "
                                         f"{', '.join(map(repr, unknown))}.",
                                         f"The keys of a line are {', '.join(QUESTION_KEYS)}; correct the spelling, "
                                         "or put a note on a # line of its own.")
            continue
        yield number, row if isinstance(row, dict) else AssistantError(
            f"{where}:{number} is not a JSON object with a \"question\".",
            "Fix that line, or give one plain question a line.")


def _meant_as_json(line: str) -> bool:
    """Whether a line that starts with "{" but is not valid JSON was meant as JSON (JSON_LINE_RULE): its brace opens
    a key in double quotes, or it ends with "}", as a JSON object does; else it is a question that opens with a brace
    ("{Urgent} How many...?"). Doubt goes to JSON: a broken JSON line asked as a question would lose its filters."""
    return line.endswith("}") or line[1:].lstrip().startswith('"')


def _csv_rows(path: Path) -> Iterator[tuple[int, "dict | AssistantError"]]:
    """Each row of a CSV questions file, as a line's keys and values, by the line it starts on. Its first line names
    the columns: `question` and any of the filters' keys, in any order and case; a blank row is passed over."""
    import csv

    where = printed_path(path)
    text = questions_text(path, "the questions file")
    separator = _csv_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise AssistantError(f"{where} cannot be read as CSV ({exc}).", "Save it again from the spreadsheet as CSV "
                             "(UTF-8).") from None
    names = [name.strip().casefold() for name in header]
    if "question" not in names:
        raise AssistantError(f"{where} has no column headed question (its first line is "
                             f"{', '.join(repr(n) for n in header) or 'empty'}).",
                             "Head the column of questions `question` (other columns may be "
                             f"{', '.join(QUESTION_KEYS[1:])}), or save the questions one a line as a .txt file.")
    if twice := sorted({name for name in names if name and names.count(name) > 1}):
        raise AssistantError(f"{where} heads two columns {twice[0]!r}: which one a question's is cannot be told.",
                             "Delete or rename one of them.")
    if unknown := [name for name in names if name and name not in QUESTION_KEYS]:
        raise AssistantError(f"{where} has the unknown column{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(map(repr, unknown))}.",
                             f"The columns may be {', '.join(QUESTION_KEYS)}; correct the heading, or delete the "
                             "column.")
    line = 2
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, AssistantError(f"{where}:{line} cannot be read as CSV ({exc}).", "Fix that row.")
            return
        row = {name: cell.strip() for name, cell in zip(names, cells) if name and cell.strip()}
        if any(cell.strip() for cell in cells[len(names):]):  # an unquoted separator in a question, most often
            yield line, AssistantError(f"{where}:{line} has more cells than the first line has headings, so part of "
                                       "it would be left out.",
                                       f"Put a question that holds a {CSV_SEPARATORS[separator]} in double quotes (a "
                                       "spreadsheet saving CSV does), or delete the extra cells.")
        elif row and "question" not in row:
            yield line, AssistantError(f"{where}:{line} has nothing in its question column.",
                                       "Give that row its question, or delete the row.")
        elif row:
            yield line, row
        line = reader.line_num + 1


def _csv_separator(text: str) -> str:
    """The separator of CSV_SEPARATORS under which the file's first line heads a question column; a comma when none
    does, so that the message says which columns the first line heads."""
    import csv

    for separator in CSV_SEPARATORS:
        try:
            header = next(csv.reader(io.StringIO(text, newline=""), delimiter=separator), [])
        except csv.Error:  # said when the file is read with the separator chosen
            continue
        if "question" in (name.strip().casefold() for name in header):
            return separator
    return ","
