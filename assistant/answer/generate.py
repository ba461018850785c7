"""Answers written by a language model, evidence first, every sentence checked before it is shown.

The chain is LCEL: prompt | chat model | string parser. The prompt numbers the top retrieved chunks as
delimited evidence blocks; the model's tokens are cut into sentences as they stream, and each
sentence is judged by the grounding guard against the blocks it cites before it is yielded.
Unsupported sentences are recorded but never shown; if nothing supported is left, or the model says
the evidence does not answer, the extractive answerer takes over.
"""

from __future__ import annotations

import json
import logging
import re
import time
from contextlib import closing
from functools import lru_cache
from typing import Callable, Iterator, Sequence

from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate

from assistant.answer import prompts
from assistant.answer.llm import REPLY_DEADLINE_S, REPLY_STOPPED, REQUEST_TIMEOUT_S, key_refused, model_endpoint, redact
from assistant.answer.terms import QuestionTerms
from assistant.errors import AssistantError, ModelError, ModelTimeout
from assistant.records import Citation, Hit, SentenceVerdict, Verdict, marker_text
from assistant.settings import Settings
from assistant.text import (BREADCRUMB_PLACEHOLDERS, INSTRUCTION_REASON, MODEL_DECLINED, OFF_QUESTION, REPEATED,
                            REPLY_CUT_OFF, Span, figures, fold, gives_instructions, metadata_breadcrumb,
                            no_such_block, normalise_space, question_in_log, sentence_spans, strip_bullet)
from assistant.verify.guard import Guard, strip_markers

log = logging.getLogger(__name__)

REFUSAL = "The evidence does not answer this question."
# More than a short cited answer: a server that ignores the token limit is not read past this many characters
# (cutting sentences re-reads the reply so far, so a runaway reply would also grow slow to judge).
MAX_REPLY_CHARS = 4000
# The finish reasons of a reply that ended on its own: OpenAI's and most servers' "stop", and TGI's own words.
# Anything else ("length", "content_filter") or none at all (a stream a proxy closed) may have stopped mid-sentence.
_ENDED_ON_ITS_OWN = ("stop", "eos_token", "stop_sequence")
_TAG = re.compile(r"<\s*(/?)\s*evidence", re.I)
# Markers after a sentence's full stop ('148. [1]'), and a full stop after them too ('148. [1].'), which is dropped.
_TRAILING_MARKERS = re.compile(r"([.!?]+)((?:[\s\u00a0]*\[\s*\d+(?:\s*,\s*\d+)*\s*\])+)[.!?]*")
_MARKERS_ONLY = re.compile(r"(?:[\s\u00a0]*\[[\d\s,]*\]?)+[\s\u00a0.]*")
# Citation markers as some models write them, read as the prompt's ('[1]', '[1, 2, 3]') rather than left uncited:
# fullwidth or lenticular brackets ('【1】', '【1†source】'), ranges ('[1-3]', '[1–3]'), semicolons ('[1; 2]'),
# footnotes ('[^1]'), a word before the number ('[Source 1]', '[Evidence 1]', '[doc1]'); in round brackets only at a
# sentence's end and after a space ('... discharged (1).', '(Evidence 2)'), since '(12)' within a sentence restates
# a figure and 'section 17(1)' cites a law; superscript digits ('discharged¹', '²³' for blocks 2 and 3), but not
# a unit's power ('2,500 m²').
_MARKER_VARIANT = re.compile(
    r"[\[［【]\s*(?:\^|(?:source|evidence|doc|block)\s*)?(\d{1,2}(?:\s*[-–,;]\s*\d{1,2})*)\s*(?:†[^\]］】]{0,20})?"
    r"[\]］】]"
    r"|(?<=\s)\(\s*(?:(?:source|evidence)\s*)?(\d{1,2}(?:\s*[-–,;]\s*\d{1,2})*)\s*\)"
    r"(?=[.!?]+(?:\s|$)|[ \t]*(?:\n|$))"
    r"|(?<![\d\s]m)(?<![\d\s][kc]m)(?<![\d\s]ft)([¹²³⁴⁵⁶⁷⁸⁹⁰]+)", re.I)
_SUPERSCRIPT_DIGITS = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹⁰", "1234567890")
_LONGEST_RANGE = 12  # more than a prompt's evidence blocks: '[5-95]' is not a run of markers
# The tags a reasoning model writes its working between, before its answer (Qwen3, DeepSeek-R1 and their kin).
REASONING_TAGS = ("think", "thinking", "reasoning")


def breadcrumb(hit: Hit) -> str:
    """Where an evidence block comes from, every part shown (an unknown one by its placeholder)."""
    return metadata_breadcrumb(hit.metadata, BREADCRUMB_PLACEHOLDERS)


def neutralise(text: str) -> str:
    """Minute text that cannot open or close an evidence block."""
    return _TAG.sub(lambda m: f"&lt;{m.group(1)}evidence", text)


def evidence_blocks(hits: Sequence[Hit]) -> str:
    blocks = []
    for number, hit in enumerate(hits, start=1):
        blocks.append(f'<evidence id="{number}">\nSource: {neutralise(breadcrumb(hit))}\n'
                      f"{neutralise(hit.text.strip())}\n</evidence>")
    return "\n\n".join(blocks)


@lru_cache(maxsize=1)
def answer_prompt() -> ChatPromptTemplate:
    """The chat prompt from prompts/system.txt and prompts/answer.txt; evidence and question stay variables."""
    system = _escape_braces(prompts.render("system", refusal=REFUSAL))
    slots = {name: f"\0{name}\0" for name in ("evidence", "question")}
    human = _escape_braces(prompts.render("answer", **slots))
    for name, slot in slots.items():
        human = human.replace(slot, "{" + name + "}")
    return ChatPromptTemplate.from_messages([("system", system), ("human", human)])


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def prompt_inputs(question: str, hits: Sequence[Hit]) -> dict[str, str]:
    return {"evidence": evidence_blocks(hits), "question": normalise_space(question)}


def render_prompt(question: str, hits: Sequence[Hit]) -> list[BaseMessage]:
    """The messages the model is sent for this question and evidence."""
    return answer_prompt().invoke(prompt_inputs(question, hits)).to_messages()


def working_ended_at(text: str) -> int:
    """Where a reasoning model's working ends when the reply began with it unopened ('... so 148.</think>148
    children ...'): just past the closing tag that comes before any opening one; 0 when there is none."""
    lowered = text.lower()
    closed_at, length = _first_tag(lowered, True, 0)
    opened_at, _ = _first_tag(lowered, False, 0)
    return 0 if closed_at == -1 or -1 < opened_at < closed_at else closed_at + length


def without_reasoning(text: str) -> str:
    """The reply without the working a reasoning model writes between '<think>' and '</think>': its drafts and
    guesses are no answer, and a sentence of them shown, or judged as the answer's, would mislead. A block not yet
    closed is all working so far. A closing tag with no opening one ends working that began the reply (a chat
    template may put the opening tag in the prompt)."""
    lowered = text.lower()
    kept, position = [], working_ended_at(text)
    while True:
        opened_at, opened_length = _first_tag(lowered, False, position)
        if opened_at == -1:
            kept.append(text[position:])
            break
        kept.append(text[position:opened_at])
        closed_at, closed_length = _first_tag(lowered, True, opened_at + opened_length)
        if closed_at == -1:
            break
        position = closed_at + closed_length
    return "".join(kept)


def _first_tag(lowered: str, closing: bool, start: int) -> tuple[int, int]:
    """Where the first reasoning tag, opening or `closing`, stands in the (lower-cased) text from `start`, and its
    length; (-1, 0) if none. Spaces inside it count for nothing ('< think>', '</ think >'): a model's working in a
    tag so written had been shown as its answer."""
    at = lowered.find("<", start)
    while at != -1:
        end = _tag_end(lowered, at + 1, closing)
        if end:
            return at, end - at
        at = lowered.find("<", at + 1)
    return -1, 0


def _tag_end(lowered: str, at: int, closing: bool) -> int:
    """Just past a reasoning tag whose '<' stands before `at`, or 0 when none is there."""
    at = _past_spaces(lowered, at)
    if closing:
        if not lowered.startswith("/", at):
            return 0
        at = _past_spaces(lowered, at + 1)
    for name in REASONING_TAGS:  # 'think' and 'thinking' both
        if lowered.startswith(name, at) and lowered.startswith(">", end := _past_spaces(lowered, at + len(name))):
            return end + 1
    return 0


def _past_spaces(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


class SentenceCutter:
    """Complete sentences out of a growing stream of text, with citation markers kept on their sentence."""

    def __init__(self) -> None:
        self.text = ""
        self._emitted = 0
        self._answer_starts = 0  # past a reasoning model's working that ended without having been opened
        self.restarts = 0  # how many times the sentences cut so far turned out to be working, not answer

    def feed(self, piece: str) -> list[str]:
        self.text += piece
        sentences = self._sentences()
        ready = sentences[self._emitted:-1]  # the last one may still be growing
        self._emitted += len(ready)
        return ready

    def finish(self) -> list[str]:
        rest = self._sentences()[self._emitted:]
        self._emitted += len(rest)
        return rest

    def _sentences(self) -> list[str]:
        # "… 148. [1] Next" -> "… 148 [1]. Next", so a marker written after the full stop stays with its sentence.
        answer = self.text[self._answer_starts:]
        ended = working_ended_at(answer)
        if ended:
            # What came before was working, not answer, though its sentences were cut (and judged) as they came:
            # the answer's sentences are counted afresh from here, so that none of them is taken as said already.
            self._answer_starts += ended
            self._emitted = 0
            self.restarts += 1
            answer = self.text[self._answer_starts:]
        # Windows line ends are line ends ('... 148 [1].\r\nA similar ...' is two sentences, each with its marker), and
        # a Markdown code fence's lines are no sentences.
        answer = without_reasoning(answer).replace("\r\n", "\n").replace("\r", "\n")
        answer = "\n".join(line for line in answer.split("\n") if not line.lstrip().startswith("```")).lstrip()
        # Markers in the prompt's form first, so that a line ending on one of another form ends its sentence.
        text = _TRAILING_MARKERS.sub(lambda m: m.group(2) + m.group(1), unwrapped(canonical_markers(answer)))
        merged: list[str] = []
        for span in sentence_spans(text):
            sentence = span.of(text)
            if merged and _MARKERS_ONLY.fullmatch(sentence):
                merged[-1] += " " + sentence.strip()
            else:
                merged.append(sentence)
        return merged


def canonical_markers(text: str) -> str:
    """The reply with its citation markers in the prompt's form: '【1】' is '[1]', '[1-3]' is '[1, 2, 3]', '[1; 2]' is
    '[1, 2]'. A bracket whose numbers do not read as markers (a range backwards or too long) is left as written."""
    def canonical(match: re.Match) -> str:
        if match.group(3):  # each digit a block's: a prompt has fewer than ten ('²³' is blocks 2 and 3)
            return "".join(f"[{digit}]" for digit in match.group(3).translate(_SUPERSCRIPT_DIGITS))
        numbers: list[int] = []
        for part in (match.group(1) or match.group(2)).replace(";", ",").split(","):
            ends = [int(n) for n in part.replace("–", "-").split("-")]  # int() reads past the spaces
            if len(ends) == 1:
                numbers.append(ends[0])
            elif len(ends) == 2 and 0 < ends[1] - ends[0] < _LONGEST_RANGE:
                numbers.extend(range(ends[0], ends[1] + 1))
            else:
                return match.group(0)
        return "[" + ", ".join(map(str, numbers)) + "]"

    return _MARKER_VARIANT.sub(canonical, text)


def unwrapped(text: str) -> str:
    """The reply with each line break that falls inside a sentence made a space ("148 children\nhad been
    discharged" is one sentence). A blank line, a heading or table line, a line ending in a colon, and a line that
    starts a list item still end what comes before them."""
    lines = text.split("\n")
    joined = [lines[0]]
    for number, line in enumerate(lines[1:], start=1):
        still_growing = number == len(lines) - 1 and len(line.split()) < 2 and not line[-1:].isspace()
        if _continues_sentence(lines[number - 1], line, still_growing):
            joined[-1] += " " + line
        else:
            joined.append(line)
    return "\n".join(joined)


def _continues_sentence(previous: str, line: str, still_growing: bool) -> bool:
    if not previous.strip() or not line.strip() or _starts_block(previous) or previous.rstrip().endswith(":"):
        return False
    if _ends_on_a_marker(previous):  # '... discharged [1]' then 'A similar number ...': a sentence cited and ended
        return False
    # The streamed reply's last line may be the start of a list marker ("1." before " In 2018"): it is read as part
    # of the sentence until it shows what it is, since splitting later only releases a sentence, never takes one back.
    if still_growing:
        return True
    return not _starts_block(line) and strip_bullet(line) == normalise_space(line)


def _ends_on_a_marker(line: str) -> bool:
    _, bracket, marker = line.rstrip().rpartition("[")
    numbers = marker[:-1].replace(",", " ").split() if marker.endswith("]") else []
    return bool(bracket and numbers) and all(number.isdigit() for number in numbers)


def _starts_block(line: str) -> bool:
    """A Markdown heading, table row, block quote or '+' list item: a line of its own."""
    return line.lstrip().startswith(("#", "|", ">", "+ "))


def without_emphasis(sentence: str) -> str:
    """The sentence without Markdown bold markers ('**148**', '__148__'), which the minutes never contain."""
    return sentence.replace("**", "").replace("__", "")


def is_refusal(text: str) -> bool:
    return _letters(REFUSAL) in _letters(text)


def _letters(text: str) -> str:
    return fold(text)


class _Judge:
    """Checks one generated sentence at a time against the evidence blocks it cites, and keeps the tally."""

    def __init__(self, guard: Guard, terms: QuestionTerms, hits: Sequence[Hit]) -> None:
        self.guard = guard
        self.hits = list(hits)
        self.terms = terms
        self.verdicts: list[SentenceVerdict] = []  # every generated sentence, shown or not
        self.shown: list[str] = []  # the answer's sentences, with their renumbered markers
        self.citations: list[Citation] = []
        self.renumbered: dict[tuple[str, str], int] = {}  # (chunk id, quote) -> the answer's marker
        self.verify_s = 0.0
        self._seen_claims: set[str] = set()
        self._waiting: list[str] = []  # sentences with no marker, waiting for the next that has one

    def afresh(self) -> "_Judge":
        """A judge for the same question and evidence that has judged nothing yet (its time spent kept)."""
        judge = _Judge(self.guard, self.terms, self.hits)
        judge.verify_s = self.verify_s
        return judge

    def take(self, raw_sentence: str) -> list[SentenceVerdict]:
        """The verdicts this sentence of the reply brings, in the reply's order. A sentence with no marker waits
        for the next that has one, and is checked against the blocks that one cites: a model that cites once at
        the end of a paragraph ('148 children were discharged. A similar number came into care. [1]') had all
        but the last sentence dropped as uncited. Checked so and not supported, it is judged as written, uncited."""
        _, claim, markers = _read(raw_sentence)
        if not markers and any(ch.isalnum() for ch in claim) and not is_refusal(claim) \
                and not gives_instructions(claim):
            self._waiting.append(raw_sentence)
            return []
        verdicts = []
        for waiting in self._waiting if markers else ():
            borrowed = self._judged(f"{raw_sentence_without_end(waiting)} {marker_text(markers)}.")
            verdicts.append(self._record(borrowed) if borrowed is not None and borrowed.shown
                            else self.judge(waiting))
        self._waiting = []
        verdicts.append(self.judge(raw_sentence))
        return [verdict for verdict in verdicts if verdict is not None]

    def flush(self) -> list[SentenceVerdict]:
        """The verdicts of sentences still waiting for a marker when the reply ended: uncited."""
        verdicts = [self.judge(waiting) for waiting in self._waiting]
        self._waiting = []
        return [verdict for verdict in verdicts if verdict is not None]

    def judge(self, raw_sentence: str) -> SentenceVerdict | None:
        verdict = self._judged(raw_sentence)
        return None if verdict is None else self._record(verdict)

    def _judged(self, raw_sentence: str) -> SentenceVerdict | None:
        """One sentence's verdict, not yet recorded; a shown one's citations are added to the answer's."""
        sentence, claim, markers = _read(raw_sentence)
        if not any(ch.isalnum() for ch in claim):
            return None
        if is_refusal(claim):
            return SentenceVerdict(sentence, markers, False, False, 0.0, MODEL_DECLINED)
        if gives_instructions(claim):
            # Checked before the guard: struck through as unsupported, it would still reach the member. The reason
            # is the instruction reason alone, which the app leaves out of the chat whatever the guard would say.
            return SentenceVerdict(claim, (), False, False, 0.0, INSTRUCTION_REASON)
        valid = tuple(m for m in markers if 1 <= m <= len(self.hits))
        for marker in markers:
            if marker not in valid:
                log.warning("Removed citation marker [%d] from a generated sentence: there is no evidence block %d "
                            "(the prompt had %d).", marker, marker, len(self.hits))
        cited = [self.hits[m - 1] for m in valid]
        started = time.perf_counter()
        # The sentence with its markers: a part of it before its own markers is checked against those blocks.
        verdict = self.guard.check(sentence, cited, {m: self.hits[m - 1] for m in valid}, evidence=self.hits)
        reason = verdict.reason
        shown = verdict.supported
        if shown and gives_instructions(f"{claim} {_surrounding_sentences(verdict)}"):
            shown, reason = False, INSTRUCTION_REASON
        elif shown and not self._addresses_question(f"{claim} {_surrounding_sentences(verdict, before=1)}"):
            shown, reason = False, OFF_QUESTION
        elif shown and _letters(claim) in self._seen_claims:
            shown, reason = False, REPEATED
        if not valid and markers:
            reason = no_such_block(marker_text(markers))
        if not shown:
            # Its markers would be evidence-block numbers, not the answer's: shown beside the answer's own [n], they
            # would point at the wrong source. The reason keeps which blocks it cited.
            self.verify_s += time.perf_counter() - started
            if valid and reason != INSTRUCTION_REASON:  # the app matches the instruction reason exactly
                reason = f"{reason} (it cited evidence block {', '.join(map(str, valid))})"
            return SentenceVerdict(claim, (), verdict.supported, False, verdict.score, reason)
        self._seen_claims.add(_letters(claim))
        answer_markers = []
        for hit, quote in self._sources(claim, cited, verdict):
            key = (hit.chunk_id, normalise_space(quote))
            if key not in self.renumbered:
                self.renumbered[key] = len(self.citations) + 1
                self.citations.append(Citation.from_hit(self.renumbered[key], hit, quote))
            if self.renumbered[key] not in answer_markers:
                answer_markers.append(self.renumbered[key])
        self.verify_s += time.perf_counter() - started
        text = f"{claim} {marker_text(answer_markers)}"
        self.shown.append(text)
        return SentenceVerdict(text, tuple(answer_markers), True, True, verdict.score, reason)

    def _sources(self, claim: str, cited: Sequence[Hit], verdict: Verdict) -> list[tuple[Hit, str]]:
        """The cited blocks that support this sentence, each with the verbatim quote that does: the guard's quote
        for the block it found it in, widened to hold every figure of the sentence that the block gives. Another
        cited block is kept only when it is supported on its own or gives a figure of the sentence that the others
        kept do not ('RESOLVED that the strategy be endorsed' cited beside the figure's block supports nothing)."""
        distinct = list({hit.chunk_id: hit for hit in cited}.values())
        if verdict.quote_hit is None or not verdict.quote_span:
            chosen = [(hit, self.guard.check(claim, [hit])) for hit in distinct]
        else:
            chosen = [(verdict.quote_hit, verdict)]
            for hit in distinct:
                if hit.chunk_id == verdict.quote_hit.chunk_id:
                    continue
                alone = self.guard.check(claim, [hit])
                held = " ".join(h.text for h, _ in chosen)
                if alone.supported or _figures_missing(claim, held) - _figures_missing(claim, hit.text):
                    chosen.append((hit, alone))
            # The blocks kept must support the sentence together, as all it cited did: one that gives a name or a
            # date, not a figure, is put back rather than dropped.
            for hit in distinct:
                if self.guard.check(claim, [h for h, _ in chosen]).supported:
                    break
                if all(hit.chunk_id != h.chunk_id for h, _ in chosen):
                    chosen.append((hit, self.guard.check(claim, [hit])))
            chosen.sort(key=lambda pair: distinct.index(pair[0]))
        sources = []
        for hit, judged in chosen:
            span = judged.quote_span if judged.quote_hit is hit else None
            sources.append((hit, _quote_holding_figures(hit, span, claim)))
        return sources

    def unfinished(self, raw_sentence: str) -> SentenceVerdict | None:
        """The last sentence of a reply cut off at a length limit, when it has no end: never shown, since words
        still to come could have changed what it says ('... should not' before 'close')."""
        _, claim, _ = _read(raw_sentence)
        if not any(ch.isalnum() for ch in claim):
            return None
        return self._record(SentenceVerdict(claim, (), False, False, 0.0, REPLY_CUT_OFF))

    def _addresses_question(self, text: str) -> bool:
        return not self.terms.total or self.terms.coverage(text) > 0

    def _record(self, verdict: SentenceVerdict) -> SentenceVerdict:
        self.verdicts.append(verdict)
        return verdict


def _read(raw_sentence: str) -> tuple[str, str, tuple[int, ...]]:
    """A generated sentence without its bullet and bold, its claim (the words without markers), and its markers."""
    sentence = without_emphasis(strip_bullet(raw_sentence))
    claim, markers = strip_markers(sentence)
    return sentence, claim, markers


def raw_sentence_without_end(sentence: str) -> str:
    """The sentence without its closing full stop, question or exclamation mark, for markers to be put before it."""
    return sentence.rstrip().rstrip(".!?").rstrip()


def _is_finished(sentence: str) -> bool:
    """Whether a sentence ends as sentences do: a full stop, question or exclamation mark (or a colon), perhaps
    before a closing quote or bracket and its citation markers."""
    claim, _ = strip_markers(sentence)
    return claim.rstrip(" \u00a0\"'\u201d\u2019)").endswith((".", "!", "?", ":", "\u2026"))


def _surrounding_sentences(verdict, before: int = 0) -> str:
    """The whole sentences of the minutes that a verdict's quote lies in (a verbatim quote may be a fragment),
    and `before` sentences ahead of them, which often carry the subject a follow-on sentence leaves out."""
    if not verdict.quote_hit or not verdict.quote_span:
        return ""
    text, span = verdict.quote_hit.text, verdict.quote_span
    spans = sentence_spans(text)
    inside = [i for i, s in enumerate(spans) if s.start < span.end and span.start < s.end]
    if not inside:
        return ""
    return " ".join(s.of(text) for s in spans[max(0, inside[0] - before):inside[-1] + 1])


def _figures_missing(claim: str, text: str) -> set[str]:
    """The figures of the claim (digits only, '28.5%' as '28.5') that the text does not give."""
    given = {f.rstrip("%") for f in figures(text)}
    return {f.rstrip("%") for f in figures(claim) if any(ch.isdigit() for ch in f)} - given


def _quote_holding_figures(hit: Hit, span: Span | None, claim: str) -> str:
    """A verbatim quote of the block for a sentence resting on it: the guard's quote (or the block's sentence
    closest to it), run on to the whole sentences of the block that hold the claim's figures the quote lacks, so
    that every figure the reader sees has its source words beside it."""
    text = hit.text
    if span is None:
        return text.strip()
    spans = sentence_spans(text)
    start, end = span.start, span.end
    wanted = _figures_missing(claim, text[start:end]) - _figures_missing(claim, text)
    for sentence in spans:
        if not wanted:
            break
        holds = wanted - _figures_missing(claim, sentence.of(text))
        if holds:
            start, end = min(start, sentence.start), max(end, sentence.end)
            wanted -= holds
    return text[start:end].strip() or text.strip()


# What to do about a failed request, by the HTTP status an OpenAI-compatible server answered with.
_RATE_LIMIT_HINT = "The server is rate-limiting: wait and ask again"
_SERVER_FAULT_HINT = ("The server failed or is overloaded (HTTP {status}): ask again in a while, and see the "
                      "server's own log if it keeps failing")
# A server that began its reply (HTTP 200) and then sent an error in its stream (`data: {"error": ...}`, as vLLM and
# OpenAI do when generation fails part-way): it was reached, so the address is not what to check.
_STREAM_ERROR_HINT = ("The server was reached but reported an error in its reply: ask again in a while, and see the "
                      "server's own log if it keeps failing")
_TOO_LONG_HINT = ("The question and its evidence are longer than the model's context window: use a model with a "
                  "longer context, or start the server with a larger one (llama.cpp's --ctx-size, Ollama's num_ctx)")
# The words servers use for a prompt that does not fit: OpenAI and vLLM, llama.cpp, Ollama and TGI.
_CONTEXT_WORDS = ("context length", "context window", "context_length_exceeded", "exceeds the available context",
                  "too many tokens", "maximum context")
_LOCAL_HINT = "Ask again; if it keeps failing, give `--llm local:PATH` another model"
# As much of a server's own explanation as an error message carries (a stack trace or a page would drown it).
MAX_EXPLANATION_CHARS = 300


def server_explanation(exc: BaseException) -> str:
    """What the server said of its refusal, from the error's parsed body: OpenAI's `error.message` (the openai client
    keeps the `error` object as the body), FastAPI's `detail` (`transformers serve`, vLLM), or a plain text; shortened
    to one line. '' when it said nothing readable (an HTML page)."""
    body = getattr(exc, "body", None)
    said = ""
    if isinstance(body, dict):
        error = body.get("error")
        for value in ((error.get("message") if isinstance(error, dict) else error), body.get("message"),
                      body.get("detail")):
            if isinstance(value, list):  # FastAPI's validation errors: [{"loc": [...], "msg": "..."}]
                value = "; ".join(str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in value)
            if isinstance(value, str) and value.strip():
                said = value
                break
    elif isinstance(body, str) and not body.lstrip().startswith("<"):
        said = body
    said = normalise_space(said)
    return said if len(said) <= MAX_EXPLANATION_CHARS else said[:MAX_EXPLANATION_CHARS - 1].rstrip() + "\u2026"


def server_answered(exc: BaseException) -> bool:
    """Whether the error is the server's answer (an HTTP status, or an error in its reply's stream), whose words, in
    the openai client's message too, are the server's: they may echo what it was sent."""
    return getattr(exc, "status_code", None) is not None or getattr(exc, "body", None) is not None


def server_error_named(exc: BaseException) -> str:
    """A server's error without its words: its kind, its HTTP status, its error's `type` and `code` where they are
    names ('BadRequestError, HTTP 400, invalid_request_error, invalid_prompt'), and the request's id, by which the
    server's own log finds it."""
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, dict) else None  # openai keeps the `error` object as the body
    named = [getattr(error, "get", lambda _: None)(key) for key in ("type", "code")]
    status, request_id = getattr(exc, "status_code", None), getattr(exc, "request_id", None)
    parts = [type(exc).__name__, f"HTTP {status}" if status else "",
             *(name for name in named if isinstance(name, str) and _is_a_name(name)),
             f"request {request_id}" if isinstance(request_id, str) and _is_a_name(request_id) else ""]
    return ", ".join(part for part in dict.fromkeys(parts) if part)


def _is_a_name(text: str) -> bool:
    """Whether a field holds a name ('invalid_request_error', 'req_abc123'), not words (which may quote a request)."""
    return 0 < len(text) <= 80 and all(ch.isascii() and (ch.isalnum() or ch in "_-.:") for ch in text)


# HTTP statuses that say the request ran out of time: the server's own 408, and a proxy's or gateway's (504, and
# Cloudflare's 524) in front of a model still writing.
TIMEOUT_STATUSES = (408, 504, 524)


def timed_out(exc: BaseException) -> bool:
    """Whether a request failed for time: openai's, httpx's, the built-in and our own timeouts, and a server's or a
    proxy's timeout status."""
    return (any("Timeout" in kind.__name__ for kind in type(exc).__mro__)
            or getattr(exc, "status_code", None) in TIMEOUT_STATUSES)


def failure_hint(exc: BaseException, spec: str = "openai:", settings: Settings | None = None) -> str:
    """How to fix what made a language model request fail, as far as the exception, the backend (`spec`, as in
    `openai:MODEL` or `local:PATH`) and the settings (which variable gave the address, whether a key is set) tell."""
    status = getattr(exc, "status_code", None)
    variable, address = model_endpoint(settings)
    said = server_explanation(exc)
    models = f"GET {address.rstrip('/')}/models" if address else "GET /v1/models"
    if status in (401, 403):
        fix = ("set it to the key this server takes" if settings is not None and not settings.openai_api_key
               else "check OPENAI_API_KEY")
        return f"The server refused the request ({key_refused(settings)}): {fix}"
    if status == 404:
        if "model" in f"{said} {exc}".lower():
            return (f"The server does not know that model: check the model name after `openai:` ({models} lists "
                    "the models it serves)")
        # A 404 that names no model is the path: most often an address without its /v1.
        return (f"The server has no chat endpoint at that address: check that {variable} "
                f"({address or 'not set'}) ends in /v1, as in {variable}=http://localhost:11434/v1, and the "
                "model name after `openai:`")
    if status == 429:
        wait = _retry_after(exc)
        return f"{_RATE_LIMIT_HINT} (it asked for {wait})" if wait else _RATE_LIMIT_HINT
    if timed_out(exc):
        return ("The server did not answer in time: check that it is running and not overloaded, then ask again "
                f"(a reply is given up after {REQUEST_TIMEOUT_S} seconds without any of its words, or after "
                f"{REPLY_DEADLINE_S} seconds in all)")
    if any(words in f"{exc} {said}".lower() for words in _CONTEXT_WORDS):  # mostly a 400; some say 413 or 500
        return _TOO_LONG_HINT
    if isinstance(status, int) and status >= 500:
        return _SERVER_FAULT_HINT.format(status=status)
    if isinstance(status, int) and 400 <= status < 500:
        # The server was reached and refused the request itself: with one model pinned (`transformers serve`,
        # llama.cpp), another model's name is refused so.
        return (f"The server refused the request (HTTP {status}): check the model name after `openai:` against the "
                f"models it serves ({models} lists them)")
    where = f"{variable} ({address})" if address else f"{variable} (OpenAI itself when it is not set)"
    # A reply that parses as no chat chunks at all (langchain-core's words), or as no JSON or text: a web page,
    # another API, another protocol.
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)) or "No generation chunks" in str(exc):
        return f"The server at {where} did not answer as an OpenAI-compatible chat endpoint: check the address"
    if spec.partition(":")[0] == "local":
        return _LOCAL_HINT
    if said and status is None:
        return _STREAM_ERROR_HINT
    return f"Check that {where} points at a running server that this machine can reach"


def _retry_after(exc: BaseException) -> str:
    """How long a rate-limiting server asked to be left (its Retry-After header, in seconds), as words; '' when it
    did not say, or said it as a date."""
    response = getattr(exc, "response", None)
    value = (getattr(response, "headers", None) or {}).get("retry-after", "").strip()
    return f"{value} second{'' if value == '1' else 's'}" if value.isdigit() else ""


class GeneratedAnswer:
    """A language model's answer to one question, written from numbered evidence blocks and judged sentence by
    sentence as it streams. Iterate `write()` for the verdicts; afterwards `shown`, `citations`, `verdicts`,
    `verify_seconds` and `raw_text` hold the outcome."""

    def __init__(self, chat_model, guard: Guard, terms: QuestionTerms, hits: Sequence[Hit], model_name: str,
                 settings: Settings | None = None) -> None:
        self.chat_model = chat_model
        self._settings = settings  # for the hints: which variable gave the address, whether a key is set
        self._api_key = settings.openai_api_key if settings is not None else ""  # never shown: errors may echo it
        self.hits = list(hits)
        self.model_name = model_name
        self._judge = _Judge(guard, terms, self.hits)
        self._cutter = SentenceCutter()
        self.stopped = False  # whether the reply was left unread because the answer was stopped

    def write(self, question: str, stopped: Callable[[], bool] = lambda: False) -> Iterator[SentenceVerdict]:
        """The verdicts, sentence by sentence. `stopped` is asked as each piece of the reply arrives: once it says
        so (the member cleared the chat or left), the reply is read no further, its connection is closed and nothing
        more is judged, so that no model call outlives the answer by more than a piece."""
        if stopped():  # stopped while the evidence was found and read: the model is never asked
            self.stopped = True
            return
        chain = answer_prompt() | self.chat_model
        # Whether the reply may have stopped mid-sentence: cut at a length limit (its own or ours), by a content
        # filter, or by a stream that just ended. Only a reply whose server says it ended on its own is whole.
        cut_off = False
        finish_reason = None  # the last one the stream gave: a usage-only chunk may follow the one that says "stop"
        failure: AssistantError | None = None
        watching = REPLY_STOPPED.set(stopped)
        try:
            with closing(chain.stream(prompt_inputs(question, self.hits))) as reply:
                for chunk in reply:
                    if stopped():  # closing the reply closes its connection: the server stops writing
                        self.stopped = True
                        return
                    finish_reason = chunk.response_metadata.get("finish_reason") or finish_reason
                    # Cut to what is left of the budget before any of it is judged: a server or a proxy that sends the
                    # whole reply as one chunk would otherwise have every sentence of it judged, however long.
                    room = MAX_REPLY_CHARS - len(self._cutter.text)
                    text = chunk.text[:max(room, 0)]
                    restarts = self._cutter.restarts
                    sentences = self._cutter.feed(text)
                    if self._cutter.restarts != restarts:
                        # What was judged so far was a reasoning model's working: none of it is the answer, nor
                        # are the sentences still waiting for a marker.
                        self._judge = self._judge.afresh()
                    for sentence in sentences:
                        yield from self._judge.take(sentence)
                    if len(chunk.text) > room:
                        log.warning("Stopped reading the language model's reply after %d characters.", MAX_REPLY_CHARS)
                        cut_off = True
                        break
                else:
                    cut_off = finish_reason not in _ENDED_ON_ITS_OWN
                    if cut_off:
                        log.warning("The language model's reply ended %s: its last sentence may be unfinished.",
                                    f"with finish reason {finish_reason!r}" if finish_reason else
                                    "without saying why (no finish reason)")
        except Exception as exc:
            if stopped():  # the reply was given up because the answer was stopped: no failure of the model's
                self.stopped = True
                return
            failure = self._failure(exc)
            cut_off = True  # the connection dropped: what it was writing may be unfinished
        finally:
            try:
                REPLY_STOPPED.reset(watching)
            except ValueError:  # closed from another thread's context, which never saw it set
                pass
        if stopped():  # during the reply's last piece, or before a local model began: nothing more is judged
            self.stopped = True
            return
        # The sentence the cutter still holds is judged too, when it ended before the reply did: a dropped
        # connection leaves a whole sentence there as often as half of one.
        rest = self._cutter.finish()
        for i, sentence in enumerate(rest):
            if cut_off and i == len(rest) - 1 and not _is_finished(sentence):
                yield from self._judge.flush()
                if (verdict := self._judge.unfinished(sentence)) is not None:
                    yield verdict
            else:
                yield from self._judge.take(sentence)
        yield from self._judge.flush()
        # Its words may quote the question, or name a child: an audited answer's record keeps them, in the audit log.
        log.debug("The model's reply for %s: %d characters (its words are kept in an audited answer's record in the "
                  "audit log)", question_in_log(question), len(self._cutter.text))
        if failure is not None:
            raise failure

    def _failure(self, exc: Exception) -> AssistantError:
        """What a failed request tells the user. The server's own words may echo the API key ("Incorrect API key
        provided: sk-..."): never passed on."""
        if isinstance(exc, AssistantError):
            exc.message, exc.hint = redact(exc.message, self._api_key), redact(exc.hint, self._api_key)
            exc.args = (exc.message,)
            return exc
        # The endpoint or the model failed: say which, not a traceback. A reply given up for time is told apart: the
        # reader's answer, ready before the model was asked, is shown in its place.
        kind = ModelTimeout if timed_out(exc) else ModelError
        said = server_explanation(exc)  # the openai client's message may be only "Error code: 400"
        what = f"{exc} - {said}" if said and said not in str(exc) else str(exc)
        hint = failure_hint(exc, self.model_name, self._settings)
        failure = kind(redact(f"The language model {self.model_name!r} failed: {what}", self._api_key),
                       redact(f"{hint}; `--llm extractive` answers without a model.", self._api_key))
        if server_answered(exc):
            failure.logged = redact(f"The language model {self.model_name!r} failed: {server_error_named(exc)} (what "
                                    "the server said is kept in the audit log, not here)", self._api_key)
        failure.__cause__ = exc
        return failure

    @property
    def shown(self) -> list[str]:
        return self._judge.shown

    @property
    def citations(self) -> list[Citation]:
        return self._judge.citations

    @property
    def verdicts(self) -> list[SentenceVerdict]:
        return self._judge.verdicts

    @property
    def verify_seconds(self) -> float:
        return self._judge.verify_s

    @property
    def raw_text(self) -> str:
        return self._cutter.text
