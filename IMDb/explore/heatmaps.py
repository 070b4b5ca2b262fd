"""Per-word heat maps toward each class, computed when a review is opened and kept on disk.

The attributions are the analysis's integrated gradients (`IMDb.analysis.integrated_gradients`, on the
family's embedding split from its toolkit's explainer, summed into the words a reader sees), as in the
report's sample section; a model made without training (bert-int8) is explained by its source model,
as there. Each result is a JSON file in the output folder, ``heatmaps/<model>-<fingerprint>/<hash of
the text>.json``: the fingerprint is a hash of the explaining model's card and weights file, so a
retrained model never reads a stale map, and no request value ever becomes part of a path.
"""
from __future__ import annotations

import hashlib
import json
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from IMDb import families, toolkits
from IMDb.analysis import cache
from IMDb.analysis.integrated_gradients import NEGATIVE, POSITIVE, integrated_gradients
from IMDb.analysis.templating import heat
from IMDb.bundle import Bundle
from IMDb.output.folders import folder_file
from IMDb.output.formats import dumps

STEPS = 50  # as the report's sample analysis


class Explainer:
    """One loaded model's attribution glue (loaded on first use) and its on-disk cache."""

    def __init__(self, model: str, models_dir: Path, out: Path):
        self.model = model
        self.bundle = Bundle.read(families.get(model).explained_by, models_dir)
        self.out = out
        self._lock = threading.Lock()  # one TensorFlow computation at a time per model

    @cached_property
    def fingerprint(self) -> str:
        family = self.bundle.family
        weights = self.bundle.file(family.keras_file) if family.keras_file else self.bundle.file("model.onnx")
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        return cache.version(self.bundle.name, dumps(self.bundle.card), digest)

    @cached_property
    def glue(self) -> Any:
        from IMDb.analysis.inference import load_keras

        family = self.bundle.family
        return toolkits.of(family).explainer(family, load_keras(self.bundle), self.bundle.tokenizer)

    def attributions(self, text: str) -> dict:
        """The words of `text` as the model reads them and their IG toward each class (cached)."""
        name = f"heatmaps/{self.bundle.name}-{self.fingerprint}/{cache.text_keys([text])[0]}.json"
        path = self.out / name
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
        with self._lock:
            review = self.glue.read(text)
            ig = integrated_gradients(self.glue.split, review.ids, (NEGATIVE, POSITIVE), STEPS)
            found = {"words": list(review.words), "oov": [bool(o) for o in review.oov],
                     "truncated": bool(review.truncated),
                     "positive": review.per_word(ig.of(POSITIVE)).tolist(),
                     "negative": review.per_word(ig.of(NEGATIVE)).tolist()}
        with folder_file(self.out, name) as tmp:
            tmp.write_text(dumps(found), encoding="utf-8")
        return found

    def heat_map(self, text: str) -> dict:
        """The heat map of `text` for the page: per class, each word with its colour and score."""
        found = self.attributions(text)
        return {"model": self.model, "explained_by": self.bundle.name, "truncated": found["truncated"],
                "positive": heat(found["words"], found["positive"], found["oov"]),
                "negative": heat(found["words"], found["negative"], found["oov"])}


class HeatMaps:
    """The explainers of every loaded model."""

    def __init__(self, models: list[str], models_dir: Path, out: Path):
        self.explainers = {m: Explainer(m, models_dir, out) for m in models}

    def of(self, text: str) -> list[dict]:
        return [e.heat_map(text) for e in self.explainers.values()]
