"""User mistakes and hostile inputs stop with one line that says what, where and how to fix it
(issue 9's probes); reviews without words are flagged instead of given a confident label."""
from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest

from IMDb.bundle import read_card
from IMDb.cli.imdb_leap import main
from IMDb.config.run import MODELS_DIR
from IMDb.errors import ModelError
from IMDb.text.word_tokenizer import has_words


@pytest.fixture
def dense_copy(tmp_path):
    """models/dense's card, tokenizer and model.h5 in a scratch models folder."""
    folder = tmp_path / "models" / "dense"
    folder.mkdir(parents=True)
    for name in ("card.json", "tokenizer.json", "model.h5"):
        shutil.copy(MODELS_DIR / "dense" / name, folder / name)
    return folder


@pytest.mark.parametrize("key, value, words", [
    ("config", "oops", "config must be an object"),
    ("tokenizer_fingerprint", 7, "tokenizer_fingerprint must be a string"),
    ("figures", {"test": {"accuracy": "high"}}, "figures.test must be an object with numbers"),
    ("config.seq_len", "800", "config.seq_len must be a whole number >= 1"),
    ("config.val_fraction", 0, "config.val_fraction must be a finite number > 0 and < 1"),
    ("config.seed", True, "config.seed must be a whole number"),
])
def test_card_schema_is_checked_in_one_place(dense_copy, key, value, words):
    card = json.loads((dense_copy / "card.json").read_text())
    if key.startswith("config."):
        card["config"][key.split(".")[1]] = value
    else:
        card[key] = value
    (dense_copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match=f"card.json: {words}.*restore the bundle's own card.json"):
        read_card("dense", dense_copy.parent)


def test_shipped_cards_pass_the_schema():
    for name in ("dense", "cnn", "bert"):
        if (MODELS_DIR / name / "card.json").is_file():
            read_card(name)


def test_a_corrupt_model_h5_is_one_error(dense_copy):
    from IMDb.analysis.inference import load_keras
    from IMDb.bundle import Bundle

    (dense_copy / "model.h5").write_bytes(b"\x89HDF\r\n" + b"garbage" * 100)
    with pytest.raises(ModelError, match=r"model\.h5 could not be loaded .*corrupt or truncated"):
        load_keras(Bundle.read("dense", dense_copy.parent))


def test_has_words():
    assert not any(map(has_words, ["", "   ", "!!! ...", "<br /><br />", "&amp;"]))
    assert all(map(has_words, ["great", "10/10", "日本語"]))


class _Constant:
    """A stand-in predictor: the same confident answer whatever the text; records what it read."""

    def __init__(self):
        self.seen: list[str] = []

    def predict(self, texts):
        self.seen += texts
        return np.tile([0.133, 0.867], (len(texts), 1))

    @staticmethod
    def label(probs):
        return "positive"


def test_predict_flags_reviews_without_words_and_reads_any_bytes(monkeypatch, capsys):
    from IMDb import bundle, predict

    fake = _Constant()
    monkeypatch.setattr(bundle, "names", lambda *models_dir: ["fake"])
    monkeypatch.setattr(predict.Predictor, "load", classmethod(lambda cls, name, *models_dir: fake))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"great \xff")))
    assert main(["predict"]) == 0
    assert fake.seen == ["great \ufffd"]
    assert main(["predict", "", "!!!", "a fine film"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.endswith("(no words: the label means nothing)") for line in lines] == [False, True, True, False]


def test_wordpiece_takes_undecodable_text():
    from IMDb.text.wordpiece import WordPieceTokenizer

    path = MODELS_DIR / "bert" / "tokenizer.json"
    if not path.is_file():
        pytest.skip("no BERT bundle")
    tokenizer = WordPieceTokenizer.load(path)
    ids = tokenizer.encode(["great \udcff", ""])["input_ids"]
    assert ids.shape[0] == 2


def test_limit_below_what_clustering_needs_is_refused_up_front(tmp_path, capsys):
    code = main(["analyze", "--model", "dense", "--limit", "3", "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "--limit must be at least 10" in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_read_only_out_is_refused_before_the_analysis(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    code = main(["compare", "--model", "dense,cnn", "--out", str(tmp_path / "file" / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write in" in err and err.count("\n") == 1
