"""Text cleaning and the word tokenizer of the dense and CNN models.

Cleaning rules (the seeds: lowercase, strip HTML residue, remove punctuation):

1. HTML residue goes: tags such as ``<br />`` and ``<i>``, and entities such as ``&amp;``.
2. Accents are stripped (``café`` -> ``cafe``) and everything is lowercased.
3. Apostrophes are deleted, not split on: ``didn't`` -> ``didnt`` and ``isn't`` -> ``isnt`` stay one
   token each, so a negation is one vocabulary entry instead of a stray ``t``.
4. Every other character that is not a-z or 0-9 (punctuation, symbols, other scripts) is a space.

Words are the whitespace-separated pieces of the result. Index 0 is padding and index 1 the
out-of-vocabulary token; sequences keep the first `seq_len` words and are padded at the end.

Each review is cleaned on its own into ASCII bytes (`str.replace` or one regex for the HTML,
`bytes.translate` for the rest: C loops); splitting and lookup then run over batches of 2,000
reviews: numpy finds the word edges in the joined bytes and Arrow's `index_in` (a C++ hash table)
looks all the words up, without a Python object per word. On the 50k labeled reviews
(scripts/benchmarks/benchmark_tokenizer.py, best of 3, the 2-core machine otherwise idle) that is 69,073
reviews/s against Keras `TextVectorization`'s 30,871/s in the same run (2.24x); the per-review loop
it replaced, `bytes.split` and a dict lookup per word, reached 10,152/s (0.63x).
"""
from __future__ import annotations

import collections
import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from IMDb.errors import ModelError
from IMDb.output.atomic import atomic_write_text
from IMDb.output.formats import dumps
from IMDb.text.tokenizer import Tokenizer

if TYPE_CHECKING:  # imported where used: reading `HTML_RESIDUE` or the command line needs no Arrow
    import pyarrow as pa

PAD, OOV = "[PAD]", "[OOV]"
PAD_ID, OOV_ID = 0, 1
INPUT_NAME = "tokens"  # the word models' one input
FORMAT = "imdb-leap/word-tokenizer/1"

HTML_RESIDUE = re.compile(r"<[^<>]*>|&#?[A-Za-z0-9]+;")  # tags such as <br />, entities such as &amp;
_COMBINING = re.compile(r"[\u0300-\u036f]")
# deleted before NFD; by a regex because `str.translate` with a dict is ~15x slower on such reviews
_APOSTROPHES = re.compile("[´’‘\u0091\u0092]")
# byte -> itself if a-z/0-9 (upper case folded), else space; apostrophes deleted separately
_BYTE_TABLE = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256)).lower()
_BYTE_DELETE = b"'`"
_BATCH = 2_000  # reviews split and looked up at once: ~2.6 MB of text, cache-friendly arrays


def _clean_bytes(text: str) -> bytes:
    if "<" in text or "&" in text:
        if "&" not in text and text.count("<") == text.count("<br />"):
            # every "<" opens a <br /> and there is no entity: the regex would remove exactly
            # these tags, at several times the cost (most reviews are like this)
            text = text.replace("<br />", " ")
        else:
            text = HTML_RESIDUE.sub(" ", text)
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFD", _APOSTROPHES.sub("", text)))
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


def _split_batches(texts: Iterable[str]) -> Iterator[tuple[pa.Array, np.ndarray]]:
    """Per batch of `_BATCH` texts: all their words in order, as one Arrow string array, and the
    number of words of each text. The words of `split_words`, found by numpy over the whole batch
    instead of a Python bytes object per word (the cost of the per-review loop this replaced)."""
    import pyarrow as pa

    texts = iter(texts)
    while batch := list(itertools.islice(texts, _BATCH)):
        cleaned = [_clean_bytes(t) for t in batch]
        data = b" ".join([b"", *cleaned, b""])  # a space at both ends: edges alternate start, end
        chars = np.frombuffer(data, dtype=np.uint8)
        in_word = chars != ord(" ")  # after cleaning, the only other bytes are a-z and 0-9
        edges = (in_word[1:] != in_word[:-1]).nonzero()[0] + 1
        starts, ends = edges[0::2], edges[1::2]
        lengths = np.fromiter(map(len, cleaned), dtype=np.int64, count=len(cleaned))
        text_ends = (lengths + 1).cumsum()  # where each text ends in `data`
        counts = np.diff(starts.searchsorted(text_ends), prepend=0)
        offsets = np.zeros(len(starts) + 1, dtype=np.int64)
        (ends - starts).cumsum(out=offsets[1:])
        letters = chars.compress(in_word)  # the words back to back
        words = pa.Array.from_buffers(pa.large_string(), len(starts),
                                      [None, pa.py_buffer(offsets), pa.py_buffer(letters)])
        yield words, counts


class WordTokenizer(Tokenizer):
    """Word-level tokenizer: fit on the training state only, saved as JSON beside the model. One
    input, ``tokens``: the word ids, one word per position (`IMDb.text.tokenizer.Tokenizer`)."""

    input_names = (INPUT_NAME,)

    def __init__(self, vocab_size: int = 20_000, seq_len: int = 400):
        self.vocab_size = vocab_size
        self.seq_len = seq_len

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, texts: Iterable[str]) -> "WordTokenizer":
        """Keep the `vocab_size - 2` most frequent words; ties are broken alphabetically."""
        import pyarrow.compute as pc

        counts: collections.Counter[str] = collections.Counter()
        for words, _ in _split_batches(texts):
            tally = pc.value_counts(words)
            counts.update(dict(zip(tally.field("values").to_pylist(),
                                   tally.field("counts").to_pylist())))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: self.vocab_size - 2]
        self._set_words([w for w, _ in ranked])
        return self

    def _set_words(self, words: list[str]) -> None:
        if len(set(words)) < len(words):  # index_in would give it its first id, the dict its last
            raise ValueError("the word list repeats a word")
        self.words_ = [PAD, OOV, *words]
        self._ids = {w: i for i, w in enumerate(words, start=2)}
        self._vocabulary = None  # the Arrow array for index_in, made on first use (it imports pandas)

    @property
    def words(self) -> list[str]:
        if not hasattr(self, "words_"):
            raise ModelError("WordTokenizer is not fitted: call fit(texts) or WordTokenizer.load(path)")
        return self.words_

    @property
    def id_count(self) -> int:
        return len(self.words)

    @property
    def fingerprint(self) -> str:
        """A short hash of the vocabulary and length: a model card records it to catch mismatches."""
        payload = json.dumps([self.seq_len, self.words]).encode()
        return hashlib.sha256(payload).hexdigest()[:16]

    # -- encoding ------------------------------------------------------------------------------
    def _word_ids(self, words: pa.Array) -> np.ndarray:
        """int32 id of each word, the same either way. Arrow's `index_in` hashes the whole
        vocabulary on every call (~75 ns a word: 1.5 ms for 20k), repaid only when there are several
        times as many words to look up, as in a batch of reviews; fewer words, as in one review, go
        through the dict (~0.02 ms for a 200-word review)."""
        if len(words) > 3 * len(self.words_):
            import pyarrow as pa
            import pyarrow.compute as pc

            if self._vocabulary is None:
                self._vocabulary = pa.array(self.words_, pa.large_string())  # position = id
            return pc.index_in(words, value_set=self._vocabulary).fill_null(OOV_ID).to_numpy()
        return np.fromiter(map(self._ids.get, words.to_pylist(), itertools.repeat(OOV_ID)),
                           dtype=np.int32, count=len(words))

    def token_ids(self, texts: Sequence[str]) -> np.ndarray:
        """int32 array [n, seq_len]: the first `seq_len` word ids, padded with 0 at the end."""
        self.words  # noqa: B018 - raises if not fitted
        out = np.zeros((len(texts), self.seq_len), dtype=np.int32)
        columns, row = np.arange(self.seq_len), 0
        for words, counts in _split_batches(texts):
            ids = self._word_ids(words)
            position = np.arange(len(ids)) - np.repeat(np.cumsum(counts) - counts, counts)
            # a boolean mask fills row after row, left to right: the kept words in their order
            out[row: row + len(counts)][columns < counts[:, None]] = ids[position < self.seq_len]
            row += len(counts)
        return out

    def encode(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """``{"tokens": float32 [n, seq_len]}``: `token_ids` as the model takes them."""
        return {INPUT_NAME: self.token_ids(texts).astype(np.float32)}

    def word_ids(self, text: str) -> list[int]:
        """Ids of every word of the review, untruncated."""
        self.words  # noqa: B018
        words, _ = next(_split_batches([text]))
        return self._word_ids(words).tolist()

    def count(self, text: str) -> int:
        return len(self.word_ids(text))

    def positions(self, text: str) -> list[str]:
        """The word at each position of the encoded sequence ("" for padding), for heat maps."""
        words = split_words(text)[: self.seq_len]
        return words + [""] * (self.seq_len - len(words))

    def oov_count(self, text: str) -> int:
        """Words of the whole review (not only the first seq_len) missing from the vocabulary."""
        return self.word_ids(text).count(OOV_ID)

    def oov_positions(self, text: str) -> np.ndarray:
        ids = np.asarray(self.word_ids(text)[: self.seq_len], dtype=np.int64)
        mask = np.zeros(self.seq_len, dtype=np.uint8)
        mask[: len(ids)] = ids == OOV_ID
        return mask

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        data = {"format": FORMAT, "vocab_size": self.vocab_size, "seq_len": self.seq_len,
                "fingerprint": self.fingerprint, "words": self.words}
        return atomic_write_text(path, dumps(data, ensure_ascii=True))

    @classmethod
    def load(cls, path: str | Path) -> "WordTokenizer":
        data = cls.read_state(path, FORMAT, "a valid word-tokenizer file")
        try:
            self = cls(vocab_size=int(data["vocab_size"]), seq_len=int(data["seq_len"]))
            words = data["words"]
            if words[:2] != [PAD, OOV]:
                raise ValueError("the word list must start with [PAD], [OOV]")
            if len(words) > self.vocab_size:
                raise ValueError(f"it holds {len(words):,} words but its vocab_size is {self.vocab_size:,}")
            self._set_words(words[2:])
        except (ValueError, KeyError, TypeError, UnicodeError) as e:
            raise ModelError(f"{path} is not a valid word-tokenizer file: {e}") from e
        if data["fingerprint"] != self.fingerprint:
            raise ModelError(f"{path}: stored fingerprint {data['fingerprint']} does not match its "
                             f"vocabulary ({self.fingerprint}); the file was edited or is corrupt")
        return self
