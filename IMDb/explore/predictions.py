"""Every loaded model's prediction of a text typed into the page (an edited review), by the shipped
ONNX models (`IMDb.predict.Predictor`: the same probabilities as ``imdb-leap predict``), loaded with
the state (on the loading thread), so the first edit is answered as fast as the next: loading them
on that edit took 1.6 s for dense and cnn here, a prediction then 1 ms."""
from __future__ import annotations

from pathlib import Path

from IMDb.config.run import LABELS
from IMDb.predict import Predictor


class Predictions:
    """The loaded models' predictors."""

    def __init__(self, models: list[str], models_dir: Path):
        self.predictors = {model: Predictor.load(model, models_dir) for model in models}

    def of(self, text: str) -> list[dict]:
        """Per model: its predicted class (an index of `IMDb.config.run.LABELS`) and p(positive)."""
        out = []
        for model, predictor in self.predictors.items():
            p = predictor.predict([text])[0]
            out.append({"model": model, "prediction": int(p.argmax()), "label": LABELS[int(p.argmax())],
                        "p_positive": float(p[1])})
        return out
