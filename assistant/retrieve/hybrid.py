"""Hybrid retrieval: dense (Chroma) and BM25 fused (by reciprocal rank, or by the fitted fusion when the settings ask
for it), filtered, diverse across items."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np

from assistant.index.embedder import Embedder
from assistant.index.lexical import LexicalIndex
from assistant.index.vector_store import VectorStore
from assistant.records import Hit, Question, Retrieval
from assistant.retrieve.filters import Filters
from assistant.retrieve.fusion import LearnedFusion, fusion_inputs, reciprocal_rank_scores
from assistant.retrieve.question import council_of_initialism, indexed_as, named_by_initials
from assistant.text import (committee_key, council_key, council_key_of, fold, keyed_as_now, mentioned_years,
                            name_matches, same_council_named)

# A filter leaving at most this many chunks is searched exactly among them, which is faster than Chroma's
# filtered search (reading 2,000 vectors by id took 56 ms at 100k chunks; Chroma's filtered query 100 ms).
EXACT_SEARCH_LIMIT = 1500
# How many chunks a question for the newest figure keeps, against 8 for any other: about twelve items at two chunks
# each, among which Retrieval.items_read takes the newest meetings'.
NEWEST_READ_HITS = 24
# A question about a year reads items met from its start to this day of the next year (March 31st, as MMDD): the
# year's last quarter is reported in the quarter after it.
QUARTER_AFTER_THE_YEAR_ENDS = 331


class HybridRetriever:
    def __init__(self, embedder: Embedder, store: VectorStore, lexical: LexicalIndex,
                 dense_k: int = 30, lexical_k: int = 30, per_source: int = 2,
                 fusion: LearnedFusion | None = None) -> None:
        self.embedder = embedder
        self.fusion = fusion
        self.store = store
        self.lexical = lexical
        self.dense_k, self.lexical_k, self.per_source = dense_k, lexical_k, per_source
        metas = [e.metadata for e in lexical.entries]
        # Each entry's council and committee as a number into a list of names, so a filter compares
        # integers: matching strings across 100,000 entries cost tens of milliseconds a question.
        # Each chunk's council key as this version makes it, worked out once for each stored key from the council
        # names stored with it (tens of them): an index keyed by an older version (a Welsh council's 'cyngor
        # gwynedd', now 'gwynedd') reads as one keyed now, and is searched in Chroma by the keys it stored.
        stored_keys, stored_codes = _codes([m.get("council_key", "") for m in metas])
        key_now = lexical.keys_now  # by (name, stored key)
        now: dict[str, set[str]] = {}
        self._stored_keys: dict[str, set[str]] = {}
        for (_, stored), key in key_now.items():
            now.setdefault(stored, set()).add(key)
            self._stored_keys.setdefault(key, set()).add(stored)
        if all(len(keys) == 1 for keys in now.values()):
            keys_now = [next(iter(now[stored])) if stored in now else stored for stored in stored_keys]
            self._council_names = sorted(set(keys_now))
            where = {key: i for i, key in enumerate(self._council_names)}
            self._council_codes = np.array([where[key] for key in keys_now], dtype=np.int32)[stored_codes]
        else:  # one stored key that stands for two councils now: each chunk's own name decides
            self._council_names, self._council_codes = _codes([council_key_of(m) for m in metas])
        self.council_names_by_key = lexical.council_names_by_key
        self._committee_names, self._committee_codes = _codes([m.get("committee_key", "") for m in metas])
        # The words of each committee key's names, its kind words with them: a filter of those alone ('Commission',
        # keyed 'commission' for want of other words) had matched no key ('improving lives select').
        self._committee_words: dict[str, set[str]] = {}
        for key, name in {(m.get("committee_key", ""), str(m.get("committee") or "")) for m in metas}:
            self._committee_words.setdefault(key, set()).update(fold(name).split())
        self._no_committee = _isin(self._committee_codes, self._committee_names, {""})
        self._no_council = _isin(self._council_codes, self._council_names, {""})
        self._starts = np.array([m.get("date_start", 0) for m in metas], dtype=np.int64)
        self._ends = np.array([m.get("date_end", 0) for m in metas], dtype=np.int64)
        self._sources = np.array([m.get("source_id", "") for m in metas], dtype=object)
        self._item_years: dict[str, frozenset[int]] = {}

    @property
    def fusion(self) -> LearnedFusion | None:
        """The fitted fusion that ranks the hits; None ranks them by reciprocal rank."""
        return self._fusion

    @fusion.setter
    def fusion(self, fusion: LearnedFusion | None) -> None:
        # Fitted weights read cosines of one model: one fitted for another model is refused, not ignored.
        self._fusion = fusion.require(self.embedder.name) if fusion is not None else None

    @property
    def council_keys(self) -> set[str]:
        return {k for k in self._council_names if k}

    def councils_called(self, name: str) -> set[str]:
        """The keys of the indexed councils a council filter of this name selects: the council of exactly that
        name when one is indexed ("North Somerset" is not also Somerset); else those whose names hold every word
        of it ("Stockton" for Stockton-on-Tees); else those whose words it holds ("Kingston upon Hull" for Hull City
        Council). Never another council of the shipped directory ("North Somerset" is not Bath and North East
        Somerset), nor one that compass words set apart (text.same_council_named); a directory council's name selects
        only an indexed council of another name of it (text.indexed_name_of: "Newcastle" for Newcastle upon Tyne,
        not "Kent" for Kent Fire and Rescue). An initialism that names one directory council alone ("BANES") is that
        council's name."""
        from assistant.ingest.moderngov.directory import directory_council_keys

        wanted = council_of_initialism(name.strip()) or council_key(name)
        # One council indexed under its name and its initials ('Bournemouth, Christchurch and Poole', 'BCP') is
        # selected under both, by either.
        alike = set(named_by_initials(wanted, self.council_keys))
        if wanted in self.council_keys:
            return {wanted} | alike
        councils, names = directory_council_keys(), {**self.council_names_by_key, wanted: name}
        if wanted in councils:  # a council of the directory: an indexed one of another name, as a question reads it
            return set(indexed_as(wanted, self.council_keys, councils)) | alike
        return ({k for k in self.council_keys
                 if name_matches(wanted, k) and same_council_named(wanted, k, councils, names)}
                or {k for k in self.council_keys
                    if name_matches(k, wanted) and same_council_named(wanted, k, councils, names)}) | alike

    def search(self, question: Question, filters: Filters = Filters(), k: int = 8,
               query_vector: list[float] | None = None) -> Retrieval:
        selected = self._filter(filters, question)
        left_out = dict(undated_excluded=selected.undated, no_committee_excluded=selected.no_committee,
                        no_council_excluded=selected.no_council)
        if selected.mask is not None and not selected.mask.any():
            return Retrieval([], filters, no_match=filters.active, **left_out)
        vector = query_vector if query_vector is not None else self.embedder.embed_query(question.text)
        hits, inputs = self._found(question, vector, selected.mask, selected.where,
                                   with_inputs=self.fusion is not None)
        if not any(hit.lexical for hit in hits):
            # No word of the question is in the minutes searched ('asdf', 'Hello', a question in another language):
            # the dense list always holds the nearest chunks, however far, and they are not evidence.
            return Retrieval([], filters, query_vector=vector, **left_out)
        if self.fusion is not None:
            hits = [replace(hit, fused=self.fusion.score(inputs[hit.chunk_id])) for hit in hits]
        ranked = sorted(hits, key=lambda h: -(h.fused if h.fused is not None else h.score))
        # A question for the newest figure reads the newest meetings' items among more found, and one about a year
        # (with no dates filtered) the items of the years it names (Retrieval.items_read): 'in 2017, compared with
        # 2022' reads both years' items.
        newest = question.asks_latest and not question.names_several_councils
        by_year = bool(question.years_asked) and not (filters.since or filters.until)
        kept = self._diversify(ranked, question, max(k, NEWEST_READ_HITS) if newest or by_year else k)
        return Retrieval(kept, filters, query_vector=vector, newest_read=newest,
                         other_years=self._of_other_years(kept, question.years) if by_year else frozenset(),
                         **left_out)

    def _of_other_years(self, hits: list[Hit], years: tuple[int, ...]) -> frozenset[str]:
        """The items of these hits whose text and title name none of the years asked about, met outside those years
        and the quarter after each (when its last figures are reported: 'at the end of December' to a meeting in
        January), as their whole date says (an item dated '2023' alone is of no quarter of it): the report of one
        quarter made in 2022, asked about 2017. None when no item found is known to be of those years, by its date
        or its words; an undated item is neither. An item of the quarter after is read whatever later year it
        names: minutes give their own meeting's date."""
        apart, of_the_years = set(), False
        for source_id, hit in {hit.source_id: hit for hit in reversed(hits)}.items():
            start = int(hit.metadata.get("date_start") or 0)
            end = int(hit.metadata.get("date_end") or 0) or start
            in_a_year = any(year * 10000 + 101 <= start <= end <= year * 10000 + 1231 for year in years)
            after_a_year = any((year + 1) * 10000 + 101 <= start <= end
                               <= (year + 1) * 10000 + QUARTER_AFTER_THE_YEAR_ENDS for year in years)
            if in_a_year or after_a_year or self._years_named_in(source_id) & set(years):
                of_the_years = True
            elif start:
                apart.add(source_id)
        return frozenset(apart) if of_the_years else frozenset()

    def _years_named_in(self, source_id: str) -> frozenset[int]:
        """The years an item's title and text name, read once per index."""
        if (named := self._item_years.get(source_id)) is None:
            named = frozenset().union(*(mentioned_years(f"{entry.metadata.get('item_title', '')}\n{entry.text}")
                                        for entry in self.lexical.item_entries(source_id)))
            self._item_years[source_id] = named
        return named

    def unranked(self, question: Question, filters: Filters = Filters()) -> tuple[list[Hit], dict[str, list[float]]]:
        """Every chunk the dense and BM25 lists found, before fusion and diversity, with each one's fusion
        inputs: what a fusion is fitted on."""
        selected = self._filter(filters, question)
        if selected.mask is not None and not selected.mask.any():
            return [], {}
        return self._found(question, self.embedder.embed_query(question.text), selected.mask, selected.where,
                           with_inputs=True)

    def _found(self, question: Question, vector, mask, where,
               with_inputs: bool) -> tuple[list[Hit], dict[str, list[float]]]:
        """The chunks either list found, scored by reciprocal rank, and (`with_inputs`) their fusion inputs: only
        a fitted fusion reads those, so reciprocal rank does not build them on every question."""
        if mask is not None and mask.sum() <= EXACT_SEARCH_LIMIT:
            among = [self.lexical.entries[i].chunk_id for i in np.flatnonzero(mask)]
            dense = self.store.query_among(vector, self.dense_k, among)
        else:
            dense = self.store.query(vector, self.dense_k, where=where)
        # Only chunks of the index as this retriever read it (another process may have changed the store since), and
        # of those the filters select: Chroma's `where` reads the keys stored with each chunk, which an index keyed by
        # an older version may give otherwise than the mask, keyed as now.
        held = self.lexical.position
        dense = [hit for hit in dense if hit.chunk_id in held and (mask is None or mask[held[hit.chunk_id]])]
        lexical = [(self.lexical.entries[position], score)
                   for position, score in self.lexical.search(question.text, self.lexical_k, mask)]
        found: dict[str, tuple[str, dict, float | None, float | None]] = {
            hit.chunk_id: (hit.text, hit.metadata, hit.score, None) for hit in dense}
        for entry, score in lexical:
            text, meta, cosine, _ = found.get(entry.chunk_id, (entry.text, entry.metadata, None, None))
            found[entry.chunk_id] = (text, meta, cosine, score)
        inputs = fusion_inputs([(hit.chunk_id, hit.score) for hit in dense],
                               [(entry.chunk_id, score) for entry, score in lexical]) if with_inputs else {}
        classic = reciprocal_rank_scores([hit.chunk_id for hit in dense], [entry.chunk_id for entry, _ in lexical])
        hits = [Hit(cid, text, keyed_as_now(meta), classic[cid], cosine, bm25)
                for cid, (text, meta, cosine, bm25) in found.items()]
        return hits, inputs

    def _filter(self, filters: Filters, question: Question) -> _Selected:
        """A mask over BM25 entries, the equivalent Chroma `where`, and how many items it left out for want of a
        meeting date (a date filter), of a committee (a committee filter) or of a council (a council filter, or a
        question naming a council)."""
        clauses: list[dict] = []
        mask = np.ones(len(self._sources), dtype=bool)
        restricted = False
        council_keys: set[str] = set()
        if filters.council:
            council_keys = self.councils_called(filters.council)
        elif question.councils and not question.which_councils:
            # A question naming councils searches only them, to compare them too ('Compare ... in Gateshead and
            # Rotherham' had searched every council, and led with Bridgend's figure); 'which councils' with councils
            # named ('Which councils other than Durham and Gateshead ...?') searches every council.
            council_keys = set(question.councils)
        no_council = 0
        if filters.council or council_keys:
            no_council = len(set(self._sources[self._no_council]))
            mask &= _isin(self._council_codes, self._council_names, council_keys)
            stored = set().union(*(self._stored_keys.get(key, {key}) for key in council_keys))
            clauses.append({"council_key": {"$in": sorted(stored) or ["\u2205"]}})
            restricted = True
        committee_mask = None
        if filters.committee:
            wanted = committee_key(filters.committee)
            keys = {k for k in self._committee_names
                    if k and (name_matches(wanted, k) or name_matches(wanted, " ".join(self._committee_words[k])))}
            committee_mask = _isin(self._committee_codes, self._committee_names, keys)
            clauses.append({"committee_key": {"$in": sorted(keys) or ["\u2205"]}})
            restricted = True
        undated = 0
        if filters.since or filters.until:
            dated = self._starts > 0
            # Among the items the committee filter keeps, or could not judge (one with neither a committee nor a
            # date is counted here alone, not under the committee filter too).
            judged = mask if committee_mask is None else mask & (committee_mask | self._no_committee)
            undated = len(set(self._sources[judged & ~dated]))
            mask &= dated & (self._ends >= filters._since_int) & (self._starts <= filters._until_int)
            clauses.append({"date_end": {"$gte": filters._since_int}})
            clauses.append({"date_start": {"$lte": filters._until_int}})
            restricted = True
        no_committee = 0
        if committee_mask is not None:
            # Items whose committee is not known (most scraped pages, a file ingested without --committee) cannot
            # match: counted, among those the other filters keep, so that the answer can say so, as it does for
            # undated items under a date filter.
            no_committee = len(set(self._sources[mask & self._no_committee]))
            mask &= committee_mask
        if not restricted:
            return _Selected(None, None)
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        return _Selected(mask, where, undated, no_committee, no_council)

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


class _Selected(NamedTuple):
    """What the filters select (a mask over the keyword index's entries and Chroma's `where`; None for all), and
    how many items they left out for want of a date, a committee or a council."""

    mask: np.ndarray | None
    where: dict | None
    undated: int = 0
    no_committee: int = 0
    no_council: int = 0


def _codes(values: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values, and each value's position among them."""
    names = sorted(set(values))
    position = {name: i for i, name in enumerate(names)}
    return names, np.array([position[v] for v in values], dtype=np.int32)


def _isin(codes: np.ndarray, names: list[str], wanted: set[str]) -> np.ndarray:
    """Which entries have one of the wanted names."""
    selected = np.zeros(len(names), dtype=bool)
    for i, name in enumerate(names):
        selected[i] = name in wanted
    return selected[codes]


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
