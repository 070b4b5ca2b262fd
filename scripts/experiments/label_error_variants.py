"""How many likely label errors each of cleanlab's confident-learning variants flags on an analysis's
table, against the default (`filter_by="confident_learning"`, what `imdb-leap analyze` writes to
label_errors.csv), and how the sets overlap.

    .venv/bin/python scripts/experiments/label_error_variants.py reports/cnn-test/table.parquet [more tables...]

Several tables (the same state, other models) are averaged as `--label-error-models` does."""
from __future__ import annotations

import sys
import time

import pandas as pd

from IMDb.analysis.label_errors import likely_label_errors, mean_p_positive

VARIANTS = ("confident_learning", "prune_by_noise_rate", "prune_by_class", "both", "predicted_neq_given")


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    frames = [pd.read_parquet(p, columns=["sample_id", "label", "p_positive"]) for p in paths]
    merged = frames[0].rename(columns={"p_positive": "p0"})
    for i, f in enumerate(frames[1:], start=1):
        merged = merged.merge(f[["sample_id", "p_positive"]].rename(columns={"p_positive": f"p{i}"}),
                              on="sample_id", validate="one_to_one")
    labels = merged["label"].to_numpy(dtype=float)
    p = mean_p_positive(merged[[f"p{i}" for i in range(len(frames))]].to_numpy().T)
    reference = set(likely_label_errors(labels, p, sample_ids=merged["sample_id"].tolist())["sample_id"])
    print(f"{len(merged):,} reviews; default (confident_learning): {len(reference):,} flagged")
    print(f"{'filter_by':<22}{'flagged':>9}{'in default':>12}{'not in it':>11}{'seconds':>9}")
    for variant in VARIANTS:
        started = time.perf_counter()
        found = likely_label_errors(labels, p, filter_by=variant, sample_ids=merged["sample_id"].tolist())
        ids = set(found["sample_id"])
        print(f"{variant:<22}{len(ids):>9,}{len(ids & reference):>12,}{len(ids - reference):>11,}"
              f"{time.perf_counter() - started:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
