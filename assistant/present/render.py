"""Rendering of answers, shared by the CLI, the app and briefings: plain text, and minute text made safe for
Markdown (the chat and the Markdown briefing show minutes and questions as written, never as markup)."""

from __future__ import annotations

import html
from typing import Callable
from urllib.parse import urlsplit

from assistant.records import Answer, Citation, NearestItem
from assistant.text import ENGLISH, NOT_IN_XML, counted, language_runs, readable_date

# Characters that can start Markdown or HTML markup anywhere in a line: emphasis, code, links and images,
# headings, tables, strike-through and tags; and '@', without which the chat's Markdown makes 'name@host' a link
# (it finds bare addresses in plain text: 'name@host', 'http://...' and 'www.', whose ':' and '.' are escaped).
_MARKUP_CHARACTERS = frozenset("\\`*_[]<>#|~@")
# Characters no reader sees, some of which drive a terminal ("\x1b[31m") or make a file unreadable (XML 1.0 takes
# none of them): C0 controls but tab and line ends, DEL, C1 controls, lone surrogates and U+FFFE/U+FFFF. A vertical
# tab or form feed, as Word writes a line break, becomes a space. Bidirectional embeddings, overrides and isolates
# (BIDI_CONTROLS) are left out too: an override at the end of an item's title reversed the rest of its line, so that a
# link to another site read as the council's address.
BIDI_CONTROLS = frozenset(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))
_INVISIBLE = ({code: None for code in (*NOT_IN_XML, *range(0x7F, 0xA0), *map(ord, BIDI_CONTROLS))}
              | {0x0B: " ", 0x0C: " "})


def visible_text(text: str) -> str:
    """The text without the characters of _INVISIBLE: what a briefing, in either format, and the chat show."""
    return text.translate(_INVISIBLE)


def markdown_literal(text: str) -> str:
    """Text that Markdown shows exactly as written, on one line: "*six*", "[a](b)" or "<b>" from the minutes or a
    question stay as they are, and a line that starts like a list item or a heading stays a line of text. Characters
    no reader sees (visible_text) are left out."""
    text = visible_text(text)
    collapsed = " ".join(text.split())
    if collapsed and text[:1].isspace():
        collapsed = " " + collapsed
    if collapsed.strip() and text[-1:].isspace():
        collapsed += " "
    out = []
    for i, ch in enumerate(collapsed):
        follows = collapsed[i + 1:i + 2]
        if (ch in _MARKUP_CHARACTERS or (ch == "&" and (follows.isalnum() or follows == "#"))
                or (ch == ":" and collapsed[i + 1:i + 3] == "//")
                or (ch == "." and collapsed[max(0, i - 3):i].lower() == "www")):
            out.append("\\")
        out.append(ch)
    escaped = "".join(out)
    body = escaped.lstrip()
    lead = escaped[:len(escaped) - len(body)]
    digits = len(body) - len(body.lstrip("0123456789"))
    if body[:1] in ("-", "+", "="):
        body = "\\" + body
    elif digits and body[digits:digits + 1] in (".", ")"):
        body = body[:digits] + "\\" + body[digits:]
    return lead + body


def in_languages(text: str, quote: str = "", literal: Callable[[str], str] = html.escape) -> str:
    """Minute text made safe by `literal` (HTML's escaping, or markdown_literal), its Welsh sentences in a span
    lang="cy" (WCAG 3.1.2: a screen reader read Welsh minutes with English sounds), and the quote's first occurrence
    marked: in one <mark> per language it spans, so that the elements nest. Characters no reader sees are left out."""
    text, quote = visible_text(text), visible_text(quote)
    at = text.find(quote) if quote else -1
    quoted = (at, at + len(quote)) if at >= 0 else (0, 0)

    def shown(piece: str) -> str:  # a space between pieces kept: markdown_literal drops one standing alone
        return literal(piece) if piece.strip() else piece

    parts = []
    for span, language in language_runs(text):
        cuts = sorted({span.start, span.end, *(b for b in quoted if span.start < b < span.end)})
        pieces = "".join(f"<mark>{shown(text[a:b])}</mark>" if quoted[0] <= a and b <= quoted[1]
                         else shown(text[a:b]) for a, b in zip(cuts, cuts[1:]))
        # Marked only where it is not the page's English, and only when it can be told.
        parts.append(f'<span lang="{language}">{pieces}</span>' if language and language != ENGLISH else pieces)
    return "".join(parts)


def web_address(url: str) -> str:
    """The URL when it is an http(s) address with a host, else "" (a link never runs a script or opens a file)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


# After an item's title, in place of the address of one that has no web address (a file's path, an item's id), in
# every shell: shown bare, or in <...>, an id read as part of the title, or as a link that led nowhere.
NO_WEB_ADDRESS = "(no web address; source: {})"


def address_or_label(address: str) -> str:
    """A source's web address as it is, else its identity labelled as no web address; "" when it has neither."""
    return address if web_address(address) or not address else NO_WEB_ADDRESS.format(address)


def source_line(c: Citation | NearestItem) -> str:
    """An item as every shell names it, a cited source or a refusal's nearest item alike: council, committee, date
    and title, each said to be unknown when it is ('Sefton Council — (committee unknown) — 2021 — Fostering'). The
    title leads with the item's number where the title does not ('7. Fostering', as an item cut from a file is
    titled by its heading), so that an officer can point to the minute. The date as people write it ('12 March
    2024'), as the short answer gives it: a briefing had '2021-01-18' under a header of dates in words."""
    title, number = c.item_title or "(untitled item)", c.item_number.strip()
    if number and not (c.item_title.startswith(number) and c.item_title[len(number):][:1] in ("", " ", ".", ":", ")")):
        title = f"{number}{'' if number.endswith(('.', ')')) else '.'} {title}"
    parts = [c.council or "(council unknown)", c.committee or "(committee unknown)",
             readable_date(c.meeting_date) or "(date unknown)", title]
    return " \u2014 ".join(parts)


def short_answer_line(answer: Answer, short: str, literal: Callable[[str], str] = str) -> str:
    """The short answer (as `short` shows it) with whose and when it is and its source's marker ('412 (Northbrook
    Borough Council, 12 March 2024 [1])'): a figure alone, above quotes from several meetings or councils, could
    be read as today's or another council's; so could one whose date is not known, unless it says so, as its source
    does ('25 (Brighton and Hove City Council, date unknown [1])'). `literal` escapes the names for the shell that
    shows them."""
    return short + short_answer_said(answer.short_answer_source, literal)


def short_answer_said(source: Citation | None, literal: Callable[[str], str] = str) -> str:
    """What follows the short answer: ' (Northbrook Borough Council, 12 March 2024 [1])', from the source it is said
    in (short_answer_line); "" without one. Apart, for a briefing that numbers its sources anew and sets the short
    answer in bold."""
    if source is None:
        return ""
    said = ", ".join((source.council or "council unknown", readable_date(source.meeting_date) or "date unknown"))
    return f" ({literal(said)} [{source.marker}])"


def answer_as_text(answer: Answer) -> str:
    lines = [short_answer_line(answer, answer.short_answer), ""] if answer.short_answer and not answer.refused else []
    lines.append(answer.answer)
    lines.extend(f"({note})" for note in answer.notes)
    if answer.refused and answer.nearest:
        lines.append("\nNearest items searched:")
        for item in answer.nearest:
            url = web_address(item.source_url)
            address = f" <{url}>" if url else (f" {address_or_label(item.source_url)}" if item.source_url else "")
            lines.append(f"  - {source_line(item)}{address}")
    cited = answer.shown_citations
    if cited:
        lines.append("\nSources:")
        for c in cited:
            lines.append(f"  [{c.marker}] {source_line(c)}")
            lines.append(f"      {address_or_label(c.source_url)}")
            lines.append(f"      \u201c{c.quote.strip()}\u201d")
    left_out = sum(not s.shown for s in answer.sentences)
    if left_out:
        lines.append("\n" + not_shown_note(left_out, answer.mode))
    # A file named with a terminal's escape codes, or minutes holding control characters, must not drive the
    # terminal the answer is printed to.
    return visible_text("\n".join(lines))


def not_shown_note(left_out: int, mode: str) -> str:
    """What an answer says of the sentences it left out: that there were some is part of what it says."""
    from assistant.answer.service import EXTRACTIVE

    kind = "quoted sentence" if mode == EXTRACTIVE else "generated sentence"
    return f"(Not shown: {counted(left_out, kind)} that the checks left out.)"
