"""The records the sample analysis passes around: a `Review` (what is explained, as the model reads it
and as a reader sees it) and an `Explanation` (what the analysis found, for the report).

The attribution stage (`IMDb.analysis.stages.attribution`: its section and summary entry) reads an
`Explanation` by attribute; `Explanation.summary` is its entry in summary.json (``attribution.samples``) and
`Explanation.from_dict` reads such an entry (or a hand-made dict, missing fields None) back.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from IMDb.analysis.faithfulness import Faithfulness, FaithfulnessAtK
from IMDb.analysis.integrated_gradients import Completeness
from IMDb.analysis.occlusion import Phrase

# the fields of an explanation in summary.json, in this order
SUMMARY_FIELDS = ("sample_id", "kind", "label", "prediction", "p_positive", "loss", "completeness",
                  "faithfulness", "ngrams")


@dataclass
class Review:
    """One review as a model reads it and as a reader sees it: the model's ids, the word index of
    each id (-1: padding, [CLS], [SEP]), the words, which words hold an unknown id, and whether the
    model saw only part of the review."""

    ids: np.ndarray
    word_of: np.ndarray
    words: list[str]
    oov: list[bool]
    truncated: bool

    @property
    def units(self) -> np.ndarray:
        """The word indices that can be removed: those with ids (a cut marker has none)."""
        word_of = np.asarray(self.word_of)
        return np.unique(word_of[word_of >= 0])

    def per_word(self, values: np.ndarray) -> np.ndarray:
        """Per-id values summed into the words [n_words] (ids of no word are dropped)."""
        word_of = np.asarray(self.word_of)
        mine = word_of >= 0
        out = np.zeros(len(self.words), dtype=np.float64)
        np.add.at(out, word_of[mine], np.asarray(values, dtype=np.float64)[mine])
        return out


@dataclass
class Explanation:
    """One explained review.

    Which review (sample_id, kind: why it was chosen, label or None) and what the model said
    (prediction, p_positive, loss); the words it read (OOV/unknown ones flagged in `oov`;
    `truncated`: the model saw part of it) with one IG attribution per word toward each class
    (`ig_positive`, `ig_negative`) and their `completeness` per class name; `ngrams`: the top
    phrases by occlusion (word models; empty for BERT); `faithfulness` of the predicted class's
    attributions; `seconds` per stage.
    """

    sample_id: Any = None
    kind: str | None = None
    label: int | None = None
    prediction: int | None = None
    p_positive: float | None = None
    loss: float | None = None
    completeness: dict[str, Completeness] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)
    oov: list[bool] = field(default_factory=list)
    truncated: bool = False
    ig_positive: list[float] = field(default_factory=list)
    ig_negative: list[float] = field(default_factory=list)
    ngrams: list[Phrase] = field(default_factory=list)
    faithfulness: Faithfulness | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Every field as plain JSON-able values (nested records as dicts)."""
        return dataclasses.asdict(self)

    def summary(self) -> dict:
        """The explanation's entry in summary.json."""
        whole = self.to_dict()
        return {name: whole[name] for name in SUMMARY_FIELDS}

    @classmethod
    def from_dict(cls, data: dict) -> "Explanation":
        """An explanation from its dict form (`to_dict`, a summary.json entry); unknown keys are
        ignored, missing ones take their defaults."""
        def record(kind, value):
            if value is None or isinstance(value, kind):
                return value
            names = {f.name for f in dataclasses.fields(kind)}
            return kind(**{k: v for k, v in value.items() if k in names})

        names = {f.name for f in dataclasses.fields(cls)}
        out = cls(**{k: v for k, v in data.items() if k in names})
        out.completeness = {k: record(Completeness, v) for k, v in (out.completeness or {}).items()}
        out.ngrams = [record(Phrase, r) for r in out.ngrams or []]
        if out.faithfulness is not None and not isinstance(out.faithfulness, Faithfulness):
            faith = dict(out.faithfulness)
            faith["per_k"] = [record(FaithfulnessAtK, r) for r in faith.get("per_k") or []]
            out.faithfulness = record(Faithfulness, faith)
        return out

    @classmethod
    def coerce(cls, value: "Explanation | dict") -> "Explanation":
        return value if isinstance(value, cls) else cls.from_dict(value)
