"""The WordPiece tokenizer: the same ids as the `tokenizers` library reading the checkpoint's own
tokenizer.json, head-only and head+tail truncation, padding, and the saved file."""
import os
from pathlib import Path

import numpy as np
import pytest

from IMDb.errors import ModelError
from IMDb.text.wordpiece import INPUT_NAMES, WordPieceTokenizer

from tests.conftest import make_bert_vocab

SHARED_BERT = Path(os.environ.get("IMDB_BERT", Path(__file__).parents[2] / "shared/models/all-MiniLM-L6-v2"))
ACCENTED = ("Amélie's café scenes<br /><br />were naïve &amp; charming, Zoë's façade — Ångström! "
            "I didn't LIKE the “ending”... Müller (2001) was <i>fine</i>.")


@pytest.fixture(scope="module")
def shared_checkpoint() -> Path:
    if not (SHARED_BERT / "tokenizer.json").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"no BERT checkpoint at {SHARED_BERT}; CI must have ../shared")
        pytest.skip(f"no BERT checkpoint at {SHARED_BERT}")
    return SHARED_BERT


@pytest.fixture
def tiny(tmp_path) -> WordPieceTokenizer:
    return WordPieceTokenizer.from_vocab(make_bert_vocab(tmp_path) / "vocab.txt", seq_len=12,
                                         head_tokens=4)


def test_ids_equal_the_checkpoints_own_tokenizer(shared_checkpoint):
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(shared_checkpoint / "tokenizer.json"))
    reference.no_truncation()
    reference.no_padding()
    ours = WordPieceTokenizer.from_vocab(shared_checkpoint / "vocab.txt", seq_len=512)
    for text in (ACCENTED, ACCENTED * 3, "", "plain words only"):
        expected = reference.encode(WordPieceTokenizer.prepare(text)).ids
        assert [ours.cls_id, *ours.encodings([text])[0].ids, ours.sep_id] == expected
    # accents are stripped (cafe, naive), HTML residue never reaches the model
    pieces = ours.tokenizer.encode(ours.prepare(ACCENTED), add_special_tokens=False).tokens
    assert "cafe" in pieces and "naive" in pieces and "café" not in pieces
    assert "br" not in pieces and "amp" not in pieces and "<" not in pieces


@pytest.mark.parametrize("truncation", ["headtail", "head"])
def test_truncation_keeps_the_head_and_the_tail(tiny, truncation):
    tokenizer = WordPieceTokenizer(tiny.tokenizer, seq_len=12, truncation=truncation, head_tokens=4)
    pieces = tokenizer.encodings(["great " * 3 + "plot " * 10 + "awful dull"])[0].ids
    row = tokenizer.rows(["great " * 3 + "plot " * 10 + "awful dull"])[0]
    assert len(row) == 12 and row[0] == tokenizer.cls_id and row[-1] == tokenizer.sep_id
    if truncation == "head":
        assert list(row[1:-1]) == pieces[:10]
    else:
        assert list(row[1:5]) == pieces[:4] and list(row[5:-1]) == pieces[-6:]


def test_short_reviews_are_padded_not_cut(tiny):
    arrays = tiny.encode(["great plot", "awful"])
    assert set(arrays) == set(INPUT_NAMES)
    for array in arrays.values():
        assert array.dtype == np.float32 and array.shape == (2, 12)
    assert arrays["attention_mask"][0].sum() == 4  # [CLS] great plot [SEP]
    assert arrays["input_ids"][1, 3:].sum() == 0 and not arrays["token_type_ids"].any()
    tight = tiny.pad_tight(tiny.rows(["great plot"]), multiple=8)
    assert tight["input_ids"].shape == (1, 8)


def test_save_and_load_round_trip(tiny, tmp_path):
    path = tiny.save(tmp_path / "tokenizer.json")
    loaded = WordPieceTokenizer.load(path)
    assert loaded.fingerprint == tiny.fingerprint
    text = "Really great, really dull?<br />Why!"
    assert np.array_equal(loaded.encode([text])["input_ids"], tiny.encode([text])["input_ids"])
    other = WordPieceTokenizer(tiny.tokenizer, seq_len=12, truncation="head", head_tokens=4)
    assert other.fingerprint != tiny.fingerprint


def test_bad_settings_and_files_fail_clearly(tiny, tmp_path):
    with pytest.raises(ValueError, match="truncation"):
        WordPieceTokenizer(tiny.tokenizer, truncation="middle")
    with pytest.raises(ValueError, match="head_tokens"):
        WordPieceTokenizer(tiny.tokenizer, seq_len=12, head_tokens=11)
    with pytest.raises(ModelError, match="no WordPiece vocabulary"):
        WordPieceTokenizer.from_vocab(tmp_path / "nowhere" / "vocab.txt")
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(ModelError, match="not a WordPiece tokenizer"):
        WordPieceTokenizer.load(tmp_path / "bad.json")
