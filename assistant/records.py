"""Typed records passed between pipeline stages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal


def content_hash(*parts: str) -> str:
    """A stable hex digest of the parts, joined so that ("ab", "c") differs from ("a", "bc")."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


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

    @property
    def item_hash(self) -> str:
        """Changes whenever anything that ends up in the index changes."""
        return content_hash(
            self.source_id, self.text, self.council, self.committee, self.meeting_date,
            self.period, self.item_title, self.source_url,
        )


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
        return f"{self.origin}: {self.reason}" + (f" ({self.hint})" if self.hint else "")


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


@dataclass(frozen=True)
class SentenceVerdict:
    """The grounding guard's judgement of one generated sentence."""

    text: str
    markers: tuple[int, ...]
    supported: bool
    shown: bool
    score: float
    reason: str = ""


@dataclass(frozen=True)
class NearestItem:
    source_url: str
    council: str
    committee: str
    meeting_date: str
    item_title: str


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
                                            "item_title", "quote", "chunk_id", "link")}
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
        }
