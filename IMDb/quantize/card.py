"""The int8 bundle's card: what of the source's card is still true of the quantized copy, how it
was quantized (``quantization``), and what this run measured on the new file."""
from __future__ import annotations

import json
from pathlib import Path

from IMDb.quantize.settings import MAX_BYTES, WEIGHT_ONLY_WHY, WEIGHT_TYPES, QuantizeSettings

# keys of the source's card that describe the trained network (true of the quantized copy too); every
# other key (figures, calibration, export parity) was measured on the float32 file and is left out
KEPT_KEYS = ("config", "data_checksum", "split_checksums", "tokenizer_fingerprint", "input_names", "steps",
             "epochs_run", "train_seconds", "seconds_per_step", "parameters", "machine", "output")
MEASURED_KEYS = ("figures", "int8_vs_fp32")  # what --no-evaluate carries over from an identical file
MEASURED_QUANTIZATION = ("accuracy", "throughput")  # ... with these of its ``quantization``
REWRITES_NOTE = ("exact rewrites made before quantizing (fp32 logits move by ~1e-6): 13-node layer norms -> "
                 "LayerNormalization (opset 13 -> 17), MatMul(K, Q^T) + Transpose of the scores -> MatMul(Q, K^T)")


def quantization_record(settings: QuantizeSettings, done: dict, graph: dict, sizes: tuple[int, int],
                        digest: str) -> dict:
    """The card's ``quantization``: the method and every setting, what the rewrites changed, the
    weight-only MatMuls, the graph's operator counts, the libraries, both sizes and the file's sha256."""
    import onnx
    import onnxruntime

    fp32_bytes, int8_bytes = sizes
    return {
        "method": "onnxruntime.quantization.quantize_dynamic (weights stored as 8-bit integers; activations "
                  "quantized per batch at run time; no calibration data, no retraining)",
        "weight_type": WEIGHT_TYPES[settings.weight_type],
        "per_channel": settings.per_channel, "reduce_range": settings.reduce_range,
        "op_types_to_quantize": (list(settings.op_types) if settings.op_types else
                                 "default (all supported: MatMul with constant weights, Gather)"),
        "quant_pre_process": settings.preprocess,
        "attention_matmuls_quantized": settings.attention_matmuls,
        "float32_graph_rewrites": {"layer_norms_fused": done["layer_norms_fused"],
                                   "attention_score_transposes_dropped": done["score_transposes_dropped"],
                                   "note": REWRITES_NOTE},
        "weight_only_int8": {"matmuls": done["weight_only"], "why": WEIGHT_ONLY_WHY} if done["weight_only"] else None,
        "quantized_graph": graph,
        "onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__,
        "fp32_bytes": fp32_bytes, "int8_bytes": int8_bytes,
        "size_ratio": round(int8_bytes / fp32_bytes, 4), "model_sha256": digest,
    }


def carried_over(previous: Path, digest: str) -> tuple[dict, dict]:
    """What a run that measures nothing keeps of the card at `previous` (the bundle it replaces):
    its measured entries and ``quantization`` figures, when its model.onnx was this very file (the
    same sha256); else nothing."""
    try:
        card = json.loads(previous.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    quantization = card.get("quantization") if isinstance(card, dict) else None
    if not isinstance(quantization, dict) or quantization.get("model_sha256") != digest:
        return {}, {}
    kept = {k: quantization[k] for k in MEASURED_QUANTIZATION if k in quantization}
    kept["figures_carried_over"] = "measured by an earlier run on this byte-identical model.onnx (same sha256)"
    return {k: card[k] for k in MEASURED_KEYS if k in card}, kept


def make_card(name: str, source_card: dict, quantization: dict, measured: dict, batch_size: int) -> dict:
    source = source_card["model"]
    card = {"model": name, "family": source_card.get("family", source), "quantized_from": source}
    card.update({k: source_card[k] for k in KEPT_KEYS if k in source_card})
    card["quantization"] = quantization
    card.update(measured)
    card["notes"] = (
        f"config, steps, epochs_run, train_seconds, seconds_per_step, parameters and machine describe "
        f"the training of the fp32 model ({source}) whose weights were quantized; figures.test and "
        f"int8_vs_fp32 were measured on this int8 file. Left out of {source}'s card: its validation "
        f"and training figures, calibration (temperature fitted on fp32 logits) and export parity "
        f"(onnx_max_abs_diff, logits_reexport), none of which was measured on this file; predictions "
        f"therefore use the plain softmax. Activation scales are computed per batch at run time, so an "
        f"int8 logit depends slightly on the other reviews in its batch: the figures were measured with "
        f"batches of {batch_size} in test-split order.")
    return card


def summary(card: dict, out: Path) -> str:
    """The lines printed at the end: size, throughput, accuracy and agreement against their targets."""
    q = card["quantization"]
    lines = [f"{card['model']} ({out}): {q['weight_type']}, per_channel={q['per_channel']}, "
             f"reduce_range={q['reduce_range']}, graph {q['quantized_graph']}",
             f"  size        {q['int8_bytes'] / 1e6:.1f} MB (fp32 {q['fp32_bytes'] / 1e6:.1f} MB, "
             f"{q['size_ratio']:.1%}); target <= {MAX_BYTES / 1e6:.0f} MB"]
    if "throughput" in q:
        t = q["throughput"]
        lines.append(f"  throughput  int8 {t['int8_reviews_per_s']:.2f} vs fp32 {t['fp32_reviews_per_s']:.2f} "
                     f"reviews/s = {t['ratio']:.2f}x")
    if "accuracy" in q:
        a = q["accuracy"]
        lines.append(f"  accuracy    int8 {a['int8_test']:.4f} vs fp32 {a['fp32_test']:.4f} "
                     f"({a['difference']:+.4f}; fp32: {a['fp32_test_source']})")
    if "int8_vs_fp32" in card:
        c = card["int8_vs_fp32"]
        lines.append(f"  agreement   {c['same_prediction']:.2%} same class on {c['test_reviews_compared']:,} test "
                     f"reviews; max |logit diff| {c['max_abs_logit_diff']:.3f}")
    if "figures" in card:
        f = card["figures"]["test"]
        lines.append(f"  test        loss {f['loss']:.4f}, accuracy {f['accuracy']:.4f}, {f['samples']:,} reviews")
    return "\n".join(lines)
