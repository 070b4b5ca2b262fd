"""Inference with the shipped models through ONNX Runtime: no TensorFlow import, no dataset.

`Predictor.load` checks that a model's files agree before anything runs: the tokenizer's
fingerprint must equal the one in the model card, and its sequence length the model's input length.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from IMDb.config import LABELS, MODELS_DIR, Config, source_model
from IMDb.errors import ModelError
from IMDb.scores import probabilities
from IMDb.text import WordTokenizer
from IMDb.wordpiece import WordPieceTokenizer


def shipped_models(models_dir: Path = MODELS_DIR) -> list[str]:
    return sorted(p.parent.name for p in Path(models_dir).glob("*/card.json"))


def load_card(name: str, models_dir: Path = MODELS_DIR) -> dict:
    """The bundle's card.json, checked against the card schema here (`check_card`), so that no
    reader (predict, the binder, the report) meets a wrong type later as a traceback."""
    path = Path(models_dir) / name / "card.json"
    if not path.is_file():
        known = ", ".join(shipped_models(models_dir)) or "none"
        raise ModelError(f"no model {name!r}: {path} not found (models in {models_dir}: {known})")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelError(f"{path} is not valid JSON: {e}") from e
    check_card(card, path)
    return card


# key -> (JSON type, required); other keys are informative (timings, machine...)
CARD_SCHEMA: dict[str, tuple[type, bool]] = {
    "model": (str, True), "config": (dict, True), "tokenizer_fingerprint": (str, True),
    "figures": (dict, False), "input_names": (list, False), "data_checksum": (str, False)}
NULL_PATHS = ("data", "out_dir", "runs_dir")  # config fields a card stores as null (no local paths)


def _typed(value: object, declared: str) -> bool:
    """Whether a JSON value fits a `Config` field annotation such as ``int | None`` (a bool is
    not an int here, an int is a float)."""
    kinds = {"NoneType" if k.strip() == "None" else k.strip() for k in declared.split("|")}
    return type(value).__name__ in kinds | ({"int"} if "float" in kinds else set())


def check_card(card: object, path: Path) -> None:
    """Raise one ModelError naming the key where `card` breaks the schema: the top-level keys
    (`CARD_SCHEMA`), the config's fields (typed as in `Config`) and figures {state: {"loss": number,
    "accuracy": number, "samples": number, ...}}."""
    def bad(key: str, expected: str, value: object) -> ModelError:
        return ModelError(f"{path}: {key} must be {expected}, got {json.dumps(value)[:60]}; restore the "
                          f"bundle's own card.json or retrain the model")

    if not isinstance(card, dict):
        raise bad("the card", "a JSON object", card)
    for key, (kind, required) in CARD_SCHEMA.items():
        if key not in card and required:
            raise ModelError(f"{path}: no {key!r} key; restore the bundle's own card.json or retrain the model")
        if key in card and not isinstance(card[key], kind):
            raise bad(key, {dict: "an object", str: "a string", list: "a list"}[kind], card[key])
    declared = {f.name: f.type + (" | None" if f.name in NULL_PATHS else "") for f in dataclasses.fields(Config)}
    for key, value in card["config"].items():
        if key in declared and not _typed(value, declared[key]):
            raise bad(f"config.{key}", declared[key], value)
    fraction = card["config"].get("val_fraction", 0.5)
    if not 0 < fraction < 1:
        raise bad("config.val_fraction", "between 0 and 1", fraction)
    for state, figures in card.get("figures", {}).items():
        if not isinstance(figures, dict) or not all(_typed(figures.get(k, 0), "float")
                                                    for k in ("loss", "accuracy", "samples")):
            raise bad(f"figures.{state}", "an object with numbers loss, accuracy and samples", figures)
    if not all(isinstance(n, str) for n in card.get("input_names", [])):
        raise bad("input_names", "a list of strings", card["input_names"])


def card_temperature(card: dict) -> float | None:
    """The calibration temperature `imdb-leap calibrate` recorded in a card, or None: whatever
    shows a probability divides the logits by it."""
    return (card.get("calibration") or {}).get("temperature")


def load_tokenizer(name: str, folder: Path, card: dict) -> WordTokenizer | WordPieceTokenizer:
    """The bundle's tokenizer (WordPiece for BERT, words otherwise), refused unless it is the one
    the card says `name` was trained with."""
    path = Path(folder) / "tokenizer.json"
    # a model made from another (bert-int8 from bert, `IMDb.config.DERIVED`) reads its tokenizer
    kind = WordPieceTokenizer if source_model(card.get("model", name)) == "bert" else WordTokenizer
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
        from IMDb.models import OUTPUT_NAME

        outputs = [o.name for o in session.get_outputs()]
        if outputs != [OUTPUT_NAME]:
            raise ModelError(f"{onnx_path} has outputs {outputs}, expected one output {OUTPUT_NAME!r}: "
                             f"re-export it with scripts/export_logits.py {name}")
        length = session.get_inputs()[0].shape[-1]
        if length != tokenizer.seq_len:
            raise ModelError(f"{onnx_path} takes {length} tokens but {folder / 'tokenizer.json'} "
                             f"makes {tokenizer.seq_len}: the files belong to different models")
        return cls(name, tokenizer, session, card)

    @property
    def input_names(self) -> list[str]:
        return [i.name for i in self.session.get_inputs()]

    @property
    def temperature(self) -> float | None:
        return card_temperature(self.card)

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The model's float32 inputs by name for review texts."""
        inputs = self.tokenizer.encode(texts)
        return inputs if isinstance(inputs, dict) else {self.input_names[0]: inputs}

    def predict_inputs(self, inputs: dict[str, np.ndarray], batch_size: int | None = None
                       ) -> np.ndarray:
        """Probabilities [n, 2] (float64) for float32 input arrays by name: softmax(logits / T)
        with the card's calibration temperature T, the plain softmax without one."""
        return probabilities(self.predict_logits(inputs, batch_size), self.temperature)

    def predict_logits(self, inputs: dict[str, np.ndarray], batch_size: int | None = None
                       ) -> np.ndarray:
        """The model's raw output [n, 2] for float32 input arrays by name, in batches (BERT's are
        smaller: its attention holds batch x heads x seq_len^2 floats)."""
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
        return self.predict_inputs(self.encode(texts))

    @staticmethod
    def label(probabilities: np.ndarray) -> str:
        return LABELS[int(np.argmax(probabilities))]
