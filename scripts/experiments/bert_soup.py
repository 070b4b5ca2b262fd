"""Does averaging the weights of fine-tuned BERTs (a "model soup") beat each of them?

Every BERT recipe tried so far lands between 0.924 and 0.929 on the test split. Runs fine-tuned from
the same pretrained encoder often sit in one basin of the loss, where the mean of their weights
scores better than either (Wortsman et al. 2022, "Model soups"); it costs nothing at inference time,
unlike an ensemble of outputs. This script averages the weights of the bundles it is given (the
same architecture) and scores the average and each ingredient on the validation reviews, the CAD
development pairs and, with --test, the 25,000 test reviews, at one input length (head+tail).

Usage (bundle folders; 512 pieces; validation and CAD dev take minutes, the test split ~20 min):

    IMDB_DATA=../shared/data/imdb/imdb.parquet IMDB_CAD=../shared/data/cad .venv/bin/python \\
        scripts/experiments/bert_soup.py ~/.cache/imdb-leap/attempts/bert-a7/bert \\
        ~/.cache/imdb-leap/attempts/bert-a8/bert --soup-only --test
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from IMDb.analysis.inference import load_keras
from IMDb.bundle import Bundle
from IMDb.data import data_source, dataset_states
from IMDb.data.counterfactual import cad_file, evaluate_pairs, read_pairs
from IMDb.robustness.measure import CAD_FILE
from IMDb.text.wordpiece import WordPieceTokenizer


def score(model, tokenizer: WordPieceTokenizer, texts: list[str], batch_size: int = 16) -> np.ndarray:
    """Probabilities [n, 2] from the Keras model, in length-sorted batches."""
    probs = np.zeros((len(texts), 2))
    for rows, inputs in tokenizer.batches(texts, batch_size):
        probs[rows] = np.asarray(model([inputs[n] for n in tokenizer.input_names], training=False))
    return probs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", type=Path, nargs="+", help="BERT bundle folders (…/bert)")
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--test", action="store_true", help="also score the 25,000 test reviews")
    parser.add_argument("--soup-only", action="store_true", help="score only the average, not each bundle")
    args = parser.parse_args()

    bundles = [Bundle.read(p.name, p.parent) for p in args.bundles]
    models = [load_keras(b) for b in bundles]
    soup = load_keras(bundles[0])
    soup.set_weights([np.mean(ws, axis=0) for ws in zip(*(m.get_weights() for m in models))])
    tokenizer = WordPieceTokenizer(bundles[0].tokenizer.tokenizer, args.seq_len, "headtail")
    states = dataset_states.load_states(bundles[0].split_config(data_source.choose()))
    pairs = read_pairs(cad_file(CAD_FILE))
    named = [("soup", soup)] + ([] if args.soup_only else [(str(p), m) for p, m in zip(args.bundles, models)])
    for name, model in named:
        t0 = time.perf_counter()
        line = [name]
        for state in ("validation", "test") if args.test else ("validation",):
            frame = states[state]
            right = score(model, tokenizer, frame["text"].tolist()).argmax(1) == frame["label"].to_numpy()
            line.append(f"{state} {right.mean():.4f}")
        cad = evaluate_pairs(lambda texts: score(model, tokenizer, texts), pairs)
        line.append(f"CAD dev revised {cad['accuracy_revised']:.4f} (original {cad['accuracy_original']:.4f}, "
                    f"both {cad['both_right']:.4f})")
        print("  ".join(line) + f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
