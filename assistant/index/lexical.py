"""The BM25 side of hybrid search (bm25s), persisted in the data folder beside Chroma.

It is rebuilt from the vector store whenever an ingest changes anything, so the two always hold
the same chunks. It also keeps each chunk's text and filter metadata in memory, which the
retriever uses to resolve filters and to show BM25-only hits.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from assistant.records import content_hash
from assistant.text import lexical_tokens

FORMAT_VERSION = "3"  # bump when lexical_tokens change, so saved indexes are rebuilt


@dataclass(frozen=True)
class LexicalEntry:
    chunk_id: str
    text: str
    metadata: dict


class LexicalIndex:
    def __init__(self, entries: list[LexicalEntry], bm25) -> None:
        self.entries = entries
        self._bm25 = bm25
        self.position = {e.chunk_id: i for i, e in enumerate(entries)}

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(entry position, BM25 score) of the best k entries with a positive score, within the mask."""
        tokens = [t for t in lexical_tokens(query) if t in self._vocab]
        if not tokens or not self.entries:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    @functools.cached_property
    def _vocab(self) -> set[str]:
        return set(self._bm25.vocab_dict)

    def document_frequency(self, token: str) -> int:
        """How many chunks contain the (already stemmed) token: for weighting rare words."""
        index = self._bm25.vocab_dict.get(token)
        if index is None:
            return 0
        return int(self._df[index])

    @functools.cached_property
    def _df(self) -> np.ndarray:
        matrix = self._bm25.scores
        indptr = np.asarray(matrix["indptr"])
        return np.diff(indptr)


def state_of(chunk_ids: Iterable[str]) -> str:
    return content_hash(FORMAT_VERSION, *sorted(chunk_ids))[:24]


def build(entries: Sequence[LexicalEntry], folder: Path) -> LexicalIndex:
    import logging

    import bm25s

    from assistant.text import metadata_breadcrumb

    logging.getLogger("bm25s").setLevel(logging.WARNING)

    corpus = [lexical_tokens(metadata_breadcrumb(e.metadata) + "\n" + e.text) or ["\u2205"] for e in entries]
    bm25 = bm25s.BM25()
    if corpus:
        bm25.index(corpus, show_progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(folder.name + ".tmp")
    if corpus:
        bm25.save(str(staging), show_progress=False)
    else:
        staging.mkdir(parents=True, exist_ok=True)
    with (staging / "entries.jsonl").open("w", encoding="utf-8") as handle:
        for e in entries:
            handle.write(json.dumps({"id": e.chunk_id, "text": e.text, "meta": e.metadata}, ensure_ascii=False) + "\n")
    (staging / "state.txt").write_text(state_of(e.chunk_id for e in entries))
    _swap(staging, folder)
    return LexicalIndex(list(entries), bm25 if corpus else None)


def _swap(staging: Path, folder: Path) -> None:
    """Replace the folder in two renames, so a reader never sees half an index."""
    import shutil

    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def load(folder: Path) -> LexicalIndex | None:
    """The saved index, or None when there is none (or it is unreadable: it is rebuilt then)."""
    import bm25s

    try:
        entries = []
        with (folder / "entries.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                entries.append(LexicalEntry(row["id"], row["text"], row["meta"]))
        bm25 = bm25s.BM25.load(str(folder), show_progress=False) if entries else None
    except (OSError, ValueError, KeyError):
        return None
    return LexicalIndex(entries, bm25)


def is_current(folder: Path, chunk_ids: Iterable[str]) -> bool:
    """Does the saved index hold exactly these chunks?"""
    return saved_state(folder) == state_of(chunk_ids)


def saved_state(folder: Path) -> str | None:
    try:
        return (folder / "state.txt").read_text().strip()
    except OSError:
        return None
