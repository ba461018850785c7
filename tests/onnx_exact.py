"""An int8 ONNX model with each MatMulInteger done exactly, in float arithmetic on the same integers: what a CPU
whose int8 kernels never saturate computes. Comparing onnxruntime's answer with it on the machine at hand shows
whether a model scores the same on every CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def exact_session(model_path: Path):
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(model_path))
    graph = model.graph
    initial = {i.name: i for i in graph.initializer}
    nodes = list(graph.node)
    used_by: dict[str, list] = {}
    for node in nodes:
        for name in node.input:
            used_by.setdefault(name, []).append(node)
    instead: dict[int, list] = {}
    dropped: set[int] = set()
    weights = []
    for k, node in enumerate(nodes):
        if node.op_type != "MatMulInteger":
            continue
        quantised, weight, zero, weight_zero = node.input
        [cast] = used_by[node.output[0]]  # the int32 product, cast to float
        centred = (numpy_helper.to_array(initial[weight]).astype(np.float32)
                   - numpy_helper.to_array(initial[weight_zero]).astype(np.float32))
        weights.append(numpy_helper.from_array(centred, f"exact_weight_{k}"))
        instead[id(node)] = [
            helper.make_node("Cast", [quantised], [f"exact_a_{k}"], to=TensorProto.FLOAT),
            helper.make_node("Cast", [zero], [f"exact_zero_{k}"], to=TensorProto.FLOAT),
            helper.make_node("Sub", [f"exact_a_{k}", f"exact_zero_{k}"], [f"exact_centred_{k}"]),
            helper.make_node("MatMul", [f"exact_centred_{k}", f"exact_weight_{k}"], [cast.output[0]]),
        ]
        dropped.add(id(cast))
    assert instead, f"{model_path} has no MatMulInteger: it is not an int8 model"
    rebuilt = [new for node in nodes if id(node) not in dropped for new in instead.get(id(node), [node])]
    del graph.node[:]
    graph.node.extend(rebuilt)
    graph.initializer.extend(weights)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # the int8 weights left unused are reported at warning level
    return onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


# Without VNNI, onnxruntime multiplies uint8 activations by int8 weights and adds neighbouring pairs in int16
# (vpmaddubsw). The pair sum stays within int16 whatever the CPU when every weight is at most 64 from its zero
# point: 2 * 255 * 64 = 32,640 <= 32,767, where 65 would give 33,150.
WIDEST_SAFE_WEIGHT = 64


def widest_weight(model_path: Path) -> int:
    """The largest distance of any MatMulInteger weight from its zero point: at most WIDEST_SAFE_WEIGHT for a
    model that computes the same on every CPU, checked without needing a CPU that lacks VNNI."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_path))
    initial = {i.name: i for i in model.graph.initializer}
    widest = None
    for node in model.graph.node:
        if node.op_type == "MatMulInteger":
            _, weight, _, weight_zero = node.input
            centred = (numpy_helper.to_array(initial[weight]).astype(np.int32)
                       - numpy_helper.to_array(initial[weight_zero]).astype(np.int32))
            widest = max(widest or 0, int(np.abs(centred).max()))
    assert widest is not None, f"{model_path} has no MatMulInteger: it is not an int8 model"
    return widest
