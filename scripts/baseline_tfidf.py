"""The baseline every deep model here should be read against: TF-IDF of word 1-2-grams and a
logistic regression (scikit-learn), fitted on the training state, scored on validation and test.

Usage: IMDB_DATA=../shared/data/imdb/imdb.parquet .venv/bin/python scripts/baseline_tfidf.py
"""
from __future__ import annotations

import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from IMDb import data
from IMDb.config import Config
from IMDb.text import clean


def main() -> int:
    states = data.load_states(Config())
    texts = {name: [clean(t) for t in frame["text"]] for name, frame in states.items()}
    t = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x_train = vectorizer.fit_transform(texts["training"])
    model = LogisticRegression(C=4.0, max_iter=1000).fit(x_train, states["training"]["label"])
    fit_s = time.perf_counter() - t
    print(f"TF-IDF 1-2-grams ({x_train.shape[1]:,} features) + logistic regression, fit {fit_s:.1f} s")
    for name, frame in states.items():
        accuracy = model.score(vectorizer.transform(texts[name]), frame["label"])
        print(f"{name:>10}: accuracy {accuracy:.4f} ({len(frame)} reviews)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
