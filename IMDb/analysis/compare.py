"""Two models on the same reviews: where the second gains or loses against the first.

Per-sample loss change (b - a, and relative to a), the agreement matrix of right/wrong, the reviews
one model gets right and the other wrong, and, for the worst failures of `a` (wrong, highest loss),
the relative loss change under `b` (the seeds' "67% lower loss on one sample" is -0.67 here).
The baselines' columns, when the tables hold them, are carried into the per-sample frame and the
summary, so each model is also read against TextBlob and TF-IDF.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from IMDb.analysis.baselines import BASELINES, column

SNIPPET = 200


def _frame(x) -> pd.DataFrame:
    return x.frame if hasattr(x, "frame") else x


def _names(a, b, names) -> tuple[str, str]:
    if names is None:
        names = (getattr(a, "model", "") or "a", getattr(b, "model", "") or "b")
    if len(names) != 2 or names[0] == names[1]:
        raise ValueError(f"names must be two different strings, got {names!r}")
    return tuple(names)


def aligned(a, b, names=("dense", "cnn")) -> pd.DataFrame:
    """One row per review both tables hold (inner join on sample_id, in `a`'s order).

    Columns: sample_id, label, text, then p_positive / prediction / loss / correct suffixed
    ``_<name>``, the loss change, and the baseline columns found in either table.
    """
    fa, fb = _frame(a), _frame(b)
    na, nb = names
    for name, f in ((na, fa), (nb, fb)):
        if f["sample_id"].duplicated().any():
            raise ValueError(f"{name}: duplicate sample ids")
    keep = ["p_positive", "prediction", "loss", "correct"]
    left = fa[["sample_id", "label", "text", *keep]].rename(columns={k: f"{k}_{na}" for k in keep})
    right = fb[["sample_id", "label", *keep]].rename(columns={k: f"{k}_{nb}" for k in keep}
                                                     | {"label": "label_b"})
    merged = left.merge(right, on="sample_id", how="inner", validate="one_to_one")
    both = merged["label"].notna() & merged["label_b"].notna()
    if (merged.loc[both, "label"] != merged.loc[both, "label_b"]).any():
        raise ValueError("the two tables disagree on labels: are they the same state and data?")
    merged = merged.drop(columns="label_b")
    merged["loss_change"] = merged[f"loss_{nb}"] - merged[f"loss_{na}"]
    merged["relative_loss_change"] = merged["loss_change"] / merged[f"loss_{na}"]
    for baseline in BASELINES:
        cols = [column(baseline, "p_positive"), column(baseline, "loss")]
        source = fa if cols[0] in fa else fb if cols[0] in fb else None
        if source is not None:
            merged = merged.merge(source[["sample_id", *cols]], on="sample_id", how="left")
    return merged


def agreement_matrix(correct_a, correct_b, names=("dense", "cnn")) -> pd.DataFrame:
    """2x2 counts: rows `a` right/wrong, columns `b` right/wrong (sums to the labeled count)."""
    ca, cb = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    na, nb = names
    counts = [[int((ca & cb).sum()), int((ca & ~cb).sum())],
              [int((~ca & cb).sum()), int((~ca & ~cb).sum())]]
    return pd.DataFrame(counts, index=[f"{na} right", f"{na} wrong"], columns=[f"{nb} right", f"{nb} wrong"])


def mcnemar(b_only: int, c_only: int) -> float:
    """Exact McNemar p-value (two-sided binomial test on the discordant pairs): does one model get
    more reviews right than the other beyond chance?"""
    from scipy.stats import binomtest

    n = b_only + c_only
    return 1.0 if n == 0 else float(binomtest(b_only, n, 0.5).pvalue)


def compare(a, b, names: tuple[str, str] | None = ("dense", "cnn"), *, worst: int = 20,
            snippet: int = SNIPPET) -> dict:
    """Compare model `a` with model `b` on the reviews both tables hold.

    `a` and `b` are `AnalysisTable`s or their frames; `names=None` takes the tables' model names.
    Returns a dict:
    - ``frame``: per-sample (see `aligned`), with ``snippet``;
    - ``agreement``: 2x2 right/wrong counts over the labeled reviews;
    - ``a_right_b_wrong`` / ``b_right_a_wrong``: those reviews, the loser's highest loss first;
    - ``worst_failures``: the `worst` highest-loss wrong predictions of `a` with b's loss and the
      relative change (b - a) / a;
    - ``summary``: n, accuracies and mean losses of both models and of each baseline present, the
      prediction agreement rate, the McNemar p-value, the mean and median loss change, and per
      baseline how many reviews each model gets right that the baseline gets wrong and vice versa.
    """
    names = _names(a, b, names)
    na, nb = names
    merged = aligned(a, b, names)
    merged.insert(3, "snippet", merged["text"].str.slice(0, snippet))
    labeled = merged[merged["label"].notna()]
    ca = labeled[f"correct_{na}"].astype(bool).to_numpy()
    cb = labeled[f"correct_{nb}"].astype(bool).to_numpy()
    matrix = agreement_matrix(ca, cb, names)

    cols = ["sample_id", "label", "snippet", f"p_positive_{na}", f"p_positive_{nb}", f"loss_{na}",
            f"loss_{nb}", "loss_change", "relative_loss_change"]
    a_right_b_wrong = labeled[ca & ~cb].sort_values(f"loss_{nb}", ascending=False)[cols]
    b_right_a_wrong = labeled[~ca & cb].sort_values(f"loss_{na}", ascending=False)[cols]
    worst_failures = labeled[~ca].sort_values(f"loss_{na}", ascending=False).head(worst)[
        [*cols, f"correct_{nb}"]].reset_index(drop=True)

    summary: dict = {
        "names": list(names), "n": int(len(merged)), "n_labeled": int(len(labeled)),
        f"n_{na}": int(len(_frame(a))), f"n_{nb}": int(len(_frame(b))),
        "prediction_agreement": float((merged[f"prediction_{na}"] == merged[f"prediction_{nb}"]).mean())
        if len(merged) else float("nan"),
    }
    if len(labeled):
        summary |= {
            f"accuracy_{na}": float(ca.mean()), f"accuracy_{nb}": float(cb.mean()),
            f"mean_loss_{na}": float(labeled[f"loss_{na}"].mean()),
            f"mean_loss_{nb}": float(labeled[f"loss_{nb}"].mean()),
            "mean_loss_change": float(labeled["loss_change"].mean()),
            "median_loss_change": float(labeled["loss_change"].median()),
            "mcnemar_p": mcnemar(int((ca & ~cb).sum()), int((~ca & cb).sum())),
            "worst_failures_median_relative_change": float(worst_failures["relative_loss_change"].median())
            if len(worst_failures) else float("nan"),
        }
        summary |= _against_baselines(labeled, {na: ca, nb: cb})
    return {"frame": merged, "agreement": matrix, "a_right_b_wrong": a_right_b_wrong.reset_index(drop=True),
            "b_right_a_wrong": b_right_a_wrong.reset_index(drop=True), "worst_failures": worst_failures,
            "summary": summary}


def _against_baselines(labeled: pd.DataFrame, correct: dict[str, np.ndarray]) -> dict:
    """Per baseline present: its accuracy and mean loss, and how many reviews each model gets right
    that it gets wrong and vice versa (`correct`: each model's right/wrong over `labeled`)."""
    out: dict = {}
    truth = labeled["label"].to_numpy().astype(int)
    for baseline in BASELINES:
        p_col = column(baseline, "p_positive")
        if p_col not in labeled:
            continue
        right = (labeled[p_col].to_numpy() >= 0.5).astype(int) == truth
        out[f"accuracy_{baseline}"] = float(right.mean())
        out[f"mean_loss_{baseline}"] = float(labeled[column(baseline, "loss")].mean())
        for name, c in correct.items():
            out[f"{name}_right_{baseline}_wrong"] = int((c & ~right).sum())
            out[f"{baseline}_right_{name}_wrong"] = int((~c & right).sum())
    return out
