"""Loss and metrics of the Tensorleap integration, as plain numpy functions of a batch.

Arguments are ``ground_truth`` [batch, 2] one-hot in the order of LABELS and ``prediction``
[batch, 2] logits (the models' raw output; probabilities are their softmax, `IMDb.measures.scores`). The
platform hands them over as float16 (its storage precision), so everything is computed in float64
and returned as float32, one value per sample. A sample without a
label (ground truth of width 0: the unlabeled state) gets NaN, "undefined", never a made-up 0 or 1.
"""
from __future__ import annotations

import numpy as np

from IMDb.config.run import LABELS
from IMDb.measures.scores import log_softmax, softmax

EPSILON = 1e-7
POSITIVE = LABELS.index("positive")
NEGATIVE = LABELS.index("negative")


def _batch(ground_truth, prediction) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 [batch, classes] arrays and a mask of the rows that have a label."""
    pred = np.asarray(prediction, dtype=np.float64)
    pred = pred.reshape(len(pred), -1)
    gt = np.asarray(ground_truth, dtype=np.float64)
    gt = gt.reshape(len(pred), -1) if gt.size else np.zeros((len(pred), 0))
    if gt.shape[1] not in (0, pred.shape[1]):
        raise ValueError(f"ground truth has {gt.shape[1]} classes, prediction {pred.shape[1]}")
    labeled = np.full(len(pred), gt.shape[1] > 0)
    return gt, pred, labeled


def categorical_crossentropy(ground_truth, prediction) -> np.ndarray:
    """-sum(gt * log softmax(logits)) per sample, with the log-softmax computed stably (no clipping,
    so a confidently wrong review gets its true, large loss)."""
    gt, pred, labeled = _batch(ground_truth, prediction)
    out = np.full(len(pred), np.nan)
    if labeled.any():
        out = -(gt * log_softmax(pred)).sum(axis=1)
    return out.astype(np.float32)


def crossentropy_of_probabilities(ground_truth, probabilities) -> np.ndarray:
    """`categorical_crossentropy` for callers that hold probabilities (the analysis, the baselines):
    their logs are logits whose softmax gives them back. A probability is clipped at 1e-7 first, so
    a review scored 0 for its true class gets a large but finite loss (16.1)."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), EPSILON, 1.0)
    return categorical_crossentropy(ground_truth, np.log(p))


def accuracy(ground_truth, prediction) -> np.ndarray:
    """1.0 where the highest-scoring class is the true one, else 0.0."""
    gt, pred, labeled = _batch(ground_truth, prediction)
    if not labeled.any():
        return np.full(len(pred), np.nan, dtype=np.float32)
    return (gt.argmax(axis=1) == pred.argmax(axis=1)).astype(np.float32)


def errors(ground_truth, prediction) -> dict[str, np.ndarray]:
    """false_positive: predicted positive, truly negative; false_negative: predicted negative, truly
    positive (1.0 or 0.0 per sample)."""
    gt, pred, labeled = _batch(ground_truth, prediction)
    if not labeled.any():
        nan = np.full(len(pred), np.nan, dtype=np.float32)
        return {"false_positive": nan, "false_negative": nan.copy()}
    truth, guess = gt.argmax(axis=1), pred.argmax(axis=1)
    return {"false_positive": ((guess == POSITIVE) & (truth == NEGATIVE)).astype(np.float32),
            "false_negative": ((guess == NEGATIVE) & (truth == POSITIVE)).astype(np.float32)}


def confusion_outcomes(ground_truth, prediction) -> list[list[tuple[str, bool, float]]]:
    """Per sample, per class: (class name, whether it is the true class, predicted probability).
    An unlabeled sample has no outcomes."""
    gt, pred, labeled = _batch(ground_truth, prediction)
    if not labeled.any():
        return [[] for _ in range(len(pred))]
    probs = softmax(pred)
    return [[(LABELS[c], bool(gt[i, c] == 1), float(probs[i, c])) for c in range(pred.shape[1])]
            for i in range(len(pred))]


def confusion_matrix(ground_truth, prediction):
    """`confusion_outcomes` as code-loader's ConfusionMatrixElement lists: the platform builds the
    confusion matrix (true/false positives and negatives per class) from them."""
    from code_loader.contract.datasetclasses import ConfusionMatrixElement
    from code_loader.contract.enums import ConfusionMatrixValue

    return [[ConfusionMatrixElement(name, ConfusionMatrixValue.Positive if expected else ConfusionMatrixValue.Negative,
                                    probability) for name, expected, probability in row]
            for row in confusion_outcomes(ground_truth, prediction)]
