"""The one tokenizer contract (`IMDb.text.tokenizer.Tokenizer`), checked on every tokenizer the same
way: the word tokenizer and the WordPiece tokenizer (over a tiny vocabulary)."""
from __future__ import annotations

import numpy as np
import pytest

from IMDb.errors import ModelError
from IMDb.text.tokenizer import Tokenizer
from IMDb.text.word_tokenizer import WordTokenizer
from IMDb.text.wordpiece import WordPieceTokenizer
from tests.conftest import make_bert_vocab, synthetic_reviews

TEXTS = ["A wonderful film.<br />Superb!", "", "!!! <br />", "awful dull boring plot " * 12,
         "The music ☃ was great, the scene zyzzyva dull."]


@pytest.fixture(scope="module", params=["words", "wordpiece"])
def tokenizer(request, tmp_path_factory) -> Tokenizer:
    if request.param == "words":
        return WordTokenizer(vocab_size=40, seq_len=16).fit(synthetic_reviews(20, 0)["text"])
    vocab = make_bert_vocab(tmp_path_factory.mktemp("vocab")) / "vocab.txt"
    return WordPieceTokenizer.from_vocab(vocab, seq_len=16)


def test_encode_is_float32_arrays_by_input_name(tokenizer):
    encoded = tokenizer.encode(TEXTS)
    assert tuple(encoded) == tokenizer.input_names
    assert all(a.dtype == np.float32 and a.shape == (len(TEXTS), tokenizer.seq_len) for a in encoded.values())
    first = encoded[tokenizer.input_names[0]]
    assert np.all(first == np.round(first)) and first.min() >= 0  # token ids, 0-padded


def test_batches_cover_every_review_once_with_the_same_ids(tokenizer):
    encoded = tokenizer.encode(TEXTS)
    seen = []
    for rows, inputs in tokenizer.batches(TEXTS, batch_size=2):
        seen += list(rows)
        for name, array in inputs.items():
            width = array.shape[1]  # a batch may be padded only to its longest review
            assert len(array) == len(rows) <= 2 and width <= tokenizer.seq_len
            np.testing.assert_array_equal(array, encoded[name][rows, :width])
            assert not encoded[name][rows, width:].any()
    assert sorted(seen) == list(range(len(TEXTS)))


def test_positions_and_oov_are_aligned_with_the_input(tokenizer):
    ids = tokenizer.encode(TEXTS)[tokenizer.input_names[0]]
    for text, row in zip(TEXTS, ids):
        positions, oov = tokenizer.positions(text), tokenizer.oov_positions(text)
        assert len(positions) == tokenizer.seq_len and oov.shape == (tokenizer.seq_len,) and oov.dtype == np.uint8
        assert [p != "" for p in positions] == list(row != 0)  # a token where the input holds one
        assert not oov[row == 0].any()
        assert tokenizer.oov_count(text) >= int(oov.sum())  # the count covers the whole review
        assert tokenizer.count(text) >= int((row != 0).sum()) - (tokenizer.seq_len - tokenizer.max_tokens)
    assert tokenizer.count("") == 0 and tokenizer.oov_count("") == 0
    long = TEXTS[3]
    assert tokenizer.count(long) > tokenizer.max_tokens  # it is cut: the metadata's "truncated"
    assert tokenizer.oov_count("zyzzyva ☃") >= 1


def test_save_and_load_keep_the_fingerprint_and_the_encoding(tokenizer, tmp_path):
    path = tokenizer.save(tmp_path / "tokenizer.json")
    loaded = type(tokenizer).load(path)
    assert loaded.fingerprint == tokenizer.fingerprint and len(tokenizer.fingerprint) == 16
    for name in tokenizer.input_names:
        np.testing.assert_array_equal(loaded.encode(TEXTS)[name], tokenizer.encode(TEXTS)[name])
    path.write_text('{"format": "something else"}')
    with pytest.raises(ModelError, match=str(path)):
        type(tokenizer).load(path)
