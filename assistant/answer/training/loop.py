"""The cross-encoder and its training loop: the model, its three losses, soups and ensembles of seeds."""

from __future__ import annotations

import logging
import math
import os
import random
import time
from pathlib import Path

from assistant.answer.reader import BUNDLED_TOKEN_EMBEDDINGS, make_tokenizer, tensor_of
from assistant.answer.training.batches import NEGATIVES, batched_groups, training_groups, twin_pairs
from assistant.answer.training.examples import Example

log = logging.getLogger(__name__)

LENGTH_CHUNK = 8  # pairs per forward pass in training, sorted by length so that each pass pads less
LEARNING_RATE = 5e-5  # the encoder's peak rate (the heads train at 1e-3); the shipped reader was trained at 1e-4

# What can size the learning rate's schedule (train_reader's `schedule_steps`, the script's --schedule-steps).
SCHEDULE_STEPS = ("pairs", "batches")


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

