"""How the dense and BM25 lists become one ranking: reciprocal rank (the default), or, with ASSISTANT_FUSION=fitted,
a logistic score over five inputs per chunk fitted on the training questions
(`python -m assistant.answer.train --fit-fusion`).

Reciprocal rank keeps only each list's order. The fitted score also sees how close the question's vector is
and how strong a BM25 match is against the question's best. On every question file it puts the gold item
first more often, but the shipped reader's answers did not gain from that on the test split, so it is not the
default (eval/README.md, "Twenty-seventh round"). The weights were fitted on one embedding model's cosines, so
they apply only to an index built with that model: asking for them with any other is an error
(LearnedFusion.require).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.errors import ConfigError, ModelError
from assistant.index.embedder import model_of
from assistant.settings import Settings

RRF_K = 60
FUSION_FILE = Path(__file__).resolve().parent / "fusion.json"
FUSION_INPUTS = ("dense_cosine", "dense_rank", "bm25_share", "bm25_rank", "reciprocal_rank")


def reciprocal_rank_scores(dense: Sequence[str], lexical: Sequence[str]) -> dict[str, float]:
    """The classic fused score of every chunk either list found: 1/(60 + rank) summed over the lists (rank from 1).

    Summed dense list first, in rank order, so that equal scores come out bit for bit as they always have, and a
    stable sort breaks their ties the same way."""
    scores: dict[str, float] = {}
    for ranked in (dense, lexical):
        for rank, chunk_id in enumerate(ranked):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    return scores


def fusion_inputs(dense: Sequence[tuple[str, float]], lexical: Sequence[tuple[str, float]]) -> dict[str, list[float]]:
    """FUSION_INPUTS for every chunk either list found, by chunk id, in the order the chunks were first found.

    `dense` and `lexical` are (chunk id, score) in rank order: cosine similarity and BM25 score. An input a
    list does not give for a chunk is 0. `reciprocal_rank` is the classic fused score, scaled by 30 so that it
    runs up to about 1.
    """
    rows: dict[str, list[float]] = {}
    for rank, (chunk_id, cosine) in enumerate(dense):
        row = rows.setdefault(chunk_id, [0.0] * len(FUSION_INPUTS))
        row[0], row[1] = float(cosine), 1.0 / (1 + rank)
    best = max((score for _, score in lexical), default=0.0)
    for rank, (chunk_id, score) in enumerate(lexical):
        row = rows.setdefault(chunk_id, [0.0] * len(FUSION_INPUTS))
        row[2], row[3] = (float(score) / best if best > 0 else 0.0), 1.0 / (1 + rank)
    classic = reciprocal_rank_scores([c for c, _ in dense], [c for c, _ in lexical])
    for chunk_id, row in rows.items():
        row[4] = 30.0 * classic[chunk_id]
    return rows


@dataclass(frozen=True)
class LearnedFusion:
    """Weights over FUSION_INPUTS, fitted for the vectors of `embedding_model`."""

    weights: np.ndarray
    bias: float
    embedding_model: str

    def score(self, row: Sequence[float]) -> float:
        return float(np.dot(self.weights, row) + self.bias)

    def applies_to(self, embedder_name: str) -> bool:
        """Whether an embedder's cosines are the ones fitted on; its precision (`name@int8`) does not matter."""
        return model_of(embedder_name) == self.embedding_model

    def require(self, embedder_name: str) -> "LearnedFusion":
        """This fusion, if it applies to the embedder; otherwise an error naming both models (never a silent
        fall-back to reciprocal rank, which would rank differently from what was asked for)."""
        if not self.applies_to(embedder_name):
            raise ConfigError(f"The retrieval fusion was fitted for {self.embedding_model}'s vectors and this index "
                              f"uses {embedder_name}.",
                              "Unset ASSISTANT_FUSION to rank by reciprocal rank, or use an index built with "
                              f"{self.embedding_model}.")
        return self

    def as_dict(self) -> dict:
        return {"inputs": list(FUSION_INPUTS), "weights": [round(float(w), 6) for w in self.weights],
                "bias": round(float(self.bias), 6), "embedding_model": self.embedding_model}


def load_fusion(path: Path = FUSION_FILE) -> LearnedFusion | None:
    """The fitted fusion, or None when none has been fitted (the retriever then uses reciprocal rank)."""
    if not path.is_file():
        return None
    fix = ("Restore it with `git checkout assistant/retrieve/fusion.json`, refit it with "
           "`python -m assistant.answer.train --fit-fusion`, or unset ASSISTANT_FUSION.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        weights = np.asarray(data["weights"], dtype=np.float64)
        names, bias, model = tuple(data["inputs"]), float(data["bias"]), str(data["embedding_model"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"The retrieval fusion in {path} is unreadable ({exc}).", fix) from exc
    if names != FUSION_INPUTS or weights.shape != (len(FUSION_INPUTS),) or not np.isfinite(weights).all() \
            or not np.isfinite(bias):
        raise ModelError(f"The retrieval fusion in {path} does not have one finite weight for each of "
                         f"{', '.join(FUSION_INPUTS)} and a finite bias.", fix)
    return LearnedFusion(weights, bias, model)


def fusion_in_force(settings: Settings, embedder_name: str, path: Path = FUSION_FILE) -> LearnedFusion | None:
    """The fitted fusion when the settings ask for it (None: reciprocal rank). Asking for it with an index of
    another embedding model is an error, not a silent fall-back."""
    if settings.fusion != "fitted":
        return None
    fusion = load_fusion(path)
    if fusion is None:
        raise ModelError(f"ASSISTANT_FUSION=fitted, but there is no fitted fusion at {path}.",
                         "Fit one with `python -m assistant.answer.train --fit-fusion`, or unset ASSISTANT_FUSION.")
    return fusion.require(embedder_name)


def fusion_digest(settings: Settings, path: Path = FUSION_FILE) -> str:
    """What names the fusion in force, so that anything built from retrieval results can tell it changed."""
    if settings.fusion != "fitted":
        return "reciprocal-rank"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "missing"
