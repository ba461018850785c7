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
