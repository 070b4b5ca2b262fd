"""What the Tensorleap visualizers draw, as plain functions returning code-loader's Leap* objects.

``review`` shows one entry per model input position and carries no heat map of its own: it is wired
to the model input, and that view is where the platform draws its own attribution heat map of the
model, which must not be mixed with another meaning.

``lexicon`` is a separate, model-independent view computed from the text alone (a visualizer cannot
run the model: on the platform the model file is not in the code bundle): the same positions, each
word's strength of sentiment in TextBlob's lexicon, |polarity| in [0, 1], halved right after a
negation (as TextBlob does), 0 for neutral, unknown and padding positions. It shows where a lexicon
sees sentiment, to read against the model's heat map and the ``textblob_polarity`` metadata.
"""
from __future__ import annotations

import numpy as np
from code_loader.contract.visualizer_classes import LeapHorizontalBar, LeapText, LeapTextMask

from IMDb.config.run import LABELS
from IMDb.measures.metadata import NEGATIONS, sentiment_strength
from IMDb.measures.scores import probabilities
from IMDb.text.word_tokenizer import split_words

OOV_LABEL = "out-of-vocabulary"


def strip_batch(array) -> np.ndarray:
    """Drop leading axes of size 1: inside the integration test visualizers get batched arrays."""
    array = np.asarray(array)
    while array.ndim > 1 and array.shape[0] == 1:
        array = array[0]
    return array


def lexicon_heat(words: list[str]) -> list[float]:
    """One plain float in [0, 1] per word (see the module docstring)."""
    strength = sentiment_strength()
    heat, previous = [], ""
    for word in words:
        value = strength.get(word, 0.0) if word else 0.0
        if previous in NEGATIONS:
            value *= 0.5
        heat.append(float(value))
        previous = word
    return heat


def _check_width(words: list[str], tokens) -> None:
    width = strip_batch(tokens).shape[-1]
    if len(words) != width:
        raise ValueError(f"{len(words)} words for an input of {width} positions: the visualizer and the "
                         "input encoder disagree on the tokenizer")


def review(words: list[str], tokens) -> LeapText:
    """The review as the model reads it, one word per input position of `tokens` ("" for padding)."""
    _check_width(words, tokens)
    return LeapText(data=list(words))


def lexicon(words: list[str]) -> LeapText:
    """The model's input positions with the lexicon heat map (see the module docstring)."""
    return LeapText(data=list(words), heatmap=lexicon_heat(words))


def prediction(logits, ground_truth=None, temperature: float | None = None) -> LeapHorizontalBar:
    """The model's probability of each class (softmax of its logits, divided by the calibration
    temperature when the card has one), labelled in the order of LABELS, with the one-hot ground
    truth beside it where the review has a label."""
    body = probabilities(strip_batch(logits), temperature).astype(np.float32)
    if body.shape != (len(LABELS),):
        raise ValueError(f"expected {len(LABELS)} logits {list(LABELS)}, got shape {body.shape}")
    gt = None if ground_truth is None else strip_batch(ground_truth).astype(np.float32)
    if gt is not None and gt.shape != body.shape:
        gt = None  # the unlabeled state: ground truth of width 0
    return LeapHorizontalBar(body=body, labels=list(LABELS), gt=gt)


def cleaned_text(text: str) -> LeapText:
    """The whole review after cleaning (lowercase, no HTML or punctuation), before truncation."""
    return LeapText(data=split_words(text))


def oov_tokens(words: list[str], mask: np.ndarray, tokens) -> LeapTextMask:
    """The input positions holding out-of-vocabulary words, marked 1 (label ``out-of-vocabulary``)."""
    _check_width(words, tokens)
    mask = np.asarray(mask, dtype=np.uint8)
    if mask.shape != (len(words),):
        raise ValueError(f"mask of shape {mask.shape} for {len(words)} words")
    return LeapTextMask(mask=mask, text=list(words), labels=[OOV_LABEL])
