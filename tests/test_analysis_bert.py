"""The BERT analysis on a tiny trained BERT: the model re-run from its token vectors, integrated
gradients merged into words, and `analyze` / `compare` end to end. (The IG properties every split
shares, BERT's included, are tested in test_analysis_attribution.py.)"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from IMDb import families, toolkits
from IMDb.analysis import attribution_bert as AB
from IMDb.analysis.attribution import explain
from IMDb.analysis.inference import load_keras
from IMDb.analysis.integrated_gradients import POSITIVE, integrated_gradients
from IMDb.bundle import Bundle
from IMDb.text.wordpiece import INPUT_NAMES, WordPieceTokenizer

pytestmark = pytest.mark.slow
TEXT = "Great superb plot, really!<br />The scene was dull and the music awful. Why?"


@pytest.fixture(scope="module")
def bert(bert_bundle):
    bundle = Bundle.read("bert", bert_bundle)
    return load_keras(bundle), bundle.tokenizer


def test_split_reproduces_the_model(bert):
    import tensorflow as tf

    model, tokenizer = bert
    split = AB.BertSplit(model, tokenizer.pad_id)
    arrays = tokenizer.encode([TEXT, "awful"])
    direct = np.asarray(model([arrays[n] for n in INPUT_NAMES], training=False))
    ids = arrays["input_ids"].astype(np.int64)
    again = split(tf.constant(split.embed(ids)), ids, tf.constant(arrays["attention_mask"].astype(np.int32)))
    np.testing.assert_allclose(direct, again.numpy(), atol=1e-5)
    # an unpadded review needs no mask: every piece is attended to
    one = AB.words_of(tokenizer, TEXT)[0]
    np.testing.assert_allclose(split(tf.constant(split.embed(one[None])), one).numpy()[0], direct[0], atol=1e-5)


def test_integrated_gradients_are_complete_and_merge_into_words(bert, bert_bundle):
    model, tokenizer = bert
    glue = toolkits.of(families.BERT).explainer(families.BERT, model, tokenizer)
    review = glue.read(TEXT)
    ids, word_of, words, unknown = AB.words_of(tokenizer, TEXT)
    np.testing.assert_array_equal(review.ids, ids)
    assert review.words == words and list(review.word_of) == word_of and review.oov == unknown
    ig = integrated_gradients(glue.split, review.ids, steps=50)
    assert ig.attributions.shape == (2, len(ids))
    np.testing.assert_allclose(ig.attributions[0], -ig.attributions[1])
    assert ig.rel_error.max() < 0.02, ig.completeness(1)
    per_word = review.per_word(ig.of(POSITIVE))
    assert per_word.shape == (len(words),)
    assert per_word.sum() == pytest.approx(ig.attributions[1, 1:-1].sum())
    assert words[:3] == ["Great", "superb", "plot,"] and len(unknown) == len(words)
    np.testing.assert_array_equal(review.units, np.arange(len(words)))
    # removing words deletes their pieces
    without = glue.without(review, np.array([0, 2]))
    assert len(without) == len(ids) - word_of.count(0) - word_of.count(2) and word_of.count(0) >= 1
    np.testing.assert_array_equal(without, ids[~np.isin(word_of, [0, 2])])


def test_explain_bert(bert, bert_bundle):
    model, tokenizer = bert
    (e,) = explain(toolkits.of(families.BERT).explainer(families.BERT, model, tokenizer), [TEXT], steps=20, k=(2,),
                   n_random=3)
    assert e.words[:3] == ["Great", "superb", "plot,"] and e.ngrams == [] and not e.truncated
    assert len(e.ig_positive) == len(e.ig_negative) == len(e.oov) == len(e.words)
    assert all(type(v) is bool for v in e.oov)
    assert sum(e.ig_positive) == pytest.approx(e.completeness["positive"].sum, abs=1e-6)
    assert e.faithfulness.n_words == len(e.words) and e.faithfulness.per_k[0].k == 2
    assert e.prediction == int(e.p_positive >= 0.5)
    json.dumps(e.summary(), allow_nan=False)


def test_a_cut_review_shows_where_it_was_cut(tmp_path):
    from tests.conftest import make_bert_vocab

    tokenizer = WordPieceTokenizer.from_vocab(make_bert_vocab(tmp_path) / "vocab.txt", seq_len=8,
                                              head_tokens=3)
    ids, word_of, words, _ = AB.words_of(tokenizer, "great superb plot scene music story awful dull")
    assert len(ids) == 8
    assert words == ["great", "superb", "plot", AB.GAP, "story", "awful", "dull"]
    assert word_of == [-1, 0, 1, 2, 4, 5, 6, -1]  # no piece belongs to the gap
    # the gap is no word to remove, and marks the review as truncated
    review = AB.PieceReviews(None, tokenizer, None).read("great superb plot scene music story awful dull")
    assert review.truncated and list(review.units) == [0, 1, 2, 4, 5, 6]


@pytest.fixture(scope="module")
def models_dir(bert_bundle, synthetic_dataset, tmp_path_factory):
    """The tiny BERT beside a tiny dense model trained on the same synthetic reviews."""
    from IMDb.toolkits import train

    root = tmp_path_factory.mktemp("bert_analysis")
    shutil.copytree(bert_bundle, root / "models")
    train(families.config("dense", data=str(synthetic_dataset), vocab_size=60, seq_len=40, embed_dim=8,
                          hidden=8, epochs=1, batch_size=32, out_dir=str(root / "models"),
                          runs_dir=str(root / "runs")))
    return root / "models"


def test_analyze_bert_end_to_end(models_dir, synthetic_dataset, tmp_path):
    from IMDb.analysis.analyze import run_analysis
    from IMDb.analysis.settings import AnalyzeSettings
    from IMDb.analysis.table import AnalysisTable

    settings = AnalyzeSettings(state="test", projection="pca", samples=2, data=str(synthetic_dataset))
    out = run_analysis("bert", settings, tmp_path / "report", models_dir=models_dir, progress=False)
    table = AnalysisTable.load(out / "table.parquet")
    assert len(table) == 60 and table.latent.shape == (60, 32)
    assert {"tokens_count", "oov_count"} <= set(table.frame)
    summary = json.loads((out / "summary.json").read_text())
    samples = summary["attribution"]["samples"]
    assert len(samples) == 2 and all(s["completeness"]["positive"]["rel_error"] < 0.02 for s in samples)
    html = (out / "dashboard.html").read_text()
    assert "superb" in html or "awful" in html


def test_compare_dense_and_bert(models_dir, synthetic_dataset, tmp_path):
    from IMDb.analysis.compare_models import run_compare
    from IMDb.analysis.settings import CompareSettings

    out = run_compare("dense", "bert", CompareSettings(state="test", data=str(synthetic_dataset)),
                      tmp_path / "compare", models_dir=models_dir, progress=False)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["comparison"]["summary"]["n"] == 60
