"""Word (.docx) minutes: paragraphs and table rows in document order, as one item, or one item per agenda item
when the minutes are a whole meeting's with numbered item headings (structure.split_meeting).

The body is walked as XML rather than through python-docx's paragraph and table lists, which
skip what council templates are full of: content controls, tracked insertions, text boxes and
tables inside tables. Deleted text (tracked deletions) stays out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from assistant.ingest.readers.common import (
    FIRST_PAGE_CHARS,
    CORRUPT_HINT,
    DOCUMENT_FILE_MAX_BYTES,
    GENERIC_HEADINGS,
    MAX_ITEM_CHARS_VAR,
    FileSource,
    Problem,
    ReadResult,
    check_document_file_size,
    refuse_empty_file,
    meeting_date_in,
    spelled_out_ligatures,
    too_long,
    usable_title,
)
from assistant.ingest.structure import CELL_SEPARATOR, first_title_line, split_meeting
from assistant.records import MinuteItem

BULLET = "\u00b7 "  # the bullet ModernGov pages and the seed texts use

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Inside a run, the elements python-docx itself turns into text (w:t, a tab, a line break...).
_RUN_TEXT = {_W + name for name in ("t", "tab", "br", "cr", "noBreakHyphen", "ptab")}
# Never read: tracked deletions and the old place of moved text (its words are read where they
# were moved to), properties, and the fallback copy Word keeps of every text box for old readers.
_NOT_TEXT = {_W + "del", _W + "moveFrom", _W + "pPr", _W + "rPr", _W + "sdtPr", _W + "sdtEndPr",
             _W + "tcPr", _W + "trPr", _W + "tblPr", _W + "tblGrid", _MC + "Fallback"}
# Wrappers whose children are read as if they stood in the wrapper's place.
_WRAPPERS = {_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "moveTo", _W + "smartTag",
             _MC + "AlternateContent", _MC + "Choice"}


# What a Word file's parts other than pictures may unzip to, per character of text the item cap allows (formatting
# makes Word's XML several bytes a character), and at least: python-docx unzips and parses them in memory, taking
# about 20 times their size, and a file of a few MB could unzip to gigabytes (a 4 MB file took 6 GB to read).
XML_BYTES_PER_ALLOWED_CHAR, XML_MIN_BYTES = 20, 16 << 20
# Parts counted as pictures, by their names' endings: held in memory, never parsed. Any other part may be XML, whatever
# its name (a part's type is what [Content_Types].xml says, so a document.xml renamed document.dat is still read).
_PICTURE_ENDINGS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".svg", ".webp")


def _check_unzipped_size(source: FileSource) -> None:
    """Refuse, before unzipping it, a Word file whose parts would unzip to far more than minutes need, from the
    sizes its zip directory declares (the reading is held to them)."""
    import zipfile

    try:
        with zipfile.ZipFile(source.path) as package:
            parts = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip: the reader says what it is
    xml = sum(part.file_size for part in parts if not part.filename.lower().endswith(_PICTURE_ENDINGS))
    whole = sum(part.file_size for part in parts)
    cap = max(XML_MIN_BYTES, XML_BYTES_PER_ALLOWED_CHAR * source.max_item_chars)
    if xml > cap or whole > DOCUMENT_FILE_MAX_BYTES:
        over = (f"{xml:,} bytes besides pictures, over the {cap:,} that minutes within the cap of {source.max_item_chars:,} "
                f"characters ({MAX_ITEM_CHARS_VAR}) could need" if xml > cap
                else f"{whole:,} bytes, over the limit of {DOCUMENT_FILE_MAX_BYTES:,} bytes for PDF and Word files")
        raise Problem("skipped", f"the Word file unzips to {over}, so it was not opened",
                      "If it is real minutes, export its text to a .txt file and ingest that; a small file that "
                      "unzips to so much may have been made to exhaust memory.")


# A .docx saved with a password is no zip but an OLE compound file, as an old .doc is, holding the encrypted document
# as a stream of this name (MS-OFFCRYPTO). Told apart from a .doc since the fix differs: saved again, it keeps its
# password.
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_SCAN_BYTES = 1 << 20


def _refuse_encrypted(source: FileSource) -> None:
    """Fail naming a password-protected Word file, found by the encrypted package its compound file's directory
    names (wherever the directory is: the file is read a MB at a time)."""
    with source.path.open("rb") as stream:
        if stream.read(len(_COMPOUND_FILE)) != _COMPOUND_FILE:
            return
        tail = b""
        while block := stream.read(_SCAN_BYTES):
            if _ENCRYPTED_PACKAGE in tail + block:
                raise Problem(
                    "failed",
                    "the Word document is protected with a password (encrypted), so its text cannot be read",
                    "Open it in Word with its password, take the password off (File > Info > Protect Document > "
                    "Encrypt with Password, and clear it), save it and ingest it again; or export its text to a "
                    ".txt file.",
                )
            tail = block[-len(_ENCRYPTED_PACKAGE):]


def read_docx_file(source: FileSource) -> ReadResult:
    """One item per document, or per agenda item of a whole meeting's minutes; the document's title from the core
    properties, else its first heading that is not a generic one ('MINUTES')."""
    refuse_empty_file(source)
    check_document_file_size(source)
    # Opened first, so that a file the user may not read says so: python-docx takes any file it cannot open for one
    # that is not a Word document.
    with source.path.open("rb"):
        pass
    import zipfile

    _check_unzipped_size(source)

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(source.path))
        blocks = list(_Walker(document).blocks(document.element.body))
        title = (document.core_properties.title or "").strip()
    except (PackageNotFoundError, zipfile.BadZipFile):
        _refuse_encrypted(source)
        raise Problem(
            "failed",
            "not a readable Word document: it is damaged, or another format named .docx",
            "If it is an old .doc file, open it in Word and save it as .docx; "
            "if it is damaged, export its text to a .txt file.",
        ) from None
    except (KeyError, ValueError, AttributeError, OSError) as exc:
        raise Problem("failed", f"not a readable Word document ({type(exc).__name__}: {exc})", CORRUPT_HINT) from None
    except Exception as exc:  # lxml raises its own tree of errors for damaged XML parts
        if type(exc).__module__.startswith("lxml"):
            raise Problem("failed", f"not a readable Word document ({exc})", CORRUPT_HINT) from None
        raise
    blocks = [(style, spelled_out_ligatures(text)) for style, text in blocks]
    text = "\n\n".join(text for _, text in blocks if text.strip())
    if not text.strip():
        raise Problem("skipped", "the document has no text", "Add the minutes, or remove the file from the inputs.")
    if problem := too_long(text, source.max_item_chars):
        raise problem
    headings = [text.strip() for style, text in blocks if _is_heading(style) and _names_the_minutes(text)]
    yield from split_meeting(MinuteItem(
        source_id=source.file_id,
        text=text,
        # A Word file has no pages until it is printed: its first FIRST_PAGE_CHARS characters stand for its first
        # page, where minutes state when the meeting was held.
        meeting_date=meeting_date_in(text[:FIRST_PAGE_CHARS]),
        item_title=title if _names_the_minutes(title) else "",
        origin=source.origin,
    ), title_in=lambda part: _first_heading_in(part, headings) or first_title_line(part))


def _first_heading_in(part: str, headings: list[str]) -> str:
    """The first of the document's headings that is in this part of its text (before item 1, when it is split)."""
    lines = {line.strip() for line in part.splitlines()}
    return next((heading for heading in headings if heading in lines), "")


def _names_the_minutes(title: str) -> bool:
    """Can this be the document's title: not one a program gives a document nobody named, nor a publishing stamp, nor
    a heading naming only the kind of document ('MINUTES', 'Agenda')?"""
    return bool(usable_title(title).strip()) and " ".join(title.split()).lower() not in GENERIC_HEADINGS


class _Walker:
    """Turns a document's block content into (style name, text) blocks, numbering its lists."""

    def __init__(self, document) -> None:
        from docx.enum.style import WD_STYLE_TYPE

        self.styles = {style.style_id: style for style in document.styles}
        self.default_style = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        self.numbering = _Numbering.of(document)

    def blocks(self, container) -> Iterator[tuple[str, str]]:
        for child in container:
            if child.tag == _W + "p":
                yield from self._paragraph(child)
            elif child.tag == _W + "tbl":
                for row in self._rows(child):
                    yield "", row
            elif child.tag in _WRAPPERS:
                yield from self.blocks(child)

    def _paragraph(self, paragraph) -> Iterator[tuple[str, str]]:
        text_boxes: list = []
        text = "".join(_run_text(paragraph, text_boxes))
        style = self._style_of(paragraph)
        # Counted even when empty: Word numbers an empty list paragraph too.
        label = self.numbering.label(paragraph, style) if self.numbering else None
        if text.strip():
            if label is None and style is not None and style.name.lower().startswith("list bullet"):
                label = BULLET  # a bullet style whose numbering is missing or broken
            if label:
                text = label + text.strip()
        yield (style.name if style is not None else ""), text
        for box in text_boxes:  # what a text box holds reads after the paragraph it is anchored in
            yield from self.blocks(box)

    def _rows(self, table) -> Iterator[str]:
        for row in _children(table, _W + "tr"):
            cells = [self._cell(cell) for cell in _children(row, _W + "tc") if not _continues_merge(cell)]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                yield CELL_SEPARATOR.join(cells)

    def _cell(self, cell) -> str:
        lines = []
        for child in cell:
            if child.tag == _W + "tbl":  # a table in a cell: its rows as lines of the cell
                lines.extend(self._rows(child))
            elif child.tag == _W + "p" or child.tag in _WRAPPERS:
                lines.extend(text.strip() for _, text in self.blocks([child]))
        return "\n".join(line for line in lines if line)

    def _style_of(self, paragraph):
        style_id = paragraph.find(f"{_W}pPr/{_W}pStyle")
        if style_id is not None:
            return self.styles.get(style_id.get(_W + "val"), self.default_style)
        return self.default_style


def _run_text(element, text_boxes: list) -> Iterator[str]:
    """The text of a paragraph's runs, wherever they are wrapped; text boxes are set aside."""
    for child in element:
        if child.tag in _NOT_TEXT:
            continue
        if child.tag == _W + "txbxContent":
            text_boxes.append(child)
        elif child.tag in _RUN_TEXT:
            yield str(child)  # python-docx's own rendering: a tab as '\t', a line break as '\n'
        else:
            yield from _run_text(child, text_boxes)


def _children(element, tag: str) -> Iterator:
    """The rows of a table or the cells of a row, also when a content control wraps them."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, tag)


def _continues_merge(cell) -> bool:
    """A cell that only continues the vertically merged cell above it (its text is up there)."""
    merge = cell.find(f"{_W}tcPr/{_W}vMerge")
    return merge is not None and merge.get(_W + "val", "continue") == "continue"


@dataclass
class _Numbering:
    """Word's automatic list numbers, rendered as Word shows them ('1.', 'a)', 'ii.')."""

    abstract_of: dict[str, str]  # numId -> abstractNumId
    levels: dict[tuple[str, int], tuple[str, str, int]]  # (abstractNumId, level) -> (format, text, start)
    start_overrides: dict[tuple[str, int], int]  # (numId, level) -> start
    counters: dict[str, list[int | None]] = field(default_factory=dict)  # abstractNumId -> count per level
    started: set[str] = field(default_factory=set)  # numIds met so far

    @classmethod
    def of(cls, document) -> "_Numbering | None":
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):  # a document without lists has no numbering part
            return None
        levels = {}
        for abstract in root.iterfind(_W + "abstractNum"):
            abstract_id = abstract.get(_W + "abstractNumId")
            for level in abstract.iterfind(_W + "lvl"):
                levels[(abstract_id, int(level.get(_W + "ilvl", "0")))] = (
                    _val(level, "numFmt", "decimal"), _val(level, "lvlText", ""), int(_val(level, "start", "1"))
                )
        abstract_of, start_overrides = {}, {}
        for num in root.iterfind(_W + "num"):
            num_id = num.get(_W + "numId")
            abstract_of[num_id] = _val(num, "abstractNumId", "")
            for override in num.iterfind(_W + "lvlOverride"):
                start = override.find(_W + "startOverride")
                if start is not None:
                    start_overrides[(num_id, int(override.get(_W + "ilvl", "0")))] = int(start.get(_W + "val"))
        return cls(abstract_of, levels, start_overrides)

    def label(self, paragraph, style) -> str | None:
        """The list label to put before the paragraph's text, or None when it is not in a list."""
        num_id, level = _list_reference(paragraph, style)
        abstract_id = self.abstract_of.get(num_id or "")
        if not num_id or num_id == "0" or abstract_id is None or (abstract_id, level) not in self.levels:
            return None
        # Lists sharing a definition count on together, as in Word, unless one restarts it.
        counts = self.counters.setdefault(abstract_id, [None] * 9)
        if num_id not in self.started:
            self.started.add(num_id)
            for (override_num, override_level), start in self.start_overrides.items():
                if override_num == num_id:
                    counts[override_level] = start - 1
        number_format, text, start = self.levels[(abstract_id, level)]
        counts[level] = start if counts[level] is None else counts[level] + 1
        for deeper in range(level + 1, len(counts)):
            counts[deeper] = None
        if number_format == "bullet":
            return BULLET
        for shown in range(level, -1, -1):
            fmt, _, first = self.levels.get((abstract_id, shown), ("decimal", "", 1))
            count = first if counts[shown] is None else counts[shown]
            text = text.replace(f"%{shown + 1}", _format_number(count, fmt))
        return text + " " if text else None


def _list_reference(paragraph, style) -> tuple[str | None, int]:
    """(numId, level) from the paragraph's own list settings, else from its style's."""
    num_id = level = None
    number = paragraph.find(f"{_W}pPr/{_W}numPr")
    if number is not None:
        num_id, level = _val(number, "numId", None), _val(number, "ilvl", None)
    while style is not None and (num_id is None or level is None):
        number = style.element.find(f"{_W}pPr/{_W}numPr")
        if number is not None:
            num_id = num_id if num_id is not None else _val(number, "numId", None)
            level = level if level is not None else _val(number, "ilvl", None)
        style = style.base_style
    return num_id, min(int(level or 0), 8)


def _val(element, child: str, default):
    found = element.find(_W + child)
    return default if found is None else found.get(_W + "val", default)


def _format_number(count: int, number_format: str) -> str:
    if number_format in ("lowerLetter", "upperLetter"):
        letters = chr(ord("a") + (count - 1) % 26) * ((count - 1) // 26 + 1)  # Word: ..., z, aa, bb
        return letters.upper() if number_format == "upperLetter" else letters
    if number_format in ("lowerRoman", "upperRoman"):
        roman = _roman(count)
        return roman if number_format == "upperRoman" else roman.lower()
    if number_format == "none":
        return ""
    if number_format == "decimalZero":
        return f"{count:02d}"
    return str(count)


def _roman(number: int) -> str:
    numerals = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = []
    for value, numeral in numerals:
        while number >= value:
            out.append(numeral)
            number -= value
    return "".join(out)


def _is_heading(style: str) -> bool:
    return style.startswith("Heading") or style == "Title"
