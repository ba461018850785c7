"""The minutes around a retrieved chunk, read from the keyword index's stored entries: what the answerer
needs besides the chunk itself (the chunk before it, its whole item, the words the minutes write in lower case)."""

from __future__ import annotations

import functools
import re

from assistant.index.lexical import LexicalIndex

_LOWERCASE_WORD = re.compile(r"\b[a-z][a-z'\u2019-]+\b")


class Passages:
    """Item texts and neighbouring chunks over one keyword index, each table built on first use."""

    def __init__(self, lexical: LexicalIndex) -> None:
        self.lexical = lexical

    def chunk_before(self, metadata: dict) -> str:
        """The text of the chunk just before this one in its item ('' for an item's first chunk)."""
        return self._by_place.get((metadata.get("source_id"), metadata.get("position", 0) - 1), "")

    def item_text(self, source_id: str) -> str:
        """The whole text of one item, its chunks in order."""
        return "\n".join(text for _, text in sorted(self._by_item.get(source_id, [])))

    @functools.cached_property
    def lowercase_words(self) -> frozenset[str]:
        """Words the minutes write in lower case somewhere: 'visit' is a word, so 'Focused Visit' is not a
        person's name. (Built on first use, for questions asking who.)"""
        found: set[str] = set()
        for entry in self.lexical.entries:
            found.update(_LOWERCASE_WORD.findall(entry.text))
        return frozenset(found)

    @functools.cached_property
    def _by_item(self) -> dict[str, list[tuple[int, str]]]:
        items: dict[str, list[tuple[int, str]]] = {}
        for e in self.lexical.entries:
            items.setdefault(e.metadata.get("source_id"), []).append((e.metadata.get("position", 0), e.text))
        return items

    @functools.cached_property
    def _by_place(self) -> dict[tuple, str]:
        return {(e.metadata.get("source_id"), e.metadata.get("position")): e.text for e in self.lexical.entries}
