"""Cut one item's minutes into chunks that never cross the item and never get truncated."""

from __future__ import annotations

import re
from typing import Callable

from assistant.ingest.structure import CELL_SEPARATOR, Block, parse_blocks
from assistant.ingest.tokens import TokenCounter
from assistant.records import Chunk, MinuteItem, content_hash
from assistant.text import Span, committee_key, council_key, date_span, normalise_space, sentence_spans
from assistant.text import breadcrumb as text_breadcrumb

# Bump when the way chunks are cut changes, so existing indexes re-chunk on the next ingest.
# 5: "4 - Title" and "4: Title" head a part; "4. That ..." never does.
# 6: a sentence wrapped before a figure ("had received" / "7,230 referrals") is one.
CHUNKER_VERSION = "6"
_CLAUSE_BREAK = re.compile(r"[;:,\u2013\u2014]\s|\s-\s")
_MIN_BUDGET = 16


def breadcrumb(item: MinuteItem) -> str:
    """'Council › Committee › Date › Item title', leaving out what is unknown."""
    return text_breadcrumb([item.council, item.committee, item.meeting_date, item.item_title])


def chunk_item(
    item: MinuteItem,
    counter: TokenCounter,
    max_tokens: int,
    fits: Callable[[str], bool] | None = None,
) -> list[Chunk]:
    """Chunks of at most ``max_tokens`` (header included) that ``fits`` accepts whole."""
    header = breadcrumb(item)
    budget = max(max_tokens - counter.count(header) - 1, _MIN_BUDGET)
    pieces_by_block = [
        (block, _pieces(item.text, block, counter, budget))
        for block in parse_blocks(item.text)
        if block.kind != "supporting"  # lists of attachment names: noise for retrieval
    ]
    chunks: list[Chunk] = []
    for block, pieces in pieces_by_block:
        for group in _pack(item.text, _units(item.text, pieces, budget), counter, budget, header, fits):
            chunks.append(_make_chunk(item, block, group, len(chunks), header, counter))
    return chunks


def _pieces(text: str, block: Block, counter: TokenCounter, budget: int) -> list[tuple[Span, int]]:
    """Sentences of the block, with any sentence longer than the budget cut at clauses or words."""
    out: list[tuple[Span, int]] = []
    for sentence in sentence_spans(text, block.span.start, block.span.end):
        tokens = counter.count(normalise_space(sentence.of(text)))
        if tokens <= budget:
            out.append((sentence, tokens))
        else:
            out.extend(_split_long(text, sentence, counter, budget))
    return out


def _split_long(text: str, span: Span, counter: TokenCounter, budget: int) -> list[tuple[Span, int]]:
    """Cut at clause breaks where possible, else between words, else (one huge 'word') by characters."""
    cuts = [m.end() for m in _CLAUSE_BREAK.finditer(text, span.start, span.end)]
    if not cuts:
        cuts = [m.end() for m in re.finditer(r"\s+", text[span.start:span.end])]
        cuts = [span.start + c for c in cuts]
    if not cuts:
        step = max(budget * 2, 8)  # a run with no spaces: about two characters a token at worst
        cuts = list(range(span.start + step, span.end, step))
    out: list[tuple[Span, int]] = []
    begin = span.start
    last_ok = None
    for cut in cuts + [span.end]:
        candidate = Span(begin, cut)
        tokens = counter.count(normalise_space(candidate.of(text)))
        if tokens <= budget:
            last_ok = (candidate, tokens)
            continue
        if last_ok is None:  # even the first piece is too long: cut it finer
            out.extend(_split_long_words(text, candidate, counter, budget))
            begin = cut
        else:
            out.append(last_ok)
            begin = last_ok[0].end
            rest = Span(begin, cut)
            tokens = counter.count(normalise_space(rest.of(text)))
            last_ok = (rest, tokens) if tokens <= budget else None
            if last_ok is None:
                out.extend(_split_long_words(text, rest, counter, budget))
                begin = cut
    if last_ok is not None:
        out.append(last_ok)
    return [p for p in out if p[0].of(text).strip()]


def _split_long_words(text: str, span: Span, counter: TokenCounter, budget: int) -> list[tuple[Span, int]]:
    if span.end - span.start <= 1:
        return [(span, counter.count(span.of(text)))]
    words = [span.start + m.end() for m in re.finditer(r"\s+", text[span.start:span.end])]
    if words and words[-1] < span.end:
        middle = words[len(words) // 2] if len(words) > 1 else words[0]
    else:
        middle = (span.start + span.end) // 2
    if not span.start < middle < span.end:
        middle = (span.start + span.end) // 2
    out = []
    for half in (Span(span.start, middle), Span(middle, span.end)):
        tokens = counter.count(normalise_space(half.of(text)))
        out.extend([(half, tokens)] if tokens <= budget else _split_long_words(text, half, counter, budget))
    return out


def _units(text: str, pieces: list[tuple[Span, int]], budget: int) -> list[list[tuple[Span, int]]]:
    """The pieces as they are packed: each on its own, except the rows of a table that fits in one chunk, which go
    together, so that no chunk holds rows without the header row that names their columns."""
    units: list[list[tuple[Span, int]]] = []
    in_table = False
    for piece in pieces:
        is_row = CELL_SEPARATOR in piece[0].of(text)
        if is_row and in_table:
            units[-1].append(piece)
        else:
            units.append([piece])
        in_table = is_row
    return [part for unit in units for part in ([unit] if _cost(unit) <= budget else [[piece] for piece in unit])]


def _cost(unit: list[tuple[Span, int]]) -> int:
    return sum(tokens + 1 for _, tokens in unit)


def _pack(text, units, counter, budget, header, fits) -> list[list[Span]]:
    """Greedy packing of consecutive units of pieces up to the budget; re-packed smaller if ``fits`` objects."""
    groups: list[list[Span]] = []
    current: list[Span] = []
    used = 0
    for unit in units:
        cost = _cost(unit)
        if current and used + cost > budget:
            groups.append(current)
            current, used = [], 0
        current.extend(span for span, _ in unit)
        used += cost
    if current:
        groups.append(current)
    if fits is None:
        return groups
    checked: list[list[Span]] = []
    for group in groups:
        if fits(_embed_text(header, text, group)) or budget <= _MIN_BUDGET:
            checked.append(group)
        else:
            smaller = budget // 2
            sub = [p for s in group for p in _split_long(text, s, counter, smaller)] if len(group) == 1 else [
                (s, counter.count(normalise_space(s.of(text)))) for s in group
            ]
            checked.extend(_pack(text, [[piece] for piece in sub], counter, smaller, header, fits))
    return checked


def _embed_text(header: str, text: str, group: list[Span]) -> str:
    body = normalise_space(text[group[0].start:group[-1].end])
    return f"{header}\n{body}" if header else body


def embed_text_of(text: str, metadata: dict) -> str:
    """What the embedder saw of a stored chunk, made again from its text and metadata: its vector is then the same,
    for a store whose vector files were lost."""
    header = text_breadcrumb([str(metadata.get(key) or "") for key in ("council", "committee", "meeting_date",
                                                                        "item_title")])
    body = normalise_space(text)
    return f"{header}\n{body}" if header else body


def _make_chunk(item: MinuteItem, block: Block, group: list[Span], position: int, header: str,
                counter: TokenCounter) -> Chunk:
    verbatim = item.text[group[0].start:group[-1].end]
    embed_text = _embed_text(header, item.text, group)
    chunk_id = content_hash(item.source_id, str(position), verbatim)[:32]
    span = date_span(item.meeting_date)
    metadata = {
        "source_id": item.source_id,
        "council": item.council,
        "council_key": council_key(item.council) if item.council else "",
        "committee": item.committee,
        "committee_key": committee_key(item.committee) if item.committee else "",
        "meeting_date": item.meeting_date,
        "period": item.period,
        "item_title": item.item_title,
        "source_url": item.source_url,
        "kind": block.kind,
        "position": position,
        "char_start": group[0].start,
        "char_end": group[-1].end,
        "content_hash": content_hash(verbatim),
    }
    for key, value in item.details.items():
        metadata.setdefault(key, value)  # never over a core key that search and citations rely on
    if span:  # left out when unknown, so date-filtered searches skip undated items
        metadata.update(
            meeting_year=span[0] // 10000, date_start=span[0], date_end=span[1],
        )
        if len(item.meeting_date) >= 7:
            metadata["meeting_month"] = int(item.meeting_date[5:7])
    tokens = counter.count(embed_text)
    metadata["tokens"] = tokens
    return Chunk(chunk_id, item.source_id, position, block.kind, verbatim, embed_text, tokens, metadata)
