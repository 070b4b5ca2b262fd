"""`imdb-leap quantize`: dynamic int8 quantization of a trained model's ONNX file, e.g. the shipped
BERT: models/bert -> models/bert-int8.

ONNX Runtime's `quantize_dynamic` stores the weights of the MatMuls with a constant weight (the
attention projections, the feed-forward layers, the classifier) as int8, one scale per output column,
and the token-embedding table (a Gather) as 8-bit; activations are quantized per batch at run time
(``DynamicQuantizeLinear`` -> ``MatMulInteger``). Nothing is calibrated or retrained, so the tokenizer
is the source's own (copied unchanged; the card's fingerprint matches). Two measured choices around it:

- Before quantizing, two exact rewrites of the float32 graph (logits move by ~1e-6), for speed
  (`rewrites`): tf2onnx's 13-node layer norms become ``LayerNormalization`` (opset 13 -> 17), and
  each attention layer's MatMul(K, Q^T) + Transpose of the [batch, 12, 256, 256] scores becomes
  MatMul(Q, K^T).
- The feed-forward output MatMuls of layers 0-2 are not dynamically quantized (their input, the GELU
  output, has the outlier-dominated range per-tensor activation quantization handles worst; with all
  six dynamic, 0.65 points of accuracy were lost on 2,000 test reviews): their weights are int8 behind
  a ``DequantizeLinear`` and they multiply float32 activations (`int8`, `settings.WEIGHT_ONLY_LAYERS`).

Quantization is deterministic: the same source and settings give a byte-identical model.onnx. The
run then measures what the card reports (`measure`: throughput; `evaluate`: accuracy and agreement
with the source), and writes the bundle atomically through `IMDb.bundle` (`run`). Modules, by concern:
`settings` (the choices), `rewrites`, `int8`, `measure`, `evaluate`, `card`, `run`.
"""
