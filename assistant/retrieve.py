"""Hybrid retrieval: dense (Chroma) and BM25 fused by reciprocal rank, filtered, diverse across items."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.embed import Embedder
from assistant.errors import AssistantError
from assistant.lexical import LexicalIndex
from assistant.normalise import committee_key, council_key, name_matches
from assistant.question import Question
from assistant.store import VectorStore

RRF_K = 60


class BadFilterError(AssistantError):
    """A filter value the user gave cannot be used."""


@dataclass(frozen=True)
class Filters:
    council: str = ""
    committee: str = ""
    since: str = ""  # YYYY-MM-DD (a year or year-month is read as its first day)
    until: str = ""

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            if getattr(self, name):
                _day(getattr(self, name), name, last=name == "until")
        if self.since and self.until and self._since_int > self._until_int:
            raise BadFilterError(f"The date range ends ({self.until}) before it starts ({self.since}).",
                                 "Swap the two dates, or leave one of them empty.")

    @property
    def active(self) -> bool:
        return any((self.council, self.committee, self.since, self.until))

    @property
    def _since_int(self) -> int:
        return _day(self.since, "since", last=False) if self.since else 0

    @property
    def _until_int(self) -> int:
        return _day(self.until, "until", last=True) if self.until else 99991231

    def describe(self) -> str:
        parts = []
        if self.council:
            parts.append(f"council: {self.council}")
        if self.committee:
            parts.append(f"committee: {self.committee}")
        if self.since or self.until:
            parts.append(f"meeting date: {self.since or 'any'} to {self.until or 'any'}")
        return "; ".join(parts) or "none"

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def _day(value: str, name: str, last: bool) -> int:
    from assistant.normalise import date_span, parse_meeting_date

    try:
        iso = parse_meeting_date(value)
    except ValueError:
        raise BadFilterError(f"--{name} must be a date like 2019-04-01, not {value!r}.",
                             "Use YYYY-MM-DD (a year, or a year and month, also works).") from None
    span = date_span(iso)
    return span[1] if last else span[0]


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    text: str
    metadata: dict
    score: float  # fused reciprocal-rank score
    dense: float | None = None  # cosine similarity, when dense search found it
    lexical: float | None = None  # BM25 score, when BM25 found it

    @property
    def source_id(self) -> str:
        return self.metadata.get("source_id", "")


@dataclass
class Retrieval:
    hits: list[Hit]
    filters: Filters = field(default_factory=Filters)
    undated_excluded: int = 0
    no_match: bool = False
    query_vector: list[float] | None = None  # the question's embedding, reused to score sentences


class HybridRetriever:
    def __init__(self, embedder: Embedder, store: VectorStore, lexical: LexicalIndex,
                 dense_k: int = 30, lexical_k: int = 30, per_source: int = 2) -> None:
        self.embedder = embedder
        self.store = store
        self.lexical = lexical
        self.dense_k, self.lexical_k, self.per_source = dense_k, lexical_k, per_source
        metas = [e.metadata for e in lexical.entries]
        self._council_keys = np.array([m.get("council_key", "") for m in metas], dtype=object)
        self._committee_keys = np.array([m.get("committee_key", "") for m in metas], dtype=object)
        self._starts = np.array([m.get("date_start", 0) for m in metas], dtype=np.int64)
        self._ends = np.array([m.get("date_end", 0) for m in metas], dtype=np.int64)
        self._sources = np.array([m.get("source_id", "") for m in metas], dtype=object)

    @property
    def council_keys(self) -> set[str]:
        return {k for k in self._council_keys if k}

    def search(self, question: Question, filters: Filters = Filters(), k: int = 8,
               query_vector: list[float] | None = None) -> Retrieval:
        mask, where, undated = self._filter(filters, question)
        if mask is not None and not mask.any():
            return Retrieval([], filters, undated, no_match=filters.active)
        vector = query_vector if query_vector is not None else self.embedder.embed_query(question.text)
        dense = self.store.query(vector, self.dense_k, where=where)
        lexical = self.lexical.search(question.text, self.lexical_k, mask)
        fused: dict[str, dict[str, Any]] = {}
        for rank, hit in enumerate(dense):
            entry = fused.setdefault(hit.chunk_id, {"text": hit.text, "meta": hit.metadata, "score": 0.0})
            entry["score"] += 1.0 / (RRF_K + rank + 1)
            entry["dense"] = hit.score
        for rank, (position, score) in enumerate(lexical):
            e = self.lexical.entries[position]
            entry = fused.setdefault(e.chunk_id, {"text": e.text, "meta": e.metadata, "score": 0.0})
            entry["score"] += 1.0 / (RRF_K + rank + 1)
            entry["lexical"] = score
        ranked = [Hit(cid, v["text"], v["meta"], v["score"], v.get("dense"), v.get("lexical"))
                  for cid, v in sorted(fused.items(), key=lambda kv: -kv[1]["score"])]
        return Retrieval(self._diversify(ranked, question, k), filters, undated, query_vector=vector)

    def _filter(self, filters: Filters, question: Question):
        """A mask over BM25 entries, the equivalent Chroma `where`, and how many undated items it left out."""
        clauses: list[dict] = []
        mask = np.ones(len(self._sources), dtype=bool)
        restricted = False
        council_keys: set[str] = set()
        if filters.council:
            wanted = council_key(filters.council)
            council_keys = {k for k in self.council_keys if name_matches(wanted, k) or name_matches(k, wanted)}
        elif question.councils and not question.which_councils:
            council_keys = set(question.councils)  # a question naming councils searches only them
        if filters.council or council_keys:
            mask &= np.isin(self._council_keys, list(council_keys))
            clauses.append({"council_key": {"$in": sorted(council_keys) or ["\u2205"]}})
            restricted = True
        if filters.committee:
            wanted = committee_key(filters.committee)
            keys = {k for k in set(self._committee_keys) if k and name_matches(wanted, k)}
            mask &= np.isin(self._committee_keys, list(keys))
            clauses.append({"committee_key": {"$in": sorted(keys) or ["\u2205"]}})
            restricted = True
        undated = 0
        if filters.since or filters.until:
            dated = self._starts > 0
            undated = len(set(self._sources[mask & ~dated]))
            mask &= dated & (self._ends >= filters._since_int) & (self._starts <= filters._until_int)
            clauses.append({"date_end": {"$gte": filters._since_int}})
            clauses.append({"date_start": {"$lte": filters._until_int}})
            restricted = True
        if not restricted:
            return None, None, 0
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        return mask, where, undated

    def _diversify(self, ranked: list[Hit], question: Question, k: int) -> list[Hit]:
        """At most `per_source` chunks per item; when several councils are asked about, each gets a turn."""
        per_source: dict[str, int] = {}
        kept: list[Hit] = []
        overflow: list[Hit] = []
        for hit in ranked:
            count = per_source.get(hit.source_id, 0)
            (kept if count < self.per_source else overflow).append(hit)
            per_source[hit.source_id] = count + 1
        if question.names_several_councils:
            kept = _round_robin(kept, lambda h: h.metadata.get("council_key", ""))
        return (kept + overflow)[:k]


def _round_robin(hits: list[Hit], key) -> list[Hit]:
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(key(hit), []).append(hit)
    out: list[Hit] = []
    while any(groups.values()):
        for name in list(groups):
            if groups[name]:
                out.append(groups[name].pop(0))
    return out


def langchain_retriever(retriever: HybridRetriever, filters: Filters = Filters(), k: int = 8,
                        known_councils: bool = True):
    """A LangChain BaseRetriever over the hybrid search, so it composes with other chains."""
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    from assistant.question import analyse

    class MinutesRetriever(BaseRetriever):
        def _get_relevant_documents(self, query: str, *, run_manager=None) -> list[Document]:
            question = analyse(query, retriever.council_keys if known_councils else ())
            result = retriever.search(question, filters, k)
            return [Document(page_content=h.text, id=h.chunk_id,
                             metadata={**h.metadata, "chunk_id": h.chunk_id, "score": h.score}) for h in result.hits]

    return MinutesRetriever()
