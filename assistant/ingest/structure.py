"""The parts of one item's minutes: agenda text, discussion, resolutions, actions, documents.

Blocks are character spans into the verbatim text, so every chunk cut from them is a verbatim
slice that quotes can be checked against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.records import ChunkKind
from assistant.text import Span, line_spans, wrapped_lines

_MINUTES = re.compile(r"^minutes\s*:?\s*$", re.I)
_SUPPORTING = re.compile(r"^(supporting documents|additional documents|background papers)\s*:?-?\s*$", re.I)
_BOILERPLATE = re.compile(r"^(agenda item|local democracy|minutes\s*:?|additional documents\s*:?-?)\s*$", re.I)
_RESOLUTION = re.compile(
    r"^(resolved|recommended|recommendations?|agreed|decided|decision|resolution)\b\s*(that\b)?\s*[:\-\u2013]*",
    re.I,
)
_OPEN_END = re.compile(r"(:|-|\u2013|\bthat|\bthat:)\s*$", re.I)
_ACTION = re.compile(r"^actions?\s*:", re.I)
# A document in an item's list: 'Appendix 1 ... PDF 412 KB', 'Report pdf icon'.
DOCUMENT_ENTRY = re.compile(r"\b(?:pdf|docx?|xlsx?|pptx?)\b[^.]{0,40}\b\d+(?:\.\d+)?\s*(?:kb|mb)\b|\bpdf icon\b", re.I)
# A heading that starts the next part of the minutes: Markdown's, or a numbered title ('5. Children Missing Education').
_HEADING = re.compile(r"^(?:#{1,6}\s|\d{1,3}[.)]\s+[A-Z])")
_ENUMERATED = re.compile(r"^[\s\u00a0]*(\(?[ivx]{1,5}\)|\(?\d{1,2}[.)]|\(?[a-h]\)|that\b|[\u00b7\u2022-])", re.I)


@dataclass(frozen=True)
class Block:
    kind: ChunkKind
    lines: tuple[Span, ...]

    @property
    def span(self) -> Span:
        return Span(self.lines[0].start, self.lines[-1].end)


def parse_blocks(text: str) -> list[Block]:
    """Split an item's text into blocks of one kind each, in reading order. A sentence written over several lines
    is one line here, as it is one sentence (text.wrapped_lines): its second line starting 'decision.' or 'agreed'
    must not open a block of its own and cut the sentence."""
    lines = wrapped_lines(text, line_spans(text))
    has_minutes_marker = any(_MINUTES.match(s.of(text)) for s in lines)
    section: ChunkKind = "agenda" if has_minutes_marker else "discussion"
    labelled: list[tuple[ChunkKind, Span]] = []
    section_before: ChunkKind = section
    in_resolution = False
    heading_open = False  # 'RESOLVED that:' owns the line after it even when it is not numbered
    for span in lines:
        line = span.of(text).replace("\u00a0", " ").strip()
        if _MINUTES.match(line):
            section, in_resolution = "discussion", False
            continue
        if _SUPPORTING.match(line):
            section_before, section, in_resolution = section, "supporting", False
        elif section == "supporting" and _ends_document_list(line):
            section = section_before
        if _BOILERPLATE.match(line):
            continue
        if section == "supporting":
            labelled.append(("supporting", span))
            continue
        if _ACTION.match(line):
            in_resolution = False
            labelled.append(("action", span))
            continue
        if _RESOLUTION.match(line):
            in_resolution = True
            heading_open = bool(_OPEN_END.search(line))
            labelled.append(("resolution", span))
            continue
        if in_resolution and (heading_open or _ENUMERATED.match(line)):
            heading_open = bool(_OPEN_END.search(line))
            labelled.append(("resolution", span))
            continue
        in_resolution = heading_open = False
        if labelled and labelled[-1][0] == "action" and _ENUMERATED.match(line):
            labelled.append(("action", span))
            continue
        labelled.append((section, span))
    return _group(labelled)


def _ends_document_list(line: str) -> bool:
    """Pages list the item's documents and then go on with the minutes (or the decision) without a
    'Minutes:' line: a heading, or a line that reads as a sentence, ends the list. A list is never indexed, so
    when in doubt the list ends: "None." ends nothing, but "Numbers rose to 412." and "5. Children Missing
    Education" do, and so does a long line cut short without its full stop."""
    if DOCUMENT_ENTRY.search(line):
        return False
    if _RESOLUTION.match(line) or _ACTION.match(line) or _HEADING.match(line):
        return True
    words = len(line.split())
    return words >= 8 or (words >= 3 and line.rstrip()[-1:] in ".!?:;")


def _group(labelled: list[tuple[ChunkKind, Span]]) -> list[Block]:
    blocks: list[Block] = []
    for kind, span in labelled:
        if blocks and blocks[-1].kind == kind:
            blocks[-1] = Block(kind, blocks[-1].lines + (span,))
        else:
            blocks.append(Block(kind, (span,)))
    return blocks
