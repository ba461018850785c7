"""Sentence spans in minute text: one splitter shared by chunking, answering and the guard."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations common in minutes after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "cllr", "councillor", "mr", "mrs", "ms", "dr", "prof", "st", "no", "nos", "e.g", "i.e", "eg", "ie",
    "etc", "vs", "approx", "para", "paras", "ref", "inc", "ltd", "dept", "min", "max", "cf", "al",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "p", "pp",
}
_WS = "\u00a0\u2002\u2003\u2009\u202f "
_END = re.compile(r"[.!?]+[\"'\u2019\u201d)]*(?=[\s\u00a0]+)")
_ENUMERATOR_ONLY = re.compile(r"[\s\u00a0]*\(?(?:\d{1,3}|[ivxlc]{1,5}|[a-z])[.)]+[\s\u00a0]*$", re.I)
_BULLET = re.compile(r"^[\s\u00a0]*(?:[\u00b7\u2022\u25aa\u25cf\u2013\u2014*-]|\(?[ivxlc]+\)|\(?[0-9]{1,2}[.)]|\(?[a-h]\))[\s\u00a0]+", re.I)


@dataclass(frozen=True)
class Span:
    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start:self.end]


def normalise_space(text: str) -> str:
    """All runs of white space (non-breaking spaces included) to one space, trimmed."""
    return " ".join(text.replace("\u00a0", " ").split())


def line_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Non-blank lines (NBSP-only lines count as blank), trimmed of surrounding white space."""
    end = len(text) if end is None else end
    spans = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl == -1 else nl
        span = _trim(text, pos, stop)
        if span:
            spans.append(span)
        pos = stop + 1
    return spans


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences within [start, end): split at lines, then at sentence-ending punctuation."""
    spans: list[Span] = []
    for line in line_spans(text, start, end):
        spans.extend(_split_line(text, line))
    return spans


def _split_line(text: str, line: Span) -> list[Span]:
    spans = []
    begin = line.start
    for match in _END.finditer(text, line.start, line.end):
        stop = match.end()
        if (
            _is_abbreviation(text, begin, match.start())
            or _ENUMERATOR_ONLY.match(text, begin, stop)
            or not _next_starts_sentence(text, stop, line.end)
        ):
            continue
        span = _trim(text, begin, stop)
        if span:
            spans.append(span)
        begin = stop
    tail = _trim(text, begin, line.end)
    if tail:
        spans.append(tail)
    return spans


def _is_abbreviation(text: str, begin: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"([A-Za-z.]+)$", text[begin:dot])
    if not word:
        return bool(re.search(r"\d$", text[begin:dot])) and dot + 1 < len(text) and text[dot + 1].isdigit()
    token = word.group(1).lower().rstrip(".")
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _next_starts_sentence(text: str, pos: int, end: int) -> bool:
    while pos < end and text[pos] in _WS:
        pos += 1
    if pos >= end:
        return True
    ch = text[pos]
    return ch.isupper() or ch.isdigit() or ch in "(\"'\u2018\u201c\u00b7\u2022-"


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and (text[start].isspace() or text[start] == "\u00a0"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] == "\u00a0"):
        end -= 1
    return Span(start, end) if end > start else None


def strip_bullet(sentence: str) -> str:
    """The sentence without a leading bullet or enumerator, white space normalised."""
    return normalise_space(_BULLET.sub("", sentence, count=1))
