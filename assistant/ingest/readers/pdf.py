"""PDF minutes: the text layer of every page, less its page furniture, as one item, or one item per agenda item
when the minutes are a whole meeting's with numbered item headings (structure.split_meeting).

The text is cleaned once, here, of what the page layout adds to it: ligature glyphs, running
headers and footers, page numbers, words broken at a line end and sentences broken across
lines. The cleaned text is the items' text, so quotes are checked against it and found in it.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass

from assistant.ingest.readers.common import (
    CORRUPT_HINT,
    FIRST_PAGE_CHARS,
    GENERIC_HEADINGS,
    MAX_ITEM_CHARS_VAR,
    FileSource,
    Note,
    Problem,
    ReadResult,
    cap_hint,
    check_document_file_size,
    refuse_empty_file,
    meeting_date_in,
    spelled_out_ligatures,
    too_long,
    usable_title,
)
from assistant.ingest.structure import (
    first_title_line,
    is_resolution,
    item_headings,
    numbered_heading,
    opens_a_part,
    split_meeting,
)
from assistant.records import MinuteItem
from assistant.text import ends_clause, line_goes_on, normalise_space

# Word's "Save as PDF" often leaves its own window title as the document title.
_WORD_TITLE = re.compile(r"^Microsoft (?:Word|PowerPoint) - (.+?)(?:\.docx?|\.rtf)?$", re.IGNORECASE)

# How many lines at the top and at the bottom of a page may be its running header or footer.
EDGE_LINES = 3
# A line at a page's edge is a running header or footer when it is there on at least this many
# pages, and on more than half of them; in a two-page document, when it is in the same place on both.
REPEATED_ON_PAGES = 3
# 'Page 3', 'Page 3 of 12': a page label wherever the text layer puts it.
_PAGE_LABEL = re.compile(r"page\s+\d{1,4}(?:\s+of\s+\d{1,4})?", re.IGNORECASE)
# '3', '- 3 -', '3 of 12', '3/12': a page number when it is a page's first or last line and the
# pages so numbered count up one by one, since a bare figure may as well be a table's.
_BARE_PAGE_NUMBER = re.compile(r"[-\u2013]?\s*(\d{1,4})\s*[-\u2013]?|(\d{1,4})\s*(?:of|/)\s*\d{1,4}", re.IGNORECASE)
# Pages whose numbers must count up together before bare numbers are taken for page numbers.
NUMBERED_PAGES = 2
# A line that ends inside a word, broken after a hyphen ('safe-' / 'guarding', 'in-' / 'house'): the word's letters
# before the break, and the hyphen (a soft one, U+00AD, is only ever a break).
_WORD_BROKEN_AT_LINE_END = re.compile(r"([^\W\d_]+)([-\u00ad\u2010])[ \t]*$")
_SOFT_HYPHEN = "\u00ad"
_WORD = re.compile(r"[^\W\d_]+")
# A line whose words reach this share of the document's full line length ran to the right margin: the layout wrapped
# it, if it ends no sentence. Counted in characters, which a proportional font makes rough, hence the margin.
WRAPPED_LINE_SHARE = 0.8
# The full line length is this percentile of the document's line lengths, so that a few over-long lines (a table
# row, a header set in a smaller font) do not set it.
FULL_LINE_PERCENTILE = 0.9
# The lengths are trusted only when at least this many long lines end no clause and most of them go on in lower case,
# as wrapped prose does: in a document of headings, lists and tables, long lines end where they end.
MIN_WRAPPED_LINES = 3
# A scan may carry a little real text (a 'Public Document Pack' stamp, a running header, page
# numbers): a document of this many pages or more whose text averages under so many characters a
# page is taken for a scan.
SCAN_MIN_PAGES = 2
SCAN_MAX_CHARS_A_PAGE = 50
# A page with this much text is a page of text, however many scanned pages follow it (minutes of one page, and a signed
# attendance sheet or an appendix scanned after them): such a file is read, its scanned pages noted, when its text
# reads as minutes (a scan's cover note does not).
TEXT_PAGE_CHARS = 500
OCR_HINT = "It needs OCR; export the text to a .txt file and ingest that."
# How a web page saved under a .pdf name starts (a sign-in or error page served instead of the file).
_WEB_PAGE_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")


def read_pdf_file(source: FileSource) -> ReadResult:
    """One item per PDF; its title from the PDF's metadata, else its first line."""
    refuse_empty_file(source)
    check_document_file_size(source)
    _refuse_web_page(source)
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    # pypdf reports every repairable blemish through logging; a damaged file still
    # ends up here as a Problem, so the noise only hides the message that matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(source.path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Problem(
                "failed",
                "the PDF is encrypted with a password",
                "Save an unprotected copy (or export its text to a .txt file) and ingest that.",
            )
        pages = _page_texts(reader, source.max_item_chars)
        title = _metadata_title(reader)
    except Problem:
        raise
    except DependencyError as exc:  # AES encryption, even without a password to open the file
        raise Problem(
            "failed",
            f"the PDF is encrypted, and decrypting it needs a library that is not installed ({exc})",
            "Install it with: pip install 'pypdf[crypto]' (this installs cryptography), then ingest again; "
            "or save an unprotected copy of the PDF and ingest that.",
        ) from None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, AssertionError) as exc:
        raise Problem("failed", f"not a readable PDF ({type(exc).__name__}: {exc})", CORRUPT_HINT) from None
    except NotImplementedError as exc:  # e.g. an encryption scheme pypdf does not know
        raise Problem("failed", f"PDF uses a feature that cannot be read: {exc}", CORRUPT_HINT) from None
    text, running = _cleaned(pages)
    if not text.strip():
        raise Problem("skipped", "the PDF has no text layer (a scan or an image)", OCR_HINT)
    text_pages = sum(len(page.strip()) >= TEXT_PAGE_CHARS for page in pages)
    if len(pages) >= SCAN_MIN_PAGES and len(text.strip()) < SCAN_MAX_CHARS_A_PAGE * len(pages):
        # Minutes, not a scan's cover note: a page of text, and the text reads as minutes (item headings, or a
        # meeting's date stated).
        if not (text_pages and (item_headings(text) or meeting_date_in(text[:FIRST_PAGE_CHARS]))):
            raise Problem(
                "skipped",
                f"the PDF has almost no text layer ({len(text.strip()):,} characters over {len(pages)} pages, "
                f"under {SCAN_MAX_CHARS_A_PAGE} a page): a scan, with only a stamp, header or page numbers as text",
                OCR_HINT,
            )
        yield Note(f"{source.origin}: only {text_pages} of its {len(pages)} pages hold text; the others hold almost "
                   "none, as scanned pages do (an appendix or a signed sheet, perhaps), and what is on them is not "
                   "indexed. If it matters, OCR the file, export its text to a .txt file, and ingest that.")
    if problem := too_long(text, source.max_item_chars):
        raise problem
    # A running header often opens the text (kept once, where it first appears), but is a title only for want of any
    # other line.
    yield from split_meeting(MinuteItem(
        source_id=source.file_id,
        text=text,
        meeting_date=_meeting_date(pages, text),
        item_title=usable_title(title),
        origin=source.origin,
    ), title_in=lambda part: first_title_line(part, lambda line: _layout_key(line) in running))


def _meeting_date(pages: list[str], text: str) -> str:
    """The date the first page states, or else the one the cleaned text's first page states: its lines rejoined
    where the layout wrapped them ('... held on Friday 17 November' / '2023 at 9.30 am')."""
    if not pages:
        return ""
    first_page = spelled_out_ligatures(pages[0])
    return meeting_date_in(first_page) or meeting_date_in(text[:len(first_page)])


def _refuse_web_page(source: FileSource) -> None:
    """A web page saved as .pdf (often a sign-in page served instead of the file) is named as such,
    not reported as a damaged PDF."""
    with source.path.open("rb") as stream:
        start = stream.read(1024)
    if b"%PDF-" in start:
        return
    if start.removeprefix(b"\xef\xbb\xbf").lstrip().lower().startswith(_WEB_PAGE_STARTS):
        raise Problem(
            "failed",
            "this is a web page (HTML), not a PDF: probably a sign-in or error page saved in the document's place",
            "Open the document's link in a browser (signing in if asked), download the PDF itself and ingest that; "
            "or, if the page holds the minutes, rename it to .html.",
        )


# How long reading one PDF's text layer may take: minutes take well under a second a page, while a small file can be
# made to take seconds a page (every page drawing from one huge shared stream: 20 pages of 10 KB took 2.5 minutes),
# which held the index's write lock, and a starting app, for as long.
PDF_READ_SECONDS = 300.0


def _page_texts(reader, max_item_chars: int) -> list[str]:
    """Each page's text layer, stopping once the text is sure to be over the cap, or the time is up."""
    import time

    started = time.monotonic()
    pages, total = [], 0
    for page in reader.pages:
        pages.append(page.extract_text() or "")
        total += len(pages[-1])
        taken = time.monotonic() - started
        if taken > PDF_READ_SECONDS and len(pages) < len(reader.pages):
            raise Problem(
                "skipped",
                f"reading its text took over {PDF_READ_SECONDS:.0f} s by page {len(pages)} of {len(reader.pages)} "
                f"({taken / len(pages):.1f} s a page, where minutes take a fraction of a second), so it was given up",
                "If it is real minutes, export its text to a .txt file, or print it to a new PDF, and ingest that.",
            )
        # Cleaning takes out little (headers, page numbers), so twice the cap cannot come under it;
        # stopping there spares extracting the rest of a huge document only to skip it.
        if total > 2 * max_item_chars:
            raise Problem(
                "skipped",
                f"text is over {total:,} characters by page {len(pages)}, over the cap of "
                f"{max_item_chars:,} ({MAX_ITEM_CHARS_VAR})",
                cap_hint(max_item_chars),
            )
    return pages


def without_page_furniture(pages: list[str]) -> str:
    """The pages' text with ligatures spelled out, running headers, footers and page numbers
    left out, words broken at a line end joined again, and lines that wrap a sentence joined."""
    return _cleaned(pages)[0]


def _cleaned(pages: list[str]) -> tuple[str, set[str]]:
    """without_page_furniture's text, and the running headers and footers found (as _layout_key has them)."""
    pages_lines = [spelled_out_ligatures(page).split("\n") for page in pages]
    running = _running_lines(pages_lines)
    page_numbers = _page_number_positions(pages_lines)
    kept_pages, seen_running = [], set()
    for index, lines in enumerate(pages_lines):
        edges = _edge_positions(lines)
        kept = []
        for position, line in enumerate(lines):
            if _PAGE_LABEL.fullmatch(line.strip()) or (index, position) in page_numbers:
                continue
            key = _layout_key(line)
            if position in edges and key in running:
                # Kept where it first appears: a running header often names the committee and
                # the date, which the minutes may not say anywhere else.
                if key in seen_running:
                    continue
                seen_running.add(key)
            kept.append(line)
        while kept and not kept[-1].strip():
            kept.pop()
        while kept and not kept[0].strip():
            kept.pop(0)
        if kept:
            kept_pages.append(kept)
    layout = _Layout.of([line for page in kept_pages for line in page])
    return _joined_lines(kept_pages, layout), running


def _joined_lines(pages: list[list[str]], layout: _Layout) -> str:
    """The pages' lines as one text: a word broken at a line end joined again (_Layout.broken_word), a line that wraps
    a sentence joined to the next with a space (_Layout.goes_on), over a page break too (the footer and header between
    its halves left out); else a line break, and a blank line between pages. Sentences are later split at every line
    the sentence does not go on over, so a break left inside one would cut it."""
    parts: list[str] = []  # each line, as it is joined, and what comes between it and the line before
    for page in pages:
        for position, line in enumerate(page):
            last = parts[-1] if parts else ""
            if not last.strip() or not line.strip():
                parts += ["\n", line] if parts else [line]
            elif (ending := layout.broken_word(last, line)) is not None:
                parts[-1:] = [ending, line.lstrip()]
            elif layout.goes_on(last, line):
                parts[-1:] = [last.rstrip(" \t"), " ", line.lstrip()]
            else:
                parts += ["\n\n" if position == 0 else "\n", line]
    return "".join(parts)


@dataclass(frozen=True)
class _Layout:
    """What a document's own lines show of how it was set: the length of a line that ran to the right margin, and
    the words it uses."""

    wrapped_length: int  # a line at least this long ran to the margin; 0 when the lines do not show it
    words: frozenset[str]  # lower case

    @classmethod
    def of(cls, lines: list[str]) -> _Layout:
        filled = [normalise_space(line) for line in lines if line.strip()]
        words = frozenset(word.lower() for line in filled for word in _WORD.findall(line))
        if not filled:
            return cls(0, words)
        lengths = sorted(len(line) for line in filled)
        wrapped_length = int(WRAPPED_LINE_SHARE * lengths[int(FULL_LINE_PERCENTILE * (len(lengths) - 1))])
        open_long = [following for line, following in zip(filled, filled[1:])
                     if len(line) >= wrapped_length and not ends_clause(line)]
        going_on_in_lower_case = sum(following[:1].islower() for following in open_long)
        if len(open_long) < MIN_WRAPPED_LINES or 2 * going_on_in_lower_case <= len(open_long):
            wrapped_length = 0
        return cls(wrapped_length, words)

    def goes_on(self, line: str, following: str) -> bool:
        """Does a sentence go on from the line to the next? When the next starts in lower case (text.line_goes_on),
        and when the line ran to the margin and ends no clause, whatever the next starts with ('including Early' /
        'Help.', 'from April' / '2022'), unless the line is a heading, the next starts a part of its own (a heading, a
        list item, 'RESOLVED', 'Present:') or both are a table's rows, ending in figures."""
        if line_goes_on(line, following):
            return True
        return (
            0 < self.wrapped_length <= len(normalise_space(line)) and not ends_clause(line)
            and numbered_heading(line) is None and not opens_a_part(following)
            and not (_ends_in_figure(line) and _ends_in_figure(following))
        )

    def broken_word(self, line: str, following: str) -> str | None:
        """The line's text to join the next line's to, when the line ends inside a word broken after a hyphen; None
        when it does not. A hyphen at a line end is as often a compound's own ('in-house', 'step-down', 'Anti-Social')
        as the layout's, so it is kept, unless it is a soft hyphen or the word whole is written elsewhere in the
        document ('recruit-' / 'ment', beside 'recruitment')."""
        broken, rest = _WORD_BROKEN_AT_LINE_END.search(line), _WORD.match(following.lstrip())
        if broken is None or rest is None:
            return None
        whole = (broken.group(1) + rest.group()).lower()
        if broken.group(2) == _SOFT_HYPHEN or whole in self.words:
            return line[:broken.start(2)]
        return line[:broken.end(2)]


def _ends_in_figure(line: str) -> bool:
    """Does the line end in a figure ('Children looked after 312 298', '17.2%'), as a table's row does?"""
    return line.rstrip(" \t%")[-1:].isdigit()


def _running_lines(pages_lines: list[list[str]]) -> set[str]:
    """The lines found at the top or bottom of most pages: running headers and footers."""
    pages_with_text = [lines for lines in pages_lines if any(line.strip() for line in lines)]
    if len(pages_with_text) == 2:
        # Two pages are little evidence: a running line keeps its place, so only one at the same place on both counts.
        first, second = (_placed_edge_lines(lines) for lines in pages_with_text)
        return {key for key, _, _ in first & second if _may_be_running(key)}
    counts = Counter(
        key for lines in pages_with_text
        for key in {_layout_key(lines[position]) for position in _edge_positions(lines)} if key
    )
    needed = max(REPEATED_ON_PAGES, len(pages_with_text) // 2 + 1)
    # A footer may well be a sentence ('Minutes are subject to approval at the next meeting.', 'Chairman's initials
    # ....'), but the minutes may also end page after page on the same sentence: one that ends a clause counts only
    # where it keeps its place, as a footer does. A resolution never does: minutes may repeat 'RESOLVED that the
    # report be noted.' at the foot of page after page, and each is the decision of another item.
    placed = Counter(entry for lines in pages_with_text for entry in _placed_edge_lines(lines))
    kept_place = {key for (key, _, _), count in placed.items() if count >= needed}
    return {key for key, count in counts.items()
            if count >= needed and not is_resolution(key) and (not ends_clause(key) or key in kept_place)}


def _may_be_running(key: str) -> bool:
    """Can a line at the same place on both pages of two be a running header or footer? Not one that ends a sentence
    or clause, or is a resolution: two pages are little evidence, and a short document may repeat such a line."""
    return not ends_clause(key) and not is_resolution(key)


def _placed_edge_lines(lines: list[str]) -> set[tuple[str, str, int]]:
    """The first and the last few non-blank lines of a page, each with its place: (key, 'top' or 'bottom', how many
    lines from that edge)."""
    filled = [line for line in lines if line.strip()]
    placed = {(_layout_key(line), "top", place) for place, line in enumerate(filled[:EDGE_LINES])}
    placed |= {(_layout_key(line), "bottom", place) for place, line in enumerate(reversed(filled[-EDGE_LINES:]))}
    return {entry for entry in placed if entry[0]}


def _page_number_positions(pages_lines: list[list[str]]) -> set[tuple[int, int]]:
    """(page, line) of the bare numbers that count the pages: first or last lines whose number
    less the page's index is the same on enough pages."""
    found = []  # (number - page index, page index, line position)
    for index, lines in enumerate(pages_lines):
        filled = [position for position, line in enumerate(lines) if line.strip()]
        for position in {filled[0], filled[-1]} if filled else ():
            if match := _BARE_PAGE_NUMBER.fullmatch(lines[position].strip()):
                found.append((int(match.group(1) or match.group(2)) - index, index, position))
    offsets = Counter(offset for offset, _, _ in found)
    counted = {offset for offset, count in offsets.items() if count >= NUMBERED_PAGES}
    return {(index, position) for offset, index, position in found if offset in counted}


def _edge_positions(lines: list[str]) -> set[int]:
    """Where the first and the last few non-blank lines of a page are."""
    filled = [position for position, line in enumerate(lines) if line.strip()]
    return set(filled[:EDGE_LINES] + filled[-EDGE_LINES:])


def _layout_key(line: str) -> str:
    """A line as compared across pages: its words, with any numbers in it ('Page 3') made alike."""
    return re.sub(r"\d+", "#", " ".join(line.split()))


def _metadata_title(reader) -> str:
    try:
        title = (reader.metadata or {}).get("/Title") or ""
    except Exception:  # a broken info dictionary should not cost us the text
        return ""
    title = " ".join(str(title).split())
    if match := _WORD_TITLE.match(title):
        title = match.group(1).strip()
    # Word's window title of a file named 'minutes.docx' names the kind of document, not the item.
    return "" if title.lower() in GENERIC_HEADINGS else title
