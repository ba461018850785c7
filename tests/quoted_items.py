"""An item of minutes in a keyword index of its own, and a quote of it, for tests of how an extractive answer shows
what it quotes (Assistant.compose), without retrieval or the reader."""

from assistant.answer.passages import Passages
from assistant.index.lexical import LexicalEntry, build
from assistant.records import Answer, Draft, Hit, ScoredSentence


def item_passages(tmp_path, *chunks: str, title: str, council: str, council_key: str) -> Passages:
    """One item ('s1') cut into these chunks, in order."""
    meta = {"source_id": "s1", "council": council, "council_key": council_key, "item_title": title}
    return Passages(build([LexicalEntry(f"c{n}", text, {**meta, "position": n})
                           for n, text in enumerate(chunks, start=1)], tmp_path / "bm25"))


def quoting(found: Passages, words: str, chunk: int = 0) -> ScoredSentence:
    """The words, as a quote of the item's chunk (its first by default)."""
    entry = found.lexical.entries[chunk]
    at = entry.text.index(words)
    return ScoredSentence(Hit(entry.chunk_id, entry.text, entry.metadata, 1.0), 0, at, at + len(words), 0.9, 0.9)


def composed(assistant, found: Passages, *quotes: ScoredSentence) -> Answer:
    """The extractive answer quoting these, from the item's passages."""
    assistant.passages = found
    return assistant.compose(Draft(list(quotes)), {"question": "q", "mode": "extractive"}, {})
