"""Inference with the shipped models through ONNX Runtime: no TensorFlow import, no dataset.

`Predictor.load` checks that a model's files agree before anything runs: the tokenizer's
fingerprint must equal the one in the model card, and its sequence length the model's input length.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from IMDb.config import LABELS, MODELS_DIR
from IMDb.errors import ModelError
from IMDb.text import WordTokenizer


def shipped_models(models_dir: Path = MODELS_DIR) -> list[str]:
    return sorted(p.parent.name for p in Path(models_dir).glob("*/card.json"))


def load_card(name: str, models_dir: Path = MODELS_DIR) -> dict:
    path = Path(models_dir) / name / "card.json"
    if not path.is_file():
        known = ", ".join(shipped_models(models_dir)) or "none"
        raise ModelError(f"no model {name!r}: {path} not found (models in {models_dir}: {known})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ModelError(f"{path} is not valid JSON: {e}") from e


def load_tokenizer(name: str, folder: Path, card: dict) -> WordTokenizer:
    """The bundle's tokenizer, refused unless it is the one the card says `name` was trained with."""
    path = Path(folder) / "tokenizer.json"
    tokenizer = WordTokenizer.load(path)
    expected = card.get("tokenizer_fingerprint")
    if tokenizer.fingerprint != expected:
        raise ModelError(f"{path} (fingerprint {tokenizer.fingerprint}) is not the tokenizer {name} "
                         f"was trained with ({Path(folder) / 'card.json'} says {expected}); restore "
                         f"the model's own tokenizer.json")
    return tokenizer


@dataclass
class Predictor:
    name: str
    tokenizer: WordTokenizer
    session: Any  # onnxruntime.InferenceSession
    card: dict

    @classmethod
    def load(cls, name: str, models_dir: Path = MODELS_DIR) -> "Predictor":
        import onnxruntime as ort

        card = load_card(name, models_dir)
        folder = Path(models_dir) / name
        tokenizer = load_tokenizer(name, folder, card)
        onnx_path = folder / "model.onnx"
        if not onnx_path.is_file():
            raise ModelError(f"model file not found: {onnx_path}")
        try:
            session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own untyped errors on corrupt files
            raise ModelError(f"{onnx_path} could not be loaded by ONNX Runtime: {e}") from e
        length = session.get_inputs()[0].shape[-1]
        if length != tokenizer.seq_len:
            raise ModelError(f"{onnx_path} takes {length} tokens but {folder / 'tokenizer.json'} "
                             f"makes {tokenizer.seq_len}: the files belong to different models")
        return cls(name, tokenizer, session, card)

    def predict_tokens(self, tokens: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Probabilities [n, 2] for float32 token arrays, in batches."""
        name = self.session.get_inputs()[0].name
        return np.concatenate([
            self.session.run(None, {name: tokens[i:i + batch_size].astype(np.float32)})[0]
            for i in range(0, max(len(tokens), 1), batch_size)])[: len(tokens)]

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.predict_tokens(self.tokenizer.encode(texts))

    @staticmethod
    def label(probabilities: np.ndarray) -> str:
        return LABELS[int(np.argmax(probabilities))]
