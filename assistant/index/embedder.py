"""Embedders: the protocol, the bundled model on onnxruntime, any sentence-transformers folder on torch, and a
deterministic fake for tests."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

from assistant.errors import ModelError
from assistant.settings import BUNDLED_EMBEDDING_MODEL, Settings

HASHING_MODEL = "fake:hashing"
PRECISION_MARK = "@"  # an embedder's name is its model's, then this mark and the precision when not fp32


def model_of(embedder_name: str) -> str:
    """The embedding model an embedder's name stands for, whatever its precision (`all-MiniLM-L6-v2@int8`)."""
    return embedder_name.split(PRECISION_MARK)[0]


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retriever need from an embedding model."""

    name: str

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def fits(self, text: str) -> bool:
        """True when the model sees the whole text, without truncating it."""
        ...


class OnnxEmbedder:
    """The bundled MiniLM on onnxruntime, tokenised by the Rust tokenizer: no torch in the process.

    The ONNX file is made from the bundled weights on first use (see `onnx_files`). Texts are embedded
    shortest first, in batches of similar length, so little time goes on padding.
    """

    def __init__(self, settings: Settings, precision: str = "fp32", batch_size: int = 8, threads: int | None = None) -> None:
        # fp32 vectors match sentence-transformers' to float rounding, so indexes built either way mix;
        # int8 vectors do not, and an index records which it was built with.
        self.name = BUNDLED_EMBEDDING_MODEL if precision == "fp32" else f"{BUNDLED_EMBEDDING_MODEL}{PRECISION_MARK}{precision}"
        self.precision = precision
        from assistant.index.onnx_files import EXPORT_VERSION

        # Which export of the weights makes the vectors: a new export (v1 to v2 made int8 weights 7-bit) gives other
        # vectors under the same name, so a vector kept for a chunk written again must be of this one.
        self.vectors_made_by = f"{self.name} export {EXPORT_VERSION}"
        self._settings = settings
        self._batch_size = batch_size
        self._threads = threads
        self._folder: Path | None = None
        self._session = None
        self._tokenizer = None
        self._counter = None
        self.max_tokens = 0  # read from the model folder on first use
        self._lock = threading.Lock()

    def _load_tokenizers(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        config = json.loads((folder / "sentence_bert_config.json").read_text())
        self.max_tokens = int(config.get("max_seq_length", 256))
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.no_padding()
        counter.no_truncation()
        counter.no_padding()
        self._tokenizer, self._counter = tokenizer, counter

    def _ready(self, session: bool = True) -> None:
        with self._lock:
            if self._counter is None:
                from assistant.index.models import ensure_bundled_model

                self._folder = ensure_bundled_model(self._settings.model_dir)
                self._load_tokenizers(self._folder)
            if session and self._session is None:
                from assistant.index.onnx_files import ensure_onnx, open_session

                self._session = open_session(ensure_onnx(self._folder, self.precision), self._threads, spin=False)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        self._ready()
        import numpy as np

        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        # Pad each batch only to its own longest text: embed shortest first, then put back in order.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        parts = []
        for start in range(0, len(order), self._batch_size):
            rows = order[start:start + self._batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            (vectors,) = self._session.run(["sentence_embedding"], {
                "input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
            parts.append(vectors)
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(parts)
        return out.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def fits(self, text: str) -> bool:
        return self.count_model_tokens(text) <= self.max_tokens

    def count_model_tokens(self, text: str) -> int:
        self._ready(session=False)
        return len(self._counter.encode(text, add_special_tokens=True).ids)


class SentenceTransformerEmbedder:
    """A sentence-transformers model on torch, on the CPU, loaded on first use, vectors L2-normalised.

    Any local sentence-transformers folder works here; it is slower than the ONNX path and loads torch.
    """

    def __init__(self, model: str, settings: Settings, batch_size: int = 64) -> None:
        self.name = model
        self._settings = settings
        self._batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                self._model = _load_sentence_transformer(self.name, self._settings)
            return self._model

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def fits(self, text: str) -> bool:
        model = self.model
        ids = model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"]
        return len(ids) <= model.max_seq_length

    def count_model_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def _load_sentence_transformer(name: str, settings: Settings):
    if name == BUNDLED_EMBEDDING_MODEL:
        from assistant.index.models import ensure_bundled_model

        path = str(ensure_bundled_model(settings.model_dir))
    else:
        path = name
        if not Path(name).exists():
            raise ModelError(
                f"The embedding model {name!r} is not a local folder.",
                "Models are never downloaded: point ASSISTANT_EMBEDDING_MODEL at a sentence-transformers "
                f"folder on disk, or unset it to use the bundled {BUNDLED_EMBEDDING_MODEL}.",
            )
    import logging
    import os

    # The model is on disk: make sure no library even asks a hub about it, whatever the environment says.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    try:
        return SentenceTransformer(path, device="cpu", local_files_only=True)
    except Exception as exc:  # a broken folder: say which one and how to recover
        raise ModelError(f"Could not load the embedding model from {path}: {exc}",
                         "Check the folder, or delete it from ASSISTANT_MODEL_DIR to extract it again.") from exc


class HashingEmbedder:
    """Deterministic, fast and offline: hashed word and word-pair counts, L2-normalised.

    Texts sharing words get similar vectors, which is enough for tests of the pipeline.
    """

    def __init__(self, dimension: int = 256, max_words: int | None = None) -> None:
        self.name = HASHING_MODEL
        self.dimension = dimension
        self.max_words = max_words

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def fits(self, text: str) -> bool:
        return self.max_words is None or len(text.split()) <= self.max_words

    def _vector(self, text: str) -> list[float]:
        words = re.findall(r"[a-z0-9%.]+", text.lower())
        vector = [0.0] * self.dimension
        for feature in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
            h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
            vector[h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name: the bundled MiniLM by default."""
    if settings.embedding_model == HASHING_MODEL:
        return HashingEmbedder()
    if settings.embedding_model == BUNDLED_EMBEDDING_MODEL and settings.embed_precision != "torch":
        return OnnxEmbedder(settings, settings.embed_precision)
    return SentenceTransformerEmbedder(settings.embedding_model, settings, batch_size=settings.embed_batch)

