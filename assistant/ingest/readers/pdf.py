"""PDF minutes: the text layer of every page, less its page furniture, as one item.

The text is cleaned once, here, of what the page layout adds to it: ligature glyphs, running
headers and footers, page numbers, words hyphenated at a line end and sentences broken across
lines. The cleaned text is the item's text, so quotes are checked against it and found in it.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter

from assistant.ingest.readers.common import (
    CORRUPT_HINT,
    GENERIC_HEADINGS,
    MAX_ITEM_CHARS_VAR,
    FileSource,
    Problem,
    ReadResult,
    cap_hint,
    check_document_file_size,
    refuse_empty_file,
    first_line_title,
    meeting_date_in,
    too_long,
    usable_title,
)
from assistant.records import MinuteItem
from assistant.text import line_goes_on

# Word's "Save as PDF" often leaves its own window title as the document title.
_WORD_TITLE = re.compile(r"^Microsoft (?:Word|PowerPoint) - (.+?)(?:\.docx?|\.rtf)?$", re.IGNORECASE)

# Only the Latin ligatures (U+FB00-FB06: ff, fi, fl, ffi, ffl, long st, st) are spelled out: a word
# set with one ('ﬁnancial') is otherwise a different word to the keyword index. The rest of NFKC
# would rewrite other characters of the minutes too (superscripts, '½', full-width forms).
_LIGATURES = str.maketrans({chr(code): unicodedata.normalize("NFKC", chr(code)) for code in range(0xFB00, 0xFB07)})
# How many lines at the top and at the bottom of a page may be its running header or footer.
EDGE_LINES = 3
# A line at a page's edge is a running header or footer when it is there on at least this many
# pages, and on more than half of them.
REPEATED_ON_PAGES = 3
# 'Page 3', 'Page 3 of 12': a page label wherever the text layer puts it.
_PAGE_LABEL = re.compile(r"page\s+\d{1,4}(?:\s+of\s+\d{1,4})?", re.IGNORECASE)
# '3', '- 3 -', '3 of 12', '3/12': a page number when it is a page's first or last line and the
# pages so numbered count up one by one, since a bare figure may as well be a table's.
_BARE_PAGE_NUMBER = re.compile(r"[-\u2013]?\s*(\d{1,4})\s*[-\u2013]?|(\d{1,4})\s*(?:of|/)\s*\d{1,4}", re.IGNORECASE)
# Pages whose numbers must count up together before bare numbers are taken for page numbers.
NUMBERED_PAGES = 2
# A word broken across a line end ('safe-' / 'guarding'), and across a page break too.
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])[-\u00ad\u2010][ \t]*\n(?:[ \t]*\n)?[ \t]*(?=[^\W\d_])")
# A line break inside a page, before a line that starts with a letter: where the layout may have
# wrapped a sentence ('7 new' / 'foster carers had been approved.').
_LINE_BREAK_BEFORE_LETTER = re.compile(r"[ \t]*\n[ \t]*(?=[^\W\d_])")
# A scan may carry a little real text (a 'Public Document Pack' stamp, a running header, page
# numbers): a document of this many pages or more whose text averages under so many characters a
# page is taken for a scan.
SCAN_MIN_PAGES = 2
SCAN_MAX_CHARS_A_PAGE = 50
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
    text = without_page_furniture(pages)
    if not text.strip():
        raise Problem("skipped", "the PDF has no text layer (a scan or an image)", OCR_HINT)
    if len(pages) >= SCAN_MIN_PAGES and len(text.strip()) < SCAN_MAX_CHARS_A_PAGE * len(pages):
        raise Problem(
            "skipped",
            f"the PDF has almost no text layer ({len(text.strip()):,} characters over {len(pages)} pages, "
            f"under {SCAN_MAX_CHARS_A_PAGE} a page): a scan, with only a stamp, header or page numbers as text",
            OCR_HINT,
        )
    if problem := too_long(text, source.max_item_chars):
        raise problem
    yield MinuteItem(
        source_id=source.file_id,
        text=text,
        meeting_date=meeting_date_in(pages[0].translate(_LIGATURES)) if pages else "",
        item_title=usable_title(title) or first_line_title(text),
        origin=source.origin,
    )


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


def _page_texts(reader, max_item_chars: int) -> list[str]:
    """Each page's text layer, stopping once the text is sure to be over the cap."""
    pages, total = [], 0
    for page in reader.pages:
        pages.append(page.extract_text() or "")
        total += len(pages[-1])
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
    left out, words hyphenated at a line end joined again, and lines that wrap a sentence joined."""
    pages_lines = [page.translate(_LIGATURES).split("\n") for page in pages]
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
        kept_pages.append("\n".join(kept).strip("\n"))
    text = _joined_pages([page for page in kept_pages if page.strip()])
    text = _LINE_END_HYPHEN.sub(_join_if_lower_case, text)
    return _LINE_BREAK_BEFORE_LETTER.sub(_join_if_sentence_goes_on, text)


def _joined_pages(pages: list[str]) -> str:
    """The pages one after another, a blank line between them, except where a page ends inside a sentence that
    the next goes on with: there a line break, which _join_if_sentence_goes_on then joins as it joins any wrapped
    line ('the service had recruited 7 new' / [page break] / 'foster carers.' had been two sentences)."""
    text = pages[0] if pages else ""
    for page in pages[1:]:
        goes_on = line_goes_on(text.rstrip().rsplit("\n", 1)[-1], page.lstrip())
        text += ("\n" if goes_on else "\n\n") + page.lstrip()
    return text


def _join_if_lower_case(match: re.Match) -> str:
    following = match.string[match.end()]
    return "" if following.islower() else match.group(0)  # 'Anti-\nSocial' keeps its hyphen


def _join_if_sentence_goes_on(match: re.Match) -> str:
    """A space for a line break inside a sentence (text.line_goes_on). Sentences are later split at every line
    the sentence does not go on over, so a break left inside one would cut it."""
    text, start, end = match.string, match.start(), match.end()
    line = text[text.rfind("\n", 0, start) + 1:start]
    following = text[end:text.find("\n", end) if "\n" in text[end:] else len(text)]
    return " " if line_goes_on(line, following) else match.group(0)


def _running_lines(pages_lines: list[list[str]]) -> set[str]:
    """The lines found at the top or bottom of most pages: running headers and footers."""
    pages_with_text = [lines for lines in pages_lines if any(line.strip() for line in lines)]
    counts = Counter(
        key for lines in pages_with_text
        for key in {_layout_key(lines[position]) for position in _edge_positions(lines)} if key
    )
    needed = max(REPEATED_ON_PAGES, len(pages_with_text) // 2 + 1)
    return {key for key, count in counts.items() if count >= needed}


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
