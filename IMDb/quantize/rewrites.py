"""Exact rewrites of the float32 graph, made before quantizing, for speed: the same arithmetic in
fewer or better-placed nodes (the float32 logits move by about 1e-6). Each edits an ``onnx``
ModelProto in place and returns how many places it rewrote; a place that does not match the pattern
exactly (or whose intermediate something else reads) is left as it is."""
from __future__ import annotations


def _users(graph) -> dict[str, list]:
    """Tensor name -> the nodes that read it (each node once per tensor)."""
    users: dict[str, list] = {}
    for node in graph.node:
        for name in dict.fromkeys(node.input):
            users.setdefault(name, []).append(node)
    return users


def _replace_nodes(graph, nodes: list) -> None:
    del graph.node[:]
    graph.node.extend(nodes)


def drop_unused_initializers(graph) -> None:
    """Remove the weights no node (and no output) reads any more."""
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def _layer_norm_chain(mean, users: dict[str, list]) -> list | None:
    """The 13 nodes of tf2onnx's decomposed layer norm that starts at GlobalAveragePool `mean`, in
    order (mean, sub, neg, square, variance, plus_eps, sqrt, reciprocal, scale, x_scaled,
    mean_scaled, shift, out), or None where the graph there is not that pattern."""
    def one(name: str, op: str, *, with_input: str | None = None):
        found = [u for u in users.get(name, [])
                 if u.op_type == op and (with_input is None or with_input in u.input)]
        return found[0] if len(found) == 1 else None

    x, m = mean.input[0], mean.output[0]
    sub, neg = one(m, "Sub", with_input=x), one(m, "Neg")
    square = sub and one(sub.output[0], "Mul")
    variance = (square and list(square.input) == [sub.output[0]] * 2
                and one(square.output[0], "GlobalAveragePool"))
    plus_eps = variance and one(variance.output[0], "Add")
    sqrt = plus_eps and one(plus_eps.output[0], "Sqrt")
    reciprocal = sqrt and one(sqrt.output[0], "Reciprocal")
    scale = reciprocal and one(reciprocal.output[0], "Mul")
    x_scaled = scale and neg and one(scale.output[0], "Mul", with_input=x)
    mean_scaled = x_scaled and one(scale.output[0], "Mul", with_input=neg.output[0])
    shift = mean_scaled and one(mean_scaled.output[0], "Add")
    out = shift and one(shift.output[0], "Add", with_input=x_scaled.output[0])
    if not out:
        return None
    return [mean, sub, neg, square, variance, plus_eps, sqrt, reciprocal, scale, x_scaled, mean_scaled, shift, out]


def _flat_weight(inits: dict, graph, name: str) -> str:
    """The name of a [H] copy of weight `name` ([1, 1, H]), as LayerNormalization takes it."""
    from onnx import numpy_helper

    flat = f"{name}/flat"
    if flat not in inits:
        inits[flat] = numpy_helper.from_array(numpy_helper.to_array(inits[name]).reshape(-1), flat)
        graph.initializer.append(inits[flat])
    return flat


def fuse_layer_norms(model) -> int:
    """Replace each of tf2onnx's decomposed layer norms (mean by GlobalAveragePool, SquaredDifference,
    variance, + epsilon, Sqrt, Reciprocal, * gamma, x * that + (beta - mean * that): 13 nodes) with one
    ``LayerNormalization`` (a standard operator from opset 17, to which the model is raised; the
    other operators of this graph mean the same at 17 as at 13). Returns the layer norms fused."""
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    users = _users(graph)
    outputs = {o.name for o in graph.output}
    replaced: dict[int, object] = {}
    dropped: set[int] = set()
    for mean in [n for n in graph.node if n.op_type == "GlobalAveragePool"]:
        chain = _layer_norm_chain(mean, users)
        if chain is None:
            continue
        _, _, _, _, _, plus_eps, _, reciprocal, scale, _, mean_scaled, shift, out = chain
        eps = plus_eps.input[1]
        gamma = next(i for i in scale.input if i != reciprocal.output[0])
        beta = next(i for i in shift.input if i != mean_scaled.output[0])
        inner = {o for n in chain[:-1] for o in n.output}
        if (not all(name in inits for name in (eps, gamma, beta)) or inner & outputs
                or any(u not in chain for o in inner for u in users.get(o, []))):
            continue  # something else reads an intermediate: left as it is
        replaced[id(out)] = helper.make_node(
            "LayerNormalization", [mean.input[0], _flat_weight(inits, graph, gamma), _flat_weight(inits, graph, beta)],
            list(out.output), name=f"{out.name}/LayerNormalization",
            axis=-1, epsilon=float(numpy_helper.to_array(inits[eps])))
        dropped.update(id(n) for n in chain)
    _replace_nodes(graph, [replaced.get(id(n), n) for n in graph.node if id(n) in replaced or id(n) not in dropped])
    drop_unused_initializers(graph)
    if replaced:
        for opset in model.opset_import:
            if opset.domain in ("", "ai.onnx"):
                opset.version = max(opset.version, 17)
    return len(replaced)


def untranspose_attention_scores(model) -> int:
    """tf2onnx lowers each attention ``einsum`` to MatMul(K, Q^T) followed by a Transpose of the
    [batch, heads, seq, seq] scores, the largest tensor of the graph. Since (A B)^T = B^T A^T, the
    same scores come out of MatMul(Q, K^T) with the two small input Transposes' permutations
    composed with the swap of the last two axes, and the big Transpose is dropped: the same
    products, laid out as the next node reads them. Returns the Transposes dropped."""
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    users = _users(graph)
    outputs = {o.name for o in graph.output}
    swap = (0, 1, 3, 2)
    dropped = []
    for matmul in [n for n in graph.node if n.op_type == "MatMul"]:
        after = users.get(matmul.output[0], [])
        before = [producer.get(i) for i in matmul.input]
        if (len(after) != 1 or after[0].op_type != "Transpose" or matmul.output[0] in outputs
                or any(b is None or b.op_type != "Transpose" or len(users.get(b.output[0], [])) != 1
                       for b in before)):
            continue
        perms = [list(next(a.ints for a in t.attribute if a.name == "perm")) for t in (after[0], *before)]
        if any(len(p) != 4 for p in perms) or perms[0] != list(swap):
            continue
        for node, perm in zip(before, perms[1:]):
            next(a for a in node.attribute if a.name == "perm").ints[:] = [perm[i] for i in swap]
        matmul.input[:] = [matmul.input[1], matmul.input[0]]
        matmul.output[0] = after[0].output[0]
        dropped.append(after[0])
    _replace_nodes(graph, [n for n in graph.node if all(n is not d for d in dropped)])
    return len(dropped)
