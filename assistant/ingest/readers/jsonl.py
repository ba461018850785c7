"""JSON Lines: one agenda item a line, streamed so a big file is never held whole."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import BinaryIO

from assistant.ingest.readers.common import (
    FileSource,
    Note,
    Problem,
    ReadResult,
    NOT_PUBLIC_LINE,
    cap_hint,
    document_marked_not_public,
    item_from_fields,
    line_cites_exempt_paragraph,
    names_a_field,
    title_marked_not_public,
    too_long,
    with_known_keys,
    MAX_ITEM_CHARS_VAR,
)
from assistant.ingest.readers.text import BINARY_HINT, byte_order_mark, decode_bytes, refuse_utf16_without_bom
from assistant.records import MinuteItem

# JSON escapes ("\u00a3" is six bytes for one character) make a line longer than its text.
_LINE_BYTES_PER_CHAR = 8
_LINE_SLACK_BYTES = 64 * 1024
_DISCARD_CHUNK = 1 << 20
_SNIFF_BYTES = 8192

ITEM_LINE = 'one JSON object a line, like {"url": ..., "title": ..., "text": ...}'
LINE_HINT = f"Fix or remove that line; the file holds {ITEM_LINE}."


def read_jsonl_file(source: FileSource) -> ReadResult:
    """One item per non-blank line; a broken line yields a problem and the rest carry on."""
    limit = source.max_item_chars * _LINE_BYTES_PER_CHAR + _LINE_SLACK_BYTES
    lines = 0
    known_by_number = 0  # lines with neither url nor id
    with source.path.open("rb") as stream:
        start = stream.read(_SNIFF_BYTES)
        stream.seek(0)
        marked = byte_order_mark(start)
        if marked and marked[1] != "utf-8":
            # UTF-16 or UTF-32, as PowerShell 5 writes: read as text, handed on as UTF-8 lines.
            stream.seek(len(marked[0]))
            stream = _AsUtf8Lines(stream, marked[1])
        elif b"\x00" in start:  # else every "line" of a binary file is reported on its own
            refuse_utf16_without_bom(start)
            raise Problem("failed", "binary data, not JSON lines (it contains NUL bytes)", BINARY_HINT)
        for lineno, raw, complete in _lines(stream, limit):
            lines += bool(raw.strip()) or not complete
            origin = f"{source.origin}:{lineno}"
            if not complete:
                yield Problem(
                    "skipped",
                    f"line is over {limit:,} bytes, too long for the cap of "
                    f"{source.max_item_chars:,} characters an item ({MAX_ITEM_CHARS_VAR})",
                    cap_hint(source.max_item_chars),
                ).at(origin)
                continue
            if not raw.strip():
                continue
            try:
                item = _item(raw, source, lineno, origin)
            except Problem as problem:
                yield problem.at(origin)
                continue
            known_by_number += item.source_id == _line_identity(source, lineno)
            yield item
    if not lines:
        raise Problem("skipped", "holds no items: the file is empty or blank", f"Give it {ITEM_LINE}.")
    if known_by_number:
        yield Note(
            f"{source.origin}: {known_by_number} of its lines have no url or id, so each is known by its line number "
            f"({_line_identity(source, 'N')}): a line added or removed above one renumbers it, so the next ingest "
            "embeds it again and may leave a stale copy in the index until --prune. Give each line an \"id\" or a "
            "\"url\" to keep its identity.")


def _line_identity(source: FileSource, lineno: int | str) -> str:
    """The identity of a line with neither url nor id. It stays what it always was: another would embed every such
    line of an existing index again."""
    return f"{source.file_id}#line-{lineno}"


# What a JSON value that is not an object is, in the words JSON uses.
_JSON_KINDS = {type(None): "null", bool: "true or false", int: "number", float: "number", str: "string", list: "list",
               dict: "object"}


def _json_kind(value: object) -> str:
    return _JSON_KINDS.get(type(value), type(value).__name__)


class _AsUtf8Lines:
    """A UTF-16 or UTF-32 stream read a line at a time, each line given as UTF-8 bytes.

    The limit is counted in characters, not bytes, which only lets a line a little longer through.
    """

    def __init__(self, stream: BinaryIO, encoding: str) -> None:
        self._text = io.TextIOWrapper(stream, encoding=encoding, newline="\n")

    def readline(self, limit: int = -1) -> bytes:
        try:
            return self._text.readline(limit).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise Problem(
                "failed",
                f"not valid {self._text.encoding.upper()} text, though its byte order mark says so ({exc.reason})",
                "Save the file again as UTF-8 and ingest that.",
            ) from None


def _lines(stream: BinaryIO | _AsUtf8Lines, limit: int):
    """(line number, bytes, complete?) for each line; an over-long line is skipped unread."""
    lineno = 0
    while True:
        raw = stream.readline(limit)
        if not raw:
            return
        lineno += 1
        if len(raw) >= limit and not raw.endswith(b"\n"):
            while (rest := stream.readline(_DISCARD_CHUNK)) and not rest.endswith(b"\n"):
                pass
            yield lineno, b"", False
            continue
        yield lineno, raw, True


def _refusing_repeated_fields(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object, failing on a field given twice in one spelling: json keeps the last and drops the first
    without a word (two spellings, 'council' and 'Council', are caught by with_known_keys)."""
    fields: dict = {}
    for key, value in pairs:
        if key in fields and names_a_field(key):
            raise Problem("failed", f"JSONL key '{key}' is given twice on the line",
                          f"Keep one of the two '{key}' keys on the line.")
        fields[key] = value
    return fields


def _item(raw: bytes, source: FileSource, lineno: int, origin: str) -> MinuteItem:
    if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text_line = decode_bytes(raw)
    try:
        fields = json.loads(text_line, object_pairs_hook=_refusing_repeated_fields)
    except json.JSONDecodeError as exc:
        # Some of json's messages end in 'at' already ('Invalid control character at').
        what = exc.msg.removesuffix(" at")
        raise Problem("failed", f"not valid JSON: {what} at column {exc.colno}", LINE_HINT) from None
    if not isinstance(fields, dict):
        raise Problem("failed", f"the line is a JSON {_json_kind(fields)}, not an object", LINE_HINT)
    fields = with_known_keys(fields, in_a_line=True)
    text = fields.get("text")
    if text is not None and not isinstance(text, str):
        raise Problem("failed", f"field 'text' must be a string, not a JSON {_json_kind(text)}", LINE_HINT)
    restricted = fields.get("restricted") is True
    if not (text or "").strip():
        if not restricted:
            raise Problem("failed", "no 'text' field, or it is empty", 'Add the minutes as "text", or remove the line.')
        text = ""
    if not restricted and (problem := too_long(text, source.max_item_chars)):
        raise problem
    item = item_from_fields(
        fields, text, source, origin=origin, fallback_id=_line_identity(source, lineno), in_a_line=True
    )
    if "restricted" in fields:  # the line says whether it is: `"restricted": false` keeps a marked item published since
        return item
    # A line that does not say is withheld when its title is marked not for publication ('Placement Review (Exempt)'),
    # or its text opens with a marking ('NOT FOR PUBLICATION', 'EXEMPT INFORMATION - PARAGRAPH 2'). Its first line only:
    # a line's text may be a whole ModernGov meeting page, whose agenda lists the standing public item 'Exempt
    # Information' among its first lines, and is one item, never split. Its text goes no further.
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    marking = ((item.item_title if title_marked_not_public(item.item_title) else "") or document_marked_not_public(first)
               or (first if line_cites_exempt_paragraph(first) else ""))
    if not marking:
        return item
    return replace(item, text="", restricted=True, details={**item.details, NOT_PUBLIC_LINE: marking})
