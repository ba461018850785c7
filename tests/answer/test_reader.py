"""The reader: the shipped model and the deterministic fake obey one interface; a tiny reader trains end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from assistant.answer.candidates import FEATURE_NAMES
from assistant.answer.reader import (READER_DIR, READER_OUTPUTS, SPAN_MARGIN_LIMIT, OnnxReader, OverlapReader,
                                     best_span, candidate_text, load_reader, model_files)
from assistant.errors import ModelError
from onnx_exact import WIDEST_SAFE_WEIGHT, widest_weight

QUESTION = "How many children were in care in Durham at the end of March?"
ANSWER = candidate_text("At the end of March there were 1,021 children in care, a rise of 3%.", "Children in Care Update")
OTHER = candidate_text("The Chair thanked officers for the report and members noted it.", "Children in Care Update")



def no_features(rows: int) -> np.ndarray:
    return np.zeros((rows, len(FEATURE_NAMES)), dtype=np.float32)

@pytest.fixture(params=["shipped", "fake"])
def reader(request):
    return OnnxReader() if request.param == "shipped" else OverlapReader()


def test_every_reader_reads_each_candidate_once_and_deterministically(reader):
    first = reader.read(QUESTION, [ANSWER, OTHER])
    assert len(first) == 2 and all(np.isfinite(r.logit) for r in first)
    assert reader.read(QUESTION, [ANSWER, OTHER]) == first
    assert reader.read(QUESTION, []) == []
    for text, reading in zip([ANSWER, OTHER], first):
        if reading.short_answer is not None:
            start, end = reading.short_answer
            assert 0 <= start < end <= len(text)


def test_every_reader_prefers_the_sentence_that_answers(reader):
    answer, other = reader.read(QUESTION, [ANSWER, OTHER])
    assert answer.logit > other.logit


def test_every_reader_is_surer_of_a_short_answer_in_the_sentence_that_answers(reader):
    answer, other = reader.read(QUESTION, [ANSWER, OTHER])
    assert answer.span_margin > other.span_margin
    assert all(-SPAN_MARGIN_LIMIT <= r.span_margin <= SPAN_MARGIN_LIMIT for r in (answer, other))


def test_the_shipped_reader_marks_the_figure_as_the_short_answer():
    [reading] = OnnxReader().read(QUESTION, [ANSWER])
    assert reading.short_answer is not None
    assert "1,021" in ANSWER[slice(*reading.short_answer)]


ALIKE_CANDIDATES = [ANSWER, OTHER] + [candidate_text(sentence, "Corporate Parenting Panel") for sentence in (
    "Members asked why 37% of care leavers aged 19 to 21 were not in education, employment or training, "
    "against 31% in statistical neighbours, and officers said a new apprenticeship offer would start in May.",
    "RESOLVED that the Sufficiency Strategy 2024-27 be approved and a progress report be brought in six months.",
    "Ofsted's focused visit in January 2024 found that supervision was regular but not always reflective.",
)]


def reader_outputs(session, tokenizer_path=READER_DIR / "tokenizer.json") -> list[np.ndarray]:
    """The session's outputs for ALIKE_CANDIDATES, fed as the shipped reader is fed: token ids, or, for a reader
    whose graph takes the bundled token embeddings (an ensemble), those embeddings looked up."""
    from assistant.answer.reader import bundled_tensor, make_tokenizer, model_inputs, with_token_embeddings

    encodings = make_tokenizer(tokenizer_path).encode_batch([(QUESTION, text) for text in ALIKE_CANDIDATES])
    feed = model_inputs(encodings)
    if "token_embeddings" in {i.name for i in session.get_inputs()}:
        table = bundled_tensor(json.loads((READER_DIR / "manifest.json").read_text())["token_embeddings"])
        feed = with_token_embeddings(feed, table)
    return session.run(READER_OUTPUTS, feed)


def largest_gap_to_the_exact_products(model_path) -> float:
    """How far onnxruntime, on this machine, is from a CPU whose int8 sums never overflow."""
    from assistant.index.onnx_files import open_session
    from onnx_exact import exact_session

    here = reader_outputs(open_session(model_path, None))
    exact = reader_outputs(exact_session(model_path))
    return max(float(np.abs(ours - reference).max()) for ours, reference in zip(here, exact))


def test_the_shipped_reader_scores_alike_on_every_cpu():
    """onnxruntime's int8 kernels on CPUs without VNNI sum pairs of products in 16 bits, which 8-bit weights can
    overflow: the reader shipped before scored up to 0.18 logits apart from the exact products on such a CPU, enough
    to move refusals near the threshold. Its weights are now 7 bits, so nothing overflows and any CPU gets the exact
    products' scores."""
    manifest = json.loads((READER_DIR / "manifest.json").read_text())
    for name in model_files(manifest):
        # The gap is near 0 on a CPU with VNNI whatever the weights; the weights' width shows it on any CPU.
        assert widest_weight(READER_DIR / name) <= WIDEST_SAFE_WEIGHT, name
        assert largest_gap_to_the_exact_products(READER_DIR / name) < 1e-3, name


def test_the_shipped_reader_is_small_and_checked_against_its_sha256(tmp_path):
    manifest = json.loads((READER_DIR / "manifest.json").read_text())
    assert sum((READER_DIR / name).stat().st_size for name in manifest["sha256"]) <= 30 * 1024 * 1024
    damaged = tmp_path / "reader"
    damaged.mkdir()
    for name in [*manifest["sha256"], "manifest.json"]:
        (damaged / name).write_bytes((READER_DIR / name).read_bytes())
    (damaged / "tokenizer.json").write_text((READER_DIR / "tokenizer.json").read_text() + " ")
    with pytest.raises(ModelError, match="sha256"):
        OnnxReader(damaged)
    with pytest.raises(ModelError, match="missing"):
        OnnxReader(tmp_path / "nowhere")


def test_the_best_short_answer_span_is_the_best_pair_a_search_of_every_pair_finds():
    rng = np.random.default_rng(7)
    for trial in range(300):
        n = int(rng.integers(1, 60))
        starts, ends = rng.normal(size=(2, n)).astype(np.float32)
        if trial % 2:  # whole numbers, so that pairs tie and the first must win
            starts, ends = np.round(starts), np.round(ends)
        allowed = rng.random(n) < 0.7
        pairs = [(float(starts[i] + ends[j]), -i, -j) for i in range(n) for j in range(i, min(n, i + 5))
                 if allowed[i] and allowed[j]]
        found = best_span(starts, ends, allowed, max_tokens=5)
        if not pairs:
            assert found is None
            continue
        score, i, j = max(pairs)
        assert found == (-i, -j, score)


def test_a_setting_names_the_fake_reader():
    assert isinstance(load_reader("fake:overlap"), OverlapReader)


def tiny_training_examples():
    from assistant.answer.training.examples import Example

    examples = []
    for n, (question, answer) in enumerate([
        ("How many foster carers were approved?", "Twelve new foster carers were approved in the year."),
        ("Who chaired the panel?", "Councillor Patel chaired the panel."),
        ("When will the next inspection be?", "The next inspection is expected in June 2025."),
        ("What was the budget overspend?", "The service overspent its budget by £2.1m."),
    ]):
        texts = [answer, "Apologies for absence were received.", "The minutes of the last meeting were agreed."]
        span = (0, answer.index(" ")) if n != 3 else (answer.index("£"), answer.index("£") + 5)
        examples.append(Example(f"t{n}", question, True, texts, np.array([1, 0, 0]), [span, None, None],
                                no_features(3), stage1=np.array([0.0, 1.0, 2.0])))
    # An unanswerable question: all its candidates are negatives, and 'no answer' is its listwise target.
    examples.append(Example("t4", "How many adopters were recruited?", False,
                            ["Apologies for absence were received.", "The Chair welcomed members."],
                            np.array([0, 0]), [None, None], no_features(2),
                            stage1=np.array([1.0, 0.0])))
    return examples


@pytest.mark.slow
def test_a_tiny_reader_trains_exports_and_reads(tmp_path):
    import onnx

    from assistant.answer.training.export import save_reader
    from assistant.answer.training.loop import train_reader
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    model, _ = train_reader(tiny_training_examples(), base, layers=1, epochs=1, seed=0, batch_pairs=6)
    save_reader(model, base, tmp_path / "tiny", "tiny-test-reader")
    readings = OnnxReader(tmp_path / "tiny").read("Who chaired the panel?", ["Councillor Patel chaired the panel."])
    assert len(readings) == 1 and np.isfinite(readings[0].logit)
    assert widest_weight(tmp_path / "tiny" / "model.onnx") <= WIDEST_SAFE_WEIGHT
    assert largest_gap_to_the_exact_products(tmp_path / "tiny" / "model.onnx") < 1e-3
    assert not any(node.op_type == "IsNaN" for node in onnx.load(str(tmp_path / "tiny" / "model.onnx")).graph.node)


@pytest.mark.slow
def test_a_reader_with_8_bit_weights_is_requantised_to_score_alike_on_every_cpu(tmp_path):
    """scripts/requantize_reader.py, which made the shipped reader from the seventh's 8-bit weights."""
    import shutil
    import subprocess
    import sys

    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.answer.training.export import export_onnx
    from assistant.answer.training.loop import train_reader
    from assistant.index.models import ensure_bundled_model, sha256_of
    from assistant.index.onnx_files import open_session
    from assistant.settings import Settings
    from conftest import ROOT
    from onnx_exact import exact_session

    base = ensure_bundled_model(Settings.from_env().model_dir)
    model, _ = train_reader(tiny_training_examples(), base, layers=1, epochs=1, seed=0, batch_pairs=6)
    folder = tmp_path / "old"
    fp32 = folder / export_onnx(model, folder, quantise=False)
    quantize_dynamic(str(fp32), str(folder / "model.onnx"), weight_type=QuantType.QInt8)  # as readers were made
    shutil.copy(base / "tokenizer.json", folder / "tokenizer.json")
    manifest = {"name": "old", "model": "model.onnx", "sha256": {
        name: sha256_of(folder / name) for name in ("model.onnx", "tokenizer.json")}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    before = reader_outputs(exact_session(folder / "model.onnx"), folder / "tokenizer.json")
    assert widest_weight(folder / "model.onnx") > WIDEST_SAFE_WEIGHT  # what the check below must catch


    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "requantize_reader.py"), str(folder)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    after = reader_outputs(open_session(folder / "model.onnx", None), folder / "tokenizer.json")
    assert widest_weight(folder / "model.onnx") <= WIDEST_SAFE_WEIGHT
    assert largest_gap_to_the_exact_products(folder / "model.onnx") < 1e-3
    # One bit fewer moves the scores a little, nowhere near what separates an answer from the rest.
    assert np.abs(after[0] - before[0]).max() < 0.25
    assert int(np.argmax(after[0])) == int(np.argmax(before[0]))
    assert OnnxReader(folder).name == "old-7bit"  # its manifest vouches for the new file


def test_a_soup_averages_floating_weights_and_keeps_the_rest():
    import torch

    from assistant.answer.training.loop import average_weights

    averaged = average_weights([{"weight": torch.tensor([1.0, 3.0]), "position_ids": torch.tensor([0, 1])},
                                {"weight": torch.tensor([3.0, 7.0]), "position_ids": torch.tensor([0, 1])}])
    assert torch.equal(averaged["weight"], torch.tensor([2.0, 5.0]))
    assert torch.equal(averaged["position_ids"], torch.tensor([0, 1]))


def test_a_soup_of_no_readers_is_refused_with_a_message(capsys):
    from assistant.answer.train import main

    with pytest.raises(SystemExit) as stopped:
        main(["--soup", "0"])
    assert stopped.value.code == 2
    assert "--soup 0: give the number of readers to train and average, 1 or more" in capsys.readouterr().err


@pytest.mark.parametrize("threads", ["0", "-2"])
def test_threads_below_one_are_refused_with_a_message(capsys, threads):
    from assistant.answer.train import main

    with pytest.raises(SystemExit) as stopped:
        main(["--threads", threads])
    assert stopped.value.code == 2
    assert f"--threads {threads}: give how many threads torch may use, 1 or more" in capsys.readouterr().err


def test_an_epochs_batches_keep_each_question_whole_and_hold_at_least_the_batch_size_but_the_last():
    import random

    from assistant.answer.training.batches import batched_groups

    groups = [(f"q{i}", list(range(size))) for i, size in enumerate([8, 5, 8, 3, 8, 8, 5, 2, 8, 5])]
    batches = batched_groups(groups, random.Random(3), batch_pairs=12)
    seen = [name for batch in batches for name, _ in batch]
    assert sorted(seen) == sorted(name for name, _ in groups) and len(seen) == len(groups)
    assert all(sum(len(chosen) for _, chosen in batch) >= 12 for batch in batches[:-1])
    # whole questions overfill batches, so there are never more than pairs / batch size rounded up (60 / 12 = 5)
    assert len(batches) <= 5
    assert batches == batched_groups(groups, random.Random(3), batch_pairs=12)


@pytest.mark.parametrize("total", [1, 2, 10, 1999])
def test_the_learning_rate_warms_up_over_a_tenth_of_the_steps_and_reaches_zero_after_the_last(total):
    from assistant.answer.training.loop import learning_rate_factor

    factors = [learning_rate_factor(step, total) for step in range(total + 1)]
    warmup = max(1, total // 10)
    assert factors[warmup - 1] == pytest.approx(1.0)
    assert all(0.0 <= f <= 1.0 for f in factors)
    assert all(a >= b for a, b in zip(factors[warmup - 1:], factors[warmup:]))
    assert factors[total] == 0.0
    if total > warmup:
        assert 0.0 < factors[total - 1] <= 1.0 / (total - warmup) + 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("schedule_steps", ["pairs", "batches"])
def test_the_schedule_is_sized_by_pairs_by_default_or_by_the_real_batches(caplog, schedule_steps):
    import logging

    from assistant.answer.training.loop import train_reader
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    examples = tiny_training_examples()  # 4 answerable questions of 3 pairs and one unanswerable of 2: 14 pairs
    with caplog.at_level(logging.INFO, logger="assistant.answer.training.loop"):
        train_reader(examples, base, layers=1, epochs=1, seed=0, batch_pairs=4, threads=1,
                     schedule_steps=schedule_steps)
    # whole questions fill a batch of 4 with 6 pairs (or 5 with the unanswerable one): 3 batches, against the
    # 14 / 4 = 4 (rounded up) that counting pairs gives
    expected = {"pairs": 4, "batches": 3}[schedule_steps]
    assert f"3 batches; the learning rate's schedule is sized for {expected} steps" in caplog.text


def test_an_unknown_schedule_given_to_train_reader_is_refused_before_any_training():
    from assistant.answer.training.loop import train_reader

    with pytest.raises(ValueError, match="schedule_steps='batch': give one of pairs, batches"):
        train_reader(tiny_training_examples(), None, layers=1, epochs=1, seed=0, schedule_steps="batch")


def test_an_unknown_schedule_is_refused_with_the_choices(capsys):
    from assistant.answer.train import main

    with pytest.raises(SystemExit) as stopped:
        main(["--schedule-steps", "epochs"])
    assert stopped.value.code == 2
    assert "--schedule-steps: invalid choice: 'epochs' (choose from 'pairs', 'batches')" in capsys.readouterr().err


@pytest.mark.slow
def test_a_soup_trains_its_seeds_side_by_side_and_is_the_mean_of_what_each_trains_alone():
    import torch

    from assistant.answer.training.loop import train_reader, train_soup
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    examples = tiny_training_examples()
    options = {"batch_pairs": 6, "threads": 1}
    soup = train_soup(examples, base, layers=1, epochs=1, seeds=[0, 1], **options).state_dict()
    alone = [train_reader(examples, base, 1, 1, seed, **options)[0].state_dict() for seed in (0, 1)]
    assert not torch.allclose(alone[0]["relevance.weight"], alone[1]["relevance.weight"])
    for name, value in soup.items():
        expected = (alone[0][name] + alone[1][name]) / 2 if value.is_floating_point() else alone[0][name]
        assert torch.allclose(value, expected, atol=1e-6), name


@pytest.mark.slow
def test_an_ensemble_reads_with_every_member_and_ships_without_the_bundled_token_embeddings(tmp_path):
    import onnx
    import torch

    from assistant.answer.reader import BUNDLED_TOKEN_EMBEDDINGS, make_tokenizer, model_inputs
    from assistant.answer.training.export import SECOND_MEMBER_READS, export_onnx, save_reader, split_ensemble
    from assistant.answer.training.loop import make_ensemble, train_side_by_side
    from assistant.index.models import ensure_bundled_model
    from assistant.index.onnx_files import open_session
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    examples = tiny_training_examples()
    options = {"batch_pairs": 6, "threads": 1, "freeze_word_embeddings": True}
    states = train_side_by_side(examples, base, layers=1, epochs=1, seeds=[0, 1], **options)
    ensemble = make_ensemble(base, 1, states)
    save_reader(ensemble, base, tmp_path / "pair", "tiny-ensemble")

    # A file per member, each holding its layers but not the 30,522 x 384 token embeddings: those come from the
    # bundled weights, which the members never changed.
    manifest = json.loads((tmp_path / "pair" / "manifest.json").read_text())
    assert manifest["members"] == ["member-1.onnx", "member-2.onnx"] and "model" not in manifest
    assert manifest["second_reads"] == SECOND_MEMBER_READS
    assert manifest["token_embeddings"] == BUNDLED_TOKEN_EMBEDDINGS
    assert sorted(p.name for p in (tmp_path / "pair").glob("*.onnx")) == manifest["members"]
    for name in manifest["members"]:
        graph = onnx.load(str(tmp_path / "pair" / name)).graph
        assert [i.name for i in graph.input][0] == "token_embeddings"
        assert [o.name for o in graph.output] == READER_OUTPUTS
        assert all(30522 not in tuple(t.dims) for t in graph.initializer)

    # What it reads, when every member reads every candidate, is the mean of what each member reads.
    reader = OnnxReader(tmp_path / "pair")
    question = "Who chaired the panel?"
    texts = ["Councillor Patel chaired the panel.", "Apologies were received.", "The panel met in March.",
             "Councillor Jones chaired the scrutiny committee.", "The minutes were agreed.", "Item 5 was deferred."]
    assert len(texts) > SECOND_MEMBER_READS
    reader.second_reads = 0
    readings = reader.read(question, texts)
    tokenizer = make_tokenizer(base / "tokenizer.json")
    feed = {name: torch.tensor(value) for name, value in model_inputs(tokenizer.encode_batch(
        [(question, text) for text in texts])).items()}
    with torch.no_grad():
        each = [member(**feed)[0] for member in ensemble.members]
        assert not torch.allclose(each[0], each[1])
        mean = ((each[0] + each[1]) / 2).numpy()
    assert np.abs(np.array([r.logit for r in readings]) - mean).max() < 0.1  # int8 against float

    # Split from the ensemble exported as one graph, the members read exactly what that graph reads.
    whole = tmp_path / "whole"
    combined = open_session(whole / export_onnx(ensemble, whole), None)
    assert split_ensemble(whole / "model.onnx", whole) == ["member-1.onnx", "member-2.onnx"]
    apart = [reader_outputs(open_session(whole / name, None), base / "tokenizer.json") for name in manifest["members"]]
    together = reader_outputs(combined, base / "tokenizer.json")
    for position, output in enumerate(together):
        assert np.array_equal(output, np.mean(np.stack([a[position] for a in apart]), axis=0))

    # In turn: the second member reads only the first member's best candidates (as one batch of their own), which
    # get the members' mean; the others keep the first member's score.
    reader.second_reads = 2
    in_turn = np.array([r.logit for r in reader.read(question, texts)])
    encodings = tokenizer.encode_batch([(question, text) for text in texts])
    inputs = with_bundled_embeddings(model_inputs(encodings), manifest)
    first = open_session(tmp_path / "pair" / "member-1.onnx", None).run(["relevance"], inputs)[0]
    best = np.argsort(-first, kind="stable")[:2]
    width = max(sum(encodings[i].attention_mask) for i in best)
    second = open_session(tmp_path / "pair" / "member-2.onnx", None).run(
        ["relevance"], {name: value[best, :width] for name, value in inputs.items()})[0]
    expected = first.copy()
    expected[best] = (first[best] + second) / 2
    assert np.allclose(in_turn, expected, rtol=0, atol=1e-6)
    assert not np.array_equal(in_turn, first) and not np.array_equal(in_turn[best], first[best])

    # An ensemble can be a teacher: the batched reading distillation uses (read_teachers) gives what every member
    # reading every candidate gives.
    taught = reader.logits_of_pairs([(question, text) for text in texts], 16)
    assert np.allclose(taught, [r.logit for r in readings], atol=1e-4)


def with_bundled_embeddings(feed: dict, manifest: dict) -> dict:
    from assistant.answer.reader import bundled_tensor, with_token_embeddings

    return with_token_embeddings(feed, bundled_tensor(manifest["token_embeddings"]))


def test_a_reader_asking_for_a_tensor_the_bundled_minilm_lacks_is_refused_with_a_message():
    from assistant.answer.reader import bundled_tensor

    with pytest.raises(ModelError, match="The bundled MiniLM has no tensor embeddings.no_such_table"):
        bundled_tensor("embeddings.no_such_table")


@pytest.mark.slow
def test_members_whose_token_embeddings_were_trained_cannot_share_them():
    from assistant.answer.training.loop import make_ensemble, train_reader
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    state = train_reader(tiny_training_examples(), base, layers=1, epochs=1, seed=0, batch_pairs=6,
                         threads=1)[0].state_dict()
    with pytest.raises(ValueError, match="train its members with freeze_word_embeddings"):
        make_ensemble(base, 1, [state, state])


def test_running_a_batch_in_chunks_of_similar_length_gives_each_pair_what_one_padded_pass_gives(monkeypatch):
    """Training sends a batch through the model in length-sorted chunks, each padded to its own longest pair;
    padding sits on the right and is masked, so each pair's relevance and span loss, in the batch's order, must
    be what a single pass over the whole padded batch gives."""
    import torch

    from assistant.answer.training import loop
    from assistant.answer.reader import make_tokenizer
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    torch.manual_seed(0)
    model, tokenizer = loop.make_model(base, 1), make_tokenizer(base / "tokenizer.json")
    model.eval()
    long = "The panel heard that " + "placement stability had improved across the year and " * 4 + "it agreed."
    pairs = [("Who chaired the panel?", long), ("Who chaired the panel?", "Councillor Patel chaired the panel."),
             ("How many adopters?", "Apologies."), ("How many adopters?", "Members noted the adoption report."),
             ("Who chaired the panel?", long + " The Chair thanked officers.")]
    encodings = tokenizer.encode_batch(pairs)
    ids, mask, types = (torch.tensor([getattr(e, name) for e in encodings])
                        for name in ("ids", "attention_mask", "type_ids"))
    starts, ends = torch.tensor([0, 1, 0, 2, 0]), torch.tensor([0, 2, 0, 3, 0])
    with torch.no_grad():
        relevance, start_logits, end_logits = model(ids, mask, types)
        spans = (torch.nn.functional.cross_entropy(start_logits, starts, reduction="none")
                 + torch.nn.functional.cross_entropy(end_logits, ends, reduction="none")) / 2
        for chunk in (1, 2, 100):
            monkeypatch.setattr(loop, "LENGTH_CHUNK", chunk)
            chunked_relevance, chunked_spans = loop._forward_by_length(model, ids, mask, types, starts, ends)
            assert torch.allclose(chunked_relevance, relevance, atol=1e-4), chunk
            assert torch.allclose(chunked_spans, spans, atol=1e-4), chunk
        # Under bfloat16 autocast (--bf16) the outputs come back as fp32, a little rounded.
        half_relevance, half_spans = loop._forward_by_length(model, ids, mask, types, starts, ends, bf16=True)
    assert half_relevance.dtype == half_spans.dtype == torch.float32
    assert not torch.equal(half_relevance, relevance)
    assert torch.allclose(half_relevance, relevance, atol=0.1) and torch.allclose(half_spans, spans, atol=0.1)


def test_a_question_weight_scales_every_loss_in_full():
    """A question's weight multiplies all three losses (pointwise, listwise, span), even in a batch of one: the
    weights are normalised over the whole split, not within the batch, so the balance is not cancelled."""
    import torch

    from assistant.answer.reader import make_tokenizer
    from assistant.answer.training.examples import Example
    from assistant.answer.training.loop import _batch_loss, make_model
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    torch.manual_seed(0)
    model, tokenizer = make_model(base, 1), make_tokenizer(base / "tokenizer.json")
    model.eval()  # no dropout: the same inputs give the same loss

    def loss(weight: float) -> float:
        example = Example("w", "Who chaired the panel?", True, ["Councillor Patel chaired the panel.",
                                                                 "Apologies were received."],
                          np.array([1, 0]), [(0, 19), None], no_features(2), weight=weight)
        with torch.no_grad():
            return float(_batch_loss(model, tokenizer, [(example, [0, 1])]))

    one, two, three = loss(1.0), loss(2.0), loss(3.0)
    assert one > 0 and np.isclose(two, 2 * one, rtol=1e-4) and np.isclose(three, 3 * one, rtol=1e-4)

def test_a_student_is_pulled_toward_its_teachers_scores():
    """Distilling: an unanswerable question's two candidates are both negatives, so its labels prefer neither;
    a few steps on its loss move the student's preference the way its teachers' scores lean, either way."""
    import torch

    from assistant.answer.reader import make_tokenizer
    from assistant.answer.training.examples import Example
    from assistant.answer.training.loop import _batch_loss, _forward_by_length, make_model
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    tokenizer = make_tokenizer(base / "tokenizer.json")
    texts = ["The panel approved twelve foster carers.", "Apologies for absence were received."]

    def preference_after_steps(teacher) -> float:
        torch.manual_seed(0)
        model = make_model(base, 1)
        model.eval()  # no dropout: only the teacher differs between runs
        example = Example("d", "How many adopters were approved?", False, texts, np.array([0, 0]), [None, None],
                          no_features(2), teacher=None if teacher is None else np.array(teacher, dtype=np.float32))
        optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
        for _ in range(5):
            optimiser.zero_grad()
            _batch_loss(model, tokenizer, [(example, [0, 1])]).backward()
            optimiser.step()
        encodings = tokenizer.encode_batch([(example.question, text) for text in texts])
        ids, mask, types = (torch.tensor([getattr(e, name) for e in encodings])
                            for name in ("ids", "attention_mask", "type_ids"))
        with torch.no_grad():
            relevance, _ = _forward_by_length(model, ids, mask, types, torch.zeros(2, dtype=torch.long),
                                              torch.zeros(2, dtype=torch.long))
        preference = float(relevance[0] - relevance[1])
        return preference

    untaught = preference_after_steps(None)
    toward_first = preference_after_steps([4.0, -4.0])
    toward_second = preference_after_steps([-4.0, 4.0])
    assert toward_first > untaught + 0.05 and toward_second < untaught - 0.05


@pytest.mark.parametrize("batch", [16, 0])
def test_teachers_are_read_on_the_trained_candidates_averaged_and_cached(tmp_path, monkeypatch, batch):
    """Each teacher reads every candidate a question is trained on, once: the readings are cached in the work
    folder, and the student's target is the teachers' mean, with nan for candidates it is not trained on. The
    pairs are read sorted by length `batch` at a time, or (0) a question's candidates together."""
    import pickle

    from assistant.answer.training import teachers
    from assistant.answer.training.batches import trained_candidates
    from assistant.answer.training.examples import questions_fingerprint

    examples = tiny_training_examples()
    for example in examples:
        example.texts = [candidate_text(t, "Fostering Panel") for t in example.texts]
    chosen = {e.id: trained_candidates(e, negatives=1) for e in examples}
    # A second teacher whose readings are already in the cache: its files are never opened.
    other = tmp_path / "other-teacher"
    other.mkdir()
    manifest = {"name": "other", "model": "m.onnx", "sha256": {"m.onnx": "f" * 64}}
    (other / "manifest.json").write_text(json.dumps(manifest))
    other_logits = {e.id: {i: float(n + i) for n, i in enumerate(chosen[e.id])} for e in examples}
    fingerprint = questions_fingerprint()
    suffix = f"-b{batch}" if batch else ""
    (tmp_path / f"teacher-{'f' * 12}-{fingerprint}-1{suffix}.pickle").write_bytes(pickle.dumps(other_logits))

    teachers.read_teachers(examples, [READER_DIR, other], tmp_path, negatives=1, batch=batch)
    shipped = OnnxReader()
    pairs = [(e, i) for e in examples for i in chosen[e.id]]
    if batch:
        logits = shipped.logits_of_pairs([(e.question, e.texts[i]) for e, i in pairs], batch)
    else:
        logits = [r.logit for e in examples for r in shipped.read(e.question, [e.texts[i] for i in chosen[e.id]])]
    for (example, i), logit in zip(pairs, logits):
        assert math.isclose(example.teacher[i], (logit + other_logits[example.id][i]) / 2, abs_tol=1e-4)
    for example in examples:
        assert all(math.isnan(example.teacher[i]) for i in range(len(example.texts)) if i not in chosen[example.id])

    first = [e.teacher.copy() for e in examples]
    assert len(list(tmp_path.glob("teacher-*.pickle"))) == 2

    def no_reading(*args, **kwargs):
        raise AssertionError("a cached teacher was read again")

    monkeypatch.setattr(teachers, "OnnxReader", no_reading)
    teachers.read_teachers(examples, [READER_DIR, other], tmp_path, negatives=1, batch=batch)
    assert all(np.array_equal(a, e.teacher, equal_nan=True) for a, e in zip(first, examples))


def test_a_negative_teacher_batch_is_refused_with_a_message(capsys):
    from assistant.answer.train import main

    with pytest.raises(SystemExit):
        main(["--teacher-batch", "-1"])
    assert "--teacher-batch -1: give the pairs a teacher reads at once, or 0" in capsys.readouterr().err


def test_pairs_read_one_at_a_time_score_as_the_reader_scores_a_single_candidate_and_come_back_in_order():
    """logits_of_pairs (how a teacher reads) sorts the pairs by length across questions; each logit still belongs
    to its own pair: read one per batch, it is exactly what read() gives that candidate alone."""
    reader = OnnxReader()
    pairs = [(QUESTION, ANSWER), ("Who chaired the panel?", OTHER), (QUESTION, OTHER),
             ("Who chaired the panel?", candidate_text("Councillor Patel chaired the panel.", "Fostering Panel"))]
    alone = [reader.read(question, [text])[0].logit for question, text in pairs]
    assert np.allclose(reader.logits_of_pairs(pairs, batch=1), alone, atol=1e-5)
    assert np.allclose(reader.logits_of_pairs(pairs[::-1], batch=1), alone[::-1], atol=1e-5)
    together = reader.logits_of_pairs(pairs, batch=16)
    assert together.shape == (4,) and together[0] > together[2] and together[3] > together[1]


def test_a_teacher_folder_without_a_manifest_is_refused_with_a_message(tmp_path, capsys):
    from assistant.answer.train import main

    with pytest.raises(SystemExit) as stopped:
        main(["--teachers", str(tmp_path)])
    assert stopped.value.code == 2
    assert f"--teachers {tmp_path}: not a reader folder (no manifest.json)" in capsys.readouterr().err


def test_the_short_answer_threshold_is_fitted_to_show_right_short_answers_and_hide_wrong_ones():
    from assistant.answer.training.calibrate import MIN_SHORT_ANSWERS, SHORT_ANSWER_ROOM, span_threshold
    from assistant.answer.training.examples import Example

    def fitted(wrong: int, extra=(), margins_from_top=tuple(range(9, -1, -1))):
        """Ten answered, answerable questions with short-answer margins 9..0, the `wrong` lowest with a wrong
        span; `extra` adds (example, margin, span, answered) rows."""
        examples, probabilities, margins, spans, answered = [], [], [], [], []
        for n, margin in enumerate(margins_from_top):
            examples.append(Example(f"s{n}", "How many?", True, ["There were 12 of them."], np.array([1]),
                                    [(10, 12)], no_features(1)))
            probabilities.append(np.array([0.9]))
            margins.append(np.array([float(margin)]))
            spans.append([(10, 12) if n < 10 - wrong else (0, 5)])
            answered.append(True)
        for example, margin, span, shown in extra:
            examples.append(example)
            probabilities.append(np.array([0.9]))
            margins.append(np.array([margin]))
            spans.append([span])
            answered.append(shown)
        return span_threshold(examples, probabilities, margins, spans, np.array(answered))

    most_hidden = 10 - math.ceil((MIN_SHORT_ANSWERS + SHORT_ANSWER_ROOM) * 10)
    assert most_hidden >= 2  # the cases below need room to hide two
    threshold, figures = fitted(wrong=2)
    assert 1.0 <= threshold < 2.0  # hides the two wrong short answers and shows the eight right ones
    assert figures == {"short_answer_shown": 0.8, "short_answer_right_when_shown": 1.0}
    # With more wrong than it may hide, it hides as many of the lowest as it may, and no more.
    threshold, figures = fitted(wrong=most_hidden + 1)
    assert most_hidden - 1 <= threshold < most_hidden and figures["short_answer_shown"] == (10 - most_hidden) / 10
    # Equal margins are shown or hidden together: a right and a wrong short answer tied at the bottom are
    # both shown rather than counted as one hidden.
    threshold, figures = fitted(wrong=1, margins_from_top=(9, 8, 7, 6, 5, 4, 3, 2, 0, 0))
    assert threshold < 0.0 and figures["short_answer_shown"] == 1.0
    # A refused question never counts either way; an answered unanswerable one counts as a wrong short answer
    # (nothing in the minutes answers it), so here it is hidden with the wrong one below it.
    unanswerable = Example("s10", "Who?", False, ["Nobody."], np.array([0]), [None], no_features(1))
    assert fitted(wrong=2, extra=[(unanswerable, 9.5, (0, 6), False)]) == fitted(wrong=2)
    assert fitted(wrong=1)[0] == 0.0
    threshold, figures = fitted(wrong=1, extra=[(unanswerable, 0.5, (0, 6), True)])
    assert threshold == 0.5
    assert figures == {"short_answer_shown": round(9 / 11, 3), "short_answer_right_when_shown": 1.0}


def test_the_sentence_choice_is_fitted_within_questions_so_a_question_level_input_gets_no_weight():
    from assistant.answer.combine import fit_conditional_logit

    rng = np.random.default_rng(0)
    groups = []
    for question in range(40):
        answers = rng.integers(0, 5)
        marks = (np.arange(5) == answers).astype(float) + rng.normal(0, 0.3, 5)  # noisy: the answer scores higher
        names_a_council = np.full(5, float(question % 2))  # the same for every candidate of a question
        groups.append((np.column_stack([marks, names_a_council]), (np.arange(5) == answers).astype(float), 1.0))
    weights = fit_conditional_logit(groups)
    assert weights[0] > 1.0
    assert abs(weights[1]) < 1e-6


def test_the_within_question_fit_does_not_overshoot_on_large_groups():
    """70 candidates a question, the answer marked by the first input in four questions of five: a full Newton step
    from zero overshoots here, and without halving it the fit settled on a negative weight for the mark."""
    from assistant.answer.combine import fit_conditional_logit

    rng = np.random.default_rng(0)
    groups = []
    for question in range(100):
        answer = rng.integers(0, 70)
        inputs = rng.binomial(1, 0.05, (70, 3)) * rng.uniform(0, 1, (70, 3))
        inputs[answer, 0] = 0.0 if question % 5 == 0 else 1.0
        groups.append((inputs, (np.arange(70) == answer).astype(float), 1.0))
    weights = fit_conditional_logit(groups)
    assert weights[0] > 3.0
    ranked_first = sum(int(np.argmax(x @ weights)) == int(np.argmax(labels)) for x, labels, _ in groups)
    assert ranked_first >= 70  # the 80 marked answers, less ties with marked distractors


def _questions(count: int, answerable_every: int = 3, seed: int = 1):
    from assistant.answer.training.examples import Example

    rng = np.random.default_rng(seed)
    examples, readings = [], []
    for question in range(count):
        labels = np.zeros(4, dtype=int)
        if answerable_every and question % answerable_every:
            labels[question % 4] = 1
        features = rng.normal(0, 1, (4, len(FEATURE_NAMES)))
        features[:, 0] += 2 * labels
        examples.append(Example(f"q{question}", "Who?", bool(labels.any()), ["A."] * 4, labels, [None] * 4,
                                features.astype(np.float32)))
        readings.append(rng.normal(0, 1, 4) + 2 * labels)
    return examples, readings


def test_the_combination_is_the_within_question_choice_scaled_into_a_probability():
    from assistant.answer.combine import fit_conditional_logit
    from assistant.answer.training.calibrate import combined_inputs, fit_combination

    examples, readings = _questions(30)
    combination = fit_combination(examples, readings)
    choice = fit_conditional_logit([(combined_inputs(e, r)[0], e.labels.astype(float), e.weight)
                                    for e, r in zip(examples, readings) if e.answerable])
    scale = combination.weights / choice
    assert np.all(scale > 0) and np.allclose(scale, scale[0])  # the same order as the choice, scaled up
    assert scale[0] != pytest.approx(1.0)  # and actually rescaled by the logistic over every candidate
    answering = [p[e.labels == 1][0] for e, r in zip(examples, readings) if e.answerable
                 for p in [combination.probabilities(combined_inputs(e, r)[0])]]
    others = np.concatenate([combination.probabilities(combined_inputs(e, r)[0])[e.labels == 0]
                             for e, r in zip(examples, readings)])
    assert np.mean(answering) > 0.5 > np.mean(others)


def test_with_no_answerable_question_the_combination_gives_every_candidate_a_low_probability(caplog):
    from assistant.answer.training.calibrate import combined_inputs, fit_combination

    examples, readings = _questions(6, answerable_every=0)
    with caplog.at_level("WARNING"):
        combination = fit_combination(examples, readings)
    assert "does not rise" in caplog.text
    assert not np.any(combination.weights)
    assert combination.probabilities(combined_inputs(examples[0], readings[0])[0]).max() < 0.01


def test_a_second_quote_goes_to_at_most_half_the_answers_where_the_reader_hesitates_most():
    from assistant.answer.extractive import chosen_quotes
    from assistant.answer.training.calibrate import MAX_SECOND_QUOTES, answer_quoted, second_quote_ratio
    from assistant.answer.training.examples import Example

    def example(n: int, answerable: bool = True, labels=(0, 1, 0)) -> Example:
        return Example(f"q{n}", "How many?", answerable, ["a", "b", "c"], np.array(labels), [None] * 3,
                       no_features(3))

    # Ten answerable questions whose second likeliest sentence has 0.1, 0.2, ... 1.0 of the best's probability;
    # the best's own probability varies the other way, so that only the ratio orders them.
    examples = [example(n) for n in range(10)]
    probabilities = [np.array([0.9 - 0.08 * n, (0.9 - 0.08 * n) * 0.1 * (n + 1), 0.0]) for n in range(10)]
    ratio = second_quote_ratio(examples, probabilities)
    shown = [len(chosen_quotes(p, ratio)) == 2 for p in probabilities]
    assert sum(shown) == int(MAX_SECOND_QUOTES * 10) and all(shown[-sum(shown):])  # the closest pairs
    assert chosen_quotes(probabilities[-1], ratio) == [0, 1]  # the best first, then the second
    # Every answer's second sentence answers here, so the quoted share is the best one's (0) plus the seconds'.
    assert answer_quoted(examples, probabilities, ratio) == (sum(shown) / 10, sum(shown) / 10)
    # A likely second sentence beside a far likelier best is not quoted: hesitation, not probability, decides.
    assert chosen_quotes(np.array([0.99, 0.45, 0.0]), ratio) == [0]
    assert chosen_quotes(np.array([0.2, 0.19, 0.0]), ratio) == [0, 1]
    # Ties at the cut are shown or hidden together, never split; unanswerable questions do not count.
    tied = [np.array([0.9, 0.3, 0.0]) for _ in range(10)]
    assert second_quote_ratio(examples, tied) > 0.3 / 0.9
    unanswerable = example(10, answerable=False)
    assert second_quote_ratio(examples + [unanswerable], probabilities + [np.array([0.9, 0.99, 0])]) == ratio
    # With nothing to fit on (no answerable question with two candidates), never a second quote; nor when no
    # sentence is likely at all.
    assert second_quote_ratio([example(11)], [np.array([0.9])]) == math.inf
    assert chosen_quotes(np.array([0.9]), 0.0) == [0]
    assert chosen_quotes(np.zeros(3), 0.0) == [0]


def test_a_short_answer_is_widened_to_whole_words_and_stripped_of_punctuation():
    from assistant.answer.reader import _trim_to_text

    text = "There were 1,021 children in care, a rise of 3%."
    start = text.index("02")  # word pieces can mark part of a figure
    assert text[slice(*_trim_to_text(text, start, start + 2))] == "1,021"
    assert text[slice(*_trim_to_text(text, text.index("care"), text.index("care") + 4))] == "care"
    assert text[slice(*_trim_to_text(text, text.index("care"), text.index("care") + 5))] == "care"  # "care,"


def test_unanswerable_questions_are_weighted_so_that_asking_for_a_figure_does_not_predict_refusal():
    from assistant.answer.training.examples import Example, balance

    def example(n: int, question: str, answerable: bool) -> Example:
        return Example(f"b{n}", question, answerable, ["A sentence."], np.array([int(answerable)]), [None],
                       no_features(1))

    # Asking for a figure: 1 answerable, 4 unanswerable; anything else: 6 answerable, 1 unanswerable.
    examples = ([example(0, "How many children were in care?", True)]
                + [example(n, f"How many foster carers were there in year {n}?", False) for n in range(1, 5)]
                + [example(n, f"What did the panel say about item {n}?", True) for n in range(5, 11)]
                + [example(11, "What did the panel say about dentists?", False)])
    balance(examples)

    def unanswerable_share(members: list[Example]) -> float:
        return sum(e.weight for e in members if not e.answerable) / sum(e.weight for e in members)

    figure, other = examples[:5], examples[5:]
    assert np.isclose(unanswerable_share(figure), unanswerable_share(other))
    assert np.isclose(unanswerable_share(examples), unanswerable_share(figure))
    assert np.isclose(np.mean([e.weight for e in examples]), 1.0)
    # The correction is split evenly: an answerable and an unanswerable weight multiply to the same in each group.
    assert np.isclose(figure[0].weight * figure[1].weight, other[0].weight * other[-1].weight)
    assert len({e.weight for e in figure if e.answerable}) == len({e.weight for e in figure if not e.answerable}) == 1
    assert figure[0].weight > other[0].weight  # the scarce side is raised and the plentiful one lowered
    assert figure[1].weight < other[-1].weight


def test_a_group_with_only_one_side_is_left_unweighted_with_a_warning(caplog):
    from assistant.answer.training.examples import Example, balance

    examples = [Example(f"g{n}", question, answerable, ["A sentence."], np.array([int(answerable)]), [None],
                        no_features(1))
                for n, (question, answerable) in enumerate([("Who chaired the panel?", True),
                                                            ("Who seconded the motion?", True),
                                                            ("What did the panel say?", True),
                                                            ("What did the panel ask for?", False)])]
    with caplog.at_level("WARNING"):
        balance(examples)
    assert examples[0].weight == examples[1].weight  # the person group: answerable only, one weight
    assert "all answerable" in caplog.text


def test_a_cached_example_file_with_other_features_stops_with_what_to_delete(tmp_path):
    import pickle

    from assistant.answer.training.examples import _unpickle

    old = {"id": "x", "question": "Who?", "answerable": True, "texts": ["A."], "labels": np.array([1]),
           "spans": [None], "features": np.zeros((1, len(FEATURE_NAMES) - 1), dtype=np.float32)}
    cache = tmp_path / "examples-all.pickle"
    cache.write_bytes(pickle.dumps(([old], [])))
    with pytest.raises(SystemExit, match="delete it"):
        _unpickle(cache)
    assert cache.is_file()  # nothing is deleted for the user


def test_a_cached_example_file_without_the_named_check_stops_with_what_to_delete(tmp_path):
    import pickle

    from assistant.answer.training.examples import _unpickle

    old = {"id": "x", "question": "Who?", "answerable": True, "texts": ["A."], "labels": np.array([1]),
           "spans": [None], "features": np.zeros((1, len(FEATURE_NAMES)), dtype=np.float32)}
    cache = tmp_path / "examples-all.pickle"
    cache.write_bytes(pickle.dumps(([old], [])))
    with pytest.raises(SystemExit, match="names_missing: delete it"):
        _unpickle(cache)
    cache.write_bytes(pickle.dumps(([old | {"names_missing": True}], [])))
    assert _unpickle(cache)[0][0].names_missing is True


def test_changed_question_files_are_read_again_instead_of_reusing_the_cached_examples(tmp_path, monkeypatch):
    from assistant.answer.training import examples

    for split in ("train", "validation"):
        (tmp_path / f"reader_{split}.jsonl").write_text('{"id": "a"}\n')
    monkeypatch.setattr(examples, "TRAINING", tmp_path)
    before = examples.questions_fingerprint()
    assert examples.questions_fingerprint() == before  # the same files name the same cache
    (tmp_path / "reader_validation.jsonl").write_text('{"id": "a"}\n{"id": "b"}\n')
    assert examples.questions_fingerprint() != before
    changed = examples.questions_fingerprint()
    monkeypatch.setattr(examples, "EXAMPLES_FORMAT", examples.EXAMPLES_FORMAT + 1)  # examples gained a field
    assert examples.questions_fingerprint() != changed


def test_a_calibration_with_a_weight_missing_is_refused_and_one_without_a_second_quote_never_quotes_two(tmp_path):
    import shutil

    from assistant.answer.combine import Combination
    from assistant.answer.extractive import Calibration

    with pytest.raises(ValueError, match="2 inputs named but 1 weights"):
        Combination.from_dict({"names": ["a", "b"], "weights": [1.0], "bias": 0.0})
    folder = tmp_path / "older"
    shutil.copytree(READER_DIR, folder)
    data = json.loads((folder / "calibration.json").read_text())
    del data["second_quote_ratio"]
    (folder / "calibration.json").write_text(json.dumps(data))
    assert Calibration.load(folder).second_quote_ratio == math.inf
    assert 0.0 < Calibration.load(READER_DIR).second_quote_ratio < 1.0


def put_back_nan_guards(path) -> int:
    """Put the exporter's `Where(IsNaN(softmax), 0, softmax)` after each Softmax of the ONNX file, in place (each
    consumer of the softmax reads the guarded value); returns how many."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    graph.initializer.append(numpy_helper.from_array(np.zeros((), dtype=np.float32), "nan_guard_zero"))
    nodes, renamed = [], {}
    for node in list(graph.node):
        for i, name in enumerate(node.input):
            node.input[i] = renamed.get(name, name)
        nodes.append(node)
        if node.op_type == "Softmax":
            value = node.output[0]
            nodes += [helper.make_node("IsNaN", [value], [f"{value}_is_nan"]),
                      helper.make_node("Where", [f"{value}_is_nan", "nan_guard_zero", value], [f"{value}_guarded"])]
            renamed[value] = f"{value}_guarded"
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(path))
    return len(renamed)


def test_dropping_the_exporters_nan_guards_leaves_every_output_bit_for_bit_the_same(tmp_path):
    """export_onnx removes the Where(IsNaN(softmax)) the exporter puts after each attention softmax: BERT masks
    padding with a finite value, so no softmax row is ever NaN. Shown on the shipped reader with the guards put
    back as the exporter writes them (it ships without), on a batch whose candidates are padded to different
    lengths."""
    import shutil

    import onnx

    from assistant.answer.training.export import drop_nan_guards
    from assistant.index.onnx_files import open_session

    guarded = tmp_path / "model.onnx"
    shutil.copy(READER_DIR / model_files(json.loads((READER_DIR / "manifest.json").read_text()))[0], guarded)
    assert put_back_nan_guards(guarded) == 6  # one for each layer of the shipped reader's first member
    before = reader_outputs(open_session(guarded, None))
    assert drop_nan_guards(guarded) == 6
    assert not any(node.op_type == "IsNaN" for node in onnx.load(str(guarded)).graph.node)
    after = reader_outputs(open_session(guarded, None))
    assert all(np.array_equal(b, a) for b, a in zip(before, after))
    assert drop_nan_guards(guarded) == 0


def twin_batch():
    """An answerable question and its unanswerable twin, both trained on the sentence that answers the original."""
    from assistant.answer.training.examples import Example

    answer = "Twelve new foster carers were approved in the year."
    other = "Apologies for absence were received."
    original = Example("o", "How many foster carers were approved?", True, [answer, other], np.array([1, 0]),
                       [(0, 6), None], no_features(2))
    twin = Example("o-twin", "How many of the new foster carers were kinship carers?", False, [other, answer],
                   np.array([0, 0]), [None, None], no_features(2))
    return [(original, [0, 1]), (twin, [0, 1])], {"o-twin": "o"}


def test_twins_are_batched_with_their_originals_and_the_rest_as_before():
    import random

    from assistant.answer.training.batches import batch_units, batched_groups

    class Question:
        def __init__(self, name):
            self.id = name

    groups = [(Question(f"q{i}"), list(range(size))) for i, size in enumerate([8, 5, 8, 3, 8, 8, 5, 2, 8, 5])]
    groups += [(Question("q1-twin"), [0, 1]), (Question("q4-twin"), [0]), (Question("gone-twin"), [0, 1])]
    twin_of = {"q1-twin": "q1", "q4-twin": "q4", "gone-twin": "gone"}  # gone: an original not trained on
    units = batch_units(groups, twin_of)
    assert sorted(len(unit) for unit in units) == [1] * 9 + [2, 2]
    assert [g[0].id for g in next(u for u in units if u[0][0].id == "q1")] == ["q1", "q1-twin"]
    for seed in range(20):
        batches = batched_groups(groups, random.Random(seed), batch_pairs=12, twin_of=twin_of)
        batch_of = {group[0].id: n for n, batch in enumerate(batches) for group in batch}
        assert len(batch_of) == len(groups) == sum(len(batch) for batch in batches)
        assert batch_of["q1-twin"] == batch_of["q1"] and batch_of["q4-twin"] == batch_of["q4"]
    # without twins, each question is its own unit and the epoch is what it was before twins could be paired
    assert batch_units(groups) == [[group] for group in groups]


def test_a_twin_is_paired_on_the_sentence_that_answers_its_original():
    from assistant.answer.training.batches import twin_pairs

    batch, twin_of = twin_batch()
    assert twin_pairs(batch, twin_of) == [(1, 1, 0, 0)]
    assert twin_pairs(batch[::-1], twin_of) == [(0, 1, 1, 0)]
    assert twin_pairs(batch[1:], twin_of) == []  # its original is in another batch
    batch[1] = (batch[1][0], [0])  # the twin is not trained on the answering sentence
    assert twin_pairs(batch, twin_of) == []


def test_the_twin_loss_adds_the_softplus_of_the_twins_logit_minus_the_originals():
    import torch

    from assistant.answer.reader import make_tokenizer
    from assistant.answer.training.batches import twin_pairs
    from assistant.answer.training.loop import _batch_loss, _forward_by_length, make_model
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    torch.manual_seed(0)
    model, tokenizer = make_model(base, 1), make_tokenizer(base / "tokenizer.json")
    model.eval()
    batch, twin_of = twin_batch()
    batch[1][0].weight = 1.5
    with torch.no_grad():
        plain = float(_batch_loss(model, tokenizer, batch))
        paired = float(_batch_loss(model, tokenizer, batch, pairs=twin_pairs(batch, twin_of)))
        encodings = tokenizer.encode_batch([(e.question, e.texts[i]) for e, chosen in batch for i in chosen])
        ids, mask, types = (torch.tensor([getattr(e, name) for e in encodings])
                            for name in ("ids", "attention_mask", "type_ids"))
        zeros = torch.zeros(4, dtype=torch.long)
        relevance, _ = _forward_by_length(model, ids, mask, types, zeros, zeros)
    expected = 1.5 * float(torch.nn.functional.softplus(relevance[3] - relevance[0]))
    assert paired - plain == pytest.approx(expected, rel=1e-4)


def test_hard_unanswerable_targets_ignore_the_teachers_probabilities_but_keep_their_ranking():
    """Shifting both teacher scores of an unanswerable question by the same amount leaves the teachers' ranking (a
    softmax) unchanged and moves only their probabilities: the loss moves with them unless the targets are hard."""
    import torch

    from assistant.answer.reader import make_tokenizer
    from assistant.answer.training.examples import Example
    from assistant.answer.training.loop import _batch_loss, make_model
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    torch.manual_seed(0)
    model, tokenizer = make_model(base, 1), make_tokenizer(base / "tokenizer.json")
    model.eval()

    def loss(teacher, hard, answerable=False) -> float:
        example = Example("h", "How many adopters were approved?", answerable,
                          ["The panel approved twelve foster carers.", "Apologies for absence were received."],
                          np.array([int(answerable), 0]), [None, None], no_features(2),
                          teacher=np.array(teacher, dtype=np.float32))
        with torch.no_grad():
            return float(_batch_loss(model, tokenizer, [(example, [0, 1])], hard_unanswerable=hard))

    assert loss([-3.0, -6.0], hard=True) == pytest.approx(loss([5.0, 2.0], hard=True), rel=1e-5)
    assert abs(loss([-3.0, -6.0], hard=False) - loss([5.0, 2.0], hard=False)) > 0.05
    # an answerable question's targets still go halfway to its teachers'
    assert abs(loss([-3.0, -6.0], hard=True, answerable=True) - loss([5.0, 2.0], hard=True, answerable=True)) > 0.05


def test_the_twin_options_are_described_in_the_help(capsys):
    from assistant.answer.train import main

    with pytest.raises(SystemExit):
        main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--twins train each unanswerable twin in its original's batch" in shown
    assert "--hard-unanswerable when distilling, keep an unanswerable question's pointwise targets at 0" in shown


def test_every_training_option_has_help_and_out_says_it_replaces_the_shipped_reader(capsys):
    """--layers, --epochs and --seed had no help, and --out did not say that its default is the shipped reader's
    folder, which training replaces (from a maintainer's review)."""
    from assistant.answer.train import main

    with pytest.raises(SystemExit):
        main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for flag in ("--layers LAYERS", "--epochs EPOCHS", "--seed SEED", "--work WORK"):
        assert f"{flag} " in shown and f"{flag} --" not in shown, f"{flag} has no help"
    assert "default: the shipped reader's, assistant/answer/reader_model, which training replaces" in shown


def test_every_train_twin_names_an_answerable_train_question():
    from assistant.answer.training.batches import twin_originals
    from assistant.answer.training.examples import TRAINING

    rows = {row["id"]: row for row in map(json.loads, (TRAINING / "reader_train.jsonl").read_text().splitlines())}
    twins = twin_originals()
    assert len(twins) > 1000
    assert all(rows[twin]["kind"] == "unanswerable" and rows[original]["kind"] != "unanswerable"
               for twin, original in twins.items())


def test_a_moving_average_step_keeps_decay_of_the_average_and_the_rest_of_the_current_weights():
    import torch

    from assistant.answer.training.loop import moving_average_step

    averaged = [torch.tensor([1.0, 2.0]), torch.tensor([[0.0]])]
    current = [torch.tensor([3.0, 2.0], requires_grad=True), torch.tensor([[10.0]])]
    moving_average_step(averaged, current, 0.75)
    assert torch.equal(averaged[0], torch.tensor([1.5, 2.0])) and torch.equal(averaged[1], torch.tensor([[2.5]]))
    moving_average_step(averaged, current, 0.5)
    assert torch.equal(averaged[0], torch.tensor([2.25, 2.0])) and torch.equal(averaged[1], torch.tensor([[6.25]]))


@pytest.mark.slow
def test_a_moving_average_leaves_the_run_alone_and_ships_weights_nearer_the_start_than_its_last_step():
    """The average is bookkeeping beside the run: the last step's weights are bit for bit those of a run without
    it. With few steps and a slow decay, the average must still lean toward the starting weights."""
    import torch

    from assistant.answer.training.loop import make_model, train_reader
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    options = {"batch_pairs": 6, "threads": 1}
    plain, _ = train_reader(tiny_training_examples(), base, 1, 1, 0, **options)
    averaged, _ = train_reader(tiny_training_examples(), base, 1, 1, 0, ema=0.9, **options)
    torch.manual_seed(0)
    start = make_model(base, 1).state_dict()
    assert not hasattr(plain, "last_iterate")
    for name, value in plain.state_dict().items():
        assert torch.equal(averaged.last_iterate[name], value), name
    head = "relevance.weight"
    shipped, last = averaged.state_dict()[head], averaged.last_iterate[head]
    assert not torch.equal(shipped, last)
    assert torch.dist(shipped, start[head]) < torch.dist(last, start[head])


def test_a_moving_average_outside_0_to_1_is_refused_before_any_training():
    from assistant.answer.training.loop import train_reader

    with pytest.raises(ValueError, match="ema=1.0: give a decay of at least 0 and below 1"):
        train_reader(tiny_training_examples(), None, layers=1, epochs=1, seed=0, ema=1.0)


@pytest.mark.parametrize("argv, message", [
    (["--ema", "1"], "--ema 1.0: give a decay of at least 0 and below 1, such as 0.998"),
    (["--ema", "-0.5"], "--ema -0.5: give a decay of at least 0 and below 1"),
    (["--keep-last", "last"], "--keep-last: give it with --ema and a single reader (--soup 1, --ensemble 1)"),
    (["--ema", "0.998", "--ensemble", "2", "--keep-last", "last"], "--keep-last: give it with --ema and a single"),
    (["--ema", "0.998", "--soup", "2", "--keep-last", "last"], "--keep-last: give it with --ema and a single reader"),
    (["--learning-rate", "0"], "--learning-rate 0.0: give a peak rate above 0 and below 1, such as 5e-5"),
    (["--learning-rate", "2"], "--learning-rate 2.0: give a peak rate above 0 and below 1"),
    (["--ensemble", "0"], "--ensemble 0: give the number of readers to train and read together, 1 or more"),
    (["--ensemble", "2", "--soup", "2"], "--ensemble and --soup: give one of them"),
    (["--keep-members", "members"], "--keep-members: give it with --ensemble 2 or more"),
    (["--fusion-out", "fusion.json"], "--fusion-out: give it with --fit-fusion"),
    (["--seed", "-1"], "--seed -1: give a seed of 0 or more, below 2**32"),
    (["--seed", str(2**32 - 1), "--soup", "2"], f"--seed {2**32 - 1}: give a seed of 0 or more, below 2**32"),
])
@pytest.mark.usefixtures("no_training_minutes")  # a check that stopped refusing would otherwise start training
def test_a_bad_training_option_is_refused_with_a_message(capsys, argv, message):
    from assistant.answer.train import main

    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_splitting_a_reader_that_is_not_an_ensemble_in_one_graph_says_so_and_changes_nothing(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    folder = tmp_path / "single"
    folder.mkdir()
    manifest = json.dumps({"name": "single", "model": "model.onnx", "sha256": {"model.onnx": "0" * 64}})
    (folder / "manifest.json").write_text(manifest)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "split_ensemble_reader.py"), str(folder)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1
    assert "does not hold an ensemble exported as one graph; nothing to split" in done.stderr
    assert (folder / "manifest.json").read_text() == manifest


def test_requantising_an_ensembles_members_says_there_is_nothing_to_do_and_changes_nothing(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    folder = tmp_path / "pair"
    folder.mkdir()
    manifest = json.dumps({"name": "pair", "members": ["member-1.onnx", "member-2.onnx"], "sha256": {}})
    (folder / "manifest.json").write_text(manifest)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "requantize_reader.py"), str(folder)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1
    assert "holds an ensemble's members" in done.stderr and "nothing to requantise" in done.stderr
    assert (folder / "manifest.json").read_text() == manifest


def test_every_reader_reads_a_question_longer_than_its_window(reader):
    # About 160 words: more tokens than the reader reads at once, which used to raise a truncation error.
    long_question = ("I am a councillor and I would like to know, " * 16) + QUESTION
    readings = reader.read(long_question, [ANSWER, OTHER])
    assert len(readings) == 2 and all(np.isfinite(r.logit) for r in readings)


def test_a_question_of_ordinary_length_is_encoded_as_the_reader_was_trained():
    # Cutting the longer side of a pair and cutting only the candidate agree while the question is the shorter
    # side, as every training question (at most 46 tokens) is: the shipped calibration still holds.
    from tokenizers import Tokenizer

    from assistant.answer.reader import MAX_TOKENS, make_tokenizer

    path = READER_DIR / "tokenizer.json"
    shipped = make_tokenizer(path)
    trained = Tokenizer.from_file(str(path))
    trained.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
    trained.enable_padding(pad_id=0, pad_token="[PAD]")
    question = " ".join(["children"] * 46)
    candidate = candidate_text(" ".join(["placements"] * 200), "Children in Care Update")
    for pair in [(question, candidate), (QUESTION, ANSWER), (QUESTION, candidate)]:
        assert shipped.encode(*pair).ids == trained.encode(*pair).ids


@pytest.mark.parametrize("kind, found", [("missing", "does not exist"), ("empty", "holds no reader"),
                                         ("file", "is not a folder")])
def test_a_reader_setting_that_names_no_reader_names_the_variable(tmp_path, kind, found):
    folder = tmp_path / "reader"
    if kind == "empty":
        folder.mkdir()
    elif kind == "file":
        folder.write_text("")
    with pytest.raises(ModelError, match=f"ASSISTANT_READER names {folder}, which {found}") as info:
        load_reader(str(folder))
    assert "unset it" in info.value.hint and "Reinstall" not in info.value.hint


@pytest.fixture
def no_training_minutes(tmp_path, monkeypatch):
    """Should a check below stop refusing, main() returns 2 at once for want of minutes instead of training."""
    monkeypatch.setattr("assistant.answer.train.TRAIN_MINUTES", tmp_path / "absent.jsonl")


@pytest.mark.usefixtures("no_training_minutes")
@pytest.mark.parametrize("flag", ["--out", "--keep-last"])
def test_a_folder_holding_other_files_is_refused_before_training_instead_of_being_replaced(tmp_path, capsys, flag):
    """Training replaces its output folder whole: a folder with someone's files in it is refused up front."""
    from assistant.answer.train import main

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "minutes.docx").write_text("mine")
    (folder / "manifest.json").write_text("{}")  # a web project's, say: not enough to make it a reader's folder
    extra = ["--ema", "0.998"] if flag == "--keep-last" else []
    with pytest.raises(SystemExit) as stopped:
        main([flag, str(folder), *extra])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"{flag} {folder}: holds files that are not a reader's" in err and "give an empty or new folder" in err
    assert (folder / "minutes.docx").read_text() == "mine"


def test_a_work_folder_that_is_a_file_is_refused_with_a_message(tmp_path, capsys, monkeypatch):
    """A file given as --work failed with a FileExistsError traceback once the training minutes were found (from a
    maintainer's review)."""
    from assistant.answer.train import main

    minutes = tmp_path / "train_minutes.jsonl"
    minutes.write_text("")  # found, as in a checkout with ../shared: what let the run reach the folder
    monkeypatch.setattr("assistant.answer.train.TRAIN_MINUTES", minutes)
    work = tmp_path / "work.txt"
    work.write_text("mine")
    with pytest.raises(SystemExit) as stopped:
        main(["--work", str(work), "--out", str(tmp_path / "reader")])
    assert stopped.value.code == 2
    assert f"--work {work}: is a file, not a folder" in capsys.readouterr().err
    assert work.read_text() == "mine"


@pytest.mark.usefixtures("no_training_minutes")
def test_a_member_folder_holding_other_files_is_refused_before_training(tmp_path, capsys):
    from assistant.answer.train import main

    (tmp_path / "seed-1").mkdir()
    (tmp_path / "seed-1" / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit):
        main(["--ensemble", "2", "--seed", "0", "--keep-members", str(tmp_path)])
    assert f"--keep-members {tmp_path}: {tmp_path / 'seed-1'} holds files that are not a reader's" in (
        capsys.readouterr().err)


@pytest.mark.usefixtures("no_training_minutes")
def test_an_output_that_is_a_file_is_refused(tmp_path, capsys):
    from assistant.answer.train import main

    (tmp_path / "reader").write_text("a file")
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "reader")])
    assert "is a file" in capsys.readouterr().err


@pytest.mark.usefixtures("no_training_minutes")
def test_recalibrating_a_folder_without_a_reader_is_refused_with_a_message(tmp_path, capsys):
    from assistant.answer.train import main

    with pytest.raises(SystemExit):
        main(["--recalibrate", "--out", str(tmp_path / "missing")])
    assert "--recalibrate: no trained reader in" in capsys.readouterr().err


@pytest.mark.usefixtures("no_training_minutes")
@pytest.mark.parametrize("flag", ["--questions", "--layers", "--epochs", "--negatives"])
def test_counts_below_one_are_refused_with_a_message(capsys, flag):
    from assistant.answer.train import main

    with pytest.raises(SystemExit) as stopped:
        main([flag, "0"])
    assert stopped.value.code == 2
    assert f"{flag} 0: give 1 or more" in capsys.readouterr().err


def test_the_staging_folder_is_new_so_a_neighbours_folder_is_never_removed(tmp_path, monkeypatch):
    """The reader is written into a staging folder beside --out and moved into place: a folder that merely
    has the staging folder's old name ('reader.tmp') is left alone."""
    from assistant.answer.training import calibrate

    neighbour = tmp_path / "reader.tmp"
    neighbour.mkdir()
    (neighbour / "keep.txt").write_text("mine")
    seen = []

    def fake_save(model, base, folder, name):
        seen.append(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifest.json").write_text("{}")

    monkeypatch.setattr(calibrate, "save_reader", fake_save)
    monkeypatch.setattr(calibrate, "write_calibration", lambda folder, *args: None)
    calibrate.export_and_calibrate(None, tmp_path, tmp_path / "reader", "r", None, [], {})
    assert (neighbour / "keep.txt").read_text() == "mine"
    assert (tmp_path / "reader" / "manifest.json").is_file() and not seen[0].exists()
    assert seen[0].parent == tmp_path and seen[0] != neighbour


@pytest.mark.parametrize("change, said", [
    (lambda data: data["stage1"].update(names=data["stage1"]["names"][:-1], weights=data["stage1"]["weights"][:-1]),
     "was fitted on other features than this version of the assistant computes"),
    (lambda data: data.pop("refusal_threshold"), "lacks 'refusal_threshold'"),
    (lambda data: data.update(candidates_read="eight"), "is not one `train` wrote"),
])
def test_a_calibration_from_another_version_is_refused_with_what_to_do(tmp_path, change, said):
    """It ended `assistant ask` in a traceback (a ValueError or a bare KeyError) at the first question."""
    from assistant.answer.extractive import Calibration

    data = json.loads((READER_DIR / "calibration.json").read_text(encoding="utf-8"))
    change(data)
    (tmp_path / "calibration.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match=said) as refused:
        Calibration.load(tmp_path)
    assert str(tmp_path / "calibration.json") in refused.value.message
    assert "python -m assistant.answer.train" in refused.value.hint and "ASSISTANT_READER" in refused.value.hint
    (tmp_path / "calibration.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(ModelError, match="is not one `train` wrote"):
        Calibration.load(tmp_path)


def test_ask_with_a_reader_trained_by_another_version_says_so_without_a_traceback(tmp_path):
    import hashlib
    import shutil

    from cli_helpers import cli_env, run_cli
    from conftest import CORPUS

    older = tmp_path / "older-reader"
    shutil.copytree(READER_DIR, older)
    data = json.loads((older / "calibration.json").read_text(encoding="utf-8"))
    data["stage1"]["names"][0] = "a_feature_since_renamed"
    (older / "calibration.json").write_text(json.dumps(data), encoding="utf-8")
    manifest = json.loads((older / "manifest.json").read_text(encoding="utf-8"))  # as `train` would have written it
    manifest["sha256"]["calibration.json"] = hashlib.sha256((older / "calibration.json").read_bytes()).hexdigest()
    (older / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    env = cli_env(tmp_path / "index", ASSISTANT_READER=str(older))
    assert run_cli("ingest", str(CORPUS / "rotherham-2018-ilsc-performance-feedback.md"), "--no-progress", env=env).returncode == 0
    result = run_cli("ask", "How many children were discharged from care in Rotherham in 2018?", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "was trained by another version" in result.stderr and "python -m assistant.answer.train" in result.stderr


def test_an_ablation_of_a_folder_without_a_reader_is_refused_with_a_message(tmp_path, capsys):
    from assistant.answer.train import main

    with pytest.raises(SystemExit):
        main(["--ablation", "--out", str(tmp_path)])
    assert f"--ablation: no trained reader in {tmp_path} (it needs manifest.json" in capsys.readouterr().err


def test_the_ablation_table_has_a_row_for_all_inputs_the_reader_alone_and_each_input_left_out():
    from assistant.answer.training.calibrate import ablation, ablation_markdown
    from assistant.answer.training.examples import Example

    rng = np.random.default_rng(0)
    examples, readings, margins = [], [], []
    for n in range(40):
        answerable = n % 4 != 0
        labels = np.zeros(6, dtype=np.float32)
        if answerable:
            labels[n % 6] = 1.0
        features = rng.normal(size=(6, len(FEATURE_NAMES))).astype(np.float32)
        examples.append(Example(f"q{n}", f"Question {n}?", answerable, [f"Sentence {i}." for i in range(6)], labels,
                                [None] * 6, features, stage1=features[:, 0]))
        readings.append((labels * 4 + rng.normal(size=6)).astype(np.float32))
        margins.append(np.zeros(6, dtype=np.float32))
    rows = ablation(examples, readings, margins)
    assert [r["inputs"] for r in rows] == (["all inputs", "reader alone", "features alone (no reader)"]
                                           + [f"without {name}" for name in FEATURE_NAMES + ("reader",)])
    by_inputs = {r["inputs"]: r for r in rows}
    # The readings mark the answering sentence and the features are noise: the reader carries the choice.
    assert by_inputs["reader alone"]["top1"] > by_inputs["features alone (no reader)"]["top1"] + 0.3
    table = ablation_markdown(rows).splitlines()
    assert len(table) == len(rows) + 2 and table[2].startswith("| all inputs | ")


def test_the_learning_rate_help_and_the_readme_name_the_rate_the_shipped_reader_was_trained_at(capsys):
    """`--learning-rate`'s help, and the README, said the default 5e-5 'trained every shipped reader', where the
    README's own recipe for the shipped reader gives --learning-rate 1e-4."""
    import re

    from conftest import ROOT
    from assistant.answer.train import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recipe = re.search(r"The shipped reader is .*?trained on .*?with `([^`]+)`", readme, re.DOTALL).group(1)
    shipped_rate = re.search(r"--learning-rate (\S+)", recipe).group(1)
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "every shipped reader" not in help_text.partition("--learning-rate RATE")[2].partition("--fit-fusion")[0]
    assert f"the shipped reader was trained at {shipped_rate}" in help_text
    assert "by default as for every shipped reader" not in " ".join(readme.split())
