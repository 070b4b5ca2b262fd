"""BERT's WordPiece tokenizer for reviews longer than the model's sequence.

Built from a checkpoint's ``vocab.txt`` with the `tokenizers` library (uncased, accents stripped,
as the uncased checkpoints were trained), after the same HTML-residue removal the word models get.
A review longer than ``seq_len - 2`` pieces is cut either to its first pieces (``head``) or to its
first ``head_tokens`` and last ``seq_len - 2 - head_tokens`` pieces (``headtail``): reviews often
end with their verdict, and keeping the ending measurably helps (see docs/models.md, BERT).

The tokenizer is saved as one JSON file holding the `tokenizers` serialization and these settings,
with a fingerprint the model card records, like `IMDb.text.word_tokenizer.WordTokenizer`.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from IMDb.errors import ModelError
from IMDb.output.atomic import atomic_write_text
from IMDb.output.formats import dumps
from IMDb.text.tokenizer import Tokenizer
from IMDb.text.word_tokenizer import HTML_RESIDUE

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
TRUNCATIONS = ("headtail", "head")
FORMAT = "imdb-leap/wordpiece/1"
MIN_SEQ_LEN = 4  # [CLS], [SEP] and at least two pieces of review


class WordPieceTokenizer(Tokenizer):
    """Review text -> [CLS] pieces [SEP] ids, truncated head-only or head+tail, padded with 0.

    Three inputs (`INPUT_NAMES`); positions are pieces (``[CLS]``, ``great``, ``##ly``, ...,
    ``[SEP]``), as the platform's heat maps are per input position; out-of-vocabulary means the
    ``[UNK]`` piece (`IMDb.text.tokenizer.Tokenizer`).
    """

    input_names = INPUT_NAMES

    def __init__(self, tokenizer, seq_len: int = 256, truncation: str = "headtail",
                 head_tokens: int | None = None):
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation must be one of {TRUNCATIONS}, not {truncation!r}")
        if seq_len < MIN_SEQ_LEN:
            raise ValueError(f"seq_len must be at least {MIN_SEQ_LEN}, not {seq_len}")
        self.tokenizer = tokenizer  # tokenizers.Tokenizer, special tokens not added by encode
        self.seq_len = seq_len
        self.truncation = truncation
        self.head_tokens = (seq_len - 2) // 2 if head_tokens is None else head_tokens
        if not 0 < self.head_tokens <= seq_len - 2:
            raise ValueError(f"head_tokens must be in 1..{seq_len - 2}, not {self.head_tokens}")
        self.cls_id = self._special("[CLS]")
        self.sep_id = self._special("[SEP]")
        self.pad_id = self._special("[PAD]")
        self.unk_id = self._special("[UNK]")

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_vocab(cls, vocab_file: str | Path, **settings) -> "WordPieceTokenizer":
        """The uncased, accent-stripping WordPiece of a BERT checkpoint's ``vocab.txt``."""
        from tokenizers import BertWordPieceTokenizer

        vocab_file = Path(vocab_file)
        if not vocab_file.is_file():
            raise ModelError(f"no WordPiece vocabulary at {vocab_file}: point to a BERT checkpoint "
                             f"folder holding vocab.txt (config.json, model.safetensors beside it)")
        wordpiece = BertWordPieceTokenizer(str(vocab_file), lowercase=True, strip_accents=True,
                                           clean_text=True, handle_chinese_chars=True)
        tokenizer = wordpiece._tokenizer
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return cls(tokenizer, **settings)

    def save(self, path: str | Path) -> Path:
        return atomic_write_text(path, dumps(self._state(), indent=1, ensure_ascii=True) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "WordPieceTokenizer":
        from tokenizers import Tokenizer as Pieces

        state = cls.read_state(path, FORMAT, "a WordPiece tokenizer file saved by imdb-leap")
        try:
            tokenizer = Pieces.from_str(state["tokenizer"])
        except Exception as e:  # tokenizers raises its own untyped errors on a corrupt file
            raise ModelError(f"{path} is not a WordPiece tokenizer file saved by imdb-leap: {e}") from e
        try:
            return cls(tokenizer, state["seq_len"], state["truncation"], state["head_tokens"])
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"{path} is not a WordPiece tokenizer file saved by imdb-leap: {e}") from e

    def _state(self) -> dict:
        return {"format": FORMAT, "seq_len": self.seq_len, "truncation": self.truncation,
                "head_tokens": self.head_tokens, "tokenizer": self.tokenizer.to_str()}

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self._state(), sort_keys=True).encode()).hexdigest()[:16]

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    @property
    def id_count(self) -> int:
        return self.vocab_size

    def _special(self, token: str) -> int:
        token_id = self.tokenizer.token_to_id(token)
        if token_id is None:
            raise ModelError(f"the WordPiece vocabulary has no {token} token: not a BERT vocabulary")
        return token_id

    # ------------------------------------------------------------------ encoding

    @staticmethod
    def prepare(text: str) -> str:
        """The review as BERT reads it: HTML residue (``<br />``, ``&amp;``) replaced by spaces, and
        lone surrogates (undecodable input bytes) by ``?``: `tokenizers` rejects them with a TypeError."""
        return HTML_RESIDUE.sub(" ", text).encode("utf-8", "replace").decode("utf-8")

    def encodings(self, texts: list[str]) -> list:
        """`tokenizers` Encodings (pieces, offsets, word ids) of whole reviews, no specials."""
        return self.tokenizer.encode_batch([self.prepare(t) for t in texts], add_special_tokens=False)

    def keep(self, n: int) -> np.ndarray:
        """Indices of the pieces kept from a review of `n` pieces."""
        room = self.seq_len - 2
        if n <= room:
            return np.arange(n)
        if self.truncation == "head":
            return np.arange(room)
        tail = room - self.head_tokens
        return np.concatenate([np.arange(self.head_tokens), np.arange(n - tail, n)])

    def rows(self, texts: list[str]) -> list[np.ndarray]:
        """Unpadded [CLS] kept pieces [SEP] ids per review (the trainer pads per batch)."""
        out = []
        for encoding in self.encodings(texts):
            pieces = np.asarray(encoding.ids, dtype=np.int32)
            out.append(np.concatenate([[self.cls_id], pieces[self.keep(len(pieces))], [self.sep_id]])
                       .astype(np.int32))
        return out

    def pad(self, rows: list[np.ndarray], length: int | None = None) -> dict[str, np.ndarray]:
        """Model inputs (float32, the platform's input type) of `rows`, padded to `length`."""
        length = self.seq_len if length is None else length
        ids = np.full((len(rows), length), self.pad_id, dtype=np.float32)
        mask = np.zeros((len(rows), length), dtype=np.float32)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = row
            mask[i, :len(row)] = 1.0
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(mask)}

    def pad_tight(self, rows: list[np.ndarray], multiple: int = 32) -> dict[str, np.ndarray]:
        """`pad` to the longest row rounded up to `multiple` (at most seq_len): a batch of
        similar lengths then skips most padding, and few distinct shapes are compiled."""
        longest = max(len(r) for r in rows)
        return self.pad(rows, min(self.seq_len, -(-longest // multiple) * multiple))

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Float32 ``input_ids``, ``attention_mask``, ``token_type_ids`` of shape [n, seq_len]."""
        return self.pad(self.rows(texts))

    def batches(self, texts: list[str], batch_size: int):
        """Batches of reviews of similar length, each padded to its longest (`pad_tight`): at 256
        pieces most IMDb reviews are shorter than the input, and attention costs grow with the
        square of the length."""
        rows = self.rows(texts)
        order = np.argsort([len(r) for r in rows], kind="stable")
        for start in range(0, len(rows), batch_size):
            idx = order[start:start + batch_size]
            yield idx, self.pad_tight([rows[i] for i in idx])

    @property
    def max_tokens(self) -> int:
        return self.seq_len - 2  # [CLS] and [SEP] take two positions

    def _pieces(self, text: str) -> np.ndarray:
        return np.asarray(self.encodings([text])[0].ids, dtype=np.int64)

    def count(self, text: str) -> int:
        return len(self._pieces(text))

    def oov_count(self, text: str) -> int:
        return int(np.sum(self._pieces(text) == self.unk_id))

    def positions(self, text: str) -> list[str]:
        pieces = [self.tokenizer.id_to_token(int(i)) for i in self.rows([text])[0]]
        return pieces + [""] * (self.seq_len - len(pieces))

    def oov_positions(self, text: str) -> np.ndarray:
        ids = self.rows([text])[0]
        mask = np.zeros(self.seq_len, dtype=np.uint8)
        mask[: len(ids)] = ids == self.unk_id
        return mask
