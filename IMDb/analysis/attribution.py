"""Why did the model say that? Explanations of chosen reviews, for any model with an embedding split.

`explain` gives each review three views, all in the model's "word removed" counterfactual, so they
are comparable:

- integrated gradients (IG) toward each class on the token embeddings, one number per word, with
  their completeness (`IMDb.analysis.integrated_gradients`, written once for every model);
- the top phrases by n-gram occlusion (`IMDb.analysis.occlusion`; the word models only);
- faithfulness: removing the top-k attributed words must lower p(predicted class) more than removing
  k random words (`IMDb.analysis.faithfulness`).

What differs between model families is small and sits in one glue object per family (`Reviews`),
which the family's toolkit makes (`IMDb.toolkits.base.Toolkit.explainer`):
`IMDb.analysis.attribution_words.WordReviews` (dense, CNN: one token position per word, removal =
padding out) and `IMDb.analysis.attribution_bert.PieceReviews` (BERT: WordPiece pieces merged into
words, a ``[…]`` word where truncation cut the review, removal = deleting pieces). Which reviews to
explain: `IMDb.analysis.samples`; the results are `IMDb.analysis.explanation.Explanation` records.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from IMDb.analysis.explanation import Explanation, Review
from IMDb.analysis.faithfulness import faithfulness_check
from IMDb.analysis.integrated_gradients import NEGATIVE, POSITIVE, EmbeddingSplit, IGResult, integrated_gradients
from IMDb.analysis.occlusion import Phrase
from IMDb.analysis.samples import samples_frame



class Reviews(Protocol):
    """The per-family glue: the model's split, a review as the model reads it and as a reader sees
    it, its probabilities, the review without some words, and its phrases by occlusion."""

    split: EmbeddingSplit

    def read(self, text: str) -> Review: ...

    def probabilities(self, review: Review, ig: IGResult) -> np.ndarray: ...

    def without(self, review: Review, words: np.ndarray) -> np.ndarray: ...

    def predict(self, rows: list[np.ndarray]) -> np.ndarray: ...

    def phrases(self, review: Review, n_values: Sequence[int], mode: str, rank_by: str, k: int) -> list[Phrase]: ...


def _python(value):
    """JSON-safe scalar: numpy -> Python, NaN -> None."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def explain_review(glue: Reviews, row: dict, *, steps: int = 50, n_values: Sequence[int] = (1, 2, 3),
                   top_ngrams: int = 10, rank_by: str = "delta", occlusion_mode: str = "pad",
                   k: Sequence[int] = (5, 10), n_random: int = 20, seed: int = 0) -> Explanation:
    """The `Explanation` of one review (`row`: text, and optionally sample_id, kind, label, loss)."""
    review = glue.read(row["text"])
    t0 = time.perf_counter()
    ig = integrated_gradients(glue.split, review.ids, (NEGATIVE, POSITIVE), steps)
    by_word = {t: review.per_word(ig.of(t)) for t in ig.targets}
    t1 = time.perf_counter()
    phrases = glue.phrases(review, n_values, occlusion_mode, rank_by, top_ngrams)
    t2 = time.perf_counter()
    p = glue.probabilities(review, ig)
    predicted = int(np.argmax(p))
    faith = faithfulness_check(glue.predict, review.ids, review.units, by_word[predicted],
                               lambda words: glue.without(review, words), k, n_random, seed)
    t3 = time.perf_counter()
    label = _python(row.get("label"))
    return Explanation(
        sample_id=_python(row.get("sample_id")), kind=row.get("kind"),
        label=None if label is None else int(label), prediction=predicted,
        p_positive=float(p[POSITIVE]), loss=_python(row.get("loss")),
        completeness=ig.completeness_by_target(), words=list(review.words), oov=list(review.oov),
        truncated=bool(review.truncated), ig_positive=[float(v) for v in by_word[POSITIVE]],
        ig_negative=[float(v) for v in by_word[NEGATIVE]], ngrams=phrases, faithfulness=faith,
        seconds={"ig": t1 - t0, "occlusion": t2 - t1, "faithfulness": t3 - t2})


def explain(glue: Reviews, texts_or_frame, *, n_samples: int | None = None, steps: int = 50,
            n_values: Sequence[int] = (1, 2, 3), top_ngrams: int = 10, rank_by: str = "delta",
            occlusion_mode: str = "pad", k: Sequence[int] = (5, 10), n_random: int = 20, seed: int = 0,
            progress: bool = False) -> list[Explanation]:
    """Explanations of reviews, for the report.

    `glue`: the model's `Reviews` (`IMDb.toolkits.base.Toolkit.explainer` of its Keras model and
    tokenizer). `texts_or_frame`: review texts, or a frame (or an AnalysisTable) with a `text` column
    and optionally sample_id, label, loss, prediction, kind; with `n_samples`, the frame is first
    narrowed to its highest-loss false positives and false negatives (`IMDb.analysis.samples`);
    `n_values`, `occlusion_mode`, `rank_by`: see `IMDb.analysis.occlusion.occlusion` (the
    `top_ngrams` rows, no two overlapping); `k`, `n_random`, `seed`: the faithfulness check of the
    predicted class's attributions.
    """
    frame = samples_frame(texts_or_frame, n_samples)
    rows: Any = frame.to_dict("records")
    if progress:
        from tqdm.auto import tqdm
        rows = tqdm(rows, desc="attribution", unit="review")
    return [explain_review(glue, row, steps=steps, n_values=n_values, top_ngrams=top_ngrams, rank_by=rank_by,
                           occlusion_mode=occlusion_mode, k=k, n_random=n_random, seed=seed) for row in rows]
