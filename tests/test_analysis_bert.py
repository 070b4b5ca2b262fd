"""The BERT analysis on a tiny trained BERT: the model re-run from its token vectors, complete
integrated gradients merged into words, and `analyze` / `compare` end to end."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from IMDb.analysis import attribution_bert as AB
from IMDb.analysis.table import load_keras
from IMDb.wordpiece import INPUT_NAMES, WordPieceTokenizer

pytestmark = pytest.mark.slow
TEXT = "Great superb plot, really!<br />The scene was dull and the music awful. Why?"


@pytest.fixture(scope="module")
def bert(bert_bundle):
    return load_keras("bert", bert_bundle)


def test_split_reproduces_the_model(bert):
    import tensorflow as tf

    model, tokenizer = bert
    split = AB.BertSplit(model)
    arrays = tokenizer.encode([TEXT, "awful"])
    direct = np.asarray(model([arrays[n] for n in INPUT_NAMES], training=False))
    ids = arrays["input_ids"].astype(np.int64)
    again = split(tf.constant(split.matrix[ids]), tf.constant(arrays["attention_mask"].astype(np.int32)),
                  tf.constant(np.zeros_like(ids, dtype=np.int32)))
    np.testing.assert_allclose(direct, again.numpy(), atol=1e-5)


def test_integrated_gradients_are_complete_and_merge_into_words(bert):
    model, tokenizer = bert
    ids, word_of, words, unknown = AB.words_of(tokenizer, TEXT)
    ig = AB.integrated_gradients(AB.BertSplit(model), ids, tokenizer.pad_id, steps=50)
    assert ig.attributions.shape == (2, len(ids))
    np.testing.assert_allclose(ig.attributions[0], -ig.attributions[1])
    assert ig.rel_error.max() < 0.02, ig.completeness(1)
    per_word = AB.per_word(ig.attributions[1], word_of, len(words))
    assert per_word.sum() == pytest.approx(ig.attributions[1, 1:-1].sum())
    assert words[:3] == ["Great", "superb", "plot,"] and len(unknown) == len(words)


def test_a_cut_review_shows_where_it_was_cut(tmp_path):
    from tests.conftest import make_bert_vocab

    tokenizer = WordPieceTokenizer.from_vocab(make_bert_vocab(tmp_path) / "vocab.txt", seq_len=8,
                                              head_tokens=3)
    ids, word_of, words, _ = AB.words_of(tokenizer, "great superb plot scene music story awful dull")
    assert len(ids) == 8
    assert words == ["great", "superb", "plot", AB.GAP, "story", "awful", "dull"]
    assert word_of == [-1, 0, 1, 2, 4, 5, 6, -1]  # no piece belongs to the gap


@pytest.fixture(scope="module")
def models_dir(bert_bundle, synthetic_dataset, tmp_path_factory):
    """The tiny BERT beside a tiny dense model trained on the same synthetic reviews."""
    from IMDb.config import Config
    from IMDb.train import train

    root = tmp_path_factory.mktemp("bert_analysis")
    shutil.copytree(bert_bundle, root / "models")
    train(Config.for_model("dense", data=str(synthetic_dataset), vocab_size=60, seq_len=40, embed_dim=8,
                           hidden=8, epochs=1, batch_size=32, out_dir=str(root / "models"),
                           runs_dir=str(root / "runs")), verbose=0)
    return root / "models"


def test_analyze_bert_end_to_end(models_dir, synthetic_dataset, tmp_path):
    from IMDb.analysis.run import run_analysis
    from IMDb.analysis.table import AnalysisTable

    out = run_analysis("bert", "test", tmp_path / "report", projection="pca", n_samples=2,
                       models_dir=models_dir, data=str(synthetic_dataset), progress=False)
    table = AnalysisTable.load(out / "table.parquet")
    assert len(table) == 60 and table.latent.shape == (60, 32)
    assert {"tokens_count", "oov_count"} <= set(table.frame)
    summary = json.loads((out / "summary.json").read_text())
    samples = summary["attribution"]["samples"]
    assert len(samples) == 2 and all(s["completeness"]["positive"]["rel_error"] < 0.02 for s in samples)
    html = (out / "dashboard.html").read_text()
    assert "superb" in html or "awful" in html


def test_compare_dense_and_bert(models_dir, synthetic_dataset, tmp_path):
    from IMDb.analysis.run import run_compare

    out = run_compare("dense", "bert", "test", tmp_path / "compare", models_dir=models_dir,
                      data=str(synthetic_dataset), progress=False)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["comparison"]["summary"]["n"] == 60
