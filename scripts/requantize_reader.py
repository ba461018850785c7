"""Quantise an exported reader's weights again, in 7 bits per output channel, without retraining it.

    python scripts/requantize_reader.py FOLDER
    python -m assistant.answer.train --out FOLDER --recalibrate

Readers exported before `export_onnx` used 7-bit weights hold full 8-bit ones, which onnxruntime's int8 kernels
saturate on CPUs without VNNI: the same file scored differently from machine to machine. This rebuilds each
quantised MatMul's float weights from its int8 values and scale (exactly the weights the reader ran with), then
quantises the float model as `export_onnx` now does. The calibration must be refitted afterwards (second command),
because the scores move a little.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path


def dequantised(model):
    """The graph with every MatMulInteger (and the quantising of its input) replaced by a float MatMul."""
    import numpy as np
    from onnx import helper, numpy_helper

    from assistant.answer.training.export import drop_dead_nodes

    graph = model.graph
    initial = {i.name: i for i in graph.initializer}
    nodes = list(graph.node)
    made_by = {output: node for node in nodes for output in node.output}
    used_by: dict[str, list] = {}
    for node in nodes:
        for name in node.input:
            used_by.setdefault(name, []).append(node)
    replaced: dict[int, object] = {}
    weights = []
    for node in nodes:
        if node.op_type != "MatMulInteger":
            continue
        quantised_input, weight, _, weight_zero = node.input
        [cast] = used_by[node.output[0]]
        [rescale] = used_by[cast.output[0]]  # Mul(Cast(int32 product), input scale * weight scale)
        weight_scale = next(i for i in made_by[rescale.input[1]].input if i in initial)
        values = (numpy_helper.to_array(initial[weight]).astype(np.float32)
                  - numpy_helper.to_array(initial[weight_zero]).astype(np.float32))
        values *= numpy_helper.to_array(initial[weight_scale]).astype(np.float32)
        weights.append(numpy_helper.from_array(values, f"{weight}_float"))
        float_input = made_by[quantised_input].input[0]  # what DynamicQuantizeLinear quantised
        replaced[id(rescale)] = helper.make_node("MatMul", [float_input, weights[-1].name], [rescale.output[0]],
                                                 name=f"{node.name}_float")
    del graph.node[:]
    graph.node.extend(replaced.get(id(node), node) for node in nodes)
    graph.initializer.extend(weights)
    drop_dead_nodes(graph)  # the quantising of each input, and the int8 weights
    return model


def requantise(folder: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.index.models import sha256_of

    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    if "model" not in manifest:
        raise SystemExit(f"{folder} holds an ensemble's members, which the training script already writes with 7-bit "
                         "weights: there is nothing to requantise.")
    model_path = folder / manifest["model"]
    with tempfile.TemporaryDirectory() as scratch:
        float_path = Path(scratch) / "float.onnx"
        onnx.save(dequantised(onnx.load(str(model_path))), str(float_path))
        # As export_onnx does; only MatMul, so the embedding table stays as it was quantised.
        quantize_dynamic(str(float_path), str(model_path), op_types_to_quantize=["MatMul"],
                         weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
    manifest["name"] = manifest["name"] + "-7bit"
    manifest["sha256"][manifest["model"]] = sha256_of(model_path)
    manifest_path.write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "manifest.json").is_file():
        sys.exit("usage: python scripts/requantize_reader.py FOLDER  (a reader folder, with its manifest.json)")
    requantise(Path(sys.argv[1]))
