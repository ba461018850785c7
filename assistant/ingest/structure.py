"""The parts of one item's minutes: agenda text, discussion, resolutions, actions, documents; and the agenda items
of a whole meeting's minutes, found at their numbered headings.

Blocks and items are character spans into the verbatim text, so every chunk cut from them is a verbatim
slice that quotes can be checked against.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, replace
from typing import Callable

from assistant.ingest.readers.common import (AFTER_NOT_PUBLIC_HEADING, GENERIC_HEADINGS, ITEM_ANCHOR, NOT_PUBLIC_LINE,
                                             UNTOLD_NOT_PUBLIC_HEADING, document_marked_not_public, first_line_title,
                                             item_number_slug, line_cites_exempt_paragraph, line_heads_private_part,
                                             line_marked_not_public, title_marked_not_public)
from assistant.records import ChunkKind, MinuteItem
from assistant.text import (Span, ends_clause, line_goes_on, line_spans, normalise_space, strip_bullet,
                            wrapped_lines)

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
# A title's first letter: a capital, Welsh ones too ('4. Ôl-ofal / Leaving Care').
_TITLE_CAPITAL = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0174\u0176\u0178\u1e80\u1e82\u1e84\u1ef2"
# A heading that starts the next part of the minutes: Markdown's, or a numbered title ('5. Children Missing Education').
_HEADING = re.compile(rf"^(?:#{{1,6}}\s|\d{{1,3}}[.)]\s+[{_TITLE_CAPITAL}])")
_ENUMERATED = re.compile(r"^[\s\u00a0]*(\(?[ivx]{1,5}\)|\(?\d{1,2}[.)]|\(?[a-h]\)|that\b|[\u00b7\u2022-])", re.I)
# A numbered agenda item's heading as minutes print it: '4. Children's Social Care', '4 Children's Social Care',
# '4a) ...', '4: ...', '4 - ...', 'Item 4: ...', 'Agenda item 4 - ...', 'Minute 46 ...', or a committee's own minute
# reference: 'CSC/23/04 ...', 'Minute 46/23 ...' ('Minute No. 46/23'), 'CS46. ...' (a few capitals, the number
# against them, and a full stop: 'PRIORITY 1: ...' is a report's heading, and 'KS2: Reading', 'NI117: ...' are the
# key stages and indicators a performance report heads its paragraphs with). Its title starts with a capital, a
# figure, a quote or a bracket ('Ô' and 'Ŵ' are capitals too: '4. Ôl-ofal / Leaving Care' had been read into item 3);
# '4.1 ...' is a part of item 4, not an item.
_ITEM_HEADING = re.compile(
    r"(?:(?i:agenda\s+)?(?i:item)\s+(?P<item>\d{1,3}[a-z]?)\s*[.:)\u2013-]?"
    r"|(?i:minute)(?:\s+(?i:no)\.?)?\s+(?P<minute>\d{1,4})(?:/(?P<minute_of>\d{2,4}))?\s*[.:)\u2013-]?"
    r"|(?P<number>\d{1,3}[a-z]?)(?P<mark>[.):]|\s+[-\u2013])?"
    r"|(?P<reference>(?P<prefix>[A-Z]{2,8})/(?P<year>\d{2,4})/(?P<serial>\d{1,4}))"
    r"|(?P<coded>(?P<code>[A-Z]{2,5})(?P<code_number>\d{1,3}))\.)"
    rf"\s+(?P<title>[{_TITLE_CAPITAL}0-9\u2018\u201c'\"(].*)"
)
# Between a table row's cells, as the Word and HTML readers join them: a figure stays on one line with its label
# ("Referrals | 1,234"), and a chunk can tell a table's rows from prose.
CELL_SEPARATOR = " | "
# A heading names an item in a few words and ends no sentence: a numbered line longer than this, or ending as a
# sentence, a clause or a list's lead-in does ('... as follows:-'), is a numbered paragraph or a list item.
MAX_HEADING_WORDS = 16
_NOT_A_HEADING_END = ".,;:-\u2013"
_SENTENCE_END = ".,;"
# A whole meeting's minutes are split into items only at a run of at least this many numbered headings, in increasing
# order: two numbered lines are as likely a short list as two items.
MIN_ITEM_HEADINGS = 3


@dataclass(frozen=True)
class Block:
    kind: ChunkKind
    lines: tuple[Span, ...]

    @property
    def span(self) -> Span:
        return Span(self.lines[0].start, self.lines[-1].end)


@dataclass(frozen=True)
class ItemHeading:
    """A numbered agenda item's heading in a whole meeting's minutes."""

    number: str  # as printed, without its punctuation: '4', '4a', 'CSC/23/04', '46/23', 'CS46'
    line: Span
    # how it is numbered ('number', '.'), ('item', ''), ('reference', 'CSC'), ('coded', 'CS'): one form a document
    form: tuple[str, str]
    order: tuple[int, str]  # where the number comes in the agenda


def numbered_heading(line: str) -> ItemHeading | None:
    """The line as an agenda item's heading ('4. Children's Social Care'), or None when it is not one: not numbered,
    or a sentence or a long numbered paragraph rather than a title. Its span is the line's own, from 0."""
    return _as_heading(_numbered(line))


def _as_heading(numbered: tuple[ItemHeading, str] | None) -> ItemHeading | None:
    """A numbered line (_numbered) as an item's heading, when its words read as a title (numbered_heading)."""
    if numbered is None:
        return None
    heading, title = numbered
    if title[0].isdigit() or title[-1] in _NOT_A_HEADING_END or len(title.split()) > MAX_HEADING_WORDS \
            or _decides(title):
        return None
    return heading


def _decides(title: str) -> bool:
    """Does a numbered line's text open as a decision does ('That the report be noted'), a resolution's entry and
    never an item's title?"""
    return title.split(maxsplit=1)[0].lower() == "that"


def _numbered(line: str) -> tuple[ItemHeading, str] | None:
    """The line's number as an item heading's, and the words after it, whatever they are ('5 2023-24 Private
    Fostering Annual Report' too, which numbered_heading passes over as a figure may open a sentence)."""
    stripped = line.strip()
    match = _ITEM_HEADING.fullmatch(stripped)
    if match is None:
        return None
    span, title = Span(0, len(stripped)), match.group("title").rstrip()
    if match.group("reference"):
        return ItemHeading(match.group("reference"), span, ("reference", match.group("prefix")),
                           (int(match.group("year")), match.group("serial").zfill(4))), title
    if match.group("minute_of"):  # 'Minute 46/23': the minute of its year, or the year's minute (23/46), alike
        return ItemHeading(f"{match.group('minute')}/{match.group('minute_of')}", span, ("reference", "minute"),
                           (int(match.group("minute")), match.group("minute_of").zfill(4))), title
    if match.group("minute"):
        return ItemHeading(match.group("minute"), span, ("minute", ""), (int(match.group("minute")), "")), title
    if match.group("coded"):
        return ItemHeading(match.group("code") + match.group("code_number"), span, ("coded", match.group("code")),
                           (int(match.group("code_number")), "")), title
    # '4 - Title' and '4 – Title' are one form.
    mark = (match.group("mark") or "").strip().replace("\u2013", "-")
    if match.group("item"):
        number, form = match.group("item"), ("item", "")
    else:
        number, form = match.group("number"), ("number", mark)
    digits = number.rstrip("abcdefghijklmnopqrstuvwxyz")
    return ItemHeading(number, span, form, (int(digits), number[len(digits):])), title


def item_headings(text: str) -> list[ItemHeading]:
    """The headings at which a whole meeting's minutes divide into agenda items: the longest run of numbered headings
    of one form in increasing order, when it has MIN_ITEM_HEADINGS or more; else none. A numbered line next to another
    of its form is a list's, not a heading (an agenda printed as a list before the minutes, numbered resolutions), and
    so is one of a list numbered inside an item (see _outermost)."""
    lines = line_spans(text)
    numbered = [_numbered(span.of(text)) for span in lines]
    found: list[tuple[int, ItemHeading]] = []
    for index, span in enumerate(lines):
        if (heading := _as_heading(numbered[index])) is not None:
            found.append((index, replace(heading, line=span)))
    forms = {(index, heading.form) for index, heading in found}
    headings = [heading for index, heading in found
                if (index - 1, heading.form) not in forms and (index + 1, heading.form) not in forms]
    runs = [_longest_increasing(_outermost([h for h in headings if h.form == form]))
            for form in sorted({h.form for h in headings})]
    # Of two runs as long, the later: an agenda printed before the minutes ('Item 1: ...') and the minutes' own
    # headings ('1. ...') give runs alike, and the minutes come after it. Never the order of a set, which differs
    # from one run of the program to the next and would split the same file otherwise each time.
    # Nor a run that lies inside one item of another as long: 'Minute 14 Fostering Recruitment', 'Minute 17 ...' under
    # Matters Arising are the minutes it follows up, not this meeting's items.
    outer = [run for run in runs if run and not any(len(other) >= len(run) and _inside_one_item(run, other)
                                                    for other in runs if other is not run and other)]
    best = max(outer, key=lambda run: (len(run), run[0].line.start), default=[])
    if len(best) < MIN_ITEM_HEADINGS:
        return []
    return _with_unlike_headings(best, text, lines, numbered)


def _inside_one_item(run: list[ItemHeading], other: list[ItemHeading]) -> bool:
    """Whether every heading of `run` lies between the same two consecutive headings of `other` (not before its
    first, nor after its last: an agenda printed before the minutes is not inside them)."""
    starts = [heading.line.start for heading in other]
    where = {bisect_left(starts, heading.line.start) for heading in run}
    return len(where) == 1 and 0 < where.pop() < len(starts)


def _with_unlike_headings(run: list[ItemHeading], text: str, lines: list[Span],
                          numbered: list[tuple[ItemHeading, str] | None]) -> list[ItemHeading]:
    """The run, with the headings it lacks that numbered_heading passed over for their titles: '5 2023-24 Private
    Fostering Annual Report', a long one, one ending as a sentence ('7 Such other business as, in the opinion of the
    Chair, is urgent.'). Where the run skips a number, or after its last, the one line of the run's form that bears
    the next number, and is not next to one numbered one before or after it (as a list's are), is its heading; two
    such lines, or none, leave the run as it was from there (a list numbered inside an item bears the number too).
    `numbered` is each line's number and words (_numbered), as item_headings read them."""
    by_line = {span.start: index for index, span in enumerate(lines)}
    form = run[0].form
    if form[0] == "reference":  # 'CSC/23/04': the next number is not known from the one before
        return run

    def could_title(title: str) -> bool:
        # Not a decision ('5. That the Chair write ...'), nor a count after a dash or a colon ('4 - 6 children').
        return not _decides(title) and not (form[1] in ("-", ":") and title[0].isdigit())

    def numbered_so(index: int, number: int) -> bool:
        return (0 <= index < len(lines) and numbered[index] is not None and numbered[index][0].form == form
                and numbered[index][0].order[0] == number)

    kept: list[ItemHeading] = []
    for heading, following in zip(run, [*run[1:], None]):
        kept.append(heading)
        end = following.line.start if following is not None else len(text)
        last_number = following.order[0] if following is not None else None
        at = by_line[heading.line.start]
        while True:
            expected = (kept[-1].order[0] + 1, "")
            if last_number is not None and expected[0] >= last_number:
                break
            bearing = [index for index in range(at + 1, len(lines)) if lines[index].start < end
                       and numbered_so(index, expected[0]) and numbered[index][0].order == expected
                       and not numbered_so(index - 1, expected[0] - 1)
                       and not numbered_so(index + 1, expected[0] + 1) and could_title(numbered[index][1])]
            if len(bearing) != 1:
                break
            at = bearing[0]
            kept.append(replace(numbered[at][0], line=lines[at]))
    return kept


def _outermost(headings: list[ItemHeading]) -> list[ItemHeading]:
    """The headings, less those of a list numbered inside one item: after minute 46, '1. Social worker caseloads',
    '2. Agency staff', '3. ...', and then minute 47. A stretch of headings whose numbers restart below the heading
    before it, stay below it, and are followed by one above it (the minutes' numbers going on) is such a list; a
    stretch that reaches that number again (the minutes after an agenda numbered alike), or that nothing above it
    follows, is kept for _longest_increasing to weigh."""
    kept: list[ItemHeading] = []
    position = 0
    while position < len(headings):
        heading = headings[position]
        if kept and heading.order < kept[-1].order:
            after = position
            while after < len(headings) and headings[after].order < kept[-1].order:
                after += 1
            if after < len(headings) and headings[after].order > kept[-1].order:
                position = after
                continue
        kept.append(heading)
        position += 1
    return kept


def _longest_increasing(headings: list[ItemHeading]) -> list[ItemHeading]:
    """The longest run of the headings, in document order, whose numbers increase (lines an earlier heading's number
    does not fit, such as a numbered list's, are passed over). Patience sorting, so a long document costs little."""
    ends: list[int] = []  # for each length of run, where the run of that length ending lowest ends
    end_orders: list[tuple[int, str]] = []
    previous: list[int | None] = []  # for each heading, the one before it in the longest run ending there
    for position, heading in enumerate(headings):
        length = bisect_left(end_orders, heading.order)
        previous.append(ends[length - 1] if length else None)
        if length == len(ends):
            ends.append(position)
            end_orders.append(heading.order)
        else:
            ends[length], end_orders[length] = position, heading.order
    run, at = [], ends[-1] if ends else None
    while at is not None:
        run.append(headings[at])
        at = previous[at]
    return run[::-1]


def split_meeting(whole: MinuteItem, title_in: Callable[[str], str], *, only_a_meeting: bool = False
                  ) -> list[MinuteItem]:
    """A whole meeting's minutes (a PDF or Word file) as one item per agenda item, at its numbered headings (see
    item_headings), each known by the file's identity and its number ('file:minutes.pdf#item-4', as a ModernGov
    meeting page's items are) and titled by its heading; what comes before the first heading (the council, the
    committee, the date, who was present) stays under the file's own identity, so a file indexed whole before is
    replaced, not left beside its items. Minutes without such a run of headings stay one item. That item, or the
    opening, has the file's own title (`whole.item_title`, from its metadata) or else `title_in` its text: item 1's
    heading is never the opening's title. A document whose first lines mark it not for publication is one restricted
    item, and an item whose heading marks it so ('(Exempt)') is restricted: their text goes no further.
    `only_a_meeting` splits only what reads as a meeting's minutes (reads_as_a_meeting): a text file or a web page
    may as well be one item's minutes, or a report, whose numbered sections ('1. Background', '4. Recommendations')
    are no agenda items; but one of whose headings is marked not for publication is split, so that its item is
    withheld."""
    if marking := document_marked_not_public(whole.text):
        # An exempt (Part II) report or minutes, put among the public ones: withheld whole, never read further.
        return [replace(whole, text="", restricted=True, item_title=whole.item_title or title_in(whole.text),
                        details={NOT_PUBLIC_LINE: marking})]
    headings = item_headings(whole.text)
    # A heading marked not for publication is an agenda item's marking, which a report's sections never carry: such a
    # file is split (and that item withheld) however few of its other headings are a meeting's own business.
    if only_a_meeting and headings and not reads_as_a_meeting(whole.text, headings) and not any(
            title_marked_not_public(normalise_space(heading.line.of(whole.text))) for heading in headings):
        headings = []
    if not headings:
        return [withheld_if_marked_within(replace(whole, item_title=whole.item_title or title_in(whole.text)))]
    text = whole.text
    items = []
    if opening := text[:headings[0].line.start].strip():
        items.append(withheld_if_marked_within(
            replace(whole, text=opening, item_title=whole.item_title or title_in(opening))))
    numbers = [item_number_slug(heading.number) for heading in headings]
    if "" in numbers or len(set(numbers)) < len(numbers):
        numbers = [str(position) for position in range(1, len(headings) + 1)]
    private_part = ""  # the heading of the part taken in private ("PART II - EXEMPT ITEMS"), once one has begun
    for number, heading, following in zip(numbers, headings, headings[1:] + [None]):
        end = following.line.start if following is not None else len(text)
        # As common.with_item numbers a ModernGov page's items, but keeping the whole file identity: a file's name
        # may hold a '#' ('minutes #2.pdf'), which with_item would cut off as a web address's fragment.
        title = normalise_space(heading.line.of(text))
        source_id = f"{whole.source_id}{ITEM_ANCHOR}{number}"
        if private_part:
            # Every item after the heading of the private part is of it: the minutes do not say where it ends, and
            # it closes a meeting's minutes.
            items.append(replace(whole, source_id=source_id, text="", item_title=title, restricted=True,
                                 details={**whole.details, AFTER_NOT_PUBLIC_HEADING: private_part}))
            continue
        withheld = title_marked_not_public(title)  # "7. Contract Award (Exempt)": its text is left out
        own = text[heading.line.start:end].rstrip()
        if not withheld and (closing := _closing_marked_heading(own)):
            # The item ends with the heading of the part after it ("PART II - ITEMS CONSIDERED IN THE ABSENCE OF THE
            # PRESS AND PUBLIC"): its own text before that is public, and the items after it are not.
            private_part, own = closing
        items.append(withheld_if_marked_within(replace(
            whole, source_id=source_id, text="" if withheld else own, item_title=title, restricted=withheld)))
    return items


def _closing_marked_heading(text: str) -> tuple[str, str] | None:
    """(the heading, the text before it) when an item's last line, after its heading, is the heading of the part of the
    minutes taken in private ('PART II - EXEMPT ITEMS'): of the items that follow, not of anything in the item."""
    lines = text.rstrip().splitlines()
    if len(lines) < 2:
        return None
    title = normalise_space(lines[-1].strip().lstrip("#"))
    if not title or title[-1] in _SENTENCE_END or len(title.split()) > MAX_HEADING_WORDS \
            or not line_heads_private_part(title):
        return None
    return title, "\n".join(lines[:-1]).rstrip()


def marked_heading_in(text: str) -> str:
    """The first line of the text that reads as a heading (a few words, perhaps a Markdown heading's) and is marked not
    for publication ('Contract Award (Exempt)', '## 2. Contract Award (Exempt)'), or ''."""
    previous = ""  # the line before, "" when it was blank
    for line in text.splitlines():
        title = normalise_space(line.strip().lstrip("#"))
        # A line ending a sentence is no heading: "The Committee considered the Local Plan Review (Part 2)." had
        # withheld public minutes. (One ending in a colon or a dash may lead the marked text in: "Exempt:".)
        if title and title[-1] not in _SENTENCE_END and len(title.split()) <= MAX_HEADING_WORDS \
                and line_marked_not_public(title):
            return title
        # A line citing Schedule 12A's paragraph that exempts what it heads, however long ("(Exempt by virtue of
        # paragraphs 1 and 2 of Part 1 of Schedule 12A of the Local Government Act 1972)"); not the rest of a sentence
        # written to a fixed width ('... exempt information as defined in' / 'paragraph 3 of Part 1 of Schedule 12A').
        if title and len(title) <= 240 and line_cites_exempt_paragraph(title) \
                and not line_goes_on(previous, line.strip()):
            return title
        previous = line.strip()
    return ""


def withheld_if_marked_within(item: MinuteItem) -> MinuteItem:
    """The item, withheld whole when a heading inside it is marked not for publication: where the marked part ends
    cannot be told (too few numbered headings to split at, a Markdown or unnumbered heading), and its text had been
    indexed with the public part's."""
    if item.restricted or not (marked := marked_heading_in(f"{item.item_title}\n{item.text}")):
        return item
    return replace(item, text="", restricted=True, details={**item.details, UNTOLD_NOT_PUBLIC_HEADING: marked})


def reads_as_a_meeting(text: str, headings: list[ItemHeading]) -> bool:
    """Do the headings read as a meeting's agenda: is one of them a meeting's own business (apologies, declarations
    of interest, the minutes of the last meeting, the date of the next)? A report's sections do not, though its
    opening may give a meeting and its date ('Corporate Parenting Panel, 8 March 2023')."""
    titles = [normalise_space(heading.line.of(text)).lower() for heading in headings]
    return any(word in title for title in titles for word in MEETING_BUSINESS)


# Words of the headings of a meeting's own business, which a report's sections never have; and in Welsh, as Welsh
# councils' Welsh minutes head them: apologies, declaring an interest ('Datgan Buddiant'), minutes, next meeting,
# urgent matters, excluding the press ('Eithrio'r Wasg a'r Cyhoedd'). Declaring an interest whole ('Datgan Buddiant',
# 'Datganiadau o Fuddiant', 'Datgan Cysylltiad'): a report's 'Datganiad Sefyllfa' (statement) is no meeting's business.
MEETING_BUSINESS = ("apologies", "declaration", "minutes", "next meeting", "urgent business", "exclusion of the",
                    "ymddiheuriadau", "datgan budd", "datganiad o fudd", "datganiadau o fudd", "datgan cysylltiad",
                    "cofnodion", "cyfarfod nesaf", "materion brys", "eithrio")


def first_title_line(text: str, passed_over: Callable[[str], bool] = lambda line: False) -> str:
    """The first line of a document that can be its title: not a publishing system's stamp ('Public Document Pack'),
    not a heading that names only the kind of document ('MINUTES'), not one `passed_over` (a running header). Failing
    that, the first line of any kind."""
    for line in text.splitlines():
        title = first_line_title(line)
        if title and title.lower() not in GENERIC_HEADINGS and not passed_over(line):
            return title
    return first_line_title(text)


def opens_a_part(line: str) -> bool:
    """Does the line start a part of the minutes that no sentence runs on into: an item heading, a list item, a
    resolution, an action, or a label ('Present: ...', 'Venue: ...')?"""
    stripped = line.strip()
    first_word = stripped.split(maxsplit=1)[0] if stripped else ""
    return bool(
        numbered_heading(stripped) or _HEADING.match(stripped) or strip_bullet(stripped) != normalise_space(stripped)
        or _RESOLUTION.match(stripped) or _ACTION.match(stripped) or _MINUTES.match(stripped)
        or (first_word[:1].isupper() and first_word.endswith(":"))
    )


def parse_blocks(text: str) -> list[Block]:
    """Split an item's text into blocks of one kind each, in reading order. A sentence written over several lines
    is one line here, as it is one sentence (text.wrapped_lines): its second line starting 'decision.' or 'agreed'
    must not open a block of its own and cut the sentence."""
    lines = wrapped_lines(text, line_spans(text))
    has_minutes_marker = any(_MINUTES.match(s.of(text)) for s in lines)
    section: ChunkKind = "agenda" if has_minutes_marker else "discussion"
    labelled: list[tuple[ChunkKind, Span, bool]] = []  # with whether the line is a heading, which opens a block
    section_before: ChunkKind = section
    in_resolution = False
    heading_open = False  # 'RESOLVED that:' owns the line after it even when it is not numbered
    item_starts = {heading.line.start for heading in item_headings(text)}
    for span, before in zip(lines, [None, *lines[:-1]]):
        line = span.of(text).replace("\u00a0", " ").strip()
        previous_line = before.of(text).replace("\u00a0", " ").strip() if before is not None else ""
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
            labelled.append(("supporting", span, False))
            continue
        if span.start in item_starts or _heads_a_part(line, previous_line, heading_open):
            in_resolution = heading_open = False
            labelled.append((section, span, True))
            continue
        if _ACTION.match(line):
            in_resolution = False
            labelled.append(("action", span, False))
            continue
        if _RESOLUTION.match(line):
            in_resolution = True
            heading_open = bool(_OPEN_END.search(line))
            labelled.append(("resolution", span, False))
            continue
        if in_resolution and (heading_open or _ENUMERATED.match(line)):
            heading_open = bool(_OPEN_END.search(line))
            labelled.append(("resolution", span, False))
            continue
        in_resolution = heading_open = False
        if labelled and labelled[-1][0] == "action" and _ENUMERATED.match(line):
            labelled.append(("action", span, False))
            continue
        labelled.append((section, span, False))
    return _group(labelled)


def _heads_a_part(line: str, previous_line: str, heading_open: bool) -> bool:
    """Is the line a heading of its own: a Markdown one, or a numbered title ('5. Fostering Recruitment Update', after
    the resolution of item 4), and not the next entry of a list (after a line that opens one, 'RESOLVED that:' or
    'Members noted:', a bare 'RESOLVED', or after the entry numbered one before it)? A bare number ('5 Fostering')
    heads a part only in a run of such headings (item_headings): alone, it may as well start a sentence."""
    if line.startswith("#"):
        return bool(_HEADING.match(line))
    heading = numbered_heading(line)
    if heading is None or heading.form == ("number", "") or heading_open or previous_line.endswith(":"):
        return False
    if _leads_decisions(previous_line, heading):
        return False
    before = _numbered(previous_line)
    return before is None or before[0].form != heading.form or not 0 < heading.order[0] - before[0].order[0] <= 1


def is_resolution(line: str) -> bool:
    """Does the line start a resolution ('RESOLVED that ...', 'Agreed:', 'Decision')?"""
    return bool(_RESOLUTION.match(line.strip()))


def _leads_decisions(previous_line: str, heading: ItemHeading) -> bool:
    """Is the numbered line the first of the decisions a resolution's lead-in introduces: any after a bare 'RESOLVED'
    ('RESOLVED', 'RESOLVED that', 'AGREED -'), or the one numbered 1 after a lead-in that ends no clause ('RESOLVED
    that the Committee' / '1. Notes the report')? Decisions are often printed without a final full stop."""
    lead_in = _RESOLUTION.match(previous_line)
    if lead_in is None:
        return False
    return lead_in.end() == len(previous_line) or (heading.order == (1, "") and not ends_clause(previous_line))


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


def _group(labelled: list[tuple[ChunkKind, Span, bool]]) -> list[Block]:
    """Consecutive lines of one kind as a block. A heading opens a new block, and is put with what follows it (a
    heading directly over a resolution belongs to that resolution), so it is never packed onto the end of the block
    before it; a heading over a document list, which is not indexed, or over another heading, stands alone."""
    blocks: list[Block] = []
    waiting: tuple[ChunkKind, Span] | None = None  # a heading, until the line it heads
    for kind, span, is_heading in labelled:
        if waiting is not None and (is_heading or kind == "supporting"):
            blocks.append(Block(waiting[0], (waiting[1],)))
            waiting = None
        if is_heading:
            waiting = (kind, span)
        elif waiting is not None:
            blocks.append(Block(kind, (waiting[1], span)))
            waiting = None
        elif blocks and blocks[-1].kind == kind:
            blocks[-1] = Block(kind, blocks[-1].lines + (span,))
        else:
            blocks.append(Block(kind, (span,)))
    if waiting is not None:
        blocks.append(Block(waiting[0], (waiting[1],)))
    return blocks
