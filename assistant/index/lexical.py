"""The BM25 side of hybrid search (bm25s), persisted in the data folder beside Chroma.

It holds the same chunks as the vector store. Each chunk is saved with its tokens and a version (ingest uses
its item's fingerprint), so bringing the index up to date reads and tokenises only the chunks it lacks in
their current version, and recomputes the scores from the saved tokens. It also keeps each chunk's text and
filter metadata in memory, which the retriever uses to resolve filters and to show BM25-only hits.
"""

from __future__ import annotations

import functools
import glob
import json
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from assistant.records import content_hash, other_versions
from assistant.text import (WELSH_COUNCIL_NAME_WORDS, council_key_now, fold, is_mentioned, lexical_tokens,
                            metadata_breadcrumb, word_prefixes)

# Bump when lexical_tokens or the saved files change: a saved index of another version is rebuilt from the store.
FORMAT_VERSION = "8"

_ENTRIES = "entries.jsonl"  # each chunk's id, text, metadata and version, one JSON object a line
_TOKENS = "tokens.npy"  # every entry's tokens end to end, as ids into the BM25 vocabulary
_OFFSETS = "offsets.npy"  # where each entry's tokens start, and where the last one ends
_STATE = "state.txt"  # a hash of the chunk ids: what `is_current` checks
_VERSIONS = "versions.txt"  # a hash of the chunk ids with their versions: what `holds` checks
_NO_WORDS = "\u2205"  # the token of a chunk with no words, so that every entry has a length


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

    def content_hashes(self, chunk_ids) -> dict[str, str]:
        """The content hash of each chunk named that this index holds, for an audit record of what an answer
        rested on."""
        return {chunk_id: self.entries[self.position[chunk_id]].metadata.get("content_hash", "")
                for chunk_id in chunk_ids if chunk_id in self.position}

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
        return set(self._bm25.vocab_dict) if self._bm25 is not None else set()

    def knows(self, token: str) -> bool:
        """Whether any chunk mentions the (already stemmed) name token, as text.missing_names matches a name within
        evidence (text.is_mentioned)."""
        return is_mentioned(token, self._vocab, self._prefixes)

    def knows_exactly(self, token: str) -> bool:
        """Whether any chunk holds the (already stemmed) token itself, not only a word of its first four letters."""
        return token in self._vocab

    @functools.cached_property
    def council_pairs(self) -> frozenset[tuple[str, str]]:
        """Each council name stored with the chunks, with the key stored beside it (tens of them)."""
        return frozenset((entry.metadata.get("council") or "", entry.metadata.get("council_key", ""))
                         for entry in self.entries)

    @functools.cached_property
    def keys_now(self) -> dict[tuple[str, str], str]:
        """Each council name stored with the chunks, with the key stored beside it, to its key as this version makes
        it: worked out once for each pair (tens of them), not for each chunk."""
        return {pair: council_key_now(*pair) for pair in self.council_pairs}

    @functools.cached_property
    def council_keys(self) -> frozenset[str]:
        """The keys of the councils whose minutes the index holds, as this version makes them."""
        return frozenset(key for key in self.keys_now.values() if key)

    @functools.cached_property
    def council_names_by_key(self) -> dict[str, str]:
        """Each council key's name, of the names its minutes give it: an English one where they give a Welsh one too
        ('Gwynedd Council', not 'Cyngor Gwynedd'), and of those the shortest ('Southwark Council', not 'London
        Borough of Southwark'), then the first in order."""
        names: dict[str, list[str]] = {}
        for (council, _), key in sorted(self.keys_now.items()):
            if key:
                names.setdefault(key, []).append(council or key)
        return {key: min(given, key=lambda name: (len(set(fold(name).split()) & WELSH_COUNCIL_NAME_WORDS),
                                                  len(name), name))
                for key, given in names.items()}

    def council_mentions_year(self, key: str, year: int) -> bool:
        """Whether a council's indexed minutes cover a year: one of its meetings was held in it or the year after
        (a meeting early in a year reports on the last: 'at the end of December'), or their text or titles write it
        ('2025', '2024/25', '2024-2025'). Found by a plain search of that council's chunks, kept for next time."""
        if (key, year) not in self._years_covered:
            meetings = {str(self.entries[i].metadata.get("meeting_date") or "")[:4]
                        for i in self._positions_by_council.get(key, ())}
            forms = (str(year), f"{year - 1}/{year % 100:02d}", f"{year - 1}-{year % 100:02d}",
                     f"{year - 1}\u2013{year % 100:02d}")
            self._years_covered[(key, year)] = bool({str(year), str(year + 1)} & meetings) or any(
                form in f"{self.entries[i].metadata.get('item_title') or ''} {self.entries[i].text}"
                for i in self._positions_by_council.get(key, ()) for form in forms)
        return self._years_covered[(key, year)]

    def item_entries(self, source_id: str) -> list[LexicalEntry]:
        """The entries of one item's chunks, in the item's order."""
        return [self.entries[i] for i in self._positions_by_item.get(source_id, ())]

    @functools.cached_property
    def _positions_by_item(self) -> dict[str, list[int]]:
        items: dict[str, list[tuple[int, int]]] = {}
        for i, entry in enumerate(self.entries):
            items.setdefault(entry.metadata.get("source_id"), []).append((entry.metadata.get("position", 0), i))
        return {source_id: [i for _, i in sorted(places)] for source_id, places in items.items()}

    def council_entries(self, key: str) -> list[LexicalEntry]:
        """The entries of one council's chunks (by its key as keys_now gives it), in the index's order."""
        return [self.entries[i] for i in self._positions_by_council.get(key, ())]

    @functools.cached_property
    def _years_covered(self) -> dict[tuple[str, int], bool]:
        return {}

    @functools.cached_property
    def _positions_by_council(self) -> dict[str, list[int]]:
        positions: dict[str, list[int]] = {}
        for i, entry in enumerate(self.entries):
            pair = (entry.metadata.get("council") or "", entry.metadata.get("council_key", ""))
            positions.setdefault(self.keys_now[pair], []).append(i)
        return positions

    @functools.cached_property
    def _prefixes(self) -> set[str]:
        return word_prefixes(self._vocab)

    def document_frequency(self, token: str) -> int:
        """How many chunks contain the (already stemmed) token: for weighting rare words."""
        index = self._bm25.vocab_dict.get(token) if self._bm25 is not None else None
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


def versions_of(chunks: Mapping[str, str]) -> str:
    return content_hash(FORMAT_VERSION, *sorted(f"{cid} {version}" for cid, version in chunks.items()))[:24]


def build(entries: Sequence[LexicalEntry], folder: Path, versions: Mapping[str, str] | None = None) -> LexicalIndex:
    """Tokenise every entry and save the index, the entries in the order given (each in its version, if given)."""
    entries = list(entries)
    versions = {e.chunk_id: (versions or {}).get(e.chunk_id, "") for e in entries}
    lines = [_line(e, versions[e.chunk_id]) for e in entries]
    return _save(entries, lines, versions, _Tokens.of(entries).select(range(len(entries))), folder)


def update(folder: Path, chunks: Mapping[str, str],
           fetch: Callable[[list[str]], Iterable[LexicalEntry]]) -> LexicalIndex:
    """Make the saved index hold exactly these chunks (id: version), in reading order, fetching only those it
    lacks in that version. A version is any string that changes when the chunk's text or metadata may have.

    Everything is fetched when there is no saved index, or it is unreadable or of another FORMAT_VERSION.
    """
    _finish_interrupted_swap(folder)
    saved = _load_with_tokens(folder)
    if saved is None:
        return build(sorted(fetch(sorted(chunks)), key=_reading_order) if chunks else [], folder, chunks)
    old = saved.index.entries
    kept = [i for i, e in enumerate(old) if saved.versions[i] == chunks.get(e.chunk_id)]
    missing = sorted(chunks.keys() - {old[i].chunk_id for i in kept})
    added = list(fetch(missing)) if missing else []
    pool = old + added
    lines = saved.lines + [_line(e, chunks[e.chunk_id]) for e in added]  # kept entries are written as they were read
    chosen = sorted(kept + list(range(len(old), len(pool))), key=lambda i: _reading_order(pool[i]))
    held = [pool[i] for i in chosen]
    return _save(held, [lines[i] for i in chosen], {e.chunk_id: chunks[e.chunk_id] for e in held},
                 (saved.tokens + _Tokens.of(added)).select(chosen), folder)


def _reading_order(entry: LexicalEntry) -> tuple:
    """By item, then by place in the item: the order the retriever and the answerer rely on."""
    return entry.metadata.get("source_id", ""), entry.metadata.get("position", 0), entry.chunk_id


@dataclass(frozen=True)
class _Tokens:
    """Every entry's tokens end to end, as ids into a vocabulary: compact to save, quick to join and select."""

    vocab: list[str]
    ids: np.ndarray  # int32
    offsets: np.ndarray  # int64, entry i's tokens are ids[offsets[i]:offsets[i + 1]]

    @classmethod
    def of(cls, entries: Sequence[LexicalEntry]) -> _Tokens:
        number: dict[str, int] = {}
        ids: list[int] = []
        offsets = [0]
        for e in entries:
            tokens = lexical_tokens(metadata_breadcrumb(e.metadata) + "\n" + e.text) or [_NO_WORDS]
            ids.extend([number.setdefault(t, len(number)) for t in tokens])
            offsets.append(len(ids))
        return cls(list(number), np.array(ids, dtype=np.int32), np.array(offsets, dtype=np.int64))

    def __add__(self, other: _Tokens) -> _Tokens:
        """These entries' tokens, then the other's, its words renumbered into this vocabulary."""
        number = {t: i for i, t in enumerate(self.vocab)}
        renumber = np.array([number.setdefault(t, len(number)) for t in other.vocab], dtype=np.int32)
        ids = np.concatenate([self.ids, renumber[other.ids]]) if len(other.ids) else self.ids
        return _Tokens(list(number), ids, np.concatenate([self.offsets, other.offsets[1:] + self.offsets[-1]]))

    def select(self, rows: Iterable[int]) -> _Tokens:
        """The tokens of these entries in this order, over a sorted vocabulary of just their words.

        The same entries thus always give the same arrays, however the index got to hold them.
        """
        rows = np.fromiter(rows, dtype=np.int64)
        starts, lengths = self.offsets[rows], np.diff(self.offsets)[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        picked = self.ids[np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])]
        used = np.unique(picked)
        words = [self.vocab[i] for i in used.tolist()]
        order = sorted(range(len(words)), key=words.__getitem__)
        renumber = np.zeros(len(self.vocab), dtype=np.int32)
        renumber[used[order]] = np.arange(len(order), dtype=np.int32)
        return _Tokens([words[i] for i in order], renumber[picked], offsets)


def _save(entries: list[LexicalEntry], lines: list[str], versions: Mapping[str, str], tokens: _Tokens,
          folder: Path) -> LexicalIndex:
    """Write the index (the entries as these lines of entries.jsonl) beside the folder, then swap it in."""
    import shutil

    bm25 = _bm25(tokens) if entries else None
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = _new_staging(folder)
    try:
        if bm25 is not None:
            bm25.save(str(staging), show_progress=False)
        np.save(staging / _TOKENS, tokens.ids)
        np.save(staging / _OFFSETS, tokens.offsets)
        with (staging / _ENTRIES).open("w", encoding="utf-8") as handle:
            handle.writelines(lines)
        (staging / _STATE).write_text(state_of(versions))
        (staging / _VERSIONS).write_text(versions_of(versions))
        _swap(staging, folder)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)  # gone already if the swap got that far
        if exc.filename:
            raise
        # numpy's and bm25s's writes fail naming no file (a full disk, say): named, the user is told where and why.
        raise OSError(exc.errno, exc.strerror or str(exc), str(folder)) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return LexicalIndex(entries, bm25)


_STAGING = ".tmp"  # what a staging folder's name adds to the index folder's; a writer adds its own mark after it


def _new_staging(folder: Path) -> Path:
    """An empty folder beside the index, of this writer alone: one writer never empties another's.

    Made with mkdir rather than tempfile.mkdtemp, which makes it 0o700: swapped in, the index would then be
    unreadable to an app run under another account, as it was not before.
    """
    staging = folder.with_name(f"{folder.name}{_STAGING}-{os.getpid()}-{secrets.token_hex(4)}")
    staging.mkdir()
    return staging


def remove_abandoned_staging(folder: Path) -> list[Path]:
    """Remove the staging folders left beside the index by writers killed while writing; returns them.

    Call it only while holding the index's write lock (`assistant.index.write_lock.writing_index`): a live writer's
    staging folder looks the same.
    """
    import shutil

    abandoned = [p for p in folder.parent.glob(f"{glob.escape(folder.name)}{_STAGING}*") if p.is_dir()]
    for staging in abandoned:
        shutil.rmtree(staging, ignore_errors=True)
    return abandoned


def _line(entry: LexicalEntry, version: str) -> str:
    """The entry's line of entries.jsonl: keys sorted, so the same entry is always written the same way."""
    return json.dumps({"id": entry.chunk_id, "text": entry.text, "meta": entry.metadata, "version": version},
                      ensure_ascii=False, sort_keys=True) + "\n"


def _bm25(tokens: _Tokens):
    """A bm25s index of the tokens, set up as `bm25s.BM25.load` sets one up, with the scores of `_score_matrix`."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    bm25 = bm25s.BM25()  # Lucene BM25 with bm25s's defaults, which has no non-occurrence scores
    bm25.vocab_dict = {t: i for i, t in enumerate(tokens.vocab)}
    bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
    bm25.nonoccurrence_array = None
    bm25.scores = _score_matrix(tokens, bm25.k1, bm25.b)
    return bm25


def _score_matrix(tokens: _Tokens, k1: float, b: float) -> dict:
    """bm25s's Lucene scores as its CSC matrix (a column per word), computed over whole arrays.

    The operations and types are those of `bm25s.BM25.index`, so the numbers are the same (a test checks);
    doing them on whole arrays takes a third of the time, which is most of an update's time at 100,000 chunks.
    """
    lengths = np.diff(tokens.offsets)
    n_docs, n_words = len(lengths), len(tokens.vocab)
    entry_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    pairs, tf = np.unique((tokens.ids.astype(np.int64) << 32) | entry_of, return_counts=True)  # by word, then entry
    word, entry = pairs >> 32, (pairs & 0xFFFFFFFF).astype(np.int32)
    df = np.bincount(word, minlength=n_words)
    distinct, which = np.unique(df, return_inverse=True)  # math.log once per distinct frequency, as bm25s uses it
    idf = np.array([math.log(1 + (n_docs - d + 0.5) / (d + 0.5)) for d in distinct.tolist()], dtype=np.float32)[which]
    tf = tf.astype(np.float32)
    tfc = tf / (k1 * ((1 - b) + b * lengths[entry] / lengths.mean()) + tf)
    indptr = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return {"data": (idf[word] * tfc).astype(np.float32), "indices": entry, "indptr": indptr, "num_docs": n_docs}


def _swap(staging: Path, folder: Path) -> None:
    """Replace the folder in two renames, so a reader never sees half an index."""
    import shutil

    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _finish_interrupted_swap(folder: Path) -> None:
    """A run killed between the two renames of `_swap` left the previous index whole beside the folder."""
    old = folder.with_name(folder.name + ".old")
    if not folder.exists() and old.is_dir():
        old.rename(folder)


def load(folder: Path) -> LexicalIndex | None:
    """The saved index, or None when there is none (or it is unreadable: it is rebuilt then)."""
    saved = _read(folder)
    return saved[0] if saved is not None else None


def _read(folder: Path) -> tuple[LexicalIndex, list[str], list[str]] | None:
    """The saved index, the lines of its entries.jsonl and the entries' versions."""
    import bm25s

    try:
        with (folder / _ENTRIES).open(encoding="utf-8") as handle:
            lines = handle.readlines()
        entries, versions = [], []
        for line in lines:
            row = json.loads(line)
            entries.append(LexicalEntry(row["id"], row["text"], row["meta"]))
            versions.append(row["version"])
        bm25 = bm25s.BM25.load(str(folder), show_progress=False) if entries else None
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return None
    return LexicalIndex(entries, bm25), lines, versions


class _Saved(NamedTuple):
    index: LexicalIndex
    lines: list[str]
    versions: list[str]
    tokens: _Tokens


def _load_with_tokens(folder: Path) -> _Saved | None:
    """The saved index with what an update needs, or None unless it is whole, agrees with itself and is of
    this FORMAT_VERSION."""
    saved = _read(folder)
    if saved is None:
        return None
    index, lines, versions = saved
    held = {e.chunk_id: v for e, v in zip(index.entries, versions)}
    if (len(held) != len(index) or saved_state(folder) != state_of(held)
            or _saved_text(folder / _VERSIONS) != versions_of(held)):
        return None  # both states are hashes of FORMAT_VERSION too
    try:
        ids = np.load(folder / _TOKENS, allow_pickle=False)
        offsets = np.load(folder / _OFFSETS, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    vocab_dict = index._bm25.vocab_dict if index._bm25 is not None else {}
    vocab = sorted(vocab_dict, key=vocab_dict.__getitem__)
    whole = (ids.dtype == np.int32 and ids.ndim == 1 and offsets.dtype == np.int64
             and offsets.shape == (len(index) + 1,) and offsets[0] == 0 and offsets[-1] == len(ids)
             and bool(np.all(np.diff(offsets) > 0)) and [vocab_dict[t] for t in vocab] == list(range(len(vocab)))
             and (not len(ids) or 0 <= ids.min() and ids.max() < len(vocab)))
    return _Saved(index, lines, versions, _Tokens(vocab, ids, offsets)) if whole else None


def is_current(folder: Path, chunk_ids: Iterable[str]) -> bool:
    """Does the saved index hold exactly these chunks?"""
    return saved_state(folder) == state_of(chunk_ids)


def saved_by_another_version(folder: Path, chunk_ids: Iterable[str]) -> bool:
    """Does the saved index hold exactly these chunks, in the format of another FORMAT_VERSION (saved by another
    version of the assistant)? The format is part of the state's hash, so it is found by trying the few there are."""
    saved = saved_state(folder)
    if saved is None:
        return False
    ids = sorted(chunk_ids)
    return any(content_hash(version, *ids)[:24] == saved for version in other_versions(FORMAT_VERSION))


def holds(folder: Path, chunks: Mapping[str, str]) -> bool:
    """Does the saved index hold exactly these chunks (id: version), each in its version, with an entry for
    each? The last checks catch an entries file or an array cut short after it was written, so that ingest rebuilds
    it."""
    return (is_current(folder, chunks) and _saved_text(folder / _VERSIONS) == versions_of(chunks)
            and _whole_lines(folder / _ENTRIES) == len(chunks) and _whole_arrays(folder))


def _whole_arrays(folder: Path) -> bool:
    """Whether every array file of the saved index is as long as its header says: read from the headers alone."""
    for path in folder.glob("*.npy"):
        try:
            with path.open("rb") as handle:
                read_header = (np.lib.format.read_array_header_1_0 if np.lib.format.read_magic(handle) == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(handle)
                if path.stat().st_size != handle.tell() + math.prod(shape) * dtype.itemsize:
                    return False
        except (OSError, ValueError):
            return False
    return True


def usable(folder: Path, chunks: Mapping[str, str]) -> bool:
    """Would `ask` and the app read the saved index as it is: it holds these chunks (id: version), or holds them as
    another version of the assistant saved them (rebuilt as it is opened)? Read from its small files and a count of
    its entries' lines, not loaded."""
    return holds(folder, chunks) or saved_by_another_version(folder, chunks)


def in_versions(folder: Path, chunks: Mapping[str, str]) -> bool:
    """Does the saved index hold its chunks each in the version given (id: version)? Its chunk ids alone
    (`is_current`) do not show a corrected meeting date or council, which filters read from it."""
    return _saved_text(folder / _VERSIONS) == versions_of(chunks)


def _whole_lines(path: Path) -> int | None:
    """How many lines the file holds, or None if it cannot be read or its last line is cut off."""
    lines, last = 0, b"\n"
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines, last = lines + block.count(b"\n"), block[-1:]
    except OSError:
        return None
    return lines if last == b"\n" else None


def saved_entries(folder: Path) -> dict[str, tuple[LexicalEntry, str]]:
    """Every chunk the saved index holds, with its version: each chunk's text and metadata, from which its vector can
    be made again when the vector store's files are lost. Empty when there is no whole saved index."""
    saved = _read(folder)
    if saved is None:
        return {}
    index, _, versions = saved
    held = {e.chunk_id: (e, v) for e, v in zip(index.entries, versions)}
    if len(held) != len(index) or saved_state(folder) != state_of(held):
        return {}
    return held


def saved_state(folder: Path) -> str | None:
    return _saved_text(folder / _STATE)


def announce_change(folder: Path) -> None:
    """Tell readers that the index changed though this one did not (its vector store was made anew): its state file
    is saved again, the same words in a new file, which `saved_generation` tells apart."""
    state = _saved_text(folder / _STATE)
    if state is None:
        return
    fresh = folder / f"{_STATE}{_STAGING}-{os.getpid()}"
    fresh.write_text(state)
    os.replace(fresh, folder / _STATE)


def saved_generation(folder: Path) -> str | None:
    """What tells one saved index from any other, for a reader to know that a writer has saved another since it read:
    the chunk ids, their versions (a corrected meeting date or council changes an item's version, not its chunk ids)
    and which file holds them (every save swaps in a new folder: a reset that rebuilds the same chunks from the same
    minutes, into a new vector collection, changes nothing else). None when there is no saved index."""
    state = saved_state(folder)
    if state is None:
        return None
    try:
        saved = (folder / _STATE).stat()
    except OSError:
        return None
    return f"{state} {_saved_text(folder / _VERSIONS)} {saved.st_ino} {saved.st_mtime_ns}"


def _saved_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
