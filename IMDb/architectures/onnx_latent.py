"""The ``latent`` layer in a model's ONNX graph: what the analysis reads beside the logits.

The served ``model.onnx`` keeps one output, ``logits`` (the platform's importer and code-loader
check it), so the analysis runs an in-memory copy with the latent layer's output added as a second
output ``latent`` (`with_latent_output`); the file is not changed.

The layer's output is found the same way in every graph (`latent_tensor`): of the tensors every path
from the inputs to ``logits`` passes through (the graph's cuts), the one nearest to ``logits`` that the
layer named ``latent`` made (its name lies in that layer's scope, ``.../latent/...`` or, as the
exporter dedupes scopes, ``.../latent_1/...``). Being a cut is what makes a tensor the layer's output
rather than a step inside it, and it is what a quantizer keeps: it rewrites the head's matrix
product, but the float tensor the head reads is still the one cut before it.
"""
from __future__ import annotations

import re
from pathlib import Path

from IMDb.architectures import LATENT_LAYER, OUTPUT_NAME
from IMDb.errors import ModelError

_IN_LATENT_SCOPE = re.compile(rf"(^|/){LATENT_LAYER}(_\d+)?/")


def cuts(graph, output: str = OUTPUT_NAME) -> list[str]:
    """The tensors every path from the graph's inputs to `output` passes through, nearest first
    (`output` itself first). Walked back in the graph's topological order: the tensors not yet
    expanded always separate the inputs from `output`, so whenever only one is left, it is a cut."""
    made_by = {t: i for i, node in enumerate(graph.node) for t in node.output}
    weights = {w.name for w in graph.initializer}
    varying = {i.name for i in graph.input} - weights  # tensors that depend on an input, not on weights alone
    for node in graph.node:
        if any(t in varying for t in node.input):
            varying.update(node.output)
    frontier, found = {output}, []
    while frontier:
        if len(frontier) == 1:
            found.append(next(iter(frontier)))
        latest = max(frontier, key=lambda t: made_by.get(t, -1))
        if latest not in made_by:  # only graph inputs are left
            break
        frontier.remove(latest)
        frontier.update(t for t in graph.node[made_by[latest]].input if t in varying)
    return found


def latent_tensor(graph) -> str | None:
    """The name of the ``latent`` layer's output tensor in `graph` (see the module docstring), or None."""
    return next((t for t in cuts(graph) if _IN_LATENT_SCOPE.search(t)), None)


def with_latent_output(path: str | Path) -> bytes:
    """The ONNX model at `path`, serialized, with a second output ``latent`` (float32 [batch, width]):
    the latent layer's output, through an Identity node so the name is the same for every model."""
    import onnx

    model = onnx.load(str(path))
    found = latent_tensor(model.graph)
    if found is None:
        raise ModelError(f"{path} has no output of a layer named {LATENT_LAYER!r} before {OUTPUT_NAME!r}: "
                         f"the analysis reads that layer (see IMDb/architectures/__init__.py)")
    model.graph.node.append(onnx.helper.make_node("Identity", [found], [LATENT_LAYER], name=LATENT_LAYER))
    model.graph.output.append(onnx.helper.make_tensor_value_info(LATENT_LAYER, onnx.TensorProto.FLOAT,
                                                                 None))
    return model.SerializeToString()
