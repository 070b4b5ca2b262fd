"""Tokenize all 50k labeled reviews with the project's WordTokenizer and with Keras's
TextVectorization on the same input, in the same run, and print reviews per second and peak RSS.

Usage: IMDB_DATA=../shared/data/imdb/imdb.parquet .venv/bin/python scripts/benchmark_tokenizer.py
"""
from __future__ import annotations

import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeats: int = 3) -> float:
    """Best of `repeats` wall times: the least disturbed run on a shared machine."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    from IMDb import sources
    from IMDb.config import Config
    from IMDb.text import WordTokenizer

    cfg = Config.for_model("dense")
    t = time.perf_counter()
    frame = sources.load_labeled(progress=False)
    load_s = time.perf_counter() - t
    texts = frame["text"].tolist()
    train = frame.loc[frame["split"] == "train", "text"].tolist()
    n = len(texts)

    tok = WordTokenizer(cfg.vocab_size, cfg.seq_len)
    fit_s = timed(lambda: tok.fit(train), 1)
    ours_s = timed(lambda: tok.encode(texts))
    ours_rss = rss_mb()

    import keras
    import tensorflow as tf

    tv = keras.layers.TextVectorization(max_tokens=cfg.vocab_size, output_sequence_length=cfg.seq_len)
    keras_fit_s = timed(lambda: tv.adapt(tf.constant(train)), 1)
    batch = tf.constant(texts)
    keras_s = timed(lambda: tv(batch))

    print(f"{n} reviews, vocabulary {cfg.vocab_size}, {cfg.seq_len} tokens, {os.cpu_count()} cores")
    print(f"load parquet: {load_s:.2f} s; peak RSS after loading + tokenizing: {ours_rss:.0f} MB")
    print(f"{'tokenizer':<34}{'fit (25k) s':>12}{'encode s':>10}{'reviews/s':>12}")
    print(f"{'IMDb.text.WordTokenizer':<34}{fit_s:>12.2f}{ours_s:>10.2f}{n / ours_s:>12,.0f}")
    print(f"{'keras.layers.TextVectorization':<34}{keras_fit_s:>12.2f}{keras_s:>10.2f}{n / keras_s:>12,.0f}")
    print(f"speed-up over Keras: {keras_s / ours_s:.2f}x (best of 3 runs each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
