"""The whole items around retrieved chunks, read from the keyword index's stored entries: the reader reads
every sentence of an item, not only the chunks retrieval found."""

from __future__ import annotations

import functools

from assistant.index.lexical import LexicalEntry, LexicalIndex


class Passages:
    """An item's chunks, in order, over one keyword index (the table is built on first use)."""

    def __init__(self, lexical: LexicalIndex) -> None:
        self.lexical = lexical

    def chunks_of(self, source_id: str) -> list[LexicalEntry]:
        """The keyword index's entries for one item's chunks, in order."""
        return [self.lexical.entries[i] for _, i in sorted(self._positions.get(source_id, []))]

    @functools.cached_property
    def _positions(self) -> dict[str, list[tuple[int, int]]]:
        items: dict[str, list[tuple[int, int]]] = {}
        for i, e in enumerate(self.lexical.entries):
            items.setdefault(e.metadata.get("source_id"), []).append((e.metadata.get("position", 0), i))
        return items
