"""The quantization itself: the exact float32 rewrites (`IMDb.quantize.rewrites`), ONNX Runtime's
`quantize_dynamic`, and the weight-only int8 MatMuls it is told to leave alone (`weight_only_int8`)."""
from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from IMDb.quantize import rewrites
from IMDb.quantize.settings import WEIGHT_TYPES, QuantizeSettings


def ffn_output_matmuls(model, layers: tuple[int, ...]) -> list[str]:
    """The MatMuls of the feed-forward output dense layers of the given transformer layers (input:
    the GELU output, whose outlier-dominated range per-tensor activation quantization handles worst)."""
    wanted = {f"transformer_layer_{i}_" for i in layers}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and "feedforward_output_dense" in n.name
            and any(w in n.name for w in wanted)]


def weight_only_int8(model, node_names: list[str]) -> int:
    """Store the constant weight of each named MatMul as int8, one symmetric scale per output column,
    behind a ``DequantizeLinear``: the file is as small as if the MatMul were quantized, while it
    still multiplies float32 activations (no activation rounding). Returns the MatMuls changed."""
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    added = []
    for node in graph.node:
        if node.op_type != "MatMul" or node.name not in node_names or node.input[1] not in inits:
            continue
        weight = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        if weight.ndim != 2:
            continue
        scale = np.abs(weight).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        base = node.input[1]
        names = (f"{base}/int8", f"{base}/scale", f"{base}/zero_point", f"{base}/dequantized")
        graph.initializer.extend([numpy_helper.from_array(q, names[0]),
                                  numpy_helper.from_array(scale.astype(np.float32), names[1]),
                                  numpy_helper.from_array(np.zeros(len(scale), np.int8), names[2])])
        added.append(helper.make_node("DequantizeLinear", list(names[:3]), [names[3]],
                                      name=f"{node.name}/DequantizeWeight", axis=1))
        node.input[1] = names[3]
    nodes = added + list(graph.node)  # weights only: they can run first
    del graph.node[:]
    graph.node.extend(nodes)
    rewrites.drop_unused_initializers(graph)
    return len(added)


def quantize(source: Path, target: Path, settings: QuantizeSettings) -> dict:
    """Write the int8 model of float32 ONNX file `source` to `target`: the exact rewrites first
    (with `settings.rewrite`), then `quantize_dynamic` with the weight-only MatMuls excluded from it
    and given int8 weights instead. Returns what was done (counts, and those MatMuls' names)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(source))
    weight_only = ffn_output_matmuls(model, settings.weight_only_layers)
    done = {"layer_norms_fused": rewrites.fuse_layer_norms(model) if settings.rewrite else 0,
            "score_transposes_dropped": rewrites.untranspose_attention_scores(model) if settings.rewrite else 0,
            "weight_only": weight_only}
    prepared = target.with_name(target.stem + ".fp32.onnx")
    onnx.save(model, str(prepared))
    if settings.preprocess:
        from onnxruntime.quantization.shape_inference import quant_pre_process

        processed = target.with_name(target.stem + ".pre.onnx")
        quant_pre_process(str(prepared), str(processed), skip_symbolic_shape=True)
        processed.replace(prepared)
    with _library_warnings_off():  # its advice to pre-process: the choice is the settings' (`preprocess`)
        quantize_dynamic(str(prepared), str(target), op_types_to_quantize=list(settings.op_types or []) or None,
                         per_channel=settings.per_channel, reduce_range=settings.reduce_range,
                         nodes_to_exclude=weight_only,
                         extra_options={"MatMulConstBOnly": not settings.attention_matmuls},
                         weight_type=getattr(QuantType, WEIGHT_TYPES[settings.weight_type]))
    prepared.unlink()
    if weight_only:
        model = onnx.load(str(target))
        weight_only_int8(model, weight_only)
        onnx.save(model, str(target))
    return done


@contextlib.contextmanager
def _library_warnings_off() -> Iterator[None]:
    """ONNX Runtime's quantization logs advice through the root logger; none of it is the user's to act on."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def graph_summary(path: Path) -> dict:
    """Operator counts of the quantized graph: how many MatMuls became integer ones."""
    import onnx

    ops = Counter(node.op_type for node in onnx.load(str(path)).graph.node)
    return {op: ops[op] for op in ("MatMulInteger", "DynamicQuantizeLinear", "DequantizeLinear", "MatMul",
                                   "Gather", "LayerNormalization") if ops[op]}
