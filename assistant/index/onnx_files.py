"""ONNX files: make the embedder's once from the bundled weights, and open any of them on onnxruntime.

The query path never imports torch: the embedder calls `ensure_onnx`, which only checks the cache and,
when the file is missing, runs this module in a child process (`python -m assistant.index.onnx_files`).
The child loads the weights with torch, exports mean pooling and L2 normalisation inside the graph, and
writes the file beside the model with its sha256. The parent never holds torch in memory.

Precisions: ``fp32`` is the exported graph as it is; ``int8`` is that graph after onnxruntime's dynamic
quantisation, with a scale per output channel of each weight matrix (activations are quantised on the
fly). One scale per whole matrix is a little faster but moved vectors much further from fp32 here (mean
cosine 0.91 against 0.99), so it is not offered.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from assistant.errors import ModelError
from assistant.files import write_atomically
from assistant.index.models import sha256_of

PRECISIONS = ("fp32", "int8")
# Bump when the exported graph changes, so caches made by older code are made again.
EXPORT_VERSION = "2"  # 2: int8 weights in 7 bits (see export)


def onnx_path(model_folder: Path, precision: str) -> Path:
    return model_folder / "onnx" / f"embedder-v{EXPORT_VERSION}-{precision}.onnx"


def cached_onnx(model_folder: Path, precision: str) -> Path | None:
    """The cached file when it is there and matches the sha256 written beside it; None otherwise.

    Hashing 90 MB on every start would cost a cold ask about a tenth of a second, so the file is hashed
    when it is made and again whenever its size or modification time differ from what the record saw.
    """
    path = onnx_path(model_folder, precision)
    record_path = path.with_suffix(".json")
    try:
        record = json.loads(record_path.read_text())
        expected = record["sha256"]
        stat = path.stat()
    except (OSError, ValueError, KeyError):
        return None
    if record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns:
        return path
    if sha256_of(path) != expected:
        return None
    write_atomically(record_path, json.dumps({**record, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))
    return path


def ensure_onnx(model_folder: Path, precision: str) -> Path:
    """The model's ONNX file at this precision, made in a child process the first time it is asked for."""
    if precision not in PRECISIONS:
        raise ModelError(f"Unknown embedder precision {precision!r}.",
                         f"Set ASSISTANT_EMBED_PRECISION to one of {', '.join(PRECISIONS)}.")
    found = cached_onnx(model_folder, precision)
    if found is not None:
        return found
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "assistant.index.onnx_files", str(model_folder), precision],
                          capture_output=True, text=True, env=env)
    found = cached_onnx(model_folder, precision)
    if done.returncode != 0 or found is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ModelError(f"Could not make the ONNX embedder in {onnx_path(model_folder, precision).parent}: "
                         + " | ".join(tail),
                         "Check that torch and onnx are installed (`scripts/bootstrap.sh`), and that the model "
                         "folder is writable; delete the folder's onnx/ subfolder to start again.")
    return found


def open_session(path: Path, threads: int | None = None, spin: bool = True):
    """An onnxruntime session on the CPU with a fixed number of threads (one per core, up to four).

    By default its threads keep onnxruntime's habit of spinning briefly after each step, waiting for the
    next: stopping that made the reader about 15% slower here on an otherwise idle machine. `spin=False` is
    for the embedder, whose one query vector is made just before the reader runs: its idle threads spinning
    on both cores took the CPU from the reader's (warm ask p50 of 100 dev questions, the median of three
    alternating runs on 2 cores: 207.9 ms spinning, 156.3 ms not), while ingest took the same time either way.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
    options.inter_op_num_threads = 1
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export(model_folder: Path, precision: str) -> Path:
    """Export the model (torch, in this process) and write it atomically with its sha256 record."""
    target = onnx_path(model_folder, precision)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as scratch:
        fp32 = Path(scratch) / "fp32.onnx"
        _export_fp32(model_folder, fp32)
        made = fp32
        if precision == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            made = Path(scratch) / "int8.onnx"
            # 7-bit weights (reduce_range): on CPUs without VNNI, onnxruntime multiplies int8 pairs into int16
            # sums that saturate with full 8-bit weights, so the same file gave other vectors there (cosine
            # 0.991 to the exact ones). With 7 bits nothing saturates and every CPU computes the same vectors.
            quantize_dynamic(str(fp32), str(made), weight_type=QuantType.QInt8, per_channel=True,
                             reduce_range=True)
        digest = sha256_of(made)
        os.replace(made, target)  # the file first, then the record that vouches for it
        write_atomically(target.with_suffix(".json"),
                         json.dumps({"sha256": digest, "precision": precision, "export_version": EXPORT_VERSION}))
    return target


def _export_fp32(model_folder: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        """The encoder with sentence-transformers' mean pooling and normalisation, as one graph."""

        def __init__(self, encoder) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    encoder = AutoModel.from_pretrained(str(model_folder), local_files_only=True)
    model = Pooled(encoder).eval()
    example = (torch.ones(2, 16, dtype=torch.long), torch.ones(2, 16, dtype=torch.long),
               torch.zeros(2, 16, dtype=torch.long))
    with torch.no_grad():
        torch.onnx.export(model, example, str(out), input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["sentence_embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        "token_type_ids": {0: "batch", 1: "tokens"},
                                        "sentence_embedding": {0: "batch"}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export a sentence-transformers folder to ONNX (mean pooled, normalised).")
    parser.add_argument("model_folder", type=Path)
    parser.add_argument("precision", choices=PRECISIONS)
    args = parser.parse_args(argv)
    print(export(args.model_folder, args.precision))
    return 0


if __name__ == "__main__":
    sys.exit(main())
