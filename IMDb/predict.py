"""Inference with the shipped models through ONNX Runtime: no TensorFlow import, no dataset.

`Predictor.load` reads the bundle (`IMDb.bundle.Bundle`: card, tokenizer, ONNX session and its
embedding table, each checked against the others) before anything runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from IMDb.bundle import Bundle
from IMDb.config.run import LABELS, MODELS_DIR
from IMDb.measures.scores import probabilities
from IMDb.text.tokenizer import Tokenizer


@dataclass
class Predictor:
    bundle: Bundle
    session: Any  # onnxruntime.InferenceSession

    @classmethod
    def load(cls, name: str, models_dir: str | Path = MODELS_DIR) -> "Predictor":
        bundle = Bundle.read(name, models_dir)
        session = bundle.session()
        bundle.check_embedding()
        return cls(bundle, session)

    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def tokenizer(self) -> Tokenizer:
        return self.bundle.tokenizer

    @property
    def card(self) -> dict:
        return self.bundle.card

    @property
    def temperature(self) -> float | None:
        return self.bundle.temperature

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The model's float32 inputs by name for review texts."""
        return self.tokenizer.encode(texts)

    def predict_inputs(self, inputs: dict[str, np.ndarray], batch_size: int | None = None
                       ) -> np.ndarray:
        """Probabilities [n, 2] (float64) for float32 input arrays by name: softmax(logits / T)
        with the card's calibration temperature T, the plain softmax without one."""
        return probabilities(self.predict_logits(inputs, batch_size), self.temperature)

    def predict_logits(self, inputs: dict[str, np.ndarray], batch_size: int | None = None
                       ) -> np.ndarray:
        """The model's raw output [n, 2] for float32 input arrays by name, in batches of the
        family's size unless `batch_size` is given."""
        batch_size = batch_size or self.bundle.family.batch_size
        n = len(next(iter(inputs.values())))
        return np.concatenate([
            self.session.run(None, {k: np.asarray(v[i:i + batch_size], dtype=np.float32)
                                    for k, v in inputs.items()})[0]
            for i in range(0, max(n, 1), batch_size)])[:n]

    def predict_tokens(self, tokens: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Probabilities [n, 2] for arrays of a one-input model (a word model's token ids), in
        batches: the occlusion and faithfulness variants of `IMDb.analysis.attribution_words`."""
        return self.predict_inputs({self.bundle.input_names[0]: tokens}, batch_size)

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.predict_inputs(self.encode(texts))

    @staticmethod
    def label(probabilities: np.ndarray) -> str:
        return LABELS[int(np.argmax(probabilities))]
