import json

import numpy as np
import pytest

from IMDb.errors import ModelError
from IMDb.text import OOV_ID, PAD_ID, WordTokenizer, clean, split_words


@pytest.mark.parametrize("raw, expected", [
    ("Great movie!<br /><br />Loved it.", "great movie loved it"),
    ("I didn't like it; it isn't good.", "i didnt like it it isnt good"),
    ("It\u2019s a caf\u00e9 &amp; na\u00efve <i>FILM</i>", "its a cafe naive film"),
    ("10/10 -- would watch again\u0096twice", "10 10 would watch again twice"),
    ("   ", ""),
    ("<SPOILER>ends badly</SPOILER>", "ends badly"),
])
def test_clean(raw, expected):
    assert clean(raw) == expected


def test_clean_is_idempotent():
    text = "It's <b>GREAT</b>, isn't it? Caf\u00e9!"
    assert clean(clean(text)) == clean(text)


@pytest.fixture
def fitted():
    texts = ["good good good film", "bad film", "good bad ugly", "the film was good"]
    return WordTokenizer(vocab_size=5, seq_len=6).fit(texts)


def test_vocabulary_is_most_frequent_words(fitted):
    assert fitted.words == ["[PAD]", "[OOV]", "good", "film", "bad"]


def test_encode_pads_truncates_and_marks_oov(fitted):
    ids = fitted.encode(["good ugly film", "good " * 10])
    assert ids.dtype == np.int32 and ids.shape == (2, 6)
    assert ids[0].tolist() == [2, OOV_ID, 3, PAD_ID, PAD_ID, PAD_ID]
    assert ids[1].tolist() == [2] * 6


def test_tokens_align_with_encoded_positions(fitted):
    text = "Good, UGLY film!"
    tokens = fitted.tokens(text)
    assert len(tokens) == fitted.seq_len
    assert tokens[:3] == ["good", "ugly", "film"] and tokens[3:] == [""] * 3
    ids = fitted.encode([text])[0]
    assert [t == "" for t in tokens] == [i == PAD_ID for i in ids]


def test_oov_count_covers_the_whole_review(fitted):
    text = "good " * 10 + "ugly weird"
    assert fitted.oov_count(text) == 2  # both beyond seq_len


def test_save_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "tok.json")
    loaded = WordTokenizer.load(path)
    texts = ["good bad film", "ugly thing", ""]
    assert loaded.fingerprint == fitted.fingerprint
    np.testing.assert_array_equal(loaded.encode(texts), fitted.encode(texts))


def test_load_rejects_missing_and_edited_files(fitted, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        WordTokenizer.load(tmp_path / "missing.json")
    path = fitted.save(tmp_path / "tok.json")
    data = json.loads(path.read_text())
    data["words"][2] = "great"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="fingerprint"):
        WordTokenizer.load(path)
    path.write_text("{not json")
    with pytest.raises(ModelError, match="not a valid"):
        WordTokenizer.load(path)


def test_unfitted_tokenizer_says_so():
    with pytest.raises(ModelError, match="not fitted"):
        WordTokenizer().encode(["x"])


def test_split_words_matches_clean():
    text = "A <br />mildly  entertaining... film"
    assert split_words(text) == clean(text).split() == ["a", "mildly", "entertaining", "film"]
