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
`--recalibrate` redoes steps 3 and 6 for the reader already in --out; `--ablation` trains nothing and prints what
each input of the reader in --out (by default the shipped one) adds, on validation, cross-validated.
`--fit-fusion` fits only how retrieval ranks the dense and BM25 lists together (fit_fusion), on the answerable train
questions, and writes it to assistant/retrieve/fusion.json (or --fusion-out); with ASSISTANT_FUSION=fitted, steps 2
to 6 then retrieve with it.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from pathlib import Path

import numpy as np

from assistant.answer.candidates import FEATURE_NAMES
from assistant.answer.combine import Combination, fit_logistic
from assistant.answer.training.batches import NEGATIVES, twin_originals
from assistant.answer.training.calibrate import (ablation_markdown, ablation_of, export_and_calibrate,
                                                 write_calibration)
from assistant.answer.training.examples import TRAIN_MINUTES, load_examples, write_fusion
from assistant.answer.training.export import SECOND_MEMBER_READS
from assistant.answer.training.loop import (LEARNING_RATE, SCHEDULE_STEPS, make_ensemble, model_from_state,
                                            train_side_by_side, train_soup)
from assistant.answer.training.teachers import TEACHER_BATCH, read_teachers, teacher_record

log = logging.getLogger(__name__)

DEFAULT_OUT = Path(__file__).resolve().parent / "reader_model"
SEEDS_END = 2**32  # numpy.random.seed takes 0 to 2**32 - 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.answer.train", description=__doc__.split("\n")[0])
    # The defaults are said: --out's replaces the shipped reader, which a trial run left to the default would lose.
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where to write the model folder (default: the shipped reader's, "
                             "assistant/answer/reader_model, which training replaces)")
    parser.add_argument("--work", type=Path, default=Path(".reader-work"),
                        help="cache of the index and examples (default: .reader-work)")
    parser.add_argument("--questions", type=int, default=None, help="train on this many train questions (a sample)")
    parser.add_argument("--layers", type=int, default=6,
                        help="transformer layers of the reader (default: 6, the bundled MiniLM's)")
    parser.add_argument("--epochs", type=int, default=1, help="passes over the train questions (default: 1)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed (default: 0); a soup or an ensemble uses --seed, --seed+1, ...")
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
                        help=f"the encoder's peak learning rate (the heads keep 1e-3; default: {LEARNING_RATE:g}; "
                             "the shipped reader was trained at 1e-4, as the README's recipe gives)")
    parser.add_argument("--fit-fusion", action="store_true",
                        help="fit only how retrieval ranks the dense and BM25 lists together, on the answerable train "
                             "questions, write it to --fusion-out and stop")
    parser.add_argument("--fusion-out", type=Path, default=None, metavar="FILE",
                        help="with --fit-fusion: where to write it (default: assistant/retrieve/fusion.json, which "
                             "retrieval reads)")
    parser.add_argument("--recalibrate", action="store_true",
                        help="keep the reader in --out; refit only the cheap scorer, the combination and the threshold")
    parser.add_argument("--ablation", action="store_true",
                        help="train nothing: print what each input of the reader in --out adds, on validation")
    args = parser.parse_args(argv)
    refuse_bad_arguments(parser, args)
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
    if args.ablation:
        print(ablation_markdown(ablation_of(args.out, validation)))
        return 0

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


def refuse_bad_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Stop with a message on arguments that could not train, before anything is read or written."""
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
    if args.fusion_out is not None and not args.fit_fusion:
        # Else ignored, and the run trains a reader for an hour, replacing the one in --out (the shipped one unless
        # given): a user who meant to fit the fusion alone would lose it.
        parser.error("--fusion-out: give it with --fit-fusion, which alone writes the fusion; without it the run "
                     "trains a reader and replaces the one in --out")
    for folder in args.teachers:
        if not (folder / "manifest.json").is_file():
            parser.error(f"--teachers {folder}: not a reader folder (no manifest.json); give folders that "
                         "`python -m assistant.answer.train --out DIR` wrote")
    if not 0 <= args.seed <= SEEDS_END - max(args.soup, args.ensemble):
        # numpy's seeds are 0 to 2**32 - 1, each reader of a soup or an ensemble taking the next: a traceback otherwise.
        parser.error(f"--seed {args.seed}: give a seed of 0 or more, below 2**32 for every reader "
                     "(--seed, --seed+1, ...)")
    if args.work.exists() and not args.work.is_dir():
        # Else a FileExistsError traceback once the training minutes are found.
        parser.error(f"--work {args.work}: is a file, not a folder; give a folder for the index and examples it "
                     "keeps (a missing one is made)")
    for flag in ("questions", "layers", "epochs", "negatives"):
        if (value := getattr(args, flag)) is not None and value < 1:
            parser.error(f"--{flag} {value}: give 1 or more")
    if args.recalibrate or args.ablation:
        if not (args.out / "calibration.json").is_file() or not (args.out / "manifest.json").is_file():
            parser.error(f"--{'ablation' if args.ablation else 'recalibrate'}: no trained reader in {args.out} (it "
                         "needs manifest.json and "
                         "calibration.json); give --out a folder that `python -m assistant.answer.train --out DIR` "
                         "wrote")
    elif not args.fit_fusion:
        # Training replaces each folder it writes whole, so only a new, empty or reader folder may be given.
        seeds = range(args.seed, args.seed + max(args.soup, args.ensemble))
        outputs = [("--out", args.out, args.out), ("--keep-last", args.keep_last, args.keep_last)]
        outputs += [("--keep-members", args.keep_members, args.keep_members / f"seed-{seed}") for seed in seeds
                    if args.keep_members is not None]
        for flag, given, folder in outputs:
            if folder is not None and (problem := why_not_replaceable(folder)):
                where = f"{given}:" if folder == given else f"{given}: {folder}"
                parser.error(f"{flag} {where} {problem}")


def why_not_replaceable(folder: Path) -> str | None:
    """Why a trained reader may not take the place of `folder` (training replaces it whole), or None."""
    if folder.is_file():
        return "is a file; give a folder for the reader"
    # A reader folder holds a manifest and a calibration; a manifest.json alone is any web project's.
    if folder.is_dir() and any(folder.iterdir()) and not all((folder / name).is_file()
                                                              for name in ("manifest.json", "calibration.json")):
        return ("holds files that are not a reader's, and training replaces the folder whole; give an empty or new "
                "folder, or one that `python -m assistant.answer.train` wrote")
    return None


if __name__ == "__main__":
    sys.exit(main())
