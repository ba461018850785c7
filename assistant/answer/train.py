"""Train the reader and fit what it is combined with: `python -m assistant.answer.train [--out DIR]`.

1. Index the training minutes (../shared/corpus/train_minutes.jsonl) with the bundled MiniLM.
2. Retrieve for every train and validation question, and cut each item into candidate sentences with
   their declared features (answer/candidates.py).
3. Fit the cheap scorer (a logistic regression over the features) on the train split.
4. Train the cross-encoder from the bundled MiniLM weights on train pairs: each question's answering
   sentence, and hard negatives taken from the cheap scorer's best candidates. Three losses: pointwise
   (does this sentence answer?), listwise over a question's candidates plus a learned 'no answer' option
   (the target of an unanswerable question), and a span loss that marks the short answer in an answering
   sentence and [CLS] ('no short answer here') in every other. The questions are weighted so that
   what a question asks for (a figure, a date, a person) does not by itself predict refusal (balance()).
5. Export it to ONNX and quantise it to int8; everything after this reads with the exported model.
6. On the validation split, fit the combination of the reader's score with the features (which sentence
   answers: a conditional logit within each answerable question, scaled into a probability), the
   answerability model (whether any does), and the refusal threshold, so that at most 5% of
   answerable validation questions are refused; the short answer's threshold; and the second quote's (the
   half of answerable validation questions whose second likeliest sentence is likeliest get one). The
   figures reported are cross-validated on validation.

Deterministic with --seed; CPU only. `--soup N` trains N readers (seeds --seed, --seed+1, ...) side by side, in
separate processes sharing the cores, and exports the mean of their weights; `--ensemble N` trains them the same
way with their token embeddings frozen and exports one reader that reads with all of them and averages their
scores, a file per member, the later ones reading the first's best SECOND_MEMBER_READS candidates (make_ensemble,
split_ensemble; `--keep-members DIR` also writes each alone, to compare). `--teachers DIR...` distils: exported
readers score each train question's candidates first, and the new reader also learns their mean scores
(read_teachers; a teacher reads the pairs sorted by length, `--teacher-batch` at a time). `--bf16` trains under
bfloat16 autocast: on a Xeon with AMX, 1.18 s a step against 1.35 s in fp32 (deterministic on one machine, but not
bit for bit the fp32 run). `--schedule-steps batches` sizes the learning rate's decay by the real batches, so it
reaches zero (the default, `pairs`, is every shipped reader's longer schedule). `--twins` trains each unanswerable
twin (a question written against an answerable one, asking for a detail its minutes do not give) in its original's
batch, with a pairwise loss on the original's answering sentence; `--hard-unanswerable` keeps an unanswerable
question's pointwise targets at 0 when distilling. `--ema DECAY` ships an exponential moving average of the
weights over the steps (`--keep-last DIR` also writes the same run's last step, to compare). The test split is
never read here.
`--recalibrate` redoes steps 3 and 6 for the reader already in --out.
`--fit-fusion` fits only how retrieval ranks the dense and BM25 lists together (fit_fusion), on the answerable train
questions, and writes it to assistant/retrieve/fusion.json (or --fusion-out); with ASSISTANT_FUSION=fitted, steps 2
to 6 then retrieve with it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import pickle
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.answer.candidates import FEATURE_NAMES, candidates, feature_matrix
from assistant.answer.combine import (ANSWERABILITY_INPUTS, Combination, answerability_inputs, fit_conditional_logit,
                                      fit_logistic)
from assistant.answer.extractive import chosen_quotes, missing_names_check, second_to_best
from assistant.answer.reader import (BUNDLED_TOKEN_EMBEDDINGS, MAX_TOKENS, READER_OUTPUTS, SPAN_MARGIN_LIMIT,
                                     OnnxReader, candidate_text, make_tokenizer, model_files, sha256_of, tensor_of)
from assistant.files import write_atomically

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT / "training"
TRAIN_MINUTES = ROOT.parent / "shared" / "corpus" / "train_minutes.jsonl"
DEFAULT_OUT = Path(__file__).resolve().parent / "reader_model"
CANDIDATES_READ = 12  # how many of the cheap scorer's best candidates the reader reads
# An ensemble's later members read only the first member's best four candidates (its manifest's second_reads):
# as good as reading all 12 on validation, in about two thirds of the time (eval/README.md, "Twenty-sixth round").
SECOND_MEMBER_READS = 4
LENGTH_CHUNK = 8  # pairs per forward pass in training, sorted by length so that each pass pads less
NEGATIVES = 7  # hard negatives per question (an unanswerable question's candidates are all negatives)
TEACHER_BATCH = 16  # pairs a teacher reads at once, sorted by length (read_teachers; 0: a question at a time)
LEARNING_RATE = 5e-5  # the encoder's peak rate, for every shipped reader (the heads train at 1e-3)
MAX_REFUSED_ANSWERABLE = 0.05
EXAMPLES_FORMAT = 2  # raised whenever Example gains a field that build_examples() fills (2: names_missing)
# The smallest share of answered questions given a short answer: answers should lead with one (issue 11 asks
# for 70% on the test split). The threshold is fitted on validation's answered questions with some room above
# it: fitted at exactly 0.70, a test split of about 300 answered questions falls below it about half the time.
# The room is about one standard deviation of the difference between the two shares
# (sqrt(0.21 / 830 + 0.21 / 300) = 0.031, with validation's 830 or so answered questions).
MIN_SHORT_ANSWERS = 0.70
SHORT_ANSWER_ROOM = 0.03
# Answers are meant to be short: at most half of them quote a second sentence (those where it is likeliest).
MAX_SECOND_QUOTES = 0.5


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


# -- the cross-encoder --------------------------------------------------------------------------

def make_model(base: Path, layers: int):
    import torch
    from transformers import AutoModel

    class ReaderModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(base))
            self.encoder.encoder.layer = self.encoder.encoder.layer[:layers]
            self.encoder.config.num_hidden_layers = layers
            hidden = self.encoder.config.hidden_size
            self.relevance = torch.nn.Linear(hidden, 1)
            self.span = torch.nn.Linear(hidden, 2)
            # The score of 'no candidate answers', learned in training only: the listwise loss puts it among
            # each question's candidates, so an unanswerable question's best candidate is pushed below it.
            self.no_answer = torch.nn.Parameter(torch.zeros(1))

        def forward(self, input_ids, attention_mask, token_type_ids, token_embeddings=None):
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                                  inputs_embeds=token_embeddings).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            spans = self.span(states)
            masked = (1.0 - attention_mask.to(states.dtype)) * -10000.0
            return self.relevance(pooled).squeeze(-1), spans[..., 0] + masked, spans[..., 1] + masked

    return ReaderModel()


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


def teacher_record(folder: Path) -> dict:
    """What names a teacher in the calibration: its manifest name and the first 12 hex digits of its model's sha256."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return {"name": manifest["name"], "sha256": "+".join(manifest["sha256"][name][:12] for name in model_files(manifest))}


def read_teachers(examples: list[Example], folders: list[Path], work: Path, negatives: int = NEGATIVES,
                  batch: int = TEACHER_BATCH) -> None:
    """Set each example's `teacher`: the mean logit that the exported readers in `folders` give each candidate it
    is trained on (nan elsewhere), which the losses then pull the student toward (knowledge distillation).

    A teacher reads every trained pair in batches of `batch` pairs of similar length, whatever question they
    belong to (OnnxReader.logits_of_pairs); with `batch` 0 it reads a question's trained candidates in one batch,
    as for every reader shipped so far, which takes about 1.8 times as long. Its readings are cached in `work` under
    its sha256, the question files' fingerprint, the number of negatives (the cheap scorer's choice of negatives
    depends on both) and `batch` (an int8 reader's logits depend a little on what they are read with)."""
    tables, fingerprint = [], questions_fingerprint()
    for folder in folders:
        record = teacher_record(folder)
        name = f"teacher-{record['sha256']}-{fingerprint}-{negatives}" + (f"-b{batch}" if batch else "")
        cache = work / f"{name}.pickle"
        if cache.is_file():
            table = pickle.loads(cache.read_bytes())
        else:
            reader, table, started = OnnxReader(folder), {}, time.perf_counter()
            owners = [(example, chosen) for example in examples if (chosen := trained_candidates(example, negatives))]
            if batch:
                logits = reader.logits_of_pairs(
                    [(example.question, example.texts[i]) for example, chosen in owners for i in chosen], batch)
                at = 0
                for example, chosen in owners:
                    table[example.id] = dict(zip(chosen, logits[at:at + len(chosen)].tolist()))
                    at += len(chosen)
            else:
                for example, chosen in owners:
                    readings = reader.read(example.question, [example.texts[i] for i in chosen])
                    table[example.id] = dict(zip(chosen, [r.logit for r in readings]))
            write_atomically(cache, pickle.dumps(table))
            log.info("teacher %s read %d questions (%.0f s)", record["name"], len(table), time.perf_counter() - started)
        tables.append(table)
    for example in examples:
        scores = np.full(len(example.texts), np.nan, dtype=np.float32)
        if all(example.id in table for table in tables):
            for i in tables[0][example.id]:
                scores[i] = np.mean([table[example.id][i] for table in tables])
        example.teacher = scores


def _token_span(encoding, span: tuple[int, int] | None) -> tuple[int, int]:
    """Token positions of a character span in the candidate (sequence 1); (0, 0), the [CLS], when none."""
    if span is None:
        return 0, 0
    start = end = None
    for position, (sid, (a, b)) in enumerate(zip(encoding.sequence_ids, encoding.offsets)):
        if sid != 1 or b <= a:
            continue
        if start is None and b > span[0]:
            start = position
        if a < span[1]:
            end = position
    return (start, end) if start is not None and end is not None and end >= start else (0, 0)


# What can size the learning rate's schedule (train_reader's `schedule_steps`, the script's --schedule-steps).
SCHEDULE_STEPS = ("pairs", "batches")


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


def learning_rate_factor(step: int, total_steps: int) -> float:
    """The share of the peak learning rate at `step` (counted from 0) of a schedule sized for `total_steps`: a
    linear warm-up over the first tenth, then a linear decay that reaches zero after the last step."""
    warmup = max(1, total_steps // 10)
    return min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup)))


def train_reader(examples: list[Example], base: Path, layers: int, epochs: int, seed: int,
                 batch_pairs: int = 24, learning_rate: float = LEARNING_RATE, negatives: int = NEGATIVES,
                 threads: int | None = None, bf16: bool = False, schedule_steps: str = "pairs",
                 twin_of: dict[str, str] | None = None, hard_unanswerable: bool = False, ema: float = 0.0,
                 freeze_word_embeddings: bool = False):
    """Train the cross-encoder. `twin_of` (twin id -> original id) puts each unanswerable twin in its original's
    batch and adds the pairwise twin loss (_batch_loss); `hard_unanswerable` keeps an unanswerable question's
    pointwise targets at 0 when distilling, instead of halfway to its teachers' probabilities. With
    `freeze_word_embeddings` the token embeddings keep the bundled MiniLM's values, so that an ensemble's members
    can share one copy (make_ensemble).

    With `ema` (a decay between 0 and 1) the model returned holds an exponential moving average of its weights
    over the steps instead of the last step's, and the last step's weights are kept as `model.last_iterate`
    (a state dict), so that one run can be compared with itself. The average does not change the trajectory."""
    if not 0.0 <= ema < 1.0:
        raise ValueError(f"ema={ema}: give a decay of at least 0 and below 1 (0 keeps the last step's weights)")
    if schedule_steps not in SCHEDULE_STEPS:
        raise ValueError(f"schedule_steps={schedule_steps!r}: give one of {', '.join(SCHEDULE_STEPS)}")
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads or os.cpu_count() or 1)
    tokenizer = make_tokenizer(base / "tokenizer.json")
    model = make_model(base, layers)
    if freeze_word_embeddings:
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    model.train()
    groups = training_groups(examples, seed, negatives)
    rng = random.Random(seed)
    batches = [batch for _ in range(epochs) for batch in batched_groups(groups, rng, batch_pairs, twin_of)]
    pairs_of = [twin_pairs(batch, twin_of) if twin_of else [] for batch in batches]
    if twin_of:
        log.info("%d twin pairs in training (twin and original in one batch)", sum(map(len, pairs_of)))
    # A batch takes whole questions, so it holds more than batch_pairs pairs and there are fewer batches than
    # pairs / batch_pairs (about 2,000 against 2,355 on the shipped training data). Every shipped reader's
    # schedule was sized by pairs, so its decay ends at about a sixth of the peak; "batches" decays to zero at
    # the last step, and its one run so far (another seed) did no better (eval/README, twelfth round).
    pairs = sum(len(chosen) for _, chosen in groups)
    total_steps = max(1, len(batches) if schedule_steps == "batches" else epochs * math.ceil(pairs / batch_pairs))
    optimiser = torch.optim.AdamW([
        {"params": model.encoder.parameters(), "lr": learning_rate},
        {"params": list(model.relevance.parameters()) + list(model.span.parameters()), "lr": 1e-3},
    ], weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: learning_rate_factor(step, total_steps))
    parameters = list(model.parameters())
    averaged = [parameter.detach().clone() for parameter in parameters] if ema else None
    started = time.perf_counter()
    log.info("%d batches; the learning rate's schedule is sized for %d steps", len(batches), total_steps)
    for step, (batch, pairs) in enumerate(zip(batches, pairs_of), start=1):
        loss = _batch_loss(model, tokenizer, batch, bf16, pairs, hard_unanswerable)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        scheduler.step()
        optimiser.zero_grad()
        if averaged is not None:
            moving_average_step(averaged, parameters, ema)
        if step % 50 == 0:
            log.info("step %d/%d loss %.3f (%.0f s)", step, len(batches), float(loss.detach()),
                     time.perf_counter() - started)
    model.eval()
    if averaged is not None:
        model.last_iterate = {name: value.clone() for name, value in model.state_dict().items()}
        with torch.no_grad():
            for parameter, mean in zip(parameters, averaged):
                parameter.copy_(mean)
    return model, tokenizer


def moving_average_step(averaged: list, current: list, decay: float) -> None:
    """One step of an exponential moving average, in place: each average becomes decay * itself + (1 - decay) *
    the current value. Why average at all: the last step's weights depend on the last few hundred batches, and
    readers of one recipe differ by about 0.1 in refusals from seed to seed (eval/README.md, "Nineteenth round");
    an average over the last part of the run was meant to read less of that noise, at no cost when answering. At
    0.998 it refused fewer unanswerable validation questions than the same run's last step on both seeds tried
    (eval/README.md, "Twentieth round"), so it is off by default."""
    import torch

    with torch.no_grad():
        for mean, value in zip(averaged, current):
            mean.mul_(decay).add_(value.detach(), alpha=1.0 - decay)


def average_weights(states: list[dict]) -> dict:
    """The mean of readers' weights (a uniform "model soup"), as one state dict.

    Readers fine-tuned from the same bundled weights with different seeds stay close enough in weight space for
    their mean to read about as well as each, at no cost at question time. Measured on validation it chose
    sentences a little better than its seeds but refused no better, unlike averaging their scores, which reads
    twice (eval/README.md, "Eighth round")."""
    import torch

    return {name: torch.stack([state[name] for state in states]).mean(0) if value.is_floating_point() else value
            for name, value in states[0].items()}


def _train_one_seed(job: tuple) -> dict:
    """One soup ingredient, trained in its own process (so that several train side by side)."""
    examples, base, layers, epochs, seed, options = job
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s seed {seed}: %(message)s")
    model, _ = train_reader(examples, base, layers, epochs, seed, **options)
    return model.state_dict()


def model_from_state(base: Path, layers: int, state: dict):
    """A cross-encoder holding `state` (a reader trained elsewhere, or a mean of readers), ready to read."""
    model = make_model(base, layers)
    model.load_state_dict(state)
    model.eval()
    return model


def train_side_by_side(examples: list[Example], base: Path, layers: int, epochs: int, seeds: list[int],
                       **options) -> list[dict]:
    """A reader per seed, as state dicts. The seeds train at once in separate processes sharing the cores: on this
    machine's two cores, two one-thread runs side by side finish in about 0.8 of the time of the same two runs one
    after the other with two threads each."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    options = {"threads": max(1, (os.cpu_count() or 2) // len(seeds)), **options}
    jobs = [(examples, base, layers, epochs, seed, options) for seed in seeds]
    with ProcessPoolExecutor(len(seeds), mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_train_one_seed, jobs))


def train_soup(examples: list[Example], base: Path, layers: int, epochs: int, seeds: list[int], **options):
    """A reader per seed, their weights averaged (one reader, trained as it is when there is one seed)."""
    if len(seeds) == 1:
        return train_reader(examples, base, layers, epochs, seeds[0], **options)[0]
    return model_from_state(base, layers, average_weights(train_side_by_side(examples, base, layers, epochs, seeds,
                                                                            **options)))


def make_ensemble(base: Path, layers: int, states: list[dict]):
    """Readers that read together: each candidate goes through every member, and the relevance and span logits
    are their means. Why: averaging two seeds' scores refused about 0.04 more unanswerable validation questions
    than either seed on every pair tried, where averaging their weights did not (eval/README.md, "Eighth round").
    The members' token embeddings must be the bundled ones (trained frozen): one copy then serves them all, and
    the exported reader leaves it out (export_onnx), which keeps two members within the size a reader may ship."""
    import torch

    members = [model_from_state(base, layers, state) for state in states]
    shared = members[0].encoder.embeddings.word_embeddings
    bundled = torch.from_numpy(tensor_of(base, BUNDLED_TOKEN_EMBEDDINGS))  # what the exported reader looks up
    for member in members:
        if not torch.equal(member.encoder.embeddings.word_embeddings.weight, bundled):
            raise ValueError("an ensemble member's token embeddings differ from the bundled MiniLM's: train its "
                             "members with freeze_word_embeddings")
        member.encoder.embeddings.word_embeddings = shared

    class EnsembleModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.members = torch.nn.ModuleList(members)

        def forward(self, input_ids, attention_mask, token_type_ids, token_embeddings=None):
            if token_embeddings is None:
                token_embeddings = shared(input_ids)
            outputs = [member(None, attention_mask, token_type_ids, token_embeddings) for member in self.members]
            return tuple(torch.stack(parts).mean(0) for parts in zip(*outputs))

        def from_token_embeddings(self):
            return FromTokenEmbeddings(self)

    class FromTokenEmbeddings(torch.nn.Module):
        """What is exported: the ensemble given the token embeddings (looked up from the bundled weights at
        question time) in place of the token ids."""

        def __init__(self, ensemble) -> None:
            super().__init__()
            self.ensemble = ensemble

        def forward(self, token_embeddings, attention_mask, token_type_ids):
            return self.ensemble(None, attention_mask, token_type_ids, token_embeddings)

    ensemble = EnsembleModel()
    ensemble.eval()
    return ensemble


def _batch_loss(model, tokenizer, batch, bf16: bool = False, pairs: list[tuple[int, int, int, int]] = (),
                hard_unanswerable: bool = False):
    """The batch's loss; `pairs` are its twin_pairs(), for the pairwise twin loss."""
    import torch

    texts, labels, spans, owners, weights, taught, answerable, position = [], [], [], [], [], [], [], {}
    for owner, (example, chosen) in enumerate(batch):
        for i in chosen:
            position[owner, i] = len(texts)
            texts.append((example.question, example.texts[i]))
            labels.append(float(example.labels[i]))
            spans.append(example.spans[i] if example.labels[i] else None)
            owners.append(owner)
            weights.append(example.weight)
            taught.append(float(example.teacher[i]) if example.teacher is not None else math.nan)
            answerable.append(example.answerable)
    encodings = tokenizer.encode_batch(texts)
    ids = torch.tensor([e.ids for e in encodings])
    mask = torch.tensor([e.attention_mask for e in encodings])
    types = torch.tensor([e.type_ids for e in encodings])
    token_spans = [_token_span(e, s) for e, s in zip(encodings, spans)]
    starts = torch.tensor([start for start, _ in token_spans])
    ends = torch.tensor([end for _, end in token_spans])
    relevance, span_terms = _forward_by_length(model, ids, mask, types, starts, ends, bf16)
    target = torch.tensor(labels)
    teacher = torch.tensor(taught)
    has_teacher = ~torch.isnan(teacher)
    # Distilling: a pair's pointwise target is halfway between its label and its teachers' probability; with
    # hard_unanswerable, an unanswerable question's stay at 0, since a teacher that refuses too few twins would
    # otherwise pull the sentences they were written against back up.
    softened = has_teacher & torch.tensor(answerable) if hard_unanswerable else has_teacher
    soft_target = torch.where(softened, (target + torch.sigmoid(teacher.nan_to_num())) / 2, target)
    pair_weights = torch.tensor(weights)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(relevance, soft_target, weight=pair_weights)
    # Listwise: among one question's candidates and 'no answer', the answer (or 'no answer') comes first.
    owners_t = torch.tensor(owners)
    listwise, question_weights = [], []
    for owner, (example, _) in enumerate(batch):
        members = owners_t == owner
        log_probs = torch.log_softmax(torch.cat([model.no_answer, relevance[members]]), dim=0)
        wanted = torch.cat([torch.tensor([0.0 if example.answerable else 1.0]), target[members]])
        term = -(log_probs * wanted).sum() / wanted.sum()
        if bool(has_teacher[members].all()):
            # and the student's ranking of the candidates follows its teachers' (KL from their softmax to its own)
            taught_probs = torch.softmax(teacher[members], dim=0)
            student = torch.log_softmax(relevance[members], dim=0)
            term = term + (taught_probs * (torch.log(taught_probs) - student)).sum()
        listwise.append(term)
        question_weights.append(example.weight)
    if listwise:
        loss = loss + (torch.stack(listwise) * torch.tensor(question_weights)).mean()
    # Span: the short answer's tokens in an answering sentence; [CLS] ('no short answer here') in the others,
    # so that the span head's margin also says whether a sentence answers.
    span_loss = (span_terms * pair_weights).mean()
    loss = loss + 0.5 * span_loss
    # Twins: the sentence that answers the original should score below it for the unanswerable twin, which asks
    # for a detail that sentence does not give (softplus of the twin's logit minus the original's).
    if pairs:
        twin = torch.tensor([position[owner, i] for owner, i, _, _ in pairs])
        original = torch.tensor([position[owner, i] for _, _, owner, i in pairs])
        pair_weight = torch.tensor([batch[owner][0].weight for owner, _, _, _ in pairs])
        loss = loss + (torch.nn.functional.softplus(relevance[twin] - relevance[original]) * pair_weight).mean()
    return loss


def _forward_by_length(model, ids, mask, types, start_target, end_target, bf16: bool = False):
    """Each pair's relevance logit and span loss, in the batch's order. The pairs go through the model in
    chunks of similar length, each padded only to its own longest pair (padding is on the right and masked, so
    cutting it off changes nothing): about a quarter fewer tokens than padding the whole batch to its longest.
    With `bf16` the model runs under bfloat16 autocast (the weights, their gradients and the losses stay fp32)."""
    import torch

    lengths = mask.sum(1)
    order = torch.argsort(lengths, stable=True)
    relevance_parts, span_parts = [], []
    for chunk in order.split(LENGTH_CHUNK):
        width = int(lengths[chunk].max())
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            relevance, starts, ends = model(ids[chunk, :width], mask[chunk, :width], types[chunk, :width])
        relevance, starts, ends = relevance.float(), starts.float(), ends.float()
        relevance_parts.append(relevance)
        span_parts.append((torch.nn.functional.cross_entropy(starts, start_target[chunk], reduction="none")
                           + torch.nn.functional.cross_entropy(ends, end_target[chunk], reduction="none")) / 2)
    back = torch.argsort(order)
    return torch.cat(relevance_parts)[back], torch.cat(span_parts)[back]


def export_onnx(model, out: Path, quantise: bool = True) -> str:
    """Write the model as ONNX: model.onnx quantised to int8 (the fp32 export it came from is deleted), or
    model.fp32.onnx when `quantise` is off. Returns the name of the file written."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    exported = model.from_token_embeddings() if hasattr(model, "from_token_embeddings") else None
    first = "token_embeddings" if exported is not None else "input_ids"
    example = (torch.zeros(2, 16, model.members[0].encoder.config.hidden_size) if exported is not None
               else torch.ones(2, 16, dtype=torch.long),
               torch.ones(2, 16, dtype=torch.long), torch.zeros(2, 16, dtype=torch.long))
    fp32 = out / "model.fp32.onnx"
    torch.onnx.export(exported or model, example, str(fp32), input_names=[first, "attention_mask", "token_type_ids"],
                      output_names=READER_OUTPUTS, opset_version=17, dynamo=False,
                      dynamic_axes={name: {0: "batch", 1: "tokens"} for name in
                                    (first, "attention_mask", "token_type_ids", "start_logits", "end_logits")}
                      | {"relevance": {0: "batch"}})
    drop_nan_guards(fp32)
    if not quantise:
        return fp32.name
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = out / "model.onnx"
    # 7-bit weights, per output channel: with full 8-bit weights onnxruntime's int8 kernels saturate on CPUs
    # without VNNI, so one file scored differently from one machine to the next (and its refusal threshold,
    # calibrated on one, was off on the other). With 7 bits every CPU computes the same scores.
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
    fp32.unlink()
    return int8.name


def drop_nan_guards(path: Path) -> int:
    """Remove the exporter's `Where(IsNaN(softmax), 0, softmax)` after each attention softmax, in place; returns
    how many it removed.

    The guard only matters for a query whose every key is masked with -inf. BERT's mask adds the dtype's
    lowest finite value instead, and the first token is never masked, so no softmax row can be NaN and the
    guard never fires: the outputs are bit for bit the same without it, and the reader spends about 4% less
    time (two full passes over every attention matrix per layer)."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    made_by = {output: node for node in graph.node for output in node.output}
    renamed: dict[str, str] = {}
    dropped = []
    for node in graph.node:
        if node.op_type != "Where":
            continue
        condition = made_by.get(node.input[0])
        if (condition is not None and condition.op_type == "IsNaN" and condition.input[0] == node.input[2]
                and made_by.get(node.input[2]) is not None and made_by[node.input[2]].op_type == "Softmax"):
            renamed[node.output[0]] = node.input[2]
            dropped += [node, condition]
    if not dropped:
        return 0
    for node in dropped:
        graph.node.remove(node)
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
    drop_dead_nodes(graph)  # the guards' zeros
    onnx.save(model, str(path))
    return len(renamed)


def drop_dead_nodes(graph) -> None:
    """Remove the nodes whose outputs feed nothing (repeatedly, as removing one can leave its inputs' makers
    dead too), then the initializers no node reads: onnxruntime warns about each one at every load."""
    wanted = {output.name for output in graph.output}
    kept = list(graph.node)
    while True:
        needed = wanted | {name for node in kept for name in node.input}
        alive = [node for node in kept if any(output in needed for output in node.output)]
        if len(alive) == len(kept):
            break
        kept = alive
    read = {name for node in kept for name in node.input}
    live = [tensor for tensor in graph.initializer if tensor.name in read]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(live)


def save_reader(model, base: Path, folder: Path, name: str) -> None:
    """The model folder the reader loads: int8 ONNX (a file per member of an ensemble), the tokenizer, and a
    manifest with their sha256."""
    shutil.rmtree(folder, ignore_errors=True)
    model_file = export_onnx(model, folder)
    shutil.copy(base / "tokenizer.json", folder / "tokenizer.json")
    manifest = {"name": name, "model": model_file, "max_tokens": MAX_TOKENS, "span_threshold": 0.0}
    if hasattr(model, "from_token_embeddings"):
        del manifest["model"]
        manifest |= as_members(folder, model_file) | {"token_embeddings": BUNDLED_TOKEN_EMBEDDINGS}
    manifest["sha256"] = {f: sha256_of(folder / f) for f in [*model_files(manifest), "tokenizer.json"]}
    write_atomically(folder / "manifest.json", json.dumps(manifest, indent=1))


def as_members(folder: Path, model_file: str) -> dict:
    """Replace the one-graph ensemble `model_file` in `folder` by a file per member; returns the manifest's entries
    that say how they read (their sha256 are the caller's to record)."""
    members = split_ensemble(folder / model_file, folder)
    (folder / model_file).unlink()
    return {"members": members, "second_reads": SECOND_MEMBER_READS}


def split_ensemble(path: Path, folder: Path) -> list[str]:
    """Write each member of the exported ensemble at `path` as a graph of its own in `folder` (member-1.onnx, ...),
    with the ensemble's inputs and output names, and return their names in member order. The members share no
    weights in the file (their token embeddings are an input), so the files together are the ensemble's size; apart,
    the reader can let the later members read fewer candidates (OnnxReader._read_in_turn), which one graph cannot:
    onnxruntime runs every node of a graph whatever outputs are asked for."""
    import onnx
    from onnx.utils import Extractor

    model = onnx.load(str(path))
    made_by = {output: node for node in model.graph.node for output in node.output}
    per_output = []  # for each of the ensemble's outputs, each member's tensor that its mean is taken over
    for output in READER_OUTPUTS:
        mean = made_by[output]
        stacked = made_by[mean.input[0]]
        if mean.op_type != "ReduceMean" or stacked.op_type != "Concat":
            raise ValueError(f"{path} is not an exported ensemble: its {output} is not a mean over its members")
        per_output.append([made_by[part].input[0] for part in stacked.input])  # each part: Unsqueeze(member's)
    inputs = [i.name for i in model.graph.input]
    names = []
    for member, outputs in enumerate(zip(*per_output), start=1):
        graph_of_member = Extractor(model).extract_model(inputs, list(outputs))
        renamed = dict(zip(outputs, READER_OUTPUTS))
        for node in graph_of_member.graph.node:
            node.output[:] = [renamed.get(name, name) for name in node.output]
            node.input[:] = [renamed.get(name, name) for name in node.input]
        for value in [*graph_of_member.graph.output, *graph_of_member.graph.value_info]:
            value.name = renamed.get(value.name, value.name)
        name = f"member-{member}.onnx"
        onnx.save(graph_of_member, str(folder / name))
        names.append(name)
    return names


# -- reading, combining and calibrating on validation -------------------------------------------

def read_examples(examples: list[Example], reader) -> tuple[list[np.ndarray], list[np.ndarray], list[list]]:
    """The reader's logit, short-answer margin and best short-answer span for each of the cheap scorer's best
    candidates (others: -inf, 0 and None). Give it a reader that shows every span, whatever its margin, to fit
    the margin's threshold."""
    readings, margins, spans = [], [], []
    for example in examples:
        logits = np.full(len(example.texts), -np.inf, dtype=np.float32)
        span_margins = np.zeros(len(example.texts), dtype=np.float32)
        best_spans: list = [None] * len(example.texts)
        top = np.argsort(-example.stage1, kind="stable")[:CANDIDATES_READ]
        for i, reading in zip(top, reader.read(example.question, [example.texts[i] for i in top])):
            logits[i] = reading.logit
            span_margins[i] = reading.span_margin
            best_spans[i] = reading.short_answer
        readings.append(logits)
        margins.append(span_margins)
        spans.append(best_spans)
    return readings, margins, spans


def span_threshold(examples, probabilities, margins, spans, answered: np.ndarray) -> tuple[float, dict]:
    """The short-answer margin above which the chosen sentence's short answer is shown, and what it shows on
    these questions. Over the questions `answered` (not refused), it maximises the short answers shown that
    overlap the written one minus those that do not (any shown for an unanswerable question is wrong), among the
    thresholds that show one for at least MIN_SHORT_ANSWERS + SHORT_ANSWER_ROOM of them (answers are meant to
    lead with a short answer; the quote that follows it is shown either way)."""
    rows = []
    for example, p, m, predicted, shown in zip(examples, probabilities, margins, spans, answered):
        if not shown:
            continue
        best = int(np.argmax(p))
        gold = example.spans[best] if example.answerable and example.labels[best] else None
        span = predicted[best]
        right = bool(gold and span and max(gold[0], span[0]) < min(gold[1], span[1]))
        rows.append((float(m[best]), 1 if right else -1))
    rows.sort()
    # A threshold at rows[k]'s margin hides rows 0..k (the reader shows margins strictly above it), so it is
    # only a candidate at the last of a run of equal margins; the first candidate, below every (clipped)
    # margin, shows them all.
    most_hidden = len(rows) - math.ceil(min(1.0, MIN_SHORT_ANSWERS + SHORT_ANSWER_ROOM) * len(rows))
    best_threshold, best_gain, best_hidden = -SPAN_MARGIN_LIMIT - 1.0, sum(g for _, g in rows), 0
    gain = best_gain
    for hidden, (margin, g) in enumerate(rows, start=1):
        if hidden > most_hidden:
            break
        gain -= g
        tied_with_next = hidden < len(rows) and rows[hidden][0] == margin
        if gain > best_gain and not tied_with_next:
            best_threshold, best_gain, best_hidden = margin, gain, hidden
    shown = rows[best_hidden:]
    figures = {"short_answer_shown": round(len(shown) / max(1, len(rows)), 3),
               "short_answer_right_when_shown": round(sum(g > 0 for _, g in shown) / max(1, len(shown)), 3)}
    return float(best_threshold), figures


def second_quote_ratio(examples, probabilities) -> float:
    """The share of the best sentence's probability that the second needs to be quoted too: the answerable
    questions whose two likeliest sentences are closest get one, at most MAX_SECOND_QUOTES of them (ties are
    shown or hidden together)."""
    seconds = sorted((second_to_best(p) for e, p in zip(examples, probabilities) if e.answerable and len(p) > 1),
                     reverse=True)
    allowed = int(math.floor(MAX_SECOND_QUOTES * len(seconds)))
    if not seconds:
        return math.inf  # nothing to fit on: never quote a second sentence
    if allowed >= len(seconds):
        return 0.0
    return float(np.nextafter(seconds[allowed], np.inf))  # quoted: strictly above the first one left out


def answer_quoted(examples, probabilities, ratio: float) -> tuple[float, float]:
    """Among answerable questions: the share whose quotes hold an answering sentence, and the share quoting two."""
    quoted = [(e, chosen_quotes(p, ratio)) for e, p in zip(examples, probabilities) if e.answerable]
    return (sum(bool(e.labels[chosen].any()) for e, chosen in quoted) / max(1, len(quoted)),
            sum(len(chosen) > 1 for _, chosen in quoted) / max(1, len(quoted)))


def top1_accuracy(examples: list[Example], scores: list[np.ndarray]) -> float:
    answerable = [(e, s) for e, s in zip(examples, scores) if e.answerable]
    return sum(bool(e.labels[int(np.argmax(s))]) for e, s in answerable) / max(1, len(answerable))


def auc(positive: list[float], negative: list[float]) -> float:
    """The chance that an answerable question scores above an unanswerable one."""
    if not positive or not negative:
        return float("nan")
    neg = np.sort(np.asarray(negative))
    wins = sum(np.searchsorted(neg, p, side="left") + 0.5 * (np.searchsorted(neg, p, side="right")
                                                            - np.searchsorted(neg, p, side="left")) for p in positive)
    return float(wins / (len(positive) * len(neg)))


def combined_inputs(example: Example, reading: np.ndarray, keep: list[int] | None = None):
    read = np.isfinite(reading)
    inputs = np.column_stack([example.features[read], reading[read]])
    return (inputs if keep is None else inputs[:, keep]), np.flatnonzero(read)


def fit_combination(examples: list[Example], readings: list[np.ndarray], keep: list[int] | None = None) -> Combination:
    """The weights that choose the sentence, fitted as a conditional logit over each answerable question's read
    candidates, then scaled (with a bias) by a one-input logistic on that score over every candidate, the
    unanswerable questions' included, so that the result is a probability that the candidate answers.

    The choice is fitted within questions because it is a choice among a question's candidates: a pointwise
    logistic over all candidates also learns what makes a whole question unanswerable (naming a council, asking
    for a figure) and bends the choice of sentence with it; on validation (cross-validated) the conditional
    logit chose the answering sentence for 0.732 of the questions against 0.695 with the fourth round's reader
    (eval/README.md, "Fifth round"). Refusing stays with the answerability model, which reads these
    probabilities among its inputs. The questions keep their balance() weights in both fits."""
    rows, targets, row_weights, groups = [], [], [], []
    for example, reading in zip(examples, readings):
        inputs, positions = combined_inputs(example, reading, keep)
        labels = example.labels[positions] if example.answerable else np.zeros(len(inputs))
        rows.append(inputs)
        targets.append(labels)
        row_weights.append(np.full(len(inputs), example.weight))
        if labels.any() and len(inputs) > 1:
            groups.append((inputs, labels.astype(np.float64), example.weight))
    choice = fit_conditional_logit(groups) if groups else np.zeros(rows[0].shape[1])
    score = np.concatenate(rows) @ choice
    labels, weights = np.concatenate(targets), np.concatenate(row_weights)
    scale, bias = fit_logistic(score[:, None], labels, sample_weights=weights)
    if scale[0] <= 0:
        # A scale at or below zero would reverse the choice: keep the choice's own scale and fit the bias alone.
        log.warning("the fitted choice does not rise with the answering candidates across questions (scale %.3g); "
                    "its probabilities keep the choice's own scale", scale[0])
        scale = np.ones(1)
        _, bias = fit_logistic(np.zeros((len(score), 0)), labels, sample_weights=weights, offset=score)
    names = FEATURE_NAMES + ("reader",)
    return Combination(names if keep is None else tuple(names[i] for i in keep), choice * float(scale[0]), bias)


def answer_probabilities(examples, readings, combination: Combination, keep: list[int] | None = None):
    out = []
    for example, reading in zip(examples, readings):
        inputs, positions = combined_inputs(example, reading, keep)
        probabilities = np.zeros(len(example.texts))
        probabilities[positions] = combination.probabilities(inputs)
        out.append(probabilities)
    return out


def refusal_threshold(scores: np.ndarray, answerable: np.ndarray) -> float:
    """The highest threshold that refuses at most 5% of answerable questions."""
    best = np.sort(scores[answerable])
    allowed = int(math.floor(MAX_REFUSED_ANSWERABLE * len(best)))
    return float(best[allowed]) - 1e-9 if len(best) else 0.5


def answerability_table(examples, readings, probabilities, margins) -> np.ndarray:
    """One row of ANSWERABILITY_INPUTS per question."""
    return np.asarray([answerability_inputs(r[np.isfinite(r)], p[np.isfinite(r)], e.features[np.isfinite(r)],
                                            m[np.isfinite(r)], e.names_missing)
                       for e, r, p, m in zip(examples, readings, probabilities, margins)])


def calibration_table(examples, probabilities, confidences: np.ndarray, bins: int = 5) -> list[dict]:
    """Confidence against how often the chosen sentence really answers, in equal-width bins."""
    rows = [(float(c), bool(e.answerable and e.labels[int(np.argmax(p))]))
            for e, p, c in zip(examples, probabilities, confidences)]
    table = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [ok for confidence, ok in rows if low <= confidence < high or (b == bins - 1 and confidence == 1)]
        table.append({"confidence": f"{low:.1f}-{high:.1f}", "questions": len(inside),
                      "answer_correct": round(sum(inside) / len(inside), 3) if inside else None})
    return table


def _folds(examples, folds: int = 5) -> list[int]:
    keys = sorted({e.id for e in examples})
    fold_of = {key: i % folds for i, key in enumerate(keys)}
    return [fold_of[e.id] for e in examples]


def cross_validated_probabilities(examples, readings, folds: int = 5,
                                  keep: list[int] | None = None) -> list[np.ndarray]:
    """Each candidate's probability of answering, from a combination fitted on the other folds of questions."""
    fold_of = _folds(examples, folds)
    probabilities: list[np.ndarray] = [np.zeros(0)] * len(examples)
    for fold in range(folds):
        train = [i for i, f in enumerate(fold_of) if f != fold]
        combination = fit_combination([examples[i] for i in train], [readings[i] for i in train], keep)
        held = [i for i, f in enumerate(fold_of) if f == fold]
        for i, p in zip(held, answer_probabilities([examples[i] for i in held], [readings[i] for i in held],
                                                   combination, keep)):
            probabilities[i] = p
    return probabilities


def cross_validated(examples, readings, margins, folds: int = 5, keep: list[int] | None = None,
                    probabilities: list[np.ndarray] | None = None) -> tuple[float, float, float, float]:
    """Top-1, answerability AUC, and the shares of answerable and unanswerable questions refused, with each
    question's combination and answerability model fitted on the other folds of questions. `keep` names the
    combination's inputs to use (the features' positions, then the reader's), for ablations; `probabilities`,
    when given, are cross_validated_probabilities() already computed for them."""
    fold_of = _folds(examples, folds)
    if probabilities is None:
        probabilities = cross_validated_probabilities(examples, readings, folds, keep)
    inputs = answerability_table(examples, readings, probabilities, margins)
    answerable = np.array([e.answerable for e in examples])
    question_weights = np.array([e.weight for e in examples])
    scores = np.zeros(len(examples))
    for fold in range(folds):
        train = [i for i, f in enumerate(fold_of) if f != fold]
        held = [i for i, f in enumerate(fold_of) if f == fold]
        weights, bias = fit_logistic(inputs[train], answerable[train], sample_weights=question_weights[train])
        scores[held] = inputs[held] @ weights + bias
    threshold = refusal_threshold(scores, answerable)
    area = auc(list(scores[answerable]), list(scores[~answerable]))
    return (top1_accuracy(examples, probabilities), area, float(np.mean(scores[answerable] < threshold)),
            float(np.mean(scores[~answerable] < threshold)))


def calibrate(validation, readings, margins, spans) -> dict:
    """Fit the combination and the answerability model on the validation questions, the refusal threshold, and
    the short-answer margin's threshold."""
    combination = fit_combination(validation, readings)
    probabilities = answer_probabilities(validation, readings, combination)
    inputs = answerability_table(validation, readings, probabilities, margins)
    answerable = np.array([e.answerable for e in validation])
    weights, bias = fit_logistic(inputs, answerable, sample_weights=np.array([e.weight for e in validation]))
    answerability = Combination(ANSWERABILITY_INPUTS, weights, bias)
    confidences = answerability.probabilities(inputs)
    refusal = refusal_threshold(confidences, answerable)
    threshold, short_answers = span_threshold(validation, probabilities, margins, spans, confidences >= refusal)
    return {"combination": combination.as_dict(), "answerability": answerability.as_dict(),
            "refusal_threshold": refusal, "span_threshold": threshold,
            "second_quote_ratio": second_quote_ratio(validation, probabilities),
            "short_answers": short_answers,
            "calibration_table": calibration_table(validation, probabilities, confidences)}


def ablation(examples, readings, margins) -> list[dict]:
    """What each input adds: the combination with all of them, without each one, and the reader alone."""
    names = FEATURE_NAMES + ("reader",)
    every = list(range(len(names)))
    rows = []
    for label, keep in [("all inputs", every), ("reader alone", [len(names) - 1]),
                        ("features alone (no reader)", every[:-1])] + [
            (f"without {name}", [i for i in every if i != position]) for position, name in enumerate(names)]:
        top1, area, answerable_refused, unanswerable_refused = cross_validated(examples, readings, margins, keep=keep)
        rows.append({"inputs": label, "top1": round(top1, 3), "answerability_auc": round(area, 3),
                     "answerable_refused": round(answerable_refused, 3),
                     "unanswerable_refused": round(unanswerable_refused, 3)})
    return rows


def evaluate_folder(work: Path, folder: Path, limit: int | None = None) -> dict:
    """Read the validation questions with a saved reader: its own figures and the ablation table."""
    train, validation = load_examples(work, limit)
    calibration = json.loads((folder / "calibration.json").read_text())
    stage1 = Combination.from_dict(calibration["stage1"])
    for example in validation:
        example.stage1 = example.features @ stage1.weights
    readings, margins, _ = read_examples(validation, OnnxReader(folder, span_threshold=-np.inf))
    return {"top1_reader_alone": round(top1_accuracy(validation, readings), 3),
            "ablation": ablation(validation, readings, margins)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.answer.train", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the model folder")
    parser.add_argument("--work", type=Path, default=Path(".reader-work"), help="cache of the index and examples")
    parser.add_argument("--questions", type=int, default=None, help="train on this many train questions (a sample)")
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--soup", type=int, default=1,
                        help="train this many readers (seeds --seed, --seed+1, ...) and ship the mean of their weights")
    parser.add_argument("--ensemble", type=int, default=1, metavar="N",
                        help="train this many readers (seeds --seed, --seed+1, ...) side by side, their token "
                             "embeddings frozen at the bundled MiniLM's, and ship them as one reader that averages "
                             "their scores: a file per member, leaving the shared embeddings out, the later members "
                             "reading the first's best %d candidates" % SECOND_MEMBER_READS)
    parser.add_argument("--keep-members", type=Path, default=None, metavar="DIR",
                        help="with --ensemble: also export and calibrate each member alone into DIR/seed-S, to compare")
    parser.add_argument("--negatives", type=int, default=NEGATIVES, help="hard negatives per question")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: every core)")
    parser.add_argument("--teachers", type=Path, nargs="+", default=[], metavar="DIR",
                        help="exported reader folders whose mean scores the new reader also learns from")
    parser.add_argument("--teacher-batch", type=int, default=TEACHER_BATCH, metavar="PAIRS",
                        help="pairs a teacher reads at once, sorted by length across questions; 0 reads a question's "
                             "candidates together, as for every reader shipped before the seventeenth round (slower)")
    parser.add_argument("--bf16", action="store_true",
                        help="train under bfloat16 autocast: about an eighth faster on CPUs with AMX (bf16 matrix "
                             "units), slower on others")
    parser.add_argument("--schedule-steps", choices=SCHEDULE_STEPS, default="pairs",
                        help="what sizes the learning rate's linear decay: pairs / batch size (the default, as every "
                             "shipped reader; there are fewer real batches, so it ends at about a sixth of the peak) "
                             "or the real batches (it reaches zero)")
    parser.add_argument("--twins", action="store_true",
                        help="train each unanswerable twin in its original's batch, with a pairwise loss that scores "
                             "the original's answering sentence lower for the twin than for the original")
    parser.add_argument("--hard-unanswerable", action="store_true",
                        help="when distilling, keep an unanswerable question's pointwise targets at 0 instead of "
                             "halfway to the teachers' probabilities")
    parser.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                        help="ship an exponential moving average of the weights over the training steps, with this "
                             "decay (0.998 averages over about the last 500 steps); 0, the default, ships the last "
                             "step's weights")
    parser.add_argument("--keep-last", type=Path, default=None, metavar="DIR",
                        help="with --ema: also export and calibrate the last step's weights of the same run into "
                             "DIR, to compare the two")
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE, metavar="RATE",
                        help=f"the encoder's peak learning rate (the heads keep 1e-3); {LEARNING_RATE:g}, the default, "
                             "trained every shipped reader")
    parser.add_argument("--fit-fusion", action="store_true",
                        help="fit only how retrieval ranks the dense and BM25 lists together, on the answerable train "
                             "questions, write it to --fusion-out and stop")
    parser.add_argument("--fusion-out", type=Path, default=None, metavar="FILE",
                        help="with --fit-fusion: where to write it (default: assistant/retrieve/fusion.json, which "
                             "retrieval reads)")
    parser.add_argument("--recalibrate", action="store_true",
                        help="keep the reader in --out; refit only the cheap scorer, the combination and the threshold")
    args = parser.parse_args(argv)
    if args.soup < 1:
        parser.error(f"--soup {args.soup}: give the number of readers to train and average, 1 or more")
    if args.ensemble < 1:
        parser.error(f"--ensemble {args.ensemble}: give the number of readers to train and read together, 1 or more")
    if args.ensemble > 1 and args.soup > 1:
        parser.error("--ensemble and --soup: give one of them; a soup averages weights, an ensemble scores")
    if args.keep_members is not None and args.ensemble < 2:
        parser.error("--keep-members: give it with --ensemble 2 or more; it keeps each member of the ensemble")
    if args.teacher_batch < 0:
        parser.error(f"--teacher-batch {args.teacher_batch}: give the pairs a teacher reads at once, or 0 to read "
                     "a question's candidates together")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads {args.threads}: give how many threads torch may use, 1 or more (leave it out "
                     "to use every core)")
    if not 0.0 < args.learning_rate < 1.0:
        parser.error(f"--learning-rate {args.learning_rate}: give a peak rate above 0 and below 1, such as 5e-5")
    if not 0.0 <= args.ema < 1.0:
        parser.error(f"--ema {args.ema}: give a decay of at least 0 and below 1, such as 0.998 (0 ships the last "
                     "step's weights)")
    if args.keep_last is not None and (not args.ema or args.soup != 1 or args.ensemble != 1):
        parser.error("--keep-last: give it with --ema and a single reader (--soup 1, --ensemble 1); it keeps the last "
                     "step's weights of the run whose average ships")
    for folder in args.teachers:
        if not (folder / "manifest.json").is_file():
            parser.error(f"--teachers {folder}: not a reader folder (no manifest.json); give folders that "
                         "`python -m assistant.answer.train --out DIR` wrote")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    random.seed(args.seed)
    np.random.seed(args.seed)
    if not TRAIN_MINUTES.is_file():
        print(f"The training minutes are not at {TRAIN_MINUTES}: put ../shared beside the checkout.", file=sys.stderr)
        return 2
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    started = time.perf_counter()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.fit_fusion:
        from assistant.retrieve.fusion import FUSION_FILE

        record = write_fusion(args.work, args.fusion_out or FUSION_FILE)
        log.info("fusion fitted on %d train questions (%.0f s): %s", record["fitted_on"]["questions"],
                 time.perf_counter() - started, json.dumps(record["validation"]))
        return 0
    train, validation = load_examples(args.work, args.questions)
    log.info("%d train and %d validation questions (%.0f s)", len(train), len(validation),
             time.perf_counter() - started)

    weights, bias = fit_logistic(np.concatenate([e.features for e in train if e.answerable]),
                                 np.concatenate([e.labels for e in train if e.answerable]))
    stage1 = Combination(FEATURE_NAMES, weights, bias)
    for example in train + validation:
        example.stage1 = example.features @ stage1.weights
    if args.recalibrate:
        training = json.loads((args.out / "calibration.json").read_text())["training"]
        write_calibration(args.out, stage1, validation, training)
        return 0
    base = ensure_bundled_model(Settings.from_env().model_dir)
    seeds = list(range(args.seed, args.seed + max(args.soup, args.ensemble)))
    if args.teachers:
        read_teachers(train, args.teachers, args.work, args.negatives, args.teacher_batch)
    options = ({"negatives": args.negatives, "bf16": args.bf16, "schedule_steps": args.schedule_steps,
                "twin_of": twin_originals() if args.twins else None, "hard_unanswerable": args.hard_unanswerable,
                "ema": args.ema, "learning_rate": args.learning_rate}
               | ({"threads": args.threads} if args.threads is not None else {}))
    members = []
    if args.ensemble > 1:
        members = train_side_by_side(train, base, args.layers, args.epochs, seeds,
                                     **(options | {"freeze_word_embeddings": True}))
        model = make_ensemble(base, args.layers, members)
    else:
        model = train_soup(train, base, args.layers, args.epochs, seeds, **options)
    trained_at = time.perf_counter()

    kind = "ensemble-" if args.ensemble > 1 else ""
    name = f"minutes-reader-{args.layers}l-{kind}seed{'+'.join(map(str, seeds))}"
    training = {"questions": len(train), "layers": args.layers, "epochs": args.epochs, "seed": args.seed,
                "soup": args.soup, "ensemble": args.ensemble, "negatives": args.negatives, "bf16": args.bf16,
                "schedule_steps": args.schedule_steps, "twins": args.twins, "hard_unanswerable": args.hard_unanswerable,
                "ema": args.ema, "learning_rate": args.learning_rate,
                "teachers": [teacher_record(folder) for folder in args.teachers], "teacher_batch": args.teacher_batch,
                "seconds": round(trained_at - started)}
    if args.keep_last is not None:
        last = model_from_state(base, args.layers, model.last_iterate)
        export_and_calibrate(last, base, args.keep_last, name + "-last", stage1, validation,
                             training | {"ema": 0.0, "last_step_of_an_ema_run": True})
    export_and_calibrate(model, base, args.out, name, stage1, validation, training)
    for seed, state in zip(seeds, members if args.keep_members is not None else []):
        member = model_from_state(base, args.layers, state)
        export_and_calibrate(member, base, args.keep_members / f"seed-{seed}", f"{name}-member{seed}", stage1,
                             validation, training | {"ensemble": 1, "member_of_an_ensemble": True})
    return 0


def export_and_calibrate(model, base: Path, out: Path, name: str, stage1: Combination, validation: list[Example],
                         training: dict) -> None:
    """Export the reader and calibrate it into a staging folder, then put it in place of `out`, so that a run
    that stops half way never leaves a reader without its calibration."""
    staging = out.with_name(out.name + ".tmp")
    save_reader(model, base, staging, name)
    write_calibration(staging, stage1, validation, training)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)


def write_calibration(folder: Path, stage1: Combination, validation: list[Example], training: dict) -> dict:
    """Read the validation questions with the exported reader, fit what it is combined with, and write
    calibration.json (with the validation figures) into the model folder, updating its manifest."""
    for example in validation:
        example.stage1 = example.features @ stage1.weights
    readings, margins, spans = read_examples(validation, OnnxReader(folder, span_threshold=-np.inf))
    held_out = cross_validated_probabilities(validation, readings)
    top1, area, answerable_refused, unanswerable_refused = cross_validated(validation, readings, margins,
                                                                           probabilities=held_out)
    fitted = calibrate(validation, readings, margins, spans)
    quoted, two_quotes = answer_quoted(validation, held_out, fitted["second_quote_ratio"])
    calibration = {
        "stage1": stage1.as_dict(), "combination": fitted["combination"], "answerability": fitted["answerability"],
        "refusal_threshold": fitted["refusal_threshold"], "candidates_read": CANDIDATES_READ,
        "second_quote_ratio": fitted["second_quote_ratio"],
        "validation": {"questions": len(validation),
                       "top1_cheap_scorer": round(top1_accuracy(validation, [e.stage1 for e in validation]), 3),
                       "top1_reader_alone": round(top1_accuracy(validation, readings), 3),
                       "top1_combined_cv": round(top1, 3), "answerability_auc_cv": round(area, 3),
                       "answerable_refused_cv": round(answerable_refused, 3),
                       "unanswerable_refused_cv": round(unanswerable_refused, 3),
                       "answer_quoted_cv": round(quoted, 3), "second_quote_shown_cv": round(two_quotes, 3),
                       **fitted["short_answers"],
                       "calibration": fitted["calibration_table"]},
        "training": training,
    }
    write_atomically(folder / "calibration.json", json.dumps(calibration, indent=1))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["span_threshold"] = round(fitted["span_threshold"], 6)
    manifest["sha256"]["calibration.json"] = sha256_of(folder / "calibration.json")
    write_atomically(folder / "manifest.json", json.dumps(manifest, indent=1))
    print(json.dumps({"validation": calibration["validation"], "training": training}, indent=1))
    return calibration


if __name__ == "__main__":
    sys.exit(main())
