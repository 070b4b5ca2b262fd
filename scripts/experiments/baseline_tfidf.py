"""The baseline every deep model here should be read against: the analysis's own TF-IDF baseline
(`IMDb.analysis.baselines.fit_tfidf`: cleaned word 1-2-grams, logistic regression), fitted on the
training state, scored on every labeled state.

Usage: IMDB_DATA=../shared/data/imdb/imdb.parquet .venv/bin/python scripts/experiments/baseline_tfidf.py
"""
from __future__ import annotations

import sys
import time

import numpy as np

from IMDb.analysis.baselines import fit_tfidf, tfidf_baseline
from IMDb.config.run import Config
from IMDb.data import dataset_states


def main() -> int:
    states = dataset_states.load_states(Config())
    train = states["training"]
    t = time.perf_counter()
    pipeline = fit_tfidf(train["text"].tolist(), train["label"].to_numpy())
    features = len(pipeline[0].vocabulary_)
    print(f"TF-IDF 1-2-grams ({features:,} features) + logistic regression, fit {time.perf_counter() - t:.1f} s")
    for name, frame in states.items():
        predicted = tfidf_baseline(pipeline, frame["text"].tolist()) >= 0.5
        accuracy = float(np.mean(predicted == frame["label"].to_numpy().astype(bool)))
        print(f"{name:>10}: accuracy {accuracy:.4f} ({len(frame)} reviews)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
