"""How much do the review endings matter to BERT? The shipped model scored on the same test reviews
with head+tail truncation (its training setting: first and last pieces) and head-only truncation
(first 254 pieces), at test time.

Reviews that fit in the input are identical under both, so they are scored once; only the longer
ones are scored twice. Usage (a seeded, label-stratified sample; --limit 0 for the whole split):

    IMDB_DATA=../shared/data/imdb/imdb.parquet .venv/bin/python scripts/experiments/bert_truncation.py --limit 5000
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from IMDb.analysis.inference import latent_and_probabilities, load_latent_model
from IMDb.bundle import Bundle
from IMDb.config.run import MODELS_DIR
from IMDb.data import data_source
from IMDb.data import dataset_states
from IMDb.text.wordpiece import WordPieceTokenizer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    bert = Bundle.read("bert", MODELS_DIR)
    model, tokenizer = load_latent_model(bert), bert.tokenizer
    test = dataset_states.load_states(bert.split_config(data_source.choose()))["test"]
    frame = dataset_states.stratified_sample(test, args.limit or None, args.seed).reset_index(drop=True)
    texts, labels = frame["text"].tolist(), frame["label"].to_numpy()
    lengths = np.array([len(e.ids) for e in tokenizer.encodings(texts)])
    cut = np.flatnonzero(lengths > tokenizer.seq_len - 2)

    t0 = time.perf_counter()
    _, probs = latent_and_probabilities(model, tokenizer, texts, bert.family.batch_size, progress=True)
    head = WordPieceTokenizer(tokenizer.tokenizer, tokenizer.seq_len, "head")
    _, cut_probs = latent_and_probabilities(model, head, [texts[i] for i in cut], bert.family.batch_size,
                                            progress=True)
    head_probs = probs.copy()
    head_probs[cut] = cut_probs
    seconds = time.perf_counter() - t0

    right = {"head+tail": probs.argmax(1) == labels, "head only": head_probs.argmax(1) == labels}
    print(f"{len(frame):,} test reviews (seed {args.seed}); {len(cut):,} ({len(cut) / len(frame):.1%}) "
          f"longer than {tokenizer.seq_len - 2} pieces; {seconds:.0f} s")
    for name, hits in right.items():
        print(f"{name:>10}: accuracy {hits.mean():.4f} (on the cut reviews {hits[cut].mean():.4f})")
    diff = right["head+tail"].mean() - right["head only"].mean()
    print(f"head+tail - head only: {diff * 100:+.2f} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
