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
from IMDb.wordpiece import WordPieceTokenizer


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


def load_tokenizer(name: str, folder: Path, card: dict) -> WordTokenizer | WordPieceTokenizer:
    """The bundle's tokenizer (WordPiece for BERT, words otherwise), refused unless it is the one
    the card says `name` was trained with."""
    path = Path(folder) / "tokenizer.json"
    kind = WordPieceTokenizer if card.get("model", name) == "bert" else WordTokenizer
    tokenizer = kind.load(path)
    expected = card.get("tokenizer_fingerprint")
    if tokenizer.fingerprint != expected:
        raise ModelError(f"{path} (fingerprint {tokenizer.fingerprint}) is not the tokenizer {name} "
                         f"was trained with ({Path(folder) / 'card.json'} says {expected}); restore "
                         f"the model's own tokenizer.json")
    return tokenizer


@dataclass
class Predictor:
    name: str
    tokenizer: WordTokenizer | WordPieceTokenizer
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

    @property
    def input_names(self) -> list[str]:
        return [i.name for i in self.session.get_inputs()]

    def predict_inputs(self, inputs: dict[str, np.ndarray], batch_size: int | None = None
                       ) -> np.ndarray:
        """Probabilities [n, 2] for float32 input arrays by name, in batches (BERT's are smaller:
        its attention holds batch x heads x seq_len^2 floats)."""
        batch_size = batch_size or (512 if len(inputs) == 1 else 32)
        n = len(next(iter(inputs.values())))
        return np.concatenate([
            self.session.run(None, {k: v[i:i + batch_size].astype(np.float32)
                                    for k, v in inputs.items()})[0]
            for i in range(0, max(n, 1), batch_size)])[:n]

    def predict_tokens(self, tokens: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Probabilities [n, 2] for a word model's float32 token arrays, in batches."""
        return self.predict_inputs({self.input_names[0]: tokens}, batch_size)

    def predict(self, texts: list[str]) -> np.ndarray:
        inputs = self.tokenizer.encode(texts)
        return self.predict_inputs(inputs if isinstance(inputs, dict)
                                   else {self.input_names[0]: inputs})

    @staticmethod
    def label(probabilities: np.ndarray) -> str:
        return LABELS[int(np.argmax(probabilities))]
