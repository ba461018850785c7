"""What every reader shares: the file being read, problems, metadata checks, size caps."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

from assistant.text import MONTH_NUMBERS, WELSH_WEEKDAYS, date_or_empty, line_goes_on, parse_meeting_date, readable
from assistant.records import ITEM_ANCHOR, InputProblem, MinuteItem, ProblemKind



@dataclass(frozen=True)
class Note:
    """Something the user should know about a file that was read, though nothing in it failed (JSONL lines known
    only by their line numbers): read_inputs hands it to its caller's notes, never on as an item or a problem."""

    text: str


ReadResult = Iterator[MinuteItem | InputProblem | Note]

MAX_ITEM_CHARS_VAR = "ASSISTANT_MAX_ITEM_CHARS"
# HTML carries markup, scripts and styles around its text, so a page may be this much larger
# than the text it holds before we bother opening it.
HTML_FILE_BYTES_PER_CHAR = 20
# UTF-8 needs at most four bytes a character: a bigger text file cannot fit the cap.
TEXT_FILE_BYTES_PER_CHAR = 4
# PDF and Word files carry fonts, images and scanned appendices: a 20 MB agenda pack may hold a
# page of text, so no ratio of bytes to characters holds for them. Their text is held to the cap
# once read; the file itself only to what is worth parsing at all (both parsers hold the file,
# or its unzipped parts, in memory).
DOCUMENT_FILE_MAX_BYTES = 512 * 1024 * 1024

# Only the Latin ligatures (U+FB00-FB06: ff, fi, fl, ffi, ffl, long st, st) are spelled out: a word set with one
# ('ﬁnancial'), as a PDF sets it and as its text stays when copied into a text file, a Word file or a web page, is
# otherwise a word the reader's tokenizer does not know. The rest of NFKC would rewrite other characters of the minutes
# too (superscripts, '½', full-width forms).
_LIGATURES = str.maketrans({chr(code): unicodedata.normalize("NFKC", chr(code)) for code in range(0xFB00, 0xFB07)})


def spelled_out_ligatures(text: str) -> str:
    """The text with its Latin ligature glyphs as their letters ('ﬁ' as 'fi'), and no other character changed."""
    return text.translate(_LIGATURES)


CORRUPT_HINT = "Open it in the program that made it and save or export it again, or export the text to a .txt file."


class Problem(Exception):
    """Raised inside a reader when a whole file (or one item) cannot be indexed."""

    def __init__(self, kind: ProblemKind, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.hint = hint

    def at(self, origin: str) -> InputProblem:
        return InputProblem(origin=origin, kind=self.kind, reason=self.reason, hint=self.hint)


@dataclass(frozen=True)
class FileSource:
    """One input file, with the identity it gets when its items carry neither URL nor id."""

    path: Path  # where to read it from
    origin: str  # how to name it in messages: the path as the user gave it
    file_id: str  # "file:" + its path relative to the folder (or cwd) it was named by
    max_item_chars: int


def cap_hint(max_item_chars: int) -> str:
    return (
        f"Split it into one file per agenda item, or raise the cap by setting "
        f"{MAX_ITEM_CHARS_VAR} (now {max_item_chars:,})."
    )


def check_file_size(source: FileSource, bytes_per_char: int) -> None:
    """Refuse, without reading it, a file too big to hold items within the cap."""
    size = source.path.stat().st_size
    limit = source.max_item_chars * bytes_per_char
    if size > limit:
        raise Problem(
            "skipped",
            f"file is {size:,} bytes, too large for the cap of {source.max_item_chars:,} "
            f"characters an item ({MAX_ITEM_CHARS_VAR})",
            cap_hint(source.max_item_chars),
        )


def refuse_empty_file(source: FileSource) -> None:
    """Skip a file of no bytes as empty, whatever its format: a failed download leaves one named .pdf or .docx, and
    it holds no minutes to fail over."""
    if source.path.stat().st_size == 0:
        raise Problem("skipped", "empty file",
                      "Download or save it again (a failed download leaves an empty file), or remove it.")


def check_document_file_size(source: FileSource) -> None:
    """Refuse, without opening it, a PDF or Word file too big to be worth parsing."""
    size = source.path.stat().st_size
    if size > DOCUMENT_FILE_MAX_BYTES:
        raise Problem(
            "skipped",
            f"file is {size:,} bytes, over the limit of {DOCUMENT_FILE_MAX_BYTES:,} bytes for PDF and Word files",
            "Save a copy holding only the minutes (without appendices or scanned pages), "
            "or export the text to a .txt file, and ingest that.",
        )


def too_long(text: str, max_item_chars: int, what: str = "text") -> Problem | None:
    if len(text) <= max_item_chars:
        return None
    return Problem(
        "skipped",
        f"{what} is {len(text):,} characters, over the cap of {max_item_chars:,} ({MAX_ITEM_CHARS_VAR})",
        cap_hint(max_item_chars),
    )


# A title that ModernGov, or a council's template, marks as not for the public: "Contract Award (Exempt)",
# "[CONFIDENTIAL]", "Exempt - Contract Award", "7. Contract Award (Not for publication)", "(Exempt Information)",
# "(Part II)", "Contract Award - Exempt"; not a field saying no ("Confidential: No"). In Welsh: exempt ('eithriedig'),
# confidential ('cyfrinachol'), not for publication ("nid i'w gyhoeddi"), alone or beside the English: "(Eithriedig /
# Exempt)". After a feminine noun 'cyfrinachol' is softened: "(Gwybodaeth Gyfrinachol)", "(Eitem Gyfrinachol)".
_WELSH_MARK = r"eithriedig|[cg]yfrinachol|nid\s+i['\u2019]w\s+gyhoeddi"
# The government's security marking of what must be protected, which a council's papers may carry: OFFICIAL-SENSITIVE,
# "OFFICIAL SENSITIVE", "Official – Sensitive", perhaps with its descriptor ("OFFICIAL-SENSITIVE: PERSONAL",
# "(COMMERCIAL)", LOCSEN). OFFICIAL alone, the marking of everything a public body holds, published papers too, is none.
_SECURITY_MARK = (r"official\s*[-\u2013\u2014]?\s*sensitive"
                  r"(?:\s*[-\u2013:(]?\s*(?:personal|commercial|locsen)\b\)?)?")
# Minutes' own words for the part heard in private: "(Press and Public Excluded)", a heading "PRESS AND PUBLIC
# EXCLUDED". Not the public item's resolution "That the press and public be excluded", nor "Exclusion of the Press and
# Public", and, as the heading of part of the minutes, not a marking of a whole document (see _MARKING).
_EXCLUDED_MARK = r"(?:press\s+(?:and|&)\s+public|public\s+(?:and|&)\s+press)\s+excluded"
NOT_PUBLIC_MARK = (rf"(?:exempt|restricted|confidential|private|not\s+for\s+publication|{_SECURITY_MARK}|"
                   rf"{_EXCLUDED_MARK}|{_WELSH_MARK})")
# Welsh puts the noun first: "(Gwybodaeth Eithriedig)" is "(Exempt Information)", "(Eitem Eithriedig)" "(Exempt Item)".
_WELSH_MARKED_NOUN = r"(?:gwybodaeth|eitem|adroddiad|cofnodion)\s+"
# A Welsh field saying no: "Gwybodaeth Eithriedig: Nac oes", "Cyfrinachol? | Nac ydy" ('Na' is read as 'n/a').
_WELSH_NO = r"nac\s+(?:oes|ydy|ydi|ydyw)"
# What may follow the marking word inside its brackets or after its dash: "(Exempt Information)", "(Exempt - Paragraph
# 3)", "(Confidential Report, paras 1 and 3)".
_MARK_KIND = r"(?:\s+(?:information|item|report|minutes?|appendix|appendices|session|business))?"
# "Under Paragraph 1 of Schedule 12A" (a title's end: "Placement Review - Exempt Information Under Paragraph 1 of
# Schedule 12A") cites the paragraph as "by virtue of" does.
_PARAGRAPH_CITED = (r"(?:\s*[-\u2013:,]?\s*(?:(?:by\s+virtue\s+of|under)\s+)?para(?:graph)?s?\.?(?:\s*\(s\))?"
                    r"\s*[\d,\s&and\-\u2013]+(?:of\s+part\s+(?:1|i|one)\s+)?(?:of\s+schedule\s+12\s*a\b)?"
                    r"(?:\s*(?:of|to)\s+the\s+local\s+government\s+act(?:\s+1972)?)?)?")
# Inside the brackets, after the marking word, only words that say more of the marking: "(Exempt - Paragraph 3 of
# Schedule 12A)", "(Exempt under Paragraph 3)", "(Part II - Exempt)", "(Exempt Appendices)"; never a topic's words
# ("(Exempt Accommodation)", "(Confidential Reporting Policy)", "(Private Fostering)" are public items).
_MARK_TAIL = (r"(?:\s*[-\u2013:,&/]?\s*(?:information|items?|reports?|minutes?|appendix|appendices|session|business|"
              rf"exempt|confidential|{_WELSH_MARK}|part\s+(?:ii|i|2|1|b)|under|by\s+virtue\s+of|"
              r"para(?:graph)?s?\.?(?:\s*\(s\))?|of|and|"
              r"schedule\s+12\s*a|the\s+local\s+government\s+act|local\s+government\s+act|1972|\d+)\b)*")
# A title opening with the marking and the kind of thing marked: "Exempt Item - Contract Award", "EXEMPT ITEM:
# Contract Award" (not "Exempt Information - Possible Exclusion of the Press and Public", a standing public item,
# nor a report cover's "Exempt appendix: Yes", of a public report).
_OPENING_KIND = r"(?:\s+(?:item|report|minutes?|session|business))?"
# In Welsh the kind comes first: "Eitem Eithriedig: Dyfarnu Contract" ('Gwybodaeth Eithriedig - ...', exempt
# information, opens the standing public item on excluding the press, as its English does).
_WELSH_OPENING_KIND = r"(?:(?:eitem|adroddiad|cofnodion)\s+)?"
# A title opening with the part of the agenda taken in private: "Part II - Placement Review", "PART 2 ITEM: Placement
# Review" (Part I is the public part).
_PART_TWO_OPENING = r"^\s*(?:\d+[.:)]?\s+)?part\s+(?:ii|2)(?:\s+(?:items?|exempt|confidential|private|business|reports?))?\s*[-\u2013:]"
_TITLE_MARK = re.compile(
    rf"[(\[]\s*(?:part\s+(?:ii|2|b)|(?:private\s+and\s+|{_WELSH_MARKED_NOUN})?{NOT_PUBLIC_MARK}){_MARK_TAIL}\s*[)\]]"
    rf"|^\s*(?:\d+[.:)]?\s+)?{_WELSH_OPENING_KIND}{NOT_PUBLIC_MARK}{_OPENING_KIND}\s*[-\u2013:]"
    rf"(?!\s*(?:no|none|nil|n/?a|not\s+applicable|{_WELSH_NO})\b)"
    rf"|{_PART_TWO_OPENING}"
    # Ending the title after a dash: "Item 3: Contract Award - Exempt", "Contract Award \u2013 Not for Publication",
    # "Contract Award - Exempt (Paragraph 3)", "Placement Review - Private and Confidential".
    rf"|\s[-\u2013\u2014]\s*(?:private\s+and\s+|strictly\s+)?{NOT_PUBLIC_MARK}{_MARK_KIND}{_PARAGRAPH_CITED}"
    r"(?:\s*\(\s*(?:para(?:graph)?s?|schedule)\b[^()]{0,60}\))?\s*$",
    re.IGNORECASE,
)
# A line among a document's first that marks the whole of it as not for the public, as an exempt (Part II) report
# or minutes are headed. The line must be markings and nothing else ("NOT FOR PUBLICATION", "PART II - EXEMPT
# INFORMATION", "EXEMPT - NOT FOR PUBLICATION", "Confidential minutes", "Document is Restricted", "PART II
# MINUTES"), perhaps followed by the paragraph that exempts it ("NOT FOR PUBLICATION - Paragraph 3"); or a report
# cover's field saying yes ("Exempt information: Yes", a Word table's "Exempt information: | Yes"); or begin with
# Schedule 12A's paragraph ("By virtue of paragraph(s) 3 of Part 1 of Schedule 12A", as ModernGov prints it). A
# heading that begins with one of the words ("Exempt Information - Possible Exclusion of the Press and Public", a
# standing public item; "Exempt Accommodation Update"; "Restricted Byway Order"), a field saying no, on its line or
# the next ("Exempt information: No"), and a public report's "Appendix 2 is exempt by virtue of paragraph 3" do not.
_MARKING = (rf"(?:not\s+for\s+publication|{_SECURITY_MARK}|(?:{_WELSH_MARKED_NOUN})?(?:{_WELSH_MARK})"
            r"|(?:exempt|(?:private\s+and\s+|strictly\s+)?confidential|restricted)"
            r"(?:\s+(?:information|report|item|minutes))?|(?:this\s+)?document\s+is\s+restricted)")
_SCHEDULE_12A = (r"(?:by\s+virtue\s+of\s+)?paragraphs?(?:\s*\(s\))?\s+[\d,\s and\-\u2013]+"
                 r"(?:of\s+part\s+(?:1|i|one)\s+)?of\s+schedule\s+12\s*a\b")
# A report cover's field saying yes, its label one marking or two ("Exempt information: Yes", "Exempt / Confidential
# Report: Yes" as Sefton's covers ask it, "Confidential/Exempt: Yes (Paragraph 3)", "Is this report confidential or
# exempt? Yes"). A cover's fields may run past the lines looked at for the other markings (Sefton's is its ninth).
_FIELD_SAYS_YES = (rf"^\W*(?:is\s+(?:this|the)\s+(?:report|item|document|decision)\s+)?{_MARKING}"
                   rf"(?:\s*(?:/|\bor\b|\band\b|&)\s*{_MARKING})*\W*[:?|]+\W*yes\b")
_FIELD_MARK = re.compile(_FIELD_SAYS_YES, re.IGNORECASE)
_DOCUMENT_MARK = re.compile(
    rf"^\W*(?:part\s+(?:ii|2|b)\W*)?(?:{_MARKING}\W*)+(?:(?:by\s+virtue\s+of\s+)?paragraphs?\b.*)?$"
    r"|^\W*part\s+(?:ii|2|b)\W+(?:minutes|reports?|items?|business)\W*$"
    rf"|{_FIELD_SAYS_YES}"
    rf"|^\W*{_SCHEDULE_12A}",
    re.IGNORECASE,
)
_SAYS_NO = re.compile(rf"^\W*(?:no|none|nil|n/?a|not\s+applicable|{_WELSH_NO})\b", re.IGNORECASE)
MARKED_LINES_LOOKED_AT = 8
# How many lines a cover's field saying yes is looked for in: a cover's fields fill its first page.
FIELD_LINES_LOOKED_AT = 30
# The key of a withheld item's details that holds the line marking its document not for publication.
NOT_PUBLIC_LINE = "not_public_line"
# The key of a withheld web page's details that holds the heading marked not for publication whose part of the page
# could not be told from the public items', so that the whole page was withheld.
UNTOLD_NOT_PUBLIC_HEADING = "untold_not_public_heading"
# The key of a withheld item's details that holds the heading of the private part of the minutes ("PART II - EXEMPT
# ITEMS") that the item comes after.
AFTER_NOT_PUBLIC_HEADING = "after_not_public_heading"


def title_marked_not_public(title: str) -> bool:
    return bool(_TITLE_MARK.search(title))


# A short line inside an item's text, where no item starts, is a table's row or a list's line as often as a heading:
# "Residential care (private)", "Council tax for care leavers - exempt". So there only a marking word that says
# nothing else counts ("private" names providers and fostering), in brackets or opening the line, never at its end.
_STRONG_MARK = (rf"(?:exempt|restricted|confidential|not\s+for\s+publication|{_SECURITY_MARK}|{_EXCLUDED_MARK}|"
                rf"{_WELSH_MARK})")
# The heading of the part of the minutes taken in private: "PART II - ITEMS CONSIDERED IN THE ABSENCE OF THE PRESS AND
# PUBLIC", "Part 2 (Exempt Items)", "Part B - Items to be considered in private", "PART II", "PRESS AND PUBLIC
# EXCLUDED". "Private" alone does not say so: "Part 2 - Private Fostering" is a report's part.
_PART_TWO_HEADING = (r"^\W*part\s+(?:ii|2|b)\b(?=.*\b(?:exempt|confidential|restricted|not\s+for\s+publication|"
                     r"press\s+and\s+public|public\s+and\s+press|closed\s+session|in\s+private|"
                     r"private\s+(?:session|business|items?)\b|private\W*$))"
                     r"|^\W*part\s+ii\W*$"
                     rf"|^\W*{_EXCLUDED_MARK}\W*$")
# Such a heading, or one naming the items taken in private ("EXEMPT ITEMS", "Private Business").
_PRIVATE_PART = re.compile(rf"{_PART_TWO_HEADING}|^\W*(?:{_STRONG_MARK}|private)\s+(?:items|business|session)\W*$",
                           re.IGNORECASE)
_LINE_MARK = re.compile(
    rf"[(\[]\s*(?:part\s+(?:ii|2|b)|(?:private\s+and\s+|{_WELSH_MARKED_NOUN})?{_STRONG_MARK}){_MARK_TAIL}\s*[)\]]"
    # Not a table's row giving a figure ("Exempt: 1,204", the properties of a council tax base).
    rf"|^\s*(?:\d+[.:)]?\s+)?{_STRONG_MARK}{_OPENING_KIND}\s*[-\u2013:]"
    rf"(?!\s*(?:no|none|nil|n/?a|not\s+applicable|{_WELSH_NO})\b|\s*[\d\u00a3])"
    rf"|{_PART_TWO_HEADING}"
    # The security marking alone on its line, as it heads and foots every page of what it marks ("OFFICIAL-SENSITIVE",
    # "OFFICIAL SENSITIVE PERSONAL"): a template marking only the foot is read past a document's first lines.
    rf"|^\W*{_SECURITY_MARK}\W*$",
    re.IGNORECASE,
)
# A line, however long, that says the text under it is exempt by Schedule 12A's paragraph: "(Exempt by virtue of
# paragraphs 1 and 2 of Part 1 of Schedule 12A of the Local Government Act 1972)", "EXEMPT INFORMATION - PARAGRAPH 2",
# "By virtue of paragraph(s) 3 of Part 1 of Schedule 12A". Not a resolution excluding the press, which says why
# ("... exempt information as defined in paragraph 3 ..."), nor "Appendix 2 is exempt by virtue of paragraph 3".
_PARAGRAPH_MARK = re.compile(
    rf"^\W*(?:{_STRONG_MARK})(?:\s+(?:information|item|report|minutes))?\s*[-\u2013:,]?\s*"
    r"(?:(?:by\s+virtue\s+of|under)\s+)?para(?:graph)?s?\b"
    rf"|^\W*{_SCHEDULE_12A}",
    re.IGNORECASE,
)


def line_marked_not_public(line: str) -> bool:
    """Is a heading-like line inside an item's text (not one it was split at) marked not for publication?"""
    return bool(_LINE_MARK.search(line))


def line_heads_private_part(line: str) -> bool:
    """Is a heading-like line the heading of the part of the minutes taken in private ('PART II - EXEMPT ITEMS')?"""
    return bool(_PRIVATE_PART.search(line))


def line_cites_exempt_paragraph(line: str) -> bool:
    """Does a line inside an item's text, of any length, say that the text under it is exempt by Schedule 12A's
    paragraph ('(Exempt by virtue of paragraphs 1 and 2 of Part 1 of Schedule 12A ...)')?"""
    return bool(_PARAGRAPH_MARK.search(line))


def document_marked_not_public(text: str) -> str:
    """The line among the first MARKED_LINES_LOOKED_AT (blank ones aside) that marks the whole document as not for
    the public, or a cover's field saying yes among the first FIELD_LINES_LOOKED_AT, or ""."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:FIELD_LINES_LOOKED_AT + 1]
    return next((line for at, (line, after) in enumerate(zip(lines, lines[1:] + [""]))
                 if len(line) <= 240 and (_DOCUMENT_MARK if at <= MARKED_LINES_LOOKED_AT else _FIELD_MARK).search(line)
                 and not _SAYS_NO.match(after)), "")


def with_item(base_id: str, number: str) -> str:
    """'URL' + item 7 -> 'URL#item-7'; any fragment already on the URL is dropped."""
    return f"{base_id.split('#', 1)[0]}{ITEM_ANCHOR}{number}"


def item_number_in(source_id: str) -> str:
    """'URL#item-7' -> '7': the agenda item number with_item gave an item of a meeting page; '' for other ids."""
    _, marker, number = source_id.rpartition(ITEM_ANCHOR)
    return number if marker else ""


def item_number_slug(raw: str) -> str:
    """'7.' -> '7', '7(a)' -> '7(a)', 'PEO/12/25' -> 'PEO-12-25': safe inside a URL fragment."""
    text = raw.strip().rstrip(".:").strip()
    text = re.sub(r"^(?:item|agenda item)\s+", "", text, flags=re.IGNORECASE)
    return re.sub(r"[^A-Za-z0-9.()\-]+", "-", text).strip("-")


# Accepted spellings of each field, first one wins; the first name is the one messages use.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "council": ("council",),
    "committee": ("committee",),
    "meeting_date": ("meeting_date", "date"),
    "period": ("period",),
    "item_title": ("item_title", "title"),
    "source_url": ("source_url", "url"),
    "restricted": ("restricted",),
}


_KNOWN_KEYS = {spelling: spelling for spellings in FIELD_NAMES.values() for spelling in spellings}
# How alike an unknown key must be to a known one to be taken for a misspelling of it ('councl',
# 'meeting-date', 'comittee', 'titel'); below it, keys such as 'time', 'data' or 'sources' pass as
# the writer's own.
MISSPELT_KEY_SIMILARITY = 0.8


def with_known_keys(fields: Mapping[str, object], *, in_a_line: bool = False) -> dict[str, object]:
    """The front matter's (or a JSONL line's) fields with each known key spelt as FIELD_NAMES spells it
    ('Council' -> 'council').

    Raises Problem for a key that is unknown but close to a known one: its value would otherwise be
    lost without a word. Failing costs nothing, since a failed file keeps its earlier indexed version.
    A JSONL line (`in_a_line`) is an export with fields of its own ('meeting_id' beside 'date'), so there a
    key close to a known one fails only when the field it is close to is not given. Other unknown keys are
    the writer's own and are kept as they are.
    """
    where, block = ("JSONL key", "on the line") if in_a_line else ("front matter key", "in the block between the --- lines")
    given = {_field_of(key.lower()) for key in fields if key.lower() in _KNOWN_KEYS}
    known: dict[str, object] = {}
    written_as: dict[str, str] = {}
    for key, value in fields.items():
        folded = key.lower()
        if folded in _KNOWN_KEYS:
            if folded in written_as:
                raise Problem(
                    "failed",
                    f"{where.removesuffix(' key')} gives '{folded}' twice (as '{written_as[folded]}' and '{key}')",
                    f"Keep one of the two '{folded}' keys {block}.",
                )
            written_as[folded] = key
            known[folded] = value
        elif (meant := _misspelt_key(key)) and not (in_a_line and _field_of(meant) in given):
            raise Problem(
                "failed",
                f"{where} '{key}' is not one that is read; it is probably '{meant}' misspelt",
                f"Rename '{key}' to '{meant}' {block} (the keys read are {', '.join(_KNOWN_KEYS)}).",
            )
        else:
            known[key] = value
    return known


def _field_of(spelling: str) -> str:
    """The field a known key names ('date' -> 'meeting_date')."""
    return next(name for name, spellings in FIELD_NAMES.items() if spelling in spellings)


def names_a_field(key: str) -> bool:
    """Is this a key of front matter: a known one in any case, or one misspelt?"""
    return key.lower() in _KNOWN_KEYS or bool(_misspelt_key(key))


def _misspelt_key(key: str) -> str:
    """The known key an unknown one is probably a misspelling of, or ''."""
    if key.lower() in _KNOWN_KEYS:
        return ""
    close = difflib.get_close_matches(key.lower(), _KNOWN_KEYS, n=1, cutoff=MISSPELT_KEY_SIMILARITY)
    return close[0] if close else ""


def _pick(fields: Mapping[str, object], name: str) -> tuple[str, object]:
    for key in FIELD_NAMES[name]:
        if key in fields and fields[key] is not None:
            return key, fields[key]
    return FIELD_NAMES[name][0], None


def written(key: str, value: str, *, in_a_line: bool) -> str:
    """How a field is written: `"council": "Sefton Council"` on a JSONL line, `council: Sefton Council` in front
    matter. `value` is JSON already when it is not text (true, false)."""
    if not in_a_line:
        return f"{key}: {value}"
    return f'"{key}": {value if value in ("true", "false") else json.dumps(value, ensure_ascii=False)}'


def _as_str(key: str, value: object, expected: str, allow_numbers: bool = False, *, in_a_line: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return readable(value.strip())  # a "\udce9" escape in JSON or YAML is no character the index can store
    if allow_numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if allow_numbers and isinstance(value, dt.date):
        return value.isoformat()
    raise Problem(
        "failed",
        f"field '{key}' must be {expected}, not {_describe(value)}",
        f"Write {key} as {expected}, e.g. {written(key, _EXAMPLES.get(key, 'some text'), in_a_line=in_a_line)}",
    )


_EXAMPLES = {
    "council": "Sefton Council",
    "committee": "Overview and Scrutiny Committee",
    "period": "2017/18",
    "id": "sefton-csc-annual-report-2017-18",
    "item_title": "Children's Social Care Annual Report",
    "title": "Children's Social Care Annual Report",
    "source_url": "https://example.moderngov.co.uk/mgAi.aspx?ID=123",
    "url": "https://example.moderngov.co.uk/mgAi.aspx?ID=123",
}


def _date_of_timestamp(value: object) -> object:
    """'2021-03-03 18:30' -> the date 2021-03-03; any other value as it is.

    YAML reads a time without seconds as text, not as a datetime, and a meeting's start time is no
    part of its date.
    """
    if isinstance(value, str) and ":" in value:
        try:
            return dt.datetime.fromisoformat(value.strip()).date()
        except ValueError:
            pass
    return value


def _describe(value: object) -> str:
    if isinstance(value, list):
        return f"a list ({value!r})"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"


def item_from_fields(
    fields: Mapping[str, object], text: str, source: FileSource, *, origin: str, fallback_id: str,
    in_a_line: bool = False,
) -> MinuteItem:
    """Validate metadata read from front matter or a JSONL line (`in_a_line`, whose hints show JSON) and make the
    item.

    Raises Problem("failed") naming the field and the form it should take.
    """
    council = _as_str(*_pick(fields, "council"), "text", in_a_line=in_a_line)
    committee = _as_str(*_pick(fields, "committee"), "text", in_a_line=in_a_line)
    item_title = _as_str(*_pick(fields, "item_title"), "text", allow_numbers=True, in_a_line=in_a_line)
    period = _as_str(*_pick(fields, "period"), "text", allow_numbers=True, in_a_line=in_a_line)
    item_id = _as_str(*_pick(fields, "id"), "text", allow_numbers=True, in_a_line=in_a_line)
    url_key, url_value = _pick(fields, "source_url")
    source_url = _as_str(url_key, url_value, "a web address", in_a_line=in_a_line)
    if source_url and not re.match(r"https?://\S+$", source_url):
        raise Problem(
            "failed",
            f"field '{url_key}' must be a web address starting with http:// or https://, not {source_url!r}",
            f"Fix {url_key}, or remove it; the item is then known by its id or file name.",
        )
    date_key, date_value = _pick(fields, "meeting_date")
    try:
        meeting_date = parse_meeting_date(_date_of_timestamp(date_value))
    except ValueError as exc:
        raise Problem(
            "failed",
            f"field '{date_key}': {exc}",
            f"Write {date_key} as an ISO date: 2018-09-12, 2018-09 or 2018 (or leave it empty).",
        ) from None
    restricted_key, restricted = _pick(fields, "restricted")
    if restricted is None:
        restricted = False
    if not isinstance(restricted, bool):
        raise Problem(
            "failed",
            f"field '{restricted_key}' must be true or false, not {_describe(restricted)}",
            f"Write {written(restricted_key, 'true', in_a_line=in_a_line)} or "
            f"{written(restricted_key, 'false', in_a_line=in_a_line)}.",
        )
    return MinuteItem(
        source_id=source_url or item_id or fallback_id,
        text="" if restricted else readable(text),  # restricted text is never carried further
        council=council,
        committee=committee,
        meeting_date=meeting_date,
        period=period,
        item_title=item_title,
        source_url=source_url,
        origin=origin,
        restricted=restricted,
    )


# Lines a council's publishing system puts on the front of a document: never an item's title.
_NOT_A_TITLE = re.compile(r"public document pack", re.IGNORECASE)
# The titles programs give a document nobody named, kept in its metadata: 'Document1', 'untitled',
# 'PowerPoint Presentation', or the file's own name or path ('C:\Users\...\Minutes CSC 03-03-21.docx').
_UNNAMED_DOCUMENT_TITLE = re.compile(
    r"(?:document|presentation|book)\s*\d+|untitled(?:[\s-]*\w+)?|powerpoint presentation"
    r"|[a-z]:\\.*|\\\\.*|.*\.(?:docx?|rtf|odt|pdf|pptx?|xlsx?)",
    re.IGNORECASE,
)
# The label a ModernGov page prints after a link to a document: its icon's alt text and the file's kind and size
# ('Quarterly Service Report pdf icon PDF 1 MB', 'Youth Justice Plan PDF 2 MB'). It names the link, not the minutes.
DOCUMENT_LABEL = re.compile(r"\s*(?:pdf icon\s*)?\b(?:PDF|DOCX?|XLSX?|PPTX?)\s+[\d.,]+\s*[KMG]B\s*$", re.IGNORECASE)


def without_document_label(text: str) -> str:
    """The text without the document link's label that ends it (DOCUMENT_LABEL); the text as it is when it is nothing
    but the label."""
    return DOCUMENT_LABEL.sub("", text).rstrip() or text


# Headings that name a kind of page or document, not what it is about.
GENERIC_HEADINGS = frozenset({
    "agenda item", "issue - meetings", "issue details", "issue - decisions", "agenda and minutes",
    "agenda and draft minutes", "agenda", "minutes", "decisions", "agenda, decisions and minutes",
})


def first_line_title(text: str, limit: int = 200) -> str:
    """The first non-blank line, as a fallback title."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line and not _NOT_A_TITLE.fullmatch(line):
            return line[:limit]
    return ""


def usable_title(title: str) -> str:
    """A title from a file's metadata, or '' when it is one of the lines that never is one."""
    stripped = title.strip()
    return "" if _NOT_A_TITLE.fullmatch(stripped) or _UNNAMED_DOCUMENT_TITLE.fullmatch(stripped) else title


# Month names and their abbreviations ('Mar', 'Sept'), the longest first, so that 'March' is never read as 'Mar'.
_MONTH = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
_DAY_MONTH_YEAR = rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH})\.?\s*,?\s+\d{{4}}"
# A day's name, whole or cut short as headings cut it ('Tues 12th March 2024', 'Weds. 8 March 2023', 'Thur').
_WEEKDAY = (r"(?:(?:Mon|Tues?|Wed(?:nes)?|Weds|Thu(?:rs?)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?"
            rf"|dydd\s+(?:{'|'.join(WELSH_WEEKDAYS)}))\s*,?\s+")
# In figures, day first: '08/03/2023', and '08.03.2023' as some councils' templates print it; the year may be cut
# to two figures ('08/03/23', 'held on 8.3.23'), as older front sheets and Word's short date print it.
_A_DATE = (rf"(?:{_WEEKDAY})?(?P<date>{_DAY_MONTH_YEAR}"
           r"|\d{1,2}(?P<divider>[/.])\d{1,2}(?P=divider)(?:\d{4}|(?P<short_year>\d\d))\b"
           r"|\d{4}-\d{1,2}-\d{1,2}\b)")
# A day's name ending a line, its date on the next ('held on Wednesday,' / '8 March 2023').
_ENDS_ON_A_WEEKDAY = re.compile(rf"{_WEEKDAY}$", re.IGNORECASE)
# A date stated as the meeting's: 'Minutes of the meeting held on Wednesday, 3rd March 2021', 'HELD ON: 3 MARCH
# 2021', 'held at the Town Hall on 3rd of March 2021', or after a label: 'Date: 03/03/2021' (UK order, day first),
# 'Date: | Wednesday 8 March 2023' (a Word front sheet's table row), 'Date and time: ...', 'MEETING DATE: 8 Mar
# 2023', 'Date of meeting: 2021-03-08'.
# Welsh minutes: 'a gynhaliwyd ... ar ddydd Iau, 14 Mawrth 2024' (held on), 'Dyddiad: ...' (date).
_DATE_LABEL = (r"(?:\bheld\b.{0,80}?\bon\s*:?|\bgynhaliwyd\b.{0,80}?\bar\s*(?:ddydd\s+\w+\s*,?\s*)?:?"
               r"|^\s*(?:meeting\s+)?(?:date|dyddiad)(?:\s+and\s+time|\s+of\s+meeting)?\s*:?\s*\|?)")
_STATED_DATE = re.compile(rf"{_DATE_LABEL}\s*{_A_DATE}", re.IGNORECASE)
# A line that ends on such a label, its date on the next line: a heading wrapped as '... Committee held on' /
# 'Wednesday, 8th March 2023 at 2.00 pm ...', or 'HELD ON:' / '3 MARCH 2021', 'Date:' / 'Wednesday 8 March 2023'.
_AWAITS_A_DATE = re.compile(rf"{_DATE_LABEL}\s*$", re.IGNORECASE)
# A line of a document's heading block that is its date, alone or ending a title: 'Wednesday, 8 March 2023',
# 'Minutes of the Corporate Parenting Panel, 8 March 2023', 'Children's Scrutiny Committee – 8 March 2023'; a time
# may follow ('2.00 pm', 'at 10am'), and an older ModernGov item page's item number ('Meeting of Cabinet, Thursday,
# 7th December, 2023 10.00 am (Item 32.)'). Further down, such a line may give any day (a list of future meetings).
_DATE_LINE = re.compile(
    rf"^\s*(?:.*?[,:|\u2013\u2014-]\s*)?{_A_DATE}(?:[\s,]*(?:at\s+)?\d{{1,2}}(?:[.:]\d\d)?\s*(?:[ap]\.?m\b\.?)?)?"
    r"(?:\s*\(\s*item\s+[^)]*\))?[\s.]*$",
    re.IGNORECASE,
)
# What gives another day than this meeting's: 'RESOLVED that the minutes of the meeting held on 11 January 2023 be
# approved' (this meeting's own heading says 'Minutes of ...', without 'the'), 'the previous meeting held on ...',
# 'Date of next meeting: ...', 'Published: ...', 'Despatch date: ...', 'Issue date: ...', 'Report date: ...', 'Report
# of the Executive Director, 20 February 2023'.
_ANOTHER_DAY = re.compile(
    r"\bthe\s+minutes\s+of\b|\b(?:previous|last|preceding|next|future)\s+meetings?\b|\bpublish|\bpublication\b"
    r"|\bdespatch|\bdispatch|\bissued?\b|\bdate\s+(?:of\s+)?issued?\b|\breport\s+date\b"
    r"|\bdate\s+of\s+(?:the\s+)?report\b|^\s*(?:printed|report\s+(?:of|by|from))\b"
    # A document's own stamps: 'Call-in deadline: 15 March 2023', 'Version 2, 20 March 2023', 'Last updated: ...',
    # 'Status: Draft, 20 March 2023', 'Author: Jane Smith, 20 March 2023', 'Approved at the meeting of 5 April'
    # ('revised' and 'amended' name this meeting's own changes as often: 'Cabinet – revised start time – 8 March').
    r"|\bcall[\s-]*in\b|\bdeadline\b|\bexpir|\bversion\b|\b(?:updated|modified|circulated)\b"
    r"|\bstatus\b|\bauthor(?:ed|s)?\b|\bapproved\s+(?:at|by|on)\b"
    # In Welsh: the previous ('blaenorol', 'diwethaf') or next ('nesaf') meeting. 'Cofnodion y cyfarfod a
    # gynhaliwyd ...' (minutes of the meeting held) is how this meeting's own heading opens.
    r"|\bcyfarfod\s+(?:blaenorol|diwethaf|nesaf)\b",
    re.IGNORECASE,
)
# Below the heading block, a line about minutes that gives their meeting's day is about another meeting's minutes
# when it is an agenda item ('3. Minutes of the meeting held on 11 January 2023') or approves them ('Minutes of the
# meeting held on 11 January 2023 were agreed as a correct record').
_MINUTES_APPROVED = re.compile(r"\b(?:were|was|be|being)\s+(?:approved|agreed|confirmed|signed|adopted)\b"
                               r"|\b(?:correct|true|accurate)\s+record\b"
                               # Welsh: approved ('cymeradwyo', 'cymeradwywyd'), confirmed ('cadarnhau',
                               # 'cadarnhawyd'), signed ('llofnodi', 'llofnodwyd'), received ('derbyniwyd'), a
                               # correct record ('cofnod cywir', 'yn gofnod cywir')
                               r"|\b(?:cymeradwyo|cymeradwywyd|cadarnhau|cadarnhawyd|llofnodi|llofnodwyd|derbyniwyd)\b"
                               r"|\b[cg]ofnod\s+cywir\b",
                               re.IGNORECASE)


# How much of a document's start counts as its first page, where a meeting's date is stated.
FIRST_PAGE_CHARS = 3000
# How many non-blank lines a document's heading block (the lines before its first agenda item) may hold at most.
HEADING_BLOCK_LINES = 15


def meeting_date_in(first_page: str) -> str:
    """The meeting date a document's first page states, as ISO, or ''.

    The heading block (the lines before the first numbered agenda item) is read with each wrapped line joined to the
    next (a sentence broken by a fixed width; a label, 'held on' or 'Date:', whose date is on the next line). Its
    first date, in the order of its lines, given by 'held ... on' or a label, on a line of its own, or ending a title
    ('Cabinet – 8 March 2023', 'Date/Time: ...'), is the meeting's; then a date line in figures; failing those, the
    first 'held ... on' or 'Date:' further down. A date with words naming another day before it ('the minutes of the
    previous meeting held on ...', 'Issue date: ...', 'Call-in deadline: ...', 'Version 2, ...') is never the
    meeting's, nor one that a line about minutes approved gives ('Minutes of the meeting held on 11 January 2023 were
    agreed as a correct record'), nor further down one that an agenda item about minutes gives ('3. Minutes of the
    meeting held on ...')."""
    heading_block: list[str] = []
    further_down: list[str] = []
    for line in _joined_lines(first_page):
        if further_down or len(heading_block) >= HEADING_BLOCK_LINES or (
                _opens_an_agenda_item(line) and not _DATE_LINE.match(line)):
            further_down.append(line)
        else:
            heading_block.append(line)
    heading_block = [line for line in heading_block if not _approves_minutes(line)]
    further_down = [line for line in further_down if not _approves_minutes(line)
                    and not (_about_minutes(line) and _opens_an_agenda_item(line))]
    # A line that is a date in figures only ('01/03/2023, 14:32') is a browser's or printer's stamp as often as the
    # meeting's, so it counts only when nothing else in the heading block states one.
    for lines, kinds in ((heading_block, ("stated", "words")), (heading_block, ("figures",)),
                         (further_down, ("stated",))):
        for line in lines:
            for date in _dates_of_kinds(line, kinds):
                return date
    return ""


def _approves_minutes(line: str) -> bool:
    return _about_minutes(line) and bool(_MINUTES_APPROVED.search(line))


def _about_minutes(line: str) -> bool:
    return any(word in line.lower() for word in _MINUTES_WORDS)


_MINUTES_WORDS = ("minutes", "cofnodion")  # 'cofnodion': minutes, in Welsh


def _dates_of_kinds(line: str, kinds: tuple[str, ...]) -> Iterator[str]:
    """The dates a line gives in these ways, as ISO, leaving out any with words before it that name another day."""
    matches: list[re.Match] = []
    if "stated" in kinds:
        matches.extend(_STATED_DATE.finditer(line))
    if (match := _DATE_LINE.match(line)) and _date_line_kind(match) in kinds:
        matches.append(match)
    for match in sorted(matches, key=lambda m: m.start("date")):
        if not _ANOTHER_DAY.search(line[:match.start("date")]) and (date := _date_of(match)):
            yield date


def _date_line_kind(match: re.Match) -> str:
    """Whether a date line gives its date in words ('Wednesday 8 March 2023', 'Cabinet – 8 March 2023') or in
    figures only ('01/03/2023, 14:32')."""
    return "words" if any(character.isalpha() for character in match.group("date")) else "figures"


def _joined_lines(text: str) -> list[str]:
    """The text's non-blank lines, spaces normalised, each joined to the next where a sentence wraps onto it, where
    it ends on a label whose date is on the next line ('held on', 'Date:'), or where it names another day without
    giving it and a date line follows ('DATE OF NEXT MEETING' over 'Wednesday 5 April 2023')."""
    joined: list[str] = []
    for line in (" ".join(line.split()) for line in text.splitlines()):
        if not line:
            continue
        # A date on a line of its own ends there: the time or place under it ('at 2.00 pm in the Council Chamber')
        # goes on in lower case, and joined, the line would be a date no more.
        if joined and ((line_goes_on(joined[-1], line) and not _DATE_LINE.match(joined[-1]))
                       or _AWAITS_A_DATE.search(joined[-1]) or _date_runs_on(joined[-1], line) or (
                _names_another_day_to_come(joined[-1]) and _DATE_LINE.match(line))):
            joined[-1] = f"{joined[-1]} {line}"
        else:
            joined.append(line)
    return joined


def _date_runs_on(line: str, following: str) -> bool:
    """Does a date the line starts go on into the next line: a PDF's heading wrapped inside it ('... held on
    Wednesday, 8' / 'March 2023', '... Wednesday, 8 March' / '2023', 'held on Wednesday,' / '8 March 2023')? Its
    day, or the day's name before it, is on this line, and its year on the next."""
    joined = f"{line} {following}"
    for match in (*_STATED_DATE.finditer(joined), _DATE_LINE.match(joined)):
        if match is not None and match.start() < len(line) < match.end("date") - 1 and (
                match.start("date") < len(line) or _ENDS_ON_A_WEEKDAY.search(line + " ")):
            return True
    return False


def _names_another_day_to_come(line: str) -> bool:
    """A line that ends naming another day without giving it, whose date is on the next line ('DATE OF NEXT
    MEETING', 'Last updated:'); not one that goes on past those words ('Meeting status: Public')."""
    if any(character.isdigit() for character in line):
        return False
    last = None
    for last in _ANOTHER_DAY.finditer(line):
        pass
    return last is not None and not line[last.end():].strip(" \t:.-\u2013\u2014|")


def _date_of(match: re.Match) -> str:
    """The date matched, as ISO, or '' when it is none ('31/02/2021')."""
    if short_year := match.group("short_year"):
        return date_or_empty(match.group("date")[:-2] + str(_full_year(int(short_year))))
    # '3rd of March 2021' is read as '3rd March 2021', '8 Mar. 2023' as '8 Mar 2023'.
    words = [word.rstrip(".") for word in match.group("date").split() if word.lower() != "of"]
    return date_or_empty(" ".join(words))


def _full_year(short_year: int) -> int:
    """A year printed in two figures ('23'), as this century's, or the last's where this century's is more than a
    year ahead: minutes record meetings held, not ones to come (next year is allowed, for a clock a little behind at
    the turn of the year)."""
    year = 2000 + short_year
    return year if year <= dt.date.today().year + 1 else year - 100


def _opens_an_agenda_item(line: str) -> bool:
    """Does the line open a numbered agenda item ('1. Apologies for Absence', '3 MINUTES', 'Item 4: Fostering'), where
    a document's heading block ends?"""
    words = line.split()
    if words and words[0].lower() == "item":
        words = words[1:]
    number = words[0].rstrip(".):") if words else ""
    return len(words) >= 2 and number.isdigit() and len(number) <= 3 and words[1][:1].isupper()
