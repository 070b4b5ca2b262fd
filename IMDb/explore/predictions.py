"""Every loaded model's prediction of a text typed into the page (an edited review), by the shipped
ONNX models (`IMDb.predict.Predictor`: the same probabilities as ``imdb-leap predict``), each loaded
on first use."""
from __future__ import annotations

import threading
from pathlib import Path

from IMDb.config.run import LABELS
from IMDb.predict import Predictor


class Predictions:
    """The loaded models' predictors, loaded when the first edit comes."""

    def __init__(self, models: list[str], models_dir: Path):
        self.models, self.models_dir = models, models_dir
        self._predictors: dict[str, Predictor] = {}
        self._lock = threading.Lock()

    def _predictor(self, model: str) -> Predictor:
        with self._lock:
            if model not in self._predictors:
                self._predictors[model] = Predictor.load(model, self.models_dir)
            return self._predictors[model]

    def of(self, text: str) -> list[dict]:
        """Per model: its predicted class (an index of `IMDb.config.run.LABELS`) and p(positive)."""
        out = []
        for model in self.models:
            p = self._predictor(model).predict([text])[0]
            out.append({"model": model, "prediction": int(p.argmax()), "label": LABELS[int(p.argmax())],
                        "p_positive": float(p[1])})
        return out
