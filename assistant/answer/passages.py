"""The whole items around retrieved chunks, read from the keyword index's stored entries: the reader reads
every sentence of an item, not only the chunks retrieval found."""

from __future__ import annotations

import functools

from assistant.index.lexical import LexicalEntry, LexicalIndex
from assistant.text import (AMENDED_TO_PHRASES, AMENDING_STEMS, IN_PLACE_OF_PHRASES, gives_instructions,
                            sentence_spans)


class Passages:
    """An item's chunks, in order, over one keyword index (the table is built on first use)."""

    def __init__(self, lexical: LexicalIndex) -> None:
        self.lexical = lexical
        self._instructing: dict[str, bool] = {}
        self._amending: dict[str, list[tuple[LexicalEntry, int, int]]] = {}

    def gives_instructions(self, source_id: str) -> bool:
        """Whether any chunk of the item speaks to whoever reads or answers from the minutes (text.gives_instructions):
        such text may put what it wants said in a sentence of its own, so nothing of the item is quoted or given to a
        language model as evidence."""
        if source_id not in self._instructing:
            self._instructing[source_id] = any(gives_instructions(entry.text) for entry in self.chunks_of(source_id))
        return self._instructing[source_id]

    def chunks_of(self, source_id: str) -> list[LexicalEntry]:
        """The keyword index's entries for one item's chunks, in order."""
        return [self.lexical.entries[i] for _, i in sorted(self._positions.get(source_id, []))]

    def joined_runs(self, source_id: str) -> list[tuple[set[str], str]]:
        """The item's chunks in order, those that meet (chunks_meet) joined into one passage: a sentence too long
        for one chunk, quoted whole, runs over them. Each passage with the ids of its chunks."""
        runs: list[tuple[set[str], str]] = []
        chunks = self.chunks_of(source_id)
        for before, entry in zip([None, *chunks], chunks):
            if before is not None and chunks_meet(before, entry):
                ids, text = runs[-1]
                runs[-1] = (ids | {entry.chunk_id}, text + entry.text)
            else:
                runs.append(({entry.chunk_id}, entry.text))
        return runs

    def amending_sentences(self, council_key: str) -> list[tuple[LexicalEntry, int, int]]:
        """The sentences of a council's chunks that may correct a figure in earlier minutes (each as its entry, start
        and end): those with an amending phrase ('should read', 'rather than'), in chunks that speak of minutes in
        their text or their item's title, that themselves speak of minutes, amending or correcting. A plain search of
        the council's chunks, kept for next time."""
        if council_key not in self._amending:
            phrases = AMENDED_TO_PHRASES + IN_PLACE_OF_PHRASES
            found = []
            for entry in self.lexical.council_entries(council_key):
                lowered = " ".join(entry.text.lower().split())
                title = str(entry.metadata.get("item_title") or "").lower()
                if "minute" not in f"{title} {lowered}" or not any(phrase in lowered for phrase in phrases):
                    continue
                for span in sentence_spans(entry.text):
                    words = " ".join(span.of(entry.text).lower().split())
                    if any(phrase in words for phrase in phrases) and any(stem in words for stem in AMENDING_STEMS):
                        found.append((entry, span.start, span.end))
            self._amending[council_key] = found
        return self._amending[council_key]

    @functools.cached_property
    def _positions(self) -> dict[str, list[tuple[int, int]]]:
        items: dict[str, list[tuple[int, int]]] = {}
        for i, e in enumerate(self.lexical.entries):
            items.setdefault(e.metadata.get("source_id"), []).append((e.metadata.get("position", 0), i))
        return items


def chunks_meet(first: LexicalEntry, second: LexicalEntry) -> bool:
    """Whether one chunk ends where the next starts, with nothing between them: a sentence too long for one chunk
    was cut there (between sentences, the white space between them separates the chunks)."""
    end = first.metadata.get("char_end")
    return end is not None and end == second.metadata.get("char_start")
