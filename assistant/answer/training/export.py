"""Exporting a trained reader to int8 ONNX, a file per ensemble member, with a manifest of sha256 sums."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from assistant.answer.reader import BUNDLED_TOKEN_EMBEDDINGS, MAX_TOKENS, READER_OUTPUTS, model_files, sha256_of
from assistant.files import write_atomically

log = logging.getLogger(__name__)

# An ensemble's later members read only the first member's best four candidates (its manifest's second_reads):
# as good as reading all 12 on validation, in about two thirds of the time (eval/README.md, "Twenty-sixth round").
SECOND_MEMBER_READS = 4


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


