"""Distilling: exported readers score each train question's candidates, and the new reader learns their mean."""

from __future__ import annotations

import json
import logging
import pickle
import time
from pathlib import Path

import numpy as np

from assistant.answer.reader import OnnxReader, model_files
from assistant.answer.training.batches import NEGATIVES, trained_candidates
from assistant.answer.training.examples import Example, questions_fingerprint
from assistant.files import write_atomically

log = logging.getLogger(__name__)

TEACHER_BATCH = 16  # pairs a teacher reads at once, sorted by length (read_teachers; 0: a question at a time)


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


