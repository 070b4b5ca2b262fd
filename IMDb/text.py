"""Text cleaning and the word tokenizer of the dense and CNN models.

Cleaning rules (the seeds: lowercase, strip HTML residue, remove punctuation):

1. HTML residue goes: tags such as ``<br />`` and ``<i>``, and entities such as ``&amp;``.
2. Accents are stripped (``café`` -> ``cafe``) and everything is lowercased.
3. Apostrophes are deleted, not split on: ``didn't`` -> ``didnt`` and ``isn't`` -> ``isnt`` stay one
   token each, so a negation is one vocabulary entry instead of a stray ``t``.
4. Every other character that is not a-z or 0-9 (punctuation, symbols, other scripts) is a space.

Words are the whitespace-separated pieces of the result. Index 0 is padding and index 1 the
out-of-vocabulary token; sequences keep the first `seq_len` words and are padded at the end.

The cleaning runs on ASCII bytes with `bytes.translate`, a C loop: the `tokenizers` library and a
regex pipeline were both measured slower on these reviews (scripts/benchmark_tokenizer.py).
"""
from __future__ import annotations

import collections
import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from IMDb.errors import ModelError
from IMDb.io import atomic_write_text

PAD, OOV = "[PAD]", "[OOV]"
PAD_ID, OOV_ID = 0, 1
FORMAT = "imdb-leap/word-tokenizer/1"

HTML_RESIDUE = re.compile(r"<[^<>]*>|&#?[A-Za-z0-9]+;")  # tags such as <br />, entities such as &amp;
_COMBINING = re.compile(r"[\u0300-\u036f]")
_APOSTROPHES = str.maketrans("", "", "´’‘\u0091\u0092")
# byte -> itself if a-z/0-9 (upper case folded), else space; apostrophes deleted separately
_BYTE_TABLE = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256)).lower()
_BYTE_DELETE = b"'`"


def _clean_bytes(text: str) -> bytes:
    if "<" in text or "&" in text:
        text = HTML_RESIDUE.sub(" ", text)
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFD", text.translate(_APOSTROPHES)))
        data = text.encode("ascii", "replace")  # any other non-ASCII character becomes '?', a space
    else:
        data = text.encode("ascii")
    return data.translate(_BYTE_TABLE, _BYTE_DELETE)


def split_words(text: str) -> list[str]:
    """The cleaned words of `text`, in order, before any vocabulary lookup."""
    return _clean_bytes(text).decode("ascii").split()


def has_words(text: str) -> bool:
    """Whether `text` holds a letter or digit outside HTML residue. A review without one (``""``,
    ``"!!!"``, ``"<br />"``) gives a model nothing to read, yet it still outputs a confident-looking
    probability: callers flag such reviews instead of trusting it."""
    return any(c.isalnum() for c in HTML_RESIDUE.sub(" ", text))


def clean(text: str) -> str:
    """The review as the models read it: lowercase words separated by single spaces."""
    return " ".join(split_words(text))


class _Lookup(dict):
    """bytes word -> id; a miss is the OOV id, without a Python-level branch per word."""

    def __missing__(self, key: bytes) -> int:
        return OOV_ID


class WordTokenizer:
    """Word-level tokenizer: fit on the training state only, saved as JSON beside the model."""

    def __init__(self, vocab_size: int = 20_000, seq_len: int = 400):
        self.vocab_size = vocab_size
        self.seq_len = seq_len

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, texts: Iterable[str]) -> "WordTokenizer":
        """Keep the `vocab_size - 2` most frequent words; ties are broken alphabetically."""
        counts = collections.Counter(itertools.chain.from_iterable(
            _clean_bytes(t).split() for t in texts))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: self.vocab_size - 2]
        self._set_words([w.decode("ascii") for w, _ in ranked])
        return self

    def _set_words(self, words: list[str]) -> None:
        self.words_ = [PAD, OOV, *words]
        self._lookup = _Lookup((w.encode("ascii"), i) for i, w in enumerate(words, start=2))

    @property
    def words(self) -> list[str]:
        if not hasattr(self, "words_"):
            raise ModelError("WordTokenizer is not fitted: call fit(texts) or WordTokenizer.load(path)")
        return self.words_

    @property
    def fingerprint(self) -> str:
        """A short hash of the vocabulary and length: a model card records it to catch mismatches."""
        payload = json.dumps([self.seq_len, self.words]).encode()
        return hashlib.sha256(payload).hexdigest()[:16]

    # -- encoding ------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """int32 array [n, seq_len]: the first `seq_len` word ids, padded with 0 at the end."""
        self.words  # noqa: B018 - raises if not fitted
        get, n_max = self._lookup.__getitem__, self.seq_len
        out = np.zeros((len(texts), n_max), dtype=np.int32)
        for row, text in zip(out, texts):
            ids = list(map(get, _clean_bytes(text).split(maxsplit=n_max)[:n_max]))
            row[: len(ids)] = ids
        return out

    def ids(self, text: str) -> list[int]:
        """Ids of every word of the review, untruncated."""
        self.words  # noqa: B018
        return list(map(self._lookup.__getitem__, _clean_bytes(text).split()))

    def tokens(self, text: str) -> list[str]:
        """The word at each position of the encoded sequence ("" for padding), for heat maps."""
        words = split_words(text)[: self.seq_len]
        return words + [""] * (self.seq_len - len(words))

    def oov_count(self, text: str) -> int:
        """Words of the whole review (not only the first seq_len) missing from the vocabulary."""
        return self.ids(text).count(OOV_ID)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        data = {"format": FORMAT, "vocab_size": self.vocab_size, "seq_len": self.seq_len,
                "fingerprint": self.fingerprint, "words": self.words}
        return atomic_write_text(path, json.dumps(data, ensure_ascii=True))

    @classmethod
    def load(cls, path: str | Path) -> "WordTokenizer":
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"tokenizer file not found: {path}. Train the model first "
                             f"(imdb-leap train) or restore the file from the repository.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, expected {FORMAT!r}")
            self = cls(vocab_size=int(data["vocab_size"]), seq_len=int(data["seq_len"]))
            words = data["words"]
            if words[:2] != [PAD, OOV]:
                raise ValueError("the word list must start with [PAD], [OOV]")
            self._set_words(words[2:])
        except (ValueError, KeyError, TypeError, UnicodeError) as e:
            raise ModelError(f"{path} is not a valid word-tokenizer file: {e}") from e
        if data["fingerprint"] != self.fingerprint:
            raise ModelError(f"{path}: stored fingerprint {data['fingerprint']} does not match its "
                             f"vocabulary ({self.fingerprint}); the file was edited or is corrupt")
        return self
