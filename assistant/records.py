"""Typed records passed between pipeline stages: items and chunks (ingest), hits (retrieve), questions (retrieve),
verdicts (verify), drafts, answers and streamed events (answer)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from assistant.text import Span, one_printed_line

if TYPE_CHECKING:
    from assistant.retrieve.filters import Filters


def content_hash(*parts: str) -> str:
    """A stable hex digest of the parts, joined so that ("ab", "c") differs from ("a", "bc")."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def other_versions(current: str) -> list[str]:
    """The format versions other than `current` a hash may have been made with, by another version of the assistant:
    versions are small numbers, folded into the hashes that name a saved index, so they are found by trying these."""
    return [str(version) for version in range(1, 10) if str(version) != current]


# The page of one agenda item on a ModernGov site, after the site's base URL: a fetched item's identity and link.
ITEM_PAGE = "/mgAi.aspx?ID="


def fetched_from(origin: str) -> str:
    """The base URL of the ModernGov site an indexed item was fetched from, read from its origin (a fetched item's
    is its page's URL, a file's is its path); '' for an item read from a file. A file's item may have a site's page
    as its identity (a saved page, a JSONL export), never as its origin, so only the origin tells the two apart."""
    if not origin.startswith(("http://", "https://")) or ITEM_PAGE not in origin:
        return ""
    return origin.partition(ITEM_PAGE)[0]


# How an agenda item of a meeting page, or of a file split at its item headings, is known: its page's or file's
# identity, then this and its number ('URL#item-7', 'file:minutes.pdf#item-4').
ITEM_ANCHOR = "#item-"


def page_of_item(source_id: str) -> str:
    """'file:minutes #2.pdf#item-4' -> 'file:minutes #2.pdf': the page's or file's identity of an agenda item's;
    any other id as it is."""
    page, marker, _ = source_id.rpartition(ITEM_ANCHOR)
    return page if marker else source_id


@dataclass(frozen=True)
class MinuteItem:
    """One agenda item's minutes, as read from an input file, with its metadata validated."""

    source_id: str
    text: str
    council: str = ""
    committee: str = ""
    meeting_date: str = ""  # ISO, partial allowed: "2018", "2018-09", "2018-09-12"
    period: str = ""
    item_title: str = ""
    source_url: str = ""
    origin: str = ""  # where it was read from, for messages: a path, maybe with ":line"
    restricted: bool = False
    # Source-specific facts stored with every chunk (ModernGov: meeting id, item numbers, agenda text,
    # attendees as JSON). String values only, so any vector store can keep them.
    details: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def item_hash(self) -> str:
        """Changes whenever anything that ends up in the index changes."""
        parts = [self.source_id, self.text, self.council, self.committee, self.meeting_date,
                 self.period, self.item_title, self.source_url]
        if self.details:  # only when present, so items without details keep the hashes they always had
            parts.extend(part for key in sorted(self.details) for part in (key, self.details[key]))
        return content_hash(*parts)


ChunkKind = Literal["agenda", "discussion", "resolution", "action", "supporting"]


@dataclass(frozen=True)
class Chunk:
    """A piece of one item's minutes, small enough to embed whole."""

    chunk_id: str
    source_id: str
    position: int
    kind: ChunkKind
    text: str  # verbatim minute text, so quotes can be checked against it
    embed_text: str  # the breadcrumb header plus the text: what the embedder sees
    tokens: int
    metadata: dict = field(default_factory=dict, compare=False, hash=False)


ProblemKind = Literal["failed", "skipped", "restricted"]


@dataclass(frozen=True)
class InputProblem:
    """Why a file, or one item in it, was not indexed, and what the user can do about it."""

    origin: str
    kind: ProblemKind
    reason: str
    hint: str = ""

    def describe(self) -> str:
        # A file's name may hold a terminal's escape sequences or line breaks: printed, they would drive it.
        return f"{one_printed_line(self.origin)}: {self.reason}" + (f" ({self.hint})" if self.hint else "")


# ---------------------------------------------------------------- retrieve


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its metadata and scores."""

    chunk_id: str
    text: str
    metadata: dict
    score: float  # fused reciprocal-rank score (a reader input, whichever fusion ranked the hits)
    dense: float | None = None  # cosine similarity, when dense search found it
    lexical: float | None = None  # BM25 score, when BM25 found it
    fused: float | None = None  # the fitted fusion's score, which ranked the hits when there is one

    @property
    def source_id(self) -> str:
        return self.metadata.get("source_id", "")


@dataclass
class Retrieval:
    """What a search found, and how the filters shaped it."""

    hits: list[Hit]
    filters: Filters | None = None
    undated_excluded: int = 0
    no_match: bool = False
    query_vector: list[float] | None = None  # the question's embedding, reused to score sentences
    no_committee_excluded: int = 0  # items a committee filter left out because their committee is not known
    no_council_excluded: int = 0  # items a council filter (or a council the question names) left out: no council
    newest_read: bool = False  # the question asks for the newest figure: items_read takes the newest meetings'
    # Items of meetings in other years than the question asks about ('in 2017') whose text names none of them:
    # items_read leaves them unread when any other item was found.
    other_years: frozenset[str] = frozenset()

    def first_items(self, limit: int) -> list[str]:
        """The source ids of the first `limit` distinct items, in the order retrieval ranked their chunks."""
        return list(dict.fromkeys(hit.source_id for hit in self.hits))[:limit]

    def items_read(self, limit: int) -> list[tuple[str, int]]:
        """The `limit` items an answer reads, each with its retrieval rank (0 for the first), in that order: the
        first retrieved; and for a question that asks for the newest figure (`newest_read`), the item retrieved
        first and the newest meetings' of the rest. The minutes of one report at every meeting read alike, so the
        newest meeting's item ranked among them as chance had it: 'What is the latest number of children looked
        after?' was answered from the meeting of a year before, the newest unread. For a question about a year,
        the items of `other_years` are read only when nothing else was found, and the rest each at its own rank:
        'How many children were looked after in 2017?' had been answered from 2022's report, which read as 2017's
        did (the reader reads sentences, not their meetings' dates)."""
        ranked = list(dict.fromkeys(hit.source_id for hit in self.hits))
        kept = [(source_id, rank) for rank, source_id in enumerate(ranked) if source_id not in self.other_years]
        if 0 < len(kept) < len(ranked):
            return kept[:limit]
        if not self.newest_read or not ranked:
            return [(source_id, rank) for rank, source_id in enumerate(ranked[:limit])]
        dates: dict[str, str] = {}
        for hit in self.hits:
            dates.setdefault(hit.source_id, str(hit.metadata.get("meeting_date", "")))
        newest = sorted(range(1, len(ranked)), key=lambda rank: (dates[ranked[rank]], -rank), reverse=True)
        return [(ranked[rank], rank) for rank in sorted([0, *newest[:limit - 1]])]


# The kind of fact a direct answer gives; "" when any relevant statement will do.
Asks = Literal["figure", "date", "person", ""]


@dataclass(frozen=True)
class Question:
    """What a question asks for, as retrieve.question.analyse reads it."""

    text: str
    asks: Asks
    years: tuple[int, ...]
    councils: tuple[str, ...]  # council keys of indexed councils that the question names
    which_councils: bool  # asks to compare councils ('which councils...')
    asks_latest: bool = False  # asks for the newest figure ('the latest', 'now') and names no year
    years_asked: tuple[int, ...] = ()  # the years it asks about ('in 2017'), not those bounding a span ('since 2019')

    @property
    def names_several_councils(self) -> bool:
        return len(self.councils) > 1 or self.which_councils


# ---------------------------------------------------------------- verify


@dataclass(frozen=True)
class Verdict:
    """The guard's judgement of one sentence against the passages it cites, with the closest quote."""

    supported: bool
    score: float
    reason: str
    quote_hit: Hit | None = None
    quote_span: Span | None = None

    @property
    def quote(self) -> str:
        return self.quote_span.of(self.quote_hit.text) if self.quote_hit and self.quote_span else ""


# ---------------------------------------------------------------- answer


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate answer sentence (or short passage) within one hit, with how well it matches the question."""

    hit: Hit
    hit_rank: int
    start: int  # offsets within hit.text
    end: int
    score: float
    coverage: float  # share of the question's weighted words in the sentence
    similarity: float = 0.0  # cosine similarity of sentence and question embeddings (0 if not embedded)
    topic_coverage: float = 0.0  # coverage without the question's years and numbers
    lead: str = ""  # the heading, question or sentence it was read with

    @property
    def text(self) -> str:
        return self.hit.text[self.start:self.end]


@dataclass(frozen=True)
class Amendment:
    """A later meeting's correction of a figure in a quoted sentence, made when it approved those minutes: where the
    sentence that makes it stands among the Draft's quotes, and the figure as first minuted and as corrected."""

    at: int
    was: str
    now: str


@dataclass(frozen=True)
class Draft:
    """The sentences to quote, or why the minutes do not answer."""

    quotes: list[ScoredSentence]
    refusal: "RefusalReason | None" = None
    explanation: str = ""
    short_answer: str | None = None  # the figure, name, date or phrase that answers, when the reader finds one
    confidence: float = 0.0  # the calibrated probability that the best sentence answers the question
    best: ScoredSentence | None = None  # the reader's best sentence, quoted or not (for evaluation)
    amendments: tuple[Amendment, ...] = ()  # the next meeting's corrections of figures quoted, each quoted too


RefusalReason = Literal["no_evidence", "not_stated", "no_match_filters", "bad_question"]


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer, with a verbatim quote from its stored minute text."""

    marker: int
    source_url: str  # the item's source identity: its URL, else its id, else its file: path
    council: str
    committee: str
    meeting_date: str
    item_title: str
    quote: str
    chunk_id: str
    link: str = ""  # the item's URL when it has one
    item_number: str = ""  # the agenda item's number, when the title does not carry it (a ModernGov item's)

    @classmethod
    def from_hit(cls, marker: int, hit: Hit, quote: str) -> "Citation":
        m = hit.metadata
        return cls(marker, m.get("source_id", ""), m.get("council", ""), m.get("committee", ""),
                   m.get("meeting_date", ""), m.get("item_title", ""), quote, hit.chunk_id, m.get("source_url", ""),
                   str(m.get("item_number", "")))


@dataclass(frozen=True)
class SentenceVerdict:
    """The grounding guard's judgement of one generated sentence."""

    text: str
    markers: tuple[int, ...]
    supported: bool
    shown: bool
    score: float
    reason: str = ""

    @property
    def claim(self) -> str:
        """The sentence without the [n] markers written after it."""
        written = marker_text(self.markers)
        return self.text[:-len(written)].rstrip() if written and self.text.endswith(written) else self.text


def marker_text(markers) -> str:
    """Citation markers as an answer writes them after a sentence: (1, 3) gives '[1][3]'."""
    return "".join(f"[{m}]" for m in markers)


@dataclass(frozen=True)
class NearestItem:
    source_url: str
    council: str
    committee: str
    meeting_date: str
    item_title: str
    item_number: str = ""


@dataclass(frozen=True)
class Provenance:
    """What an answer was made with, for the audit log only: the reader, and for a language model's answer the
    model, its endpoint (without credentials), the numbered evidence blocks it was given and its raw reply."""

    reader: dict
    model: dict = field(default_factory=dict)
    evidence: tuple[dict, ...] = ()  # block n is evidence[n - 1]: what "(it cited evidence block n)" points at
    raw_reply: str | None = None
    error: str = ""

    def as_json(self) -> dict:
        return {"reader": self.reader, "model": self.model, "evidence": list(self.evidence),
                "raw_reply": self.raw_reply, "error": self.error}


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    refusal_reason: RefusalReason | None
    mode: str
    fallback: bool = False
    citations: list[Citation] = field(default_factory=list)
    sentences: list[SentenceVerdict] = field(default_factory=list)
    retrieved: list[dict] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    nearest: list[NearestItem] = field(default_factory=list)
    filters: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    short_answer: str | None = None
    confidence: float = 0.0
    provenance: Provenance | None = None  # for the audit log; not part of to_json's shape

    @property
    def short_answer_source(self) -> Citation | None:
        """The source the short answer is said in: the first shown citation whose quote holds it (a model's first
        citation may be another block's), or None without a short answer or such a citation."""
        if not self.short_answer or self.refused:
            return None
        wanted = " ".join(self.short_answer.split())
        return next((c for c in self.shown_citations if wanted in " ".join(c.quote.split())), None)

    @property
    def shown_citations(self) -> list[Citation]:
        """The citations a sentence shown to the member names: those of sentences the checks left out are not."""
        shown = {m for s in self.sentences if s.shown for m in s.markers}
        return [c for c in self.citations if c.marker in shown]

    def to_json(self) -> dict:
        """The shape `assistant ask --json` prints; other tools read these names."""
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "mode": self.mode,
            "fallback": self.fallback,
            "citations": [
                {k: getattr(c, k) for k in ("marker", "source_url", "council", "committee", "meeting_date",
                                            "item_title", "item_number", "quote", "chunk_id", "link")}
                for c in self.citations
            ],
            "sentences": [
                {"text": s.text, "markers": list(s.markers), "supported": s.supported, "shown": s.shown,
                 "score": round(s.score, 4), "reason": s.reason}
                for s in self.sentences
            ],
            "retrieved": self.retrieved,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "nearest": [n.__dict__ for n in self.nearest],
            "filters": self.filters,
            "notes": self.notes,
            "short_answer": self.short_answer,
            "confidence": round(self.confidence, 4),
        }


@dataclass(frozen=True)
class SentenceEvent:
    """One sentence, streamed as soon as the guard has judged it, with the citations its markers point to (so that
    an answer cut short can still be audited with its sources)."""

    verdict: SentenceVerdict
    citations: tuple[Citation, ...] = ()
    provenance: Provenance | None = None  # what the answer is being made with, as far as it has gone

    @classmethod
    def citing(cls, verdict: SentenceVerdict, citations: list[Citation],
               provenance: Provenance | None = None) -> "SentenceEvent":
        return cls(verdict, tuple(c for c in citations if c.marker in verdict.markers), provenance)
