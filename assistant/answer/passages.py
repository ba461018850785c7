"""The whole items around retrieved chunks, read from the keyword index's stored entries: the reader reads
every sentence of an item, not only the chunks retrieval found."""

from __future__ import annotations

from assistant.index.lexical import LexicalEntry, LexicalIndex
from assistant.text import gives_instructions


class Passages:
    """An item's chunks, in order, over one keyword index."""

    def __init__(self, lexical: LexicalIndex) -> None:
        self.lexical = lexical
        self._instructing: dict[str, bool] = {}
        # What named checks keep of this index between questions, each under keys of its own making (the meetings
        # and the corrections of a council's minutes, answer/amendments.py): a plain search of a council's chunks
        # is made once.
        self.kept: dict[tuple, object] = {}

    def gives_instructions(self, source_id: str) -> bool:
        """Whether any chunk of the item speaks to whoever reads or answers from the minutes (text.gives_instructions):
        such text may put what it wants said in a sentence of its own, so nothing of the item is quoted or given to a
        language model as evidence."""
        if source_id not in self._instructing:
            self._instructing[source_id] = any(gives_instructions(entry.text) for entry in self.chunks_of(source_id))
        return self._instructing[source_id]

    def chunks_of(self, source_id: str) -> list[LexicalEntry]:
        """The keyword index's entries for one item's chunks, in order."""
        return self.lexical.item_entries(source_id)

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


def chunks_meet(first: LexicalEntry, second: LexicalEntry) -> bool:
    """Whether one chunk ends where the next starts, with nothing between them: a sentence too long for one chunk
    was cut there (between sentences, the white space between them separates the chunks)."""
    end = first.metadata.get("char_end")
    return end is not None and end == second.metadata.get("char_start")
