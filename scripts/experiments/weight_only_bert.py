#!/usr/bin/env python
"""Would a weight-only int8 BERT serve the platform as `bert-int8`? A measurement, not a model.

Tensorleap's importer (leap-model-parser) has no converter for the quantization operators of
`models/bert-int8` (``MatMulInteger``, ``DynamicQuantizeLinear``, ``DequantizeLinear``). The form it
can import is `models/bert`'s own float32 graph with each MatMul and Gather weight rounded to the
int8 grid (symmetric, one scale per output column of a MatMul, per row of an embedding table) and
stored as float32 again. This script writes that file (default ``.cache/bert-weight-only.onnx``) and
prints what it would give the platform against the two shipped files, on every `--every`-th review
of the test split: file size, reviews/s, accuracy, the largest logit difference, and agreement.

Usage (IMDB_DATA must point at the dataset; then .ci/check_platform_import.sh FILE imports it):
    python scripts/experiments/weight_only_bert.py [--every 25] [--out .cache/bert-weight-only.onnx]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from IMDb import families
from IMDb.data import dataset_states
from IMDb.predict import Predictor

ROOT = Path(__file__).resolve().parents[2]


def round_to_int8_grid(w: np.ndarray, axis: int) -> np.ndarray:
    """`w` with each slice along `axis` reduced symmetrically to 255 levels, as float32."""
    scale = np.abs(w).max(axis=axis, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    return (np.clip(np.round(w / scale), -127, 127) * scale).astype(np.float32)


def weight_only(source: Path, target: Path) -> int:
    model = onnx.load(str(source))
    axis_of = {}  # initializer -> the axis its scales reduce over
    for node in model.graph.node:
        if node.op_type == "MatMul" and len(node.input) == 2:
            axis_of[node.input[1]] = 0  # [in, out]: one scale per output column
        elif node.op_type == "Gather":
            axis_of[node.input[0]] = 1  # [rows, dim]: one scale per row
    done = 0
    for init in model.graph.initializer:
        if init.name in axis_of and init.data_type == onnx.TensorProto.FLOAT and len(init.dims) == 2:
            w = numpy_helper.to_array(init)
            init.CopyFrom(numpy_helper.from_array(round_to_int8_grid(w, axis_of[init.name]), init.name))
            done += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    onnx.save(model, str(tmp))
    tmp.replace(target)
    return done


def main() -> None:
    import onnxruntime as ort

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=25, help="score every N-th test review (default: 25)")
    parser.add_argument("--out", type=Path, default=ROOT / ".cache" / "bert-weight-only.onnx")
    args = parser.parse_args()

    fp32 = Predictor.load("bert", ROOT / "models")
    int8 = Predictor.load("bert-int8", ROOT / "models")
    rounded = weight_only(ROOT / "models" / "bert" / "model.onnx", args.out)
    wo = Predictor(fp32.bundle, ort.InferenceSession(str(args.out), providers=["CPUExecutionProvider"]))

    test = dataset_states.load_states(families.config("bert"))["test"].iloc[::args.every]
    inputs = fp32.encode(test["text"].tolist())
    labels = test["label"].to_numpy()
    logits, seconds = {}, {}
    for name, predictor in (("bert", fp32), ("bert-int8", int8), ("weight-only", wo)):
        t0 = time.perf_counter()
        logits[name] = predictor.predict_logits(inputs)
        seconds[name] = time.perf_counter() - t0
    files = {"bert": ROOT / "models/bert/model.onnx", "bert-int8": ROOT / "models/bert-int8/model.onnx",
             "weight-only": args.out}
    print(f"{rounded} weights rounded to the int8 grid -> {args.out}")
    print(f"{len(labels)} test reviews (every {args.every}th)")
    print(f"{'file':<12} {'MB':>6} {'reviews/s':>10} {'accuracy':>9} {'agrees with int8':>17} "
          f"{'max |logit - int8|':>19} {'agrees with fp32':>17}")
    for name, z in logits.items():
        print(f"{name:<12} {files[name].stat().st_size / 1e6:6.1f} {len(labels) / seconds[name]:10.1f} "
              f"{(z.argmax(1) == labels).mean():9.4f} "
              f"{(z.argmax(1) == logits['bert-int8'].argmax(1)).mean():17.4f} "
              f"{np.abs(z - logits['bert-int8']).max():19.3f} "
              f"{(z.argmax(1) == logits['bert'].argmax(1)).mean():17.4f}")


if __name__ == "__main__":
    main()
