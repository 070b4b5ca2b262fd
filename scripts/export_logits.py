#!/usr/bin/env python
"""Re-export a shipped model so that it ends in logits instead of a softmax (same weights).

The shipped bundles were trained when the models ended in ``Dense(2, softmax)``; Tensorleap's
authoring guide asks for raw predictions. The builders in `IMDb.architectures` now end in
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
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from IMDb import families, toolkits
from IMDb.bundle import Bundle
from IMDb.config import environment
from IMDb.config.run import MODELS_DIR, Config
from IMDb.data import dataset_states
from IMDb.measures.scores import softmax
from IMDb.output.atomic import atomic_write_text
from IMDb.output.formats import json_file
from IMDb.predict import Predictor


def old_weights(bundle: Bundle) -> list[np.ndarray]:
    """The trained weights in the bundle's Keras file (``model.h5`` or ``model.keras``), read by
    its family's toolkit."""
    return toolkits.of(bundle.family).load_keras(bundle.family, bundle.file(bundle.family.keras_file)).get_weights()


def test_texts(card: dict, n: int) -> list[str]:
    """Every k-th review of the test split (it is ordered by label, so both labels appear)."""
    saved = card["config"]
    cfg = Config(val_fraction=saved["val_fraction"], seed=saved["seed"])
    test = dataset_states.load_states(cfg)["test"]
    step = max(1, len(test) // n)
    return test["text"].iloc[::step].iloc[:n].tolist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", choices=families.names(trainable=True))
    parser.add_argument("--reviews", type=int, default=25_000,
                        help="test reviews compared old vs new (default: all 25,000)")
    args = parser.parse_args(argv)

    import keras

    from IMDb.training import export

    for name in args.models:
        start = time.perf_counter()
        bundle = Bundle.read(name, MODELS_DIR)  # card and tokenizer, checked against each other
        family, folder, card = bundle.family, bundle.folder, bundle.card
        cfg = family.from_card({**card["config"], "bert_checkpoint": environment.get(environment.BERT)
                                or card["config"].get("bert_checkpoint") or environment.bert_checkpoint()})
        import onnxruntime as ort

        session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
        if [o.name for o in session.get_outputs()] == ["logits"]:
            print(f"{name}: already ends in logits; nothing to do")
            continue
        # not bundle.session(): it refuses the old graph, whose output is not ``logits``
        old = Predictor(bundle, session)
        texts = test_texts(card, args.reviews)
        inputs = old.encode(texts)
        before = old.predict_logits(inputs)  # the old graph's raw output is already probabilities

        kit = toolkits.of(family)
        model = kit.build(family, cfg, keras)
        model.set_weights(old_weights(bundle))
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            onnx_path = Path(tmp) / "model.onnx"
            kit.save_onnx(family, model, cfg, onnx_path)
            new = Predictor(bundle, ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]))
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
            kit.save_keras(family, model, cfg, Path(tmp) / family.keras_file)
            os.replace(Path(tmp) / family.keras_file, folder / family.keras_file)
            os.replace(onnx_path, folder / "model.onnx")
        atomic_write_text(folder / "card.json", json_file(card))
        print(f"{name}: rewrote {folder} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
