"""Throughput of `imdb-leap predict` per shipped model, one review at a time and 512 at a time, in one
run: the figures of the throughput table in docs/command-line.md.

What is timed is `Predictor.predict(texts)` (`IMDb/predict.py`), the call the command makes: the
tokenizer, then ONNX Runtime on the CPU, then softmax. "Batch 1" calls it once per review (an
interactive user's latency); "batch 512" calls it on 512 reviews at once (a file), which the word
models run as one ONNX batch and BERT as 16 batches of 32 (its attention grows with batch x 256²).
Reviews are a seeded random draw from the test split, so their lengths are the split's. Each figure
is the best of `--repeats` passes after one warm-up call, so background load inflates none of them.

Usage:

    IMDB_DATA=../shared/data/imdb/imdb.parquet .venv/bin/python scripts/benchmarks/benchmark_predict.py
    .venv/bin/python scripts/benchmarks/benchmark_predict.py --model dense,cnn --repeats 5
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

BATCH = 512


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of `repeats` calls of `fn`, after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    from IMDb import bundle
    from IMDb.config.run import MODELS_DIR
    from IMDb.data import sources
    from IMDb.predict import Predictor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="models joined by commas (default: every shipped one)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--single", type=int, default=64,
                        help="reviews scored one at a time per pass (default: 64)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    names = args.model.split(",") if args.model else bundle.names(MODELS_DIR)
    test = sources.load_labeled(progress=False).query("split == 'test'")
    texts = test["text"].sample(n=BATCH, random_state=args.seed).tolist()
    singles = texts[: args.single]

    print(f"{os.cpu_count()} cores; {BATCH} test reviews drawn with seed {args.seed}; best of "
          f"{args.repeats} passes after a warm-up\n")
    print("| model | batch 1: reviews/s | batch 512: reviews/s |")
    print("|---|---|---|")
    for name in names:
        predictor = Predictor.load(name, MODELS_DIR)
        one = best_seconds(lambda: [predictor.predict([t]) for t in singles], args.repeats)
        many = best_seconds(lambda: predictor.predict(texts), args.repeats)
        print(f"| {name} | {len(singles) / one:,.1f} | {BATCH / many:,.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
