#!/usr/bin/env python
"""Re-export a shipped model so that it ends in logits instead of a softmax (same weights).

The shipped bundles were trained when the models ended in ``Dense(2, softmax)``; Tensorleap's
authoring guide asks for raw predictions. The builders in `IMDb.models` now end in
``Dense(2, name="logits")``: this script rebuilds that architecture, copies the trained weights in
unchanged, and rewrites ``model.onnx`` and ``model.h5`` (dense, CNN) or ``model.keras`` (BERT).
Before anything is replaced it checks, on test reviews, that softmax(new logits) equals the old
probabilities and that every predicted class is the same (so the card's accuracies stand), and
records the new ONNX-vs-Keras difference on the card.

Usage: python scripts/export_logits.py dense cnn bert [--reviews 2000]
Needs IMDB_DATA; BERT also needs the checkpoint folder its card names (or IMDB_BERT).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from IMDb import data, settings
from IMDb.config import MODELS_DIR, Config
from IMDb.io import atomic_write_text
from IMDb.predict import Predictor, load_tokenizer
from IMDb.scores import softmax


def old_weights(folder: Path, name: str) -> list[np.ndarray]:
    if name == "bert":
        import keras
        import keras_hub  # noqa: F401  (registers the backbone's classes for loading)

        return keras.saving.load_model(folder / "model.keras", compile=False).get_weights()
    import tf_keras

    return tf_keras.models.load_model(folder / "model.h5", compile=False).get_weights()


def test_texts(card: dict, n: int) -> list[str]:
    """Every k-th review of the test split (it is ordered by label, so both labels appear)."""
    saved = card["config"]
    cfg = Config(val_fraction=saved["val_fraction"], seed=saved["seed"])
    test = data.load_states(cfg)["test"]
    step = max(1, len(test) // n)
    return test["text"].iloc[::step].iloc[:n].tolist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", choices=("dense", "cnn", "bert"))
    parser.add_argument("--reviews", type=int, default=25_000,
                        help="test reviews compared old vs new (default: all 25,000)")
    args = parser.parse_args(argv)

    from IMDb import export
    from IMDb.models import build

    for name in args.models:
        start = time.perf_counter()
        folder = MODELS_DIR / name
        card = json.loads((folder / "card.json").read_text())
        cfg = Config(**{**card["config"], "bert_checkpoint": settings.get(settings.BERT)
                        or card["config"].get("bert_checkpoint") or settings.bert_checkpoint()})
        import onnxruntime as ort

        session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
        if [o.name for o in session.get_outputs()] == ["logits"]:
            print(f"{name}: already ends in logits; nothing to do")
            continue
        old = Predictor(name, load_tokenizer(name, folder, card), session, card)
        texts = test_texts(card, args.reviews)
        inputs = old.tokenizer.encode(texts)
        inputs = inputs if isinstance(inputs, dict) else {old.input_names[0]: inputs}
        before = old.predict_logits(inputs)  # the old graph's raw output is already probabilities

        model = build(cfg)
        model.set_weights(old_weights(folder, name))
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            onnx_path = Path(tmp) / "model.onnx"
            lengths = {n: cfg.seq_len for n in old.input_names}
            export.export_onnx_inputs(model, onnx_path, lengths,
                                      export.ONNX_OPSET_BERT if name == "bert" else export.ONNX_OPSET)
            new = Predictor(name, old.tokenizer, ort.InferenceSession(
                str(onnx_path), providers=["CPUExecutionProvider"]), card)
            after = softmax(new.predict_logits(inputs))
            diff = float(np.abs(after - before).max())
            same = float((after.argmax(1) == before.argmax(1)).mean())
            print(f"{name}: {len(texts)} test reviews: max |softmax(new) - old| {diff:.2e}, "
                  f"same predicted class {same:.4%}")
            if diff > 1e-5 or same != 1.0:
                print(f"{name}: the re-exported model disagrees with the shipped one; nothing replaced")
                return 1
            parity_inputs = {k: v[:200 if name == "bert" else 1000] for k, v in inputs.items()}
            card["onnx_max_abs_diff"] = export.onnx_max_abs_diff(model, onnx_path, parity_inputs)
            card["output"] = "logits"
            card["logits_reexport"] = {"test_reviews_compared": len(texts), "max_probability_change": diff,
                                       "same_prediction": same}
            if name == "bert":
                model.save(Path(tmp) / "model.keras")
                os.replace(Path(tmp) / "model.keras", folder / "model.keras")
            else:
                export.export_h5(model, cfg, folder / "model.h5")
            os.replace(onnx_path, folder / "model.onnx")
        atomic_write_text(folder / "card.json", json.dumps(card, indent=2) + "\n")
        print(f"{name}: rewrote {folder} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
