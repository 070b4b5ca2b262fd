"""Attribution on tiny models with seeded random or hand-set weights (no training): integrated
gradients are complete, zero where the review is the baseline and shaped alike for every embedding
split (the word models' and BERT's), occlusion deltas are what a direct prediction gives,
faithfulness tells a true explanation from a reversed one, and explain() gives JSON-able records."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from IMDb import families, toolkits
from IMDb.analysis import attribution as A
from IMDb.analysis import attribution_words as W
from IMDb.analysis import integrated_gradients as IG
from IMDb.analysis.explanation import SUMMARY_FIELDS, Explanation
from IMDb.analysis.faithfulness import faithfulness, faithfulness_summary
from IMDb.analysis.inference import load_keras, with_probabilities
from IMDb.analysis.occlusion import occlusion, top_phrases
from IMDb.analysis.samples import choose_samples, samples_to_explain
from IMDb.bundle import Bundle
from IMDb.text.word_tokenizer import PAD_ID, WordTokenizer
from tests.conftest import synthetic_reviews

SEQ_LEN, VOCAB = 24, 60


SCALES = {"dense": 2.0, "cnn": 1.3}  # the output moves with the words but is not saturated


def glue_of(name: str, model, tokenizer, **options):
    """The attribution glue of model `name`'s `model`, from its family's toolkit."""
    family = families.get(name)
    return toolkits.of(family).explainer(family, model, tokenizer, **options)


def build(name: str, cfg, keras_module):
    """Model `name`'s untrained Keras model of `cfg`, from its family's toolkit."""
    family = families.get(name)
    return toolkits.of(family).build(family, cfg, keras_module)


def _tiny(name: str, keras_module, seed: int = 0):
    """A tiny model of the shipped architecture with seeded random weights, scaled up so that its
    output moves with the words (a fresh initialisation predicts ~0.5 everywhere), with the softmax
    the analysis puts on the shipped models' logits."""
    scale = SCALES[name]
    cfg = families.config(name, vocab_size=VOCAB, seq_len=SEQ_LEN, embed_dim=8, filters=8, hidden=8,
                          kernel_size=3)
    model = build(name, cfg, keras_module)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, scale / np.sqrt(w.shape[0]) if w.ndim > 1 else 0.1, w.shape)
                       .astype("float32") for w in model.get_weights()])
    return with_probabilities(model)  # as the analysis loads the shipped models


@pytest.fixture(scope="module")
def tf_keras():
    return pytest.importorskip("tf_keras")


@pytest.fixture(scope="module")
def models(tf_keras):
    return {name: _tiny(name, tf_keras) for name in ("dense", "cnn")}


def _review(n_words: int, seed: int = 1) -> np.ndarray:
    tokens = np.zeros(SEQ_LEN, dtype=np.int32)
    tokens[:n_words] = np.random.default_rng(seed).integers(1, VOCAB, n_words)
    return tokens


# --------------------------------------------------------------------------- IG, every split
BERT_TEXTS = ("Great superb plot, really!<br />The scene was dull and the music awful. Why?",
              "The music was awful and dull, the plot superb.", "great")


@dataclass
class Family:
    """One embedding split under test: reviews (its ids), the steps IG needs on it, the completeness
    tolerance, and the model and its input for a direct prediction."""

    name: str
    split: IG.EmbeddingSplit
    reviews: list[np.ndarray]
    steps: int
    max_rel_error: float
    min_delta: float  # the model must move for the check to mean anything
    predict: object  # ids [seq] -> probabilities [2], straight through the whole model


@pytest.fixture(scope="module", params=["dense", "cnn", pytest.param("bert", marks=pytest.mark.slow)])
def family(request):
    if request.param == "bert":
        from IMDb.analysis.attribution_bert import rows_predictor, words_of

        bert = Bundle.read("bert", request.getfixturevalue("bert_bundle"))
        model, tokenizer = load_keras(bert), bert.tokenizer
        predict = rows_predictor(model, tokenizer)
        # the tiny BERT is smooth (GELU, no max pooling): 50 steps, the analysis' default, do
        return Family("bert", glue_of("bert", model, tokenizer).split, [words_of(tokenizer, t)[0] for t in BERT_TEXTS],
                      50, 0.02, 0.02, lambda ids: predict([ids])[0])
    model = request.getfixturevalue("models")[request.param]
    # ReLUs and max pooling make the path integrand piecewise: the trapezoid needs many steps
    return Family(request.param, glue_of(request.param, model, None).split, [_review(16, seed) for seed in range(3)], 300, 0.05,
                  0.02, lambda ids: np.asarray(model(ids[None].astype(np.float32), training=False))[0])


def test_integrated_gradients_are_complete(family):
    worst = 0.0
    for ids in family.reviews:
        result = IG.integrated_gradients(family.split, ids, steps=family.steps)
        assert np.abs(result.delta).max() >= family.min_delta
        assert np.all(result.abs_error < 1e-2 * np.maximum(1, np.abs(result.delta)))
        worst = max(worst, float(result.rel_error.max()))
        # f(review) is the model's own prediction: the path ends at the review
        np.testing.assert_allclose(result.f_input[result.targets.index(IG.POSITIVE)],
                                   family.predict(ids)[IG.POSITIVE], atol=1e-5)
    assert worst < family.max_rel_error, worst


def test_shapes_and_mirrored_classes(family):
    ids = family.reviews[0]
    result = IG.integrated_gradients(family.split, ids, steps=10)
    assert result.targets == [IG.NEGATIVE, IG.POSITIVE]
    assert result.attributions.shape == (2, len(ids)) and result.attributions.dtype == np.float64
    assert result.f_input.shape == result.f_baseline.shape == (2,)
    # two complementary classes: the negative attributions mirror the positive ones
    np.testing.assert_allclose(result.attributions[0], -result.attributions[1], atol=1e-5)
    one = IG.integrated_gradients(family.split, ids, targets=IG.POSITIVE, steps=10)
    assert one.attributions.shape == (1, len(ids))
    np.testing.assert_allclose(one.attributions[0], result.of(IG.POSITIVE), atol=1e-7)
    c = result.completeness_by_target()
    assert set(c) == {"negative", "positive"} and c["positive"].steps == 10
    assert c["positive"].sum == pytest.approx(float(result.of(IG.POSITIVE).sum()))


def test_the_baseline_gets_zero_attribution(family):
    ids = family.reviews[0]
    base = family.split.baseline_ids(ids)
    assert base.shape == ids.shape and np.any(base != ids)
    result = IG.integrated_gradients(family.split, ids, steps=20)
    # where the review is the baseline (padding; [CLS], [SEP]) the attribution is exactly 0
    assert np.all(result.attributions[:, ids == base] == 0.0) and np.any(result.attributions != 0.0)
    # the baseline itself: no path, nothing to attribute
    at_base = IG.integrated_gradients(family.split, base, steps=20)
    assert np.all(at_base.attributions == 0.0)
    np.testing.assert_allclose(at_base.delta, 0.0, atol=1e-6)
    np.testing.assert_allclose(at_base.f_baseline, result.f_baseline, atol=1e-6)
    # and runs are deterministic
    np.testing.assert_array_equal(IG.integrated_gradients(family.split, ids, steps=20).attributions,
                                  result.attributions)


def test_one_gradient_serves_complementary_classes(family):
    """A split with two complementary outputs may take the gradient of one class only: the same
    attributions as both classes' own gradients, in both batchings of the path."""
    ids = family.reviews[0]
    both = IG.integrated_gradients(dataclasses.replace(family.split, complementary=False), ids, steps=12,
                                   batch_size=5)
    one = IG.integrated_gradients(dataclasses.replace(family.split, complementary=True), ids, steps=12)
    np.testing.assert_allclose(one.attributions, both.attributions, atol=1e-6)
    np.testing.assert_allclose(one.f_input, both.f_input, atol=1e-6)


def test_trapezoid_weights():
    alphas, weights = IG.trapezoid(4)
    np.testing.assert_allclose(alphas, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(weights, [0.125, 0.25, 0.25, 0.25, 0.125])
    assert weights.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        IG.trapezoid(0)


def test_embedding_split_is_chosen_by_the_family(models):
    for name, model in models.items():
        split = glue_of(name, model, None).split
        assert isinstance(split, W.KerasSplit) and isinstance(split, IG.EmbeddingSplit)
        assert not split.complementary and split.batch_size == 64


@pytest.mark.slow
def test_embedding_split_of_bert(bert_bundle):
    from IMDb.analysis.attribution_bert import BertSplit, PieceReviews

    bert = Bundle.read("bert", bert_bundle)
    model, tokenizer = load_keras(bert), bert.tokenizer
    glue = glue_of("bert", model, tokenizer)
    split = glue.split
    assert isinstance(split, BertSplit) and isinstance(split, IG.EmbeddingSplit)
    assert split.complementary and split.batch_size == 8 and split.pad_id == tokenizer.pad_id
    assert isinstance(glue, PieceReviews)
    with pytest.raises(ValueError, match="PAD"):
        glue_of("bert", model, tokenizer, baseline="oov")


# --------------------------------------------------------------------------- the word models' split
def test_head_reproduces_the_model(models, tf_keras):
    tokens = _review(10)
    for model in models.values():
        split = W.split_at_embedding(model)
        direct = np.asarray(model(tokens[None].astype(np.float32), training=False))
        via_split = np.asarray(split(split.embed(tokens[None])))
        np.testing.assert_allclose(via_split, direct, atol=1e-6)
    # the split made for a model is reused, and follows its weights when they change
    model = _tiny("dense", tf_keras, seed=3)
    before = W.integrated_gradients(model, tokens, steps=10)
    assert W.as_split(model) is W.as_split(model) is glue_of("dense", model, None).split
    model.set_weights([w * 1.5 for w in model.get_weights()])
    fresh = W.integrated_gradients(W.split_at_embedding(model), tokens, steps=10)
    np.testing.assert_allclose(W.integrated_gradients(model, tokens, steps=10), fresh, atol=1e-7)
    assert not np.allclose(before, fresh)


def test_padding_gets_zero_and_runs_are_deterministic(models):
    tokens = _review(9)
    for baseline in ("pad", "oov"):
        first = W.integrated_gradients(models["cnn"], tokens, target=1, steps=20, baseline=baseline)
        again = W.integrated_gradients(models["cnn"], tokens, target=1, steps=20, baseline=baseline)
        assert first.shape == (SEQ_LEN,) and first.dtype == np.float64
        assert np.all(first[9:] == 0.0) and np.any(first[:9] != 0.0)
        np.testing.assert_array_equal(first, again)
    with pytest.raises(ValueError, match="takes 24 tokens"):
        W.integrated_gradients(models["cnn"], tokens[:10], steps=5)
    with pytest.raises(ValueError, match="baseline"):
        W.integrated_gradients(models["cnn"], tokens, steps=5, baseline="zeros")


def test_keras3_model_gives_the_same_attributions(models, tf_keras):
    keras = pytest.importorskip("keras")
    k3 = _tiny("cnn", keras)
    k3.set_weights(models["cnn"].get_weights())
    tokens = _review(14)
    np.testing.assert_allclose(W.integrated_gradients(k3, tokens, steps=30),
                               W.integrated_gradients(models["cnn"], tokens, steps=30), atol=1e-6)


def test_split_is_generic_over_the_layer_graph(tf_keras):
    """Two branches after the embedding, merged, plus a branch that reads the raw tokens again."""
    layers = tf_keras.layers
    tokens = layers.Input(shape=(SEQ_LEN,), name="tokens")
    emb = layers.Embedding(VOCAB, 6, name="embedding")(tokens)
    a = layers.GlobalAveragePooling1D()(layers.Dense(5, activation="tanh")(emb))
    b = layers.GlobalMaxPooling1D()(layers.Conv1D(5, 3, padding="same")(emb))
    length = layers.Dense(2)(tokens)
    merged = layers.Concatenate()([a, b, length])
    out = layers.Dense(2, activation="softmax", name="probabilities")(merged)
    model = tf_keras.Model(tokens, out)
    split = W.split_at_embedding(model)
    assert split.needs_tokens
    review = _review(12)
    direct = np.asarray(model(review[None].astype(np.float32)))
    np.testing.assert_allclose(np.asarray(split(split.embed(review[None]), review[None].astype(np.float32))),
                               direct, atol=1e-6)
    result = W.integrated_gradients_report(split, review, steps=100)
    assert np.all(result.abs_error < 1e-2 * np.maximum(1, np.abs(result.delta)))


# --------------------------------------------------------------------------- occlusion
def _predict(model):
    return W.keras_predict_tokens(model)


@pytest.mark.parametrize("mode", ["pad", "remove"])
def test_occlusion_deltas_equal_direct_recomputation(models, mode):
    predict = _predict(models["cnn"])
    tokens = _review(11)
    words = [f"w{i}" for i in range(11)]
    rows = occlusion(predict, tokens, (1, 2, 3), words, mode=mode)
    assert len(rows) == 11 + 10 + 9
    assert [abs(r.delta) for r in rows] == sorted((abs(r.delta) for r in rows), reverse=True)
    p0 = predict(tokens[None])[0, 1]
    for row in rows[:8] + rows[-3:]:
        s, n = row.start, row.length
        if mode == "pad":
            variant = tokens.copy()
            variant[s:s + n] = PAD_ID
        else:
            variant = np.concatenate([tokens[:s], tokens[s + n:], np.zeros(n, tokens.dtype)])
        assert row.words == " ".join(words[s:s + n])
        assert row.delta == pytest.approx(p0 - predict(variant[None])[0, 1], abs=1e-6)
        assert row.p_positive == pytest.approx(predict(variant[None])[0, 1], abs=1e-6)
    unigrams = {r.start: r.delta_log_odds for r in rows if r.length == 1}
    assert all(r.interaction is None for r in rows if r.length == 1)
    for row in (r for r in rows if r.length == 3):
        expected = row.delta_log_odds - sum(unigrams[i] for i in range(row.start, row.start + 3))
        assert row.interaction == pytest.approx(expected)
        assert row.delta_log_odds * row.delta >= 0  # same direction in both scales


def test_interactions_vanish_for_a_bag_of_words_model(models):
    """dense pools per-word features linearly: a phrase's log-odds change is the sum of its words'.
    The CNN's windows span words: its phrases do interact."""
    tokens = _review(12)
    dense = occlusion(_predict(models["dense"]), tokens, (1, 2, 3))
    cnn = occlusion(_predict(models["cnn"]), tokens, (1, 2, 3), rank_by="interaction")
    assert max(abs(r.interaction) for r in dense if r.length > 1) < 1e-4
    assert abs(cnn[0].interaction) > 1e-2 and cnn[-1].length == 1
    with pytest.raises(ValueError, match="rank_by"):
        occlusion(_predict(models["dense"]), tokens, (1,), rank_by="size")


def test_occlusion_with_onnx_predictor(word_bundles):
    """With Predictor.predict_tokens (ONNX Runtime) on the bundle whose score is a sum of per-word
    scores: removing "wonderful" costs exactly its score, 1.5 in log-odds."""
    from IMDb.predict import Predictor

    predictor = Predictor.load("dense", word_bundles)
    text = "the plot was wonderful and the music was dull"
    tokens = predictor.tokenizer.token_ids([text])[0]
    rows = occlusion(predictor.predict_tokens, tokens, (1, 2), predictor.tokenizer.positions(text))
    by_words = {r.words: r for r in rows}
    assert by_words["wonderful"].delta_log_odds == pytest.approx(1.5, abs=1e-4)
    assert by_words["dull"].delta_log_odds == pytest.approx(-1.5, abs=1e-4)
    assert by_words["the"].delta == pytest.approx(0, abs=1e-6)
    assert {rows[0].words, rows[1].words} <= {"was wonderful", "wonderful and", "wonderful", "was dull", "dull"}
    top = top_phrases(rows, k=5)
    spans = [set(r.span) for r in top]
    assert all(not (a & b) for i, a in enumerate(spans) for b in spans[i + 1:])


# --------------------------------------------------------------------------- faithfulness
def _one_token_model(tf_keras, driver: int = 5):
    """Dense architecture whose output is driven by one word id: every other word's embedding is
    small noise, so removing `driver` flips the prediction and removing others barely matters."""
    cfg = families.config("dense", vocab_size=VOCAB, seq_len=SEQ_LEN, embed_dim=4, hidden=4)
    model = build("dense", cfg, tf_keras)
    rng = np.random.default_rng(0)
    embedding = rng.normal(0, 0.05, (VOCAB, 4)).astype("float32")
    embedding[driver] = [1, 0, 0, 0]
    embedding[PAD_ID] = 0
    head = np.zeros((4, 2), "float32")
    head[0] = [-2.0 * SEQ_LEN, 2.0 * SEQ_LEN]
    model.set_weights([embedding, np.eye(4, dtype="float32"), np.zeros(4, "float32"), head,
                       np.array([1.0, -1.0], "float32")])
    return model


def test_faithfulness_tells_true_attributions_from_reversed(tf_keras):
    model = _one_token_model(tf_keras)
    predict = _predict(model)
    tokens = np.zeros(SEQ_LEN, np.int32)
    tokens[:15] = [7, 9, 11, 13, 5, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35]
    assert predict(tokens[None])[0].argmax() == 1
    ig = W.integrated_gradients(model, tokens, target=1, steps=50)
    assert int(np.argmax(ig)) == 4
    result = faithfulness(predict, tokens, ig, k=(1, 3), n_random=20, seed=0)
    assert result.target == "positive" and result.passed is True and result.n_words == 15
    top1 = result.per_k[0]
    assert top1.k == 1 and top1.top_drop > 0.5 > top1.random_drop and top1.ratio > 5
    reversed_ = faithfulness(predict, tokens, -ig, k=(1,), n_random=20, seed=0)
    assert reversed_.passed is False
    assert faithfulness(predict, tokens, ig, k=(1, 3), n_random=20, seed=0) == result  # seeded
    summary = faithfulness_summary([result, reversed_])
    assert summary["n_samples"] == 2 and summary["pass_rate"] == 0.5
    k1 = summary["per_k"][0]
    assert k1["k"] == 1 and k1["n"] == 2 and k1["pass_rate"] == 0.5
    # k covering every word cannot tell top from random: undecided, not a pass
    short = tokens.copy()
    short[3:] = 0
    assert faithfulness(predict, short, ig, k=(5,), n_random=5).passed is None


# --------------------------------------------------------------------------- samples and explain
def test_choose_samples_takes_the_costliest_errors():
    frame = pd.DataFrame({
        "sample_id": range(8), "text": [f"review {i}" for i in range(8)],
        "label": [0, 0, 0, 1, 1, 1, 0, np.nan], "prediction": [1, 1, 0, 0, 0, 1, 1, 1],
        "loss": [2.0, 3.0, 0.1, 1.0, 4.0, 0.2, 0.9, np.nan]})
    chosen = choose_samples(frame, n=4)
    assert chosen["sample_id"].tolist() == [4, 1, 0, 3]
    assert chosen.set_index("sample_id")["kind"].to_dict() == {
        4: "false negative", 1: "false positive", 0: "false positive", 3: "false negative"}
    assert len(choose_samples(frame, n=10)) == 5  # all errors, no more
    # to explain: the errors, then the least confident of the rest (p_positive nearest 0.5)
    frame["p_positive"] = [0.9, 0.8, 0.45, 0.3, 0.1, 0.7, 0.52, 0.6]
    more = samples_to_explain(frame, n=7)
    assert more["sample_id"].tolist() == [4, 1, 0, 3, 6, 2, 7]
    assert more["kind"].tolist()[-2:] == ["least confident"] * 2
    unlabeled = samples_to_explain(frame.drop(columns=["label"]), n=2)
    assert unlabeled["sample_id"].tolist() == [6, 2]


def test_explain_is_json_and_aligned(models):
    texts = synthetic_reviews(6, 3)["text"].tolist()
    tokenizer = WordTokenizer(VOCAB, SEQ_LEN).fit(texts)
    frame = pd.DataFrame({"sample_id": np.arange(4, dtype=np.int64), "text": texts[:2] + texts[6:8],
                          "label": [0.0, 0.0, 1.0, 1.0], "prediction": np.array([1, 0, 0, 1]),
                          "loss": np.float32([1.5, 0.2, 2.5, 0.1])})
    out = A.explain(glue_of("dense", models["dense"], tokenizer), frame, n_samples=2, steps=20, k=(2,), n_random=4,
                    top_ngrams=3)
    assert all(isinstance(r, Explanation) for r in out)
    assert [r.sample_id for r in out] == [2, 0]
    assert [r.kind for r in out] == ["false negative", "false positive"]
    text = json.dumps([r.to_dict() for r in out], allow_nan=False)
    assert "NaN" not in text
    for r in out:
        n = len(r.words)
        assert 0 < n <= SEQ_LEN and "" not in r.words
        assert len(r.ig_positive) == len(r.ig_negative) == len(r.oov) == n
        assert all(type(v) is float for v in r.ig_positive)
        assert len(r.ngrams) == 3 and set(r.completeness) == {"negative", "positive"}
        assert r.completeness["positive"].abs_error < 1e-2
        assert sum(r.ig_positive) == pytest.approx(r.completeness["positive"].sum, abs=1e-6)
        assert r.faithfulness.per_k[0].k == 2 and isinstance(r.p_positive, float)
        assert type(r.label) is int and type(r.prediction) is int and type(r.sample_id) is int
        assert set(r.seconds) == {"ig", "occlusion", "faithfulness"}
        # summary.json's entry: these fields, in this order, nested records as dicts
        entry = r.summary()
        assert tuple(entry) == SUMMARY_FIELDS
        assert list(entry["completeness"]["positive"]) == ["target", "sum", "f_input", "f_baseline", "delta",
                                                            "abs_error", "rel_error", "steps"]
        assert list(entry["faithfulness"]) == ["target", "p_target", "n_words", "n_random", "seed", "per_k",
                                               "passed"]
        assert list(entry["faithfulness"]["per_k"][0]) == ["k", "k_used", "top_drop", "random_drop",
                                                           "random_std", "ratio", "passed"]
        assert list(entry["ngrams"][0]) == ["start", "length", "words", "delta", "delta_log_odds", "p_positive",
                                            "interaction"]
        assert Explanation.from_dict(json.loads(json.dumps(r.to_dict()))) == r  # read back
    plain = A.explain(glue_of("cnn", models["cnn"], tokenizer), ["A wonderful film.", "Dull."], steps=10, k=(1,), n_random=2)
    assert [r.label for r in plain] == [None, None] and plain[0].words == ["a", "wonderful", "film"]
    json.dumps([r.to_dict() for r in plain], allow_nan=False)


def test_explanation_from_a_partial_dict():
    """The report reads hand-made dicts too (missing fields take their defaults)."""
    e = Explanation.from_dict({"sample_id": "x", "prediction": 1, "words": ["a"], "ig_positive": [0.5],
                               "completeness": {"positive": {"sum": 0.4, "delta": 0.41}},
                               "faithfulness": {"target": "positive", "per_k": [{"k": 5, "top_drop": 0.3}]},
                               "ngrams": [{"start": 0, "length": 1, "words": "a", "delta": 0.2}], "extra": 1})
    assert e.completeness["positive"].delta == 0.41 and e.completeness["positive"].steps is None
    assert e.faithfulness.per_k[0].top_drop == 0.3 and e.faithfulness.passed is None
    assert e.ngrams[0].span == range(0, 1) and e.oov == [] and e.label is None
    assert Explanation.coerce(e) is e
