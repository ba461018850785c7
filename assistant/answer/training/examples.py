"""The reader's training examples: each train or validation question retrieved for, its candidates cut,
featured and labelled, and cached in the work folder."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import pickle
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.answer.candidates import FEATURE_NAMES, candidates, feature_matrix
from assistant.answer.combine import fit_logistic
from assistant.answer.extractive import missing_names_check
from assistant.answer.reader import candidate_text
from assistant.files import write_atomically

if TYPE_CHECKING:
    from assistant.retrieve.fusion import LearnedFusion

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[3]
TRAINING = ROOT / "training"
TRAIN_MINUTES = ROOT.parent / "shared" / "corpus" / "train_minutes.jsonl"
CANDIDATES_READ = 12  # how many of the cheap scorer's best candidates the reader reads
EXAMPLES_FORMAT = 2  # raised whenever Example gains a field that build_examples() fills (2: names_missing)


@dataclass
class Example:
    """One question with its candidates, their features and labels."""

    id: str
    question: str
    answerable: bool
    texts: list[str]  # what the reader sees of each candidate
    labels: np.ndarray  # 1 where the candidate is (part of) the answering sentence
    spans: list[tuple[int, int] | None]  # the short answer's characters within texts[i], where known
    features: np.ndarray
    council_key: str = ""
    names_missing: bool = False  # the named check of answer/extractive.py found a name the items read lack
    stage1: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weight: float = 1.0  # in every loss and fit; see balance()
    # Teachers' mean logit for each candidate trained on (nan for the rest), when distilling; see read_teachers().
    teacher: np.ndarray | None = None


def _squash(text: str) -> str:
    return " ".join(text.split())


def _overlaps(candidate: str, gold: str) -> bool:
    if candidate in gold or gold in candidate:
        return True
    a, b = set(candidate.lower().split()), set(gold.lower().split())
    return len(a & b) / max(1, min(len(a), len(b))) >= 0.6


def question_rows(split: str) -> list[dict]:
    """The questions of training/reader_<split>.jsonl, one dict per line."""
    return [json.loads(line) for line in (TRAINING / f"reader_{split}.jsonl").read_text().splitlines() if line]


def build_examples(split: str, assistant, minutes: dict[str, dict], limit: int | None = None) -> list[Example]:
    from assistant.answer.terms import QuestionTerms
    from assistant.retrieve.question import analyse

    rows = question_rows(split)
    if limit is not None:
        rows = random.Random(0).sample(rows, min(limit, len(rows)))
    examples = []
    for row in rows:
        question = analyse(row["question"], assistant.retriever.council_keys)
        retrieval = assistant.retriever.search(question)
        found = candidates(retrieval, assistant.passages)
        if not found:
            continue
        features = feature_matrix(question, QuestionTerms(question, assistant.lexical), found)
        names_missing = bool(missing_names_check(question, found, assistant.passages))
        gold = [(e["url"], _squash(minutes[e["url"]]["text"][e["start"]:e["end"]])) for e in row["evidence"]]
        short = row.get("short_answer")
        short_text = _squash(minutes[short["url"]]["text"][short["start"]:short["end"]]) if short else ""
        texts, labels, spans = [], [], []
        for c in found:
            sentence = _squash(c.text)
            text = candidate_text(sentence, str(c.hit.metadata.get("item_title", "")))
            label = int(any(c.hit.source_id == url and _overlaps(sentence, g) for url, g in gold))
            span = None
            if label and short_text:
                at = text.find(short_text, len(text) - len(sentence))
                span = (at, at + len(short_text)) if at >= 0 else None
            texts.append(text)
            labels.append(label)
            spans.append(span)
        examples.append(Example(row["id"], row["question"], row["kind"] != "unanswerable", texts,
                                np.asarray(labels), spans, features, names_missing=names_missing))
    return examples


def index_training_minutes(work: Path, fusion: str | None = None):
    """An index of the training minutes in `work`, built once; returns an open Assistant over it (ranking by
    `fusion` when given, else as ASSISTANT_FUSION says)."""
    from assistant.answer.service import Assistant
    from assistant.ingest.run import ingest
    from assistant.settings import Settings

    settings = Settings.from_env(data_dir=work / "index", fusion=fusion)
    if settings.exact_search is None:
        # Chroma's graph, as the shipped reader was trained: exact candidates trained a worse one (eval/README.md, X).
        settings = settings.with_(exact_search=False)
    if not (work / "index" / "manifest.sqlite").is_file():
        ingest([TRAIN_MINUTES], settings, progress=False)
    return Assistant(settings)


def sample_ids(limit: int) -> set[str]:
    """The ids of a fixed sample of `limit` train questions (the same sample on every run)."""
    rows = question_rows("train")
    return {row["id"] for row in random.Random(0).sample(rows, min(limit, len(rows)))}


def load_examples(work: Path, limit: int | None) -> tuple[list[Example], list[Example]]:
    """The train and validation questions, each split weighted by balance()."""
    train, validation = _read_examples_once(work, limit)
    balance(train)
    balance(validation)
    return train, validation


def questions_fingerprint() -> str:
    """A short digest of the train and validation question files, the examples' format and the retrieval fusion,
    naming the example cache built from them, so that a changed split (or a new field, or a refitted fusion) is
    read again instead of training on a cache of the old one."""
    from assistant.retrieve.fusion import fusion_digest
    from assistant.settings import Settings

    fusion = fusion_digest(Settings.from_env())
    digest = hashlib.sha256(f"examples format {EXAMPLES_FORMAT}; fusion {fusion}".encode())
    for split in ("train", "validation"):
        digest.update((TRAINING / f"reader_{split}.jsonl").read_bytes())
    return digest.hexdigest()[:12]


def _read_examples_once(work: Path, limit: int | None) -> tuple[list[Example], list[Example]]:
    """Every train and validation question read once and cached in `work`; a learning-curve point samples it."""
    fingerprint = questions_fingerprint()
    everything = work / f"examples-all-{fingerprint}.pickle"
    if limit is not None and everything.is_file():
        train, validation = _unpickle(everything)
        chosen = sample_ids(limit)
        return [e for e in train if e.id in chosen], validation
    cache = work / f"examples-{limit or 'all'}-{fingerprint}.pickle"
    if cache.is_file():
        return _unpickle(cache)
    with TRAIN_MINUTES.open(encoding="utf-8") as handle:
        minutes = {row["url"]: row for row in map(json.loads, handle)}
    assistant = index_training_minutes(work)
    try:
        data = (build_examples("train", assistant, minutes, limit), build_examples("validation", assistant, minutes))
    finally:
        assistant.close()
    # Plain dicts, not Examples: the cache must load whether this module runs as __main__ or is imported.
    write_atomically(cache, pickle.dumps(tuple([vars(e) for e in examples] for examples in data)))
    return data


def fit_fusion(assistant, rows: list[dict]) -> tuple["LearnedFusion", dict]:
    """How retrieval ranks the dense and BM25 lists together, fitted on answerable questions: a logistic score of
    each chunk's fusion inputs for "this chunk belongs to a gold item". Returns the fusion and what it was fitted on."""
    from assistant.index.embedder import model_of
    from assistant.retrieve.fusion import FUSION_INPUTS, LearnedFusion
    from assistant.retrieve.question import analyse

    inputs, targets, questions = [], [], 0
    for row in rows:
        if row["kind"] == "unanswerable":
            continue
        hits, rows_of = assistant.retriever.unranked(analyse(row["question"], assistant.retriever.council_keys))
        questions += 1
        for hit in hits:
            inputs.append(rows_of[hit.chunk_id])
            targets.append(float(hit.source_id in row["gold_urls"]))
    weights, bias = fit_logistic(np.asarray(inputs, dtype=np.float64).reshape(-1, len(FUSION_INPUTS)), np.asarray(targets))
    model = model_of(assistant.index.embedder.name)
    return LearnedFusion(weights, bias, model), {"questions": questions, "chunks": len(targets),
                                                 "chunks_of_gold_items": int(sum(targets))}


def gold_item_ranks(assistant, rows: list[dict]) -> dict:
    """For answerable questions: how often a gold item is among the first five items retrieved, and first."""
    from assistant.retrieve.question import analyse

    answerable = among_five = first = 0
    for row in rows:
        if row["kind"] == "unanswerable":
            continue
        retrieval = assistant.retriever.search(analyse(row["question"], assistant.retriever.council_keys))
        items = retrieval.first_items(5)
        gold = set(row["gold_urls"])
        answerable += 1
        among_five += bool(gold & set(items))
        first += bool(items and items[0] in gold)
    return {"answerable": answerable, "gold_among_first_five": among_five, "gold_first": first}


def write_fusion(work: Path, out: Path) -> dict:
    """Fit the fusion on the train split (the train index in `work`), write it to `out`, and report the validation
    split's gold-item ranks with reciprocal rank and with the fit."""
    # Fitted from the two lists alone, so a damaged or missing fusion.json (with ASSISTANT_FUSION=fitted) is no
    # obstacle to refitting it.
    assistant = index_training_minutes(work, fusion="reciprocal-rank")
    try:
        fusion, fitted_on = fit_fusion(assistant, question_rows("train"))
        validation = question_rows("validation")
        assistant.retriever.fusion = None
        before = gold_item_ranks(assistant, validation)
        assistant.retriever.fusion = fusion
        after = gold_item_ranks(assistant, validation)
    finally:
        assistant.close()
    record = {**fusion.as_dict(), "fitted_on": {"split": "train", **fitted_on},
              "validation": {"reciprocal_rank": before, "fitted": after}}
    write_atomically(out, json.dumps(record, indent=1) + "\n")
    return record


def balance(examples: list[Example]) -> None:
    """Weight the questions so that, among those asking for each kind of fact (a figure, a date, a person,
    anything else), unanswerable ones make up the same weighted share as among all questions.

    The writers' hard unanswerable questions ask for a figure far more often than their answerable ones do (in
    the train split 77% of the questions asking for a figure are unanswerable, against 27% of the rest), so a
    reader trained on them as they are learns that asking for a figure means there is no answer. The correction
    is split evenly (its square root each way) between raising one side and lowering the other, so that
    neither the few answerable questions nor the many unanswerable ones end up dominating a group. A group
    with only one side has nothing to balance against and keeps weight 1 (with a warning).

    The weights are normalised to a mean of 1, and every loss averages weighted terms over its batch's count
    (not its total weight), so a weight counts in full in every loss as in the logistic fits. (The second and
    third readers divided the listwise and span losses by the batch's total weight, which cancelled most of
    the balance there: a batch holds only 3 or 4 questions.)"""
    from assistant.retrieve.question import asked_for

    groups: dict[str, list[Example]] = {}
    for example in examples:
        groups.setdefault(asked_for(example.question), []).append(example)
    answerable = sum(e.answerable for e in examples)
    ratio = (len(examples) - answerable) / max(1, answerable)
    for members in groups.values():
        unanswerable = sum(not e.answerable for e in members)
        if not unanswerable or unanswerable == len(members):
            log.warning("%d questions asking for %s are all %s: left unweighted", len(members),
                        asked_for(members[0].question) or "anything else",
                        "answerable" if not unanswerable else "unanswerable")
            continue
        correction = math.sqrt(unanswerable / (ratio * (len(members) - unanswerable)))
        for example in members:
            example.weight = correction if example.answerable else 1.0 / correction
    mean = sum(e.weight for e in examples) / max(1, len(examples))
    for example in examples:
        example.weight /= mean


def _unpickle(path: Path) -> tuple[list[Example], list[Example]]:
    train, validation = pickle.loads(path.read_bytes())
    columns = {row["features"].shape[1] for row in train + validation}
    if any("names_missing" not in row for row in train + validation):
        raise SystemExit(f"{path} was built before examples recorded names_missing: delete it (or use another "
                         "--work folder) to read them again.")
    if columns != {len(FEATURE_NAMES)}:
        raise SystemExit(f"{path} holds examples with {sorted(columns)} features, not the {len(FEATURE_NAMES)} of "
                         f"{', '.join(FEATURE_NAMES)}: delete it (or use another --work folder) to read them again.")
    return [Example(**row) for row in train], [Example(**row) for row in validation]


