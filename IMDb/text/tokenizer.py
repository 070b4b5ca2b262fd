"""The one contract every model family's tokenizer keeps (`IMDb.text.word_tokenizer.WordTokenizer` for the word
models, `IMDb.text.wordpiece.WordPieceTokenizer` for BERT).

Whoever feeds a model or explains its input reads only this interface, so nothing outside a family
asks which tokenizer it holds:

- `encode(texts)`: the model's inputs, always a dict of float32 arrays [n, seq_len] by input name
  (float32: the platform's input encoders return it and it refuses int64 ONNX inputs);
- `batches(texts, batch_size)`: the same inputs in batches, as a model should be run on them (BERT's
  are grouped by length and padded tightly);
- per review, for metadata and visualizers: `count` (tokens of the whole review, before truncation),
  `oov_count`, `positions` (the token at each input position, "" for padding) and `oov_positions`;
- `max_tokens`: the review tokens the model reads (a longer review is truncated);
- `id_count`: how many ids the tokenizer emits (its largest id + 1): the rows the model's
  embedding must have, checked when a bundle is read (`IMDb.bundle`);
- persistence: `save`, `load` and the `fingerprint` a model card records, checked at load.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from IMDb.errors import ModelError


class Tokenizer(ABC):
    """Review text -> a model's inputs; see the module docstring for each method's meaning."""

    input_names: tuple[str, ...]
    seq_len: int

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """A short hash of everything that changes the encoding: a model card records it."""

    @property
    def max_tokens(self) -> int:
        return self.seq_len

    @property
    @abstractmethod
    def id_count(self) -> int:
        """How many ids `encode` can emit (its largest id + 1)."""

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Float32 arrays [n, seq_len] by input name."""

    def batches(self, texts: Sequence[str], batch_size: int) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """(row indices, inputs by name) per batch, covering every text once. Here: in order."""
        for start in range(0, len(texts), batch_size):
            rows = np.arange(start, min(start + batch_size, len(texts)))
            yield rows, self.encode(texts[start:start + batch_size])

    @abstractmethod
    def count(self, text: str) -> int:
        """Tokens of the whole review (before truncation)."""

    @abstractmethod
    def oov_count(self, text: str) -> int:
        """Out-of-vocabulary tokens of the whole review."""

    @abstractmethod
    def positions(self, text: str) -> list[str]:
        """The token at each of the `seq_len` input positions ("" for padding), aligned with `encode`."""

    @abstractmethod
    def oov_positions(self, text: str) -> np.ndarray:
        """uint8 [seq_len]: 1 where the input position holds an out-of-vocabulary token."""

    @abstractmethod
    def save(self, path: str | Path) -> Path:
        """Write the tokenizer as one JSON file (atomically)."""

    @classmethod
    @abstractmethod
    def load(cls, path: str | Path) -> "Tokenizer":
        """The tokenizer `save` wrote; a ModelError names the file if it is missing or corrupt."""

    @staticmethod
    def read_state(path: str | Path, fmt: str, kind: str) -> dict:
        """The JSON object `save` wrote at `path`, of format `fmt`: what every `load` starts from. A
        missing file, one that is not JSON or one of another format is a ModelError naming it as
        not `kind` (e.g. "a WordPiece tokenizer file saved by imdb-leap")."""
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"tokenizer file not found: {path}. Train the model first "
                             f"(imdb-leap train) or restore the file from the repository.")
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeError) as e:
            raise ModelError(f"{path} is not {kind}: {e}") from e
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        if found != fmt:
            raise ModelError(f"{path} is not {kind}: format is {found!r}, expected {fmt!r}")
        return state
