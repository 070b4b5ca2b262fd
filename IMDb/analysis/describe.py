"""Plain words for the analysis's findings, so the dashboard reads as advice before statistics.

`headline` turns one ranked insight (`clusters.insights`) into a sentence a person can act on:
"Reviews rated 4 or 7 stars: loss 0.44 vs 0.18 for the rest, 4,942 reviews — lukewarm ratings are
the hardest". `describe_clusters` says what sets each cluster apart: how the model predicts there
(which class, how sure) and the metadata whose mean differs most from the population's, in units of
the population's standard deviation. The statistics stay in the insight records; this only phrases.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from IMDb.analysis.exploration import as_float

# field -> (how a group of reviews is named, with {range} for its values; short name in a cluster's description)
FIELDS: dict[str, tuple[str, str]] = {
    "rating_stars": ("rated {range} stars", "star rating"),
    "rating_score_confidence": ("", "rating strength |stars - 5.5|"),
    "length_chars": ("{range} characters long", "length"),
    "length_words": ("{range} words long", "length"),
    "tokens_count": ("of {range} tokens", "token count"),
    "tokens_truncated": ("", "share cut off at the model's input"),
    "oov_count": ("with {range} out-of-vocabulary words", "out-of-vocabulary words"),
    "oov_ratio": ("whose out-of-vocabulary share is {range}", "out-of-vocabulary share"),
    "textblob_polarity": ("with TextBlob polarity {range}", "TextBlob polarity"),
    "textblob_subjectivity": ("with TextBlob subjectivity {range}", "subjectivity"),
    "html_residue": ("with {range} HTML tags", "HTML tags"),
    "punctuation_exclamation_marks": ("with {range} exclamation marks", "exclamation marks"),
    "punctuation_question_marks": ("with {range} question marks", "question marks"),
    "negations": ("with {range} negation words", "negations"),
    "phenomena_negated_sentiment": ("with {range} negated sentiment words", "negated sentiment"),
    "phenomena_contrast_markers": ("with {range} contrast markers (but, however...)", "contrast markers"),
    "phenomena_intensifiers": ("with {range} intensifiers", "intensifiers"),
    "phenomena_reducers": ("with {range} reducers (somewhat, a bit...)", "reducers"),
}
# field -> what a high-loss group of it suggests, the sentence's closing advice
ADVICE = {
    "oov": "words the model does not know: a larger vocabulary or subword pieces would help",
    "lukewarm": "lukewarm ratings are the hardest",
    "neutral": "a lexicon sees neutral wording: the sentiment is in the context, not single words",
    "truncated": "the model never reads the end of a long review, often where its verdict is",
    "negation": "negated or contrasted sentiment misleads a reading of single words",
}
MIN_DIFFERENCE = 0.25  # standard deviations: smaller differences of means are not worth a word


def _num(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3f}"


def _range(low: float, high: float) -> str:
    return _num(low) if low == high else f"{_num(low)}-{_num(high)}"


def _stars(low: float, high: float) -> str:
    """Score confidence |stars - 5.5| in [low, high] as the star ratings it covers: 1.5 -> "4 or 7"."""
    negative, positive = _range(5.5 - high, 5.5 - low), _range(5.5 + low, 5.5 + high)
    return f"{negative} or {positive}"


def _subject(insight: dict) -> tuple[str, str | None]:
    """("Reviews rated 4 or 7 stars", advice key or None) for a metadata-range insight."""
    field, low, high = insight.get("field"), insight.get("low"), insight.get("high")
    numeric = low is not None and high is not None and np.isfinite(low) and np.isfinite(high)
    if field == "tokens_truncated":
        cut = insight.get("description", "").endswith("True")
        return ("Reviews longer than the model's input" if cut else "Reviews that fit the model's input",
                "truncated" if cut else None)
    if field == "rating_score_confidence" and numeric:
        return f"Reviews rated {_stars(low, high)} stars", "lukewarm" if high <= 1.5 else None
    if field == "rating_stars" and numeric:
        return f"Reviews rated {_range(low, high)} stars", "lukewarm" if 3 <= low and high <= 8 else None
    if not numeric:
        return f"Reviews with {insight.get('description', field)}", None
    template = FIELDS.get(field, ("with " + str(field).replace("_", " ") + " {range}", ""))[0]
    advice = ("oov" if field in ("oov_count", "oov_ratio") and low > 0 else
              "neutral" if field == "textblob_polarity" and -0.15 <= low and high <= 0.15 else
              "negation" if field in ("negations", "phenomena_negated_sentiment", "phenomena_contrast_markers")
              and low > 0 else None)
    return "Reviews " + template.format(range=_range(low, high)), advice


def headline(insight: dict, cluster_description: str | None = None) -> str:
    """One plain sentence for a ranked insight: who, their loss against the rest's, how many, and
    (where the field suggests one) what to do about it."""
    if insight.get("kind") == "cluster":
        name = insight.get("description", "cluster")
        text = (f"{name[0].upper() + name[1:]}, {insight['n']:,} reviews: loss {insight['mean_loss']:.2f} vs "
                f"{insight['rest_mean_loss']:.2f} for the rest")
        return text + (f" \N{EM DASH} {cluster_description}" if cluster_description else "")
    subject, key = _subject(insight)
    text = (f"{subject}: loss {insight['mean_loss']:.2f} vs {insight['rest_mean_loss']:.2f} for the rest, "
            f"{insight['n']:,} reviews")
    return text + (f" \N{EM DASH} {ADVICE[key]}" if key else "")


def describe_clusters(frame: pd.DataFrame, labels: np.ndarray, fields) -> dict[int, str]:
    """cluster -> a short description: the model's predictions there (class, sureness) and the two
    metadata fields whose cluster mean differs most from the population's (at least
    `MIN_DIFFERENCE` standard deviations)."""
    labels = np.asarray(labels)
    p = as_float(frame["p_positive"]) if "p_positive" in frame else None
    sure = np.abs(p - 0.5) * 2 if p is not None else None  # 0: a coin flip, 1: certain
    values = {f: as_float(frame[f]) for f in fields if f in frame}
    out = {}
    for c in np.unique(labels):
        sel = labels == c
        parts = []
        if p is not None:
            positive = float(np.nanmean(p[sel] >= 0.5))
            parts.append(f"mostly predicted positive ({positive:.0%})" if positive >= 0.8 else
                         f"mostly predicted negative ({1 - positive:.0%})" if positive <= 0.2 else
                         f"mixed predictions ({positive:.0%} positive)")
            mine, overall = float(np.nanmean(sure[sel])), float(np.nanmean(sure))
            if mine < overall - 0.1:
                parts.append(f"the model is unsure (certainty {mine:.2f} vs {overall:.2f} overall)")
            elif mine > overall + 0.05:
                parts.append(f"the model is sure (certainty {mine:.2f} vs {overall:.2f})")
        differences = []
        for f, v in values.items():
            std = np.nanstd(v)
            if std > 0 and np.isfinite(v[sel]).any():
                here, everywhere = float(np.nanmean(v[sel])), float(np.nanmean(v))
                differences.append(((here - everywhere) / std, f, here, everywhere))
        for d, f, here, everywhere in sorted(differences, key=lambda t: -abs(t[0]))[:2]:
            if abs(d) >= MIN_DIFFERENCE:
                name = FIELDS.get(f, ("", f.replace("_", " ")))[1]
                parts.append(f"{'higher' if d > 0 else 'lower'} {name} ({_num(here)} vs {_num(everywhere)})")
        label = "noise (no cluster)" if c == -1 else f"cluster {c}"
        out[int(c)] = "; ".join(parts) if parts else f"{label}: close to the population on every field"
    return out
