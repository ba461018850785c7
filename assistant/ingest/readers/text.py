"""Plain text and Markdown minutes, with optional YAML front matter."""

from __future__ import annotations

import codecs
import functools
import itertools
import re
import unicodedata
from dataclasses import replace

from assistant.ingest.readers.common import (
    FIRST_PAGE_CHARS,
    GENERIC_HEADINGS,
    NOT_PUBLIC_LINE,
    TEXT_FILE_BYTES_PER_CHAR,
    FileSource,
    Problem,
    ReadResult,
    check_file_size,
    document_marked_not_public,
    first_line_title,
    item_from_fields,
    meeting_date_in,
    names_a_field,
    spelled_out_ligatures,
    too_long,
    usable_title,
    with_known_keys,
)
from assistant.ingest.structure import split_meeting, withheld_if_marked_within

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SNIFF_BYTES = 8192
_UTF16_SNIFF_BYTES = 1024
# How many of UTF-16 text's characters are Latin-1 (a NUL high byte) in English minutes, at the least.
_UTF16_LATIN_SHARE = 0.9
# Encodings that charset-normalizer can tell apart reliably. It is not reliable among
# single-byte Western code pages: on short Windows-1252 text it often answers cp1250,
# which turns every "£" into "Ł". Those are left to the cp1252 / latin-1 fallbacks.
_MULTIBYTE_PREFIXES = ("utf", "big5", "gb", "shift_jis", "cp932", "cp949", "cp950", "euc", "iso2022", "johab", "hz")
# How many characters a guess of a multibyte encoding must have read from two bytes or more before it is trusted over
# a clean Windows-1252 reading. Counting bytes above ASCII was not enough: a line of figures with sixteen '£' (0xA3)
# has sixteen, is guessed as Japanese, and Shift-JIS reads each lone 0xA3 as a one-byte half-width katakana ('｣0.5m').
_MULTIBYTE_EVIDENCE_CHARS = 8
# Half-width katakana, which Shift-JIS and cp932 read from one byte above ASCII each: in text that reads cleanly as
# Windows-1252 they are its '£', '©' and accented letters misread, not Japanese.
_HALF_WIDTH_KATAKANA = range(0xFF61, 0xFFA0)

# Blank lines before the opening --- are allowed: an editor or an export may leave them.
_FRONT_MATTER_OPENING = re.compile(r"\A(?:[ \t]*\n)*---[ \t]*\n")
_FRONT_MATTER = re.compile(_FRONT_MATTER_OPENING.pattern + r"(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
# A 'key: value' line of front matter ('council: Sefton Council', 'meeting_date:').
_FIELD_LINE = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]|$)")
_AGENDA_ITEM_LINE = re.compile(r"^\s*agenda item\s*$", re.IGNORECASE)
_MARKDOWN_HEADING = re.compile(r"\A\s*#{1,2}\s+(.+?)\s*#*\s*$", re.MULTILINE)

BINARY_HINT = "Give the file the extension of its real format (.pdf, .docx, .html), or save it as plain text."


def read_text_file(source: FileSource) -> ReadResult:
    """One item per file: front matter for metadata, the rest verbatim as its text."""
    check_file_size(source, TEXT_FILE_BYTES_PER_CHAR)
    text = spelled_out_ligatures(decode_bytes(source.path.read_bytes()))
    if not text.strip():
        raise Problem("skipped", "empty file", "Add the minutes text, or remove the file from the inputs.")
    fields, body = split_front_matter(text)
    fields = with_known_keys(fields)
    body = body.strip("\n")
    # An exempt (Part II) report or minutes, headed so, is withheld as `restricted: true` would withhold it; an
    # explicit `restricted: false` (the council published it after all) keeps it.
    marking = document_marked_not_public(body) if "restricted" not in fields else ""
    if marking:
        fields = {**fields, "restricted": True}
    if not fields.get("restricted"):
        if not body.strip():
            raise Problem(
                "skipped",
                "no minutes text after the front matter",
                "Put the minutes text below the closing --- line.",
            )
        if problem := too_long(body, source.max_item_chars):
            raise problem
    # A file that names no item of its own (no id, no title) may be a whole meeting's minutes, as a PDF's or a Word
    # file's exported text is (the readers' hints send such files here): it is split at its numbered item headings as
    # theirs are, and an item headed '(Exempt)' is withheld as it would be there. One whose front matter says whether
    # it is restricted is taken as it says, whole.
    whole_meeting = not any(k in fields for k in ("id", "item_title", "title", "restricted"))
    if not any(k in fields for k in ("item_title", "title")):
        fields = {**fields, "item_title": guess_title(body)}
    if not any(k in fields for k in ("meeting_date", "date")) and (stated := meeting_date_in(body[:FIRST_PAGE_CHARS])):
        # Minutes saved as plain text say when the meeting was held, as PDFs and Word files do ('held on ...').
        fields = {**fields, "meeting_date": stated}
    item = item_from_fields(fields, body, source, origin=source.origin, fallback_id=source.file_id)
    if marking:
        yield replace(item, details={**item.details, NOT_PUBLIC_LINE: marking})
    elif whole_meeting and not item.restricted:
        yield from split_meeting(item, title_in=guess_title, only_a_meeting=True)
    elif "restricted" not in fields:
        # A title, or a heading in the text, marked not for publication ('Contract Award (Exempt)') withholds the
        # item, as it would in a whole meeting's minutes; `restricted: false` keeps it.
        yield withheld_if_marked_within(item)
    else:
        yield item


def byte_order_mark(data: bytes) -> tuple[bytes, str] | None:
    """(the mark, its encoding) when the bytes start with a Unicode byte order mark."""
    return next(((bom, codec) for bom, codec in _BOMS if data.startswith(bom)), None)


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Text from bytes: BOM, then UTF-8, then the encoding the file declares (if any, and if the
    bytes decode cleanly in it), then a trusted guess, then cp1252, then latin-1.

    UTF-8 comes before the declaration because a file that decodes as UTF-8 almost surely is, whatever
    it says: files are re-saved by editors that keep the old declaration. Newlines become "\\n";
    everything else is kept. Raises Problem for binary data.
    """
    if marked := byte_order_mark(data):
        bom, codec = marked
        try:
            return _newlines(data[len(bom):].decode(codec))
        except UnicodeDecodeError:
            data = data[len(bom):]
    if b"\x00" in data[:_SNIFF_BYTES]:
        refuse_utf16_without_bom(data)
        raise Problem("failed", "binary data, not text (it contains NUL bytes)", BINARY_HINT)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_declared(data, declared) or _decode_legacy(data)
    if _mostly_unprintable(text[:_SNIFF_BYTES]):
        raise Problem("failed", "binary data, not text (mostly unprintable characters)", BINARY_HINT)
    return _newlines(text)


def refuse_utf16_without_bom(data: bytes) -> None:
    """Fail naming UTF-16 text that has no byte order mark, told by its first KB: a NUL byte at nearly every other
    position (the high bytes of Latin characters; a '’' has none) and none between, decoding to printable text.

    Without its mark such a file cannot be read with confidence (which byte order?), but saved as UTF-8 it can.
    """
    sample = data[:_UTF16_SNIFF_BYTES]
    sample = sample[:len(sample) - len(sample) % 2]
    if len(sample) < 4:
        return
    for codec, high, low in (("UTF-16 LE", sample[1::2], sample[0::2]), ("UTF-16 BE", sample[0::2], sample[1::2])):
        if high.count(0) >= _UTF16_LATIN_SHARE * len(high) and 0 not in low:
            text = sample.decode(codec.replace(" ", "-").lower())
            if not _mostly_unprintable(text):
                raise Problem(
                    "failed",
                    f"{codec} text without a byte order mark, which cannot be read with confidence",
                    "Save it as UTF-8 (in Notepad: File > Save as, Encoding: UTF-8) and ingest that.",
                )


def _decode_declared(data: bytes, declared: str | None) -> str:
    """The bytes decoded as declared, or '' when nothing is declared, or not an encoding, or wrong."""
    if not declared:
        return ""
    try:
        return data.decode(declared)
    except (LookupError, UnicodeDecodeError):
        return ""


def _decode_legacy(data: bytes) -> str:
    guess = _detect(data)
    windows = _decode_declared(data, "cp1252")  # what Word and most council systems on Windows write; '' if unclean
    # A multibyte guess is taken over a clean Windows-1252 reading only when it reads real multibyte characters: a
    # line with one '£' (0xA3), or sixteen, is guessed as Japanese, and was read as '｣2.3m'.
    if guess is not None and guess[0].startswith(_MULTIBYTE_PREFIXES) \
            and (not windows or _reads_multibyte_characters(guess[1], guess[0])):
        return guess[1]
    if windows:
        return windows
    if guess is not None:
        return guess[1]
    return data.decode("latin-1")  # never fails: every byte is a character


def _reads_multibyte_characters(text: str, encoding: str) -> bool:
    """Does text decoded as a multibyte encoding hold enough characters that took two bytes or more, and no
    half-width katakana (one byte each, and what such a guess makes of Windows-1252's '£')?"""
    def took_bytes(char: str) -> int:
        try:
            return len(char.encode(encoding))
        except (LookupError, UnicodeError):
            return 0

    non_ascii = [char for char in text if ord(char) > 0x7F]
    if any(ord(char) in _HALF_WIDTH_KATAKANA for char in non_ascii):
        return False
    return sum(took_bytes(char) >= 2 for char in non_ascii) >= _MULTIBYTE_EVIDENCE_CHARS


def _detect(data: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return None
    return best.encoding.lower(), str(best)


def _mostly_unprintable(sample: str) -> bool:
    if not sample:
        return False
    odd = sum(1 for c in sample if c not in "\t\n\r\f" and unicodedata.category(c) in ("Cc", "Co", "Cs", "Cn"))
    return odd / len(sample) > 0.1


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str) -> tuple[dict, str]:
    """({field: value}, body) from text that may start with a --- YAML block ---."""
    match = _FRONT_MATTER.match(text)
    if not match:
        if _opens_front_matter(text):
            raise Problem(
                "failed",
                "front matter is opened with a --- line but never closed",
                "Add a --- line after the last 'key: value' line at the top, before the minutes text (if the first "
                "--- is a horizontal rule, not front matter, write that rule as *** instead).",
            )
        return {}, text
    import yaml

    try:
        block = match.group(1) or ""
        _refuse_repeated_fields(yaml.compose(block, Loader=yaml.SafeLoader))
        fields = yaml.load(block, Loader=_front_matter_loader())
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 2})" if where is not None else ""
        raise Problem(
            "failed",
            f"front matter is not valid YAML{at}: {getattr(exc, 'problem', None) or exc}",
            "Fix the block between the --- lines at the top; quote values that contain a colon.",
        ) from None
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise Problem(
            "failed",
            "front matter must be 'key: value' lines",
            "Write one 'key: value' per line between the --- lines, e.g. council: Sefton Council",
        )
    return {str(k): v for k, v in fields.items()}, text[match.end():]


@functools.cache
def _front_matter_loader() -> type:
    """YAML's safe loader, but a date that is no real date ('2024-02-30', '2024-13-01') is kept as its text, as a
    JSONL line's is, so that the field's own check names it and says how to write it (YAML would raise ValueError,
    naming neither)."""
    import yaml

    def date_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
        try:
            return loader.construct_yaml_timestamp(node)
        except ValueError:
            return loader.construct_scalar(node)

    class FrontMatterLoader(yaml.SafeLoader):
        pass

    FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", date_or_text)
    return FrontMatterLoader


def _refuse_repeated_fields(document: object) -> None:
    """Fail on a field given twice in one spelling: YAML keeps the last line's value and drops the first without a
    word (two spellings, 'council' and 'Council', are caught by with_known_keys)."""
    import yaml

    if not isinstance(document, yaml.MappingNode):
        return
    seen: set[str] = set()
    for key_node, _ in document.value:
        key = str(key_node.value)
        if key in seen and names_a_field(key):
            raise Problem(
                "failed",
                f"front matter gives '{key}' twice",
                f"Keep one of the two '{key}' lines in the block between the --- lines.",
            )
        seen.add(key)


def _opens_front_matter(text: str) -> bool:
    """Does the text open with --- and 'key: value' lines naming fields, as front matter does?

    A Markdown horizontal rule opens a text the same way, but ordinary prose follows it. So the 'key: value' lines
    right after the ---, up to the first line that is not one, must all name fields ('council:', 'meeting_date:'),
    whatever follows them (the minutes' first line, where the closing --- was forgotten); or, when a blank line ends
    them, one of them at least (front matter may carry keys of the writer's own).
    """
    opening = _FRONT_MATTER_OPENING.match(text)
    if not opening:
        return False
    lines = text[opening.end():].lstrip(" \t\n").split("\n")  # blank lines may come first, as before the ---
    keys = list(itertools.takewhile(bool, (_field_key(line) for line in lines)))
    if not keys:
        return False
    named = [names_a_field(key) for key in keys]
    ends_at_a_blank_line = len(keys) == len(lines) or not lines[len(keys)].strip()
    return all(named) or (ends_at_a_blank_line and any(named))


def _field_key(line: str) -> str:
    """The key of a 'key: value' line of front matter, or ''."""
    match = _FIELD_LINE.match(line)
    return match.group(1) if match else ""


def guess_title(body: str) -> str:
    """The line after a ModernGov 'Agenda item' heading, or a leading Markdown heading, else the first line when it
    can be a title (as a PDF's or a Word file's is): never 'Public Document Pack', nor a heading such as 'Minutes'."""
    lines = body.splitlines()
    for i, line in enumerate(lines):
        if _AGENDA_ITEM_LINE.match(line):
            for following in lines[i + 1:]:
                if following.strip():
                    return " ".join(following.split())
            break
    if match := _MARKDOWN_HEADING.match(body):
        return match.group(1)
    first_line = first_line_title(body)
    return "" if first_line.lower().rstrip(": ") in GENERIC_HEADINGS else usable_title(first_line)
