"""Which candidates a question trains on, and how questions are grouped into batches (twins beside their originals)."""

from __future__ import annotations

import logging
import random

import numpy as np

from assistant.answer.training.examples import CANDIDATES_READ, Example, question_rows

log = logging.getLogger(__name__)

NEGATIVES = 7  # hard negatives per question (an unanswerable question's candidates are all negatives)


def trained_candidates(example: Example, negatives: int = NEGATIVES) -> list[int] | None:
    """The candidates a question is trained on: its answers and hard negatives from the cheap scorer; None when
    retrieval missed an answerable question's answer (nothing to learn from)."""
    order = np.argsort(-example.stage1, kind="stable")
    positives = [int(i) for i in np.flatnonzero(example.labels)][:2]
    hard = [int(i) for i in order[:CANDIDATES_READ + 4] if not example.labels[i]]
    if example.answerable and not positives:
        return None
    return positives + hard[:negatives]


def training_groups(examples: list[Example], seed: int,
                    negatives: int = NEGATIVES) -> list[tuple[Example, list[int]]]:
    """For each question, which candidates to train on, in a shuffled order."""
    rng = random.Random(seed)
    groups = []
    for example in examples:
        chosen = trained_candidates(example, negatives)
        if chosen is None:
            continue
        rng.shuffle(chosen)
        groups.append((example, chosen))
    return groups


def twin_originals(split: str = "train") -> dict[str, str]:
    """Each unanswerable twin's id and the id of the answerable question it twins (`twin_of` in the split's file)."""
    return {row["id"]: row["twin_of"] for row in question_rows(split) if row.get("twin_of")}


def batch_units(groups: list, twin_of: dict[str, str] | None = None) -> list[list]:
    """The groups as the units an epoch shuffles: each question alone, or, given `twin_of`, an answerable question
    together with its unanswerable twins (so that the pairwise twin loss can compare them in one batch). A twin
    whose original is not trained on (retrieval missed its answer) stays alone."""
    if not twin_of:
        return [[group] for group in groups]
    trained = {group[0].id for group in groups}
    twins: dict[str, list] = {}
    for group in groups:
        original = twin_of.get(group[0].id)
        if original in trained:
            twins.setdefault(original, []).append(group)
    return [[group] + twins.get(group[0].id, []) for group in groups if twin_of.get(group[0].id) not in trained]


def batched_groups(groups: list, rng: random.Random, batch_pairs: int,
                   twin_of: dict[str, str] | None = None) -> list[list]:
    """One epoch's batches: the groups in an order drawn from `rng`, a batch closed once it holds at least
    `batch_pairs` pairs (a question's candidates stay together, since the listwise loss compares them; given
    `twin_of`, so do a question and its twins, see batch_units)."""
    units = batch_units(groups, twin_of)
    order = list(range(len(units)))
    rng.shuffle(order)
    batches, batch, size = [], [], 0
    for i in order:
        batch.extend(units[i])
        size += sum(len(chosen) for _, chosen in units[i])
        if size >= batch_pairs:
            batches.append(batch)
            batch, size = [], 0
    if batch:
        batches.append(batch)
    return batches


def twin_pairs(batch: list, twin_of: dict[str, str]) -> list[tuple[int, int, int, int]]:
    """The (twin's owner, candidate, original's owner, candidate) positions in `batch` where an unanswerable twin
    is trained on the very sentence that answers its original in the same batch: the sentence the pairwise twin
    loss asks the reader to score lower for the twin than for the original."""
    owner_of = {example.id: owner for owner, (example, _) in enumerate(batch)}
    pairs = []
    for twin_owner, (twin, twin_chosen) in enumerate(batch):
        original_owner = owner_of.get(twin_of.get(twin.id, ""))
        if original_owner is None or twin.answerable:
            continue
        original, original_chosen = batch[original_owner]
        for i in original_chosen:
            if not original.labels[i]:
                continue
            for j in twin_chosen:
                if twin.texts[j] == original.texts[i]:
                    pairs.append((twin_owner, j, original_owner, i))
                    break
    return pairs


