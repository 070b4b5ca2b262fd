"""Data exploration: each metadata field against loss, Spearman correlations, a verdict on each of
the seeds' five claims, and the training curves from the logs.

Everything takes the analysis table's frame (one row per review, a ``loss`` column, one column per
metadata field) and returns plain pandas/dicts. Rows without a loss (the unlabeled state) are left
out of every loss statistic; when none has one, the statistics come back empty or with a reason.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from IMDb.config.run import MODELS_DIR
from IMDb.errors import ModelError

ALPHA = 0.01  # significance level of the claims' verdicts

# The seeds' claims, each measured as the Spearman correlation of loss with one metadata column of
# the analysis table (IMDb.analysis.table: ``<function>_<key>`` of IMDb.measures.metadata). `columns` lists
# accepted names, first present wins; `transform` maps the field before correlating; `expected` is
# the sign of rho that supports the claim.
SEED_CLAIMS: dict[str, dict] = {
    "Shorter reviews have higher loss": {
        "columns": ("length_words", "words"), "transform": "identity", "expected": -1},
    # The share of OOV tokens, not their count: the count grows with the review's length, so it would
    # measure length (the claim above) again, with the opposite sign.
    "More OOV words, higher loss": {
        "columns": ("oov_ratio", "oov_count"), "transform": "identity", "expected": +1},
    "More subjective reviews have lower loss": {
        "columns": ("textblob_subjectivity", "subjectivity"), "transform": "identity", "expected": -1},
    "Higher score confidence, lower loss": {
        "columns": ("rating_score_confidence", "score_confidence"), "transform": "identity",
        "expected": -1},
    # Neutral polarity is |polarity| near 0: the claim holds if loss falls as |polarity| grows.
    "Neutral TextBlob polarity, higher loss": {
        "columns": ("textblob_polarity", "polarity"), "transform": "abs", "expected": -1},
}
TRANSFORMS = {"identity": lambda v: v, "abs": np.abs}


# --------------------------------------------------------------------------- binning


def is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values)


def quantile_groups(values: pd.Series, bins: int = 10) -> pd.DataFrame:
    """Which group each row falls in: one group per value for a boolean, a non-numeric field or one
    with at most `bins` distinct values; else quantile bins, a value that fills more than one quantile
    (a heavy mode such as 0) in a bin of its own. Rows without a value get group -1.

    Returns one row per group: ``group`` (0..), ``low``, ``high`` (the group's min and max value;
    NaN for a non-numeric field), ``label`` (readable range) and, as the attribute ``codes``, the
    group of every input row (an int array, -1 for missing).
    """
    present = values.notna().to_numpy()
    codes = np.full(len(values), -1, dtype=np.int64)
    v = values[present]
    if len(v) == 0:
        groups = pd.DataFrame(columns=["group", "low", "high", "label"])
        groups.attrs["codes"] = codes
        return groups
    if not is_numeric(values) or pd.api.types.is_bool_dtype(values) or v.nunique() <= bins:
        uniques = sorted(v.unique(), key=lambda u: (str(type(u)), u))
        index = {u: i for i, u in enumerate(uniques)}
        codes[present] = v.map(index).to_numpy()
        numeric = is_numeric(values) and not pd.api.types.is_bool_dtype(values)
        groups = pd.DataFrame({"group": range(len(uniques)),
                               "low": [float(u) if numeric else np.nan for u in uniques],
                               "high": [float(u) if numeric else np.nan for u in uniques],
                               "label": [_fmt(u) for u in uniques]})
    else:
        x = v.astype(float).to_numpy()
        quantiles = np.quantile(x, np.linspace(0, 1, bins + 1))
        # A value that spans several quantiles (a mode, e.g. 0 OOV words) gets a bin of its own:
        # an extra edge just above it. Bin i holds edges[i] <= x < edges[i+1], the last one closed.
        values_, counts = np.unique(quantiles, return_counts=True)
        edges = np.unique(np.concatenate([quantiles, np.nextafter(values_[counts > 1], np.inf)]))
        inner = edges[1:-1]
        code = np.searchsorted(inner, x, side="right")
        used = np.unique(code)
        remap = np.full(len(edges), -1)
        remap[used] = np.arange(len(used))
        codes[present] = remap[code]
        lows = [x[code == u].min() for u in used]
        highs = [x[code == u].max() for u in used]
        groups = pd.DataFrame({"group": range(len(used)), "low": lows, "high": highs,
                               "label": [_range_label(lo, hi) for lo, hi in zip(lows, highs)]})
    groups.attrs["codes"] = codes
    return groups


def _fmt(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def _range_label(low: float, high: float) -> str:
    return _fmt(low) if low == high else f"{_fmt(low)} to {_fmt(high)}"


def loss_skip_reason(frame: pd.DataFrame) -> str | None:
    """Why loss statistics cannot be computed on this frame (None when they can)."""
    if "loss" not in frame:
        return "the table has no loss column"
    if not frame["loss"].notna().any():
        return "no sample has a loss (unlabeled state: no ground truth)"
    return None


# --------------------------------------------------------------------------- metadata vs loss


def metadata_vs_loss(frame: pd.DataFrame, fields, bins: int = 10) -> dict[str, pd.DataFrame]:
    """Per field, loss by quantile bin of the field: columns ``bin`` (readable range), ``low``,
    ``high``, ``count``, ``mean_loss``, ``sem`` (standard error of the mean loss; NaN for one
    sample) and ``accuracy`` (when the frame has ``correct``). Only rows with a loss count; a field
    with no value on those rows gets an empty frame."""
    columns = ["bin", "low", "high", "count", "mean_loss", "sem", "accuracy"]
    rows = frame[frame["loss"].notna()] if "loss" in frame else frame.iloc[:0]
    loss = rows["loss"].astype(float).to_numpy() if len(rows) else np.array([])
    correct = (as_float(rows["correct"]) if "correct" in rows
               else np.full(len(rows), np.nan))
    out = {}
    for field in fields:
        groups = quantile_groups(rows[field], bins) if field in rows and len(rows) else None
        if groups is None or groups.empty:
            out[field] = pd.DataFrame(columns=columns)
            continue
        codes = groups.attrs["codes"]
        records = []
        for g in groups.itertuples():
            sel = codes == g.group
            group_loss = loss[sel]
            n = int(sel.sum())
            sem = float(group_loss.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
            acc = float(np.nanmean(correct[sel])) if np.isfinite(correct[sel]).any() else np.nan
            records.append({"bin": g.label, "low": g.low, "high": g.high, "count": n,
                            "mean_loss": float(group_loss.mean()), "sem": sem, "accuracy": acc})
        out[field] = pd.DataFrame.from_records(records, columns=columns)
    return out


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """rho, two-sided p, n over the pairs where both are finite (NaN rho for fewer than 3 pairs or
    a constant side)."""
    from scipy.stats import spearmanr

    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return np.nan, np.nan, n
    result = spearmanr(x[ok], y[ok])
    return float(result.statistic), float(result.pvalue), n


def as_float(values: pd.Series) -> np.ndarray:
    """Numbers (booleans as 0/1) as float64, anything missing or non-numeric as NaN."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").astype(float).to_numpy()


def correlations(frame: pd.DataFrame, fields) -> pd.DataFrame:
    """Spearman rank correlation of each numeric field (booleans as 0/1) with loss: columns
    ``rho``, ``p_value`` (two-sided), ``n`` (pairs with both values), indexed by field, in the order
    given. Non-numeric fields are left out."""
    loss = as_float(frame["loss"]) if "loss" in frame else np.full(len(frame), np.nan)
    records = {}
    for field in fields:
        if field not in frame or not is_numeric(frame[field]):
            continue
        rho, p, n = _spearman(as_float(frame[field]), loss)
        records[field] = {"rho": rho, "p_value": p, "n": n}
    out = pd.DataFrame.from_dict(records, orient="index", columns=["rho", "p_value", "n"])
    out.index.name = "field"
    return out.astype({"n": int})


def seed_claims(frame: pd.DataFrame, alpha: float = ALPHA, claims: dict | None = None) -> list[dict]:
    """A verdict on each of the seeds' claims (``SEED_CLAIMS``), measured on this frame.

    Each: ``claim``, ``field`` (the column used, None if absent), ``transform``, ``expected`` ("negative"
    or "positive" rho), ``statistic`` ("Spearman rho"), ``value`` (rho), ``p_value``, ``n`` and
    ``verdict``: "supported" when rho has the expected sign with p < `alpha`, "contradicted" when it
    has the opposite sign with p < `alpha`, else "no evidence" (then ``reason`` says why, if not just
    an insignificant or zero correlation).
    """
    claims = SEED_CLAIMS if claims is None else claims
    skip = loss_skip_reason(frame)
    out = []
    for claim, spec in claims.items():
        field = next((c for c in spec["columns"] if c in frame), None)
        row = {"claim": claim, "field": field, "transform": spec["transform"],
               "expected": "negative" if spec["expected"] < 0 else "positive",
               "statistic": "Spearman rho", "value": np.nan, "p_value": np.nan, "n": 0,
               "verdict": "no evidence", "reason": None}
        if skip:
            row["reason"] = skip
        elif field is None:
            row["reason"] = f"none of the columns {list(spec['columns'])} is in the table"
        else:
            x = TRANSFORMS[spec["transform"]](as_float(frame[field]))
            rho, p, n = _spearman(x, as_float(frame["loss"]))
            row.update(value=rho, p_value=p, n=n)
            if not np.isfinite(rho):
                row["reason"] = f"{n} samples with both values, or a constant field"
            elif p < alpha and np.sign(rho) == np.sign(spec["expected"]):
                row["verdict"] = "supported"
            elif p < alpha and np.sign(rho) == -np.sign(spec["expected"]):
                row["verdict"] = "contradicted"
        out.append(row)
    return out


# --------------------------------------------------------------------------- training curves


def training_curves(name: str, models_dir: str | Path = MODELS_DIR, smooth: int = 50) -> dict[str, pd.DataFrame]:
    """The training logs of model `name`: ``"batches"`` (batches.csv: step, epoch, batch, loss,
    accuracy, plus ``loss_smooth``/``accuracy_smooth``, trailing means over `smooth` batches, since
    per-batch values are noisy) and ``"history"`` (history.csv: one row per epoch with the
    validation figures). A missing or empty log is left out of the dict; an unreadable one is a
    ModelError naming the file."""
    folder = Path(models_dir) / name
    out = {}
    for key, filename in (("batches", "batches.csv"), ("history", "history.csv")):
        path = folder / filename
        if not path.is_file() or path.stat().st_size == 0:
            continue
        try:
            table = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError) as e:
            raise ModelError(f"{path}: not a readable training log ({str(e).splitlines()[0]}). Restore it from "
                             "the training run, or delete it: the report then leaves its curves out") from e
        if table.empty:
            continue
        if key == "batches":
            if "step" not in table:
                table.insert(0, "step", np.arange(1, len(table) + 1))
            for column in ("loss", "accuracy"):
                if column in table:
                    table[f"{column}_smooth"] = table[column].rolling(max(1, smooth), min_periods=1).mean()
        out[key] = table
    return out
