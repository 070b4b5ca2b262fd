"""The per-sample table from a tiny trained CNN on synthetic reviews: columns, types, losses,
batching, metadata equal to the binder's, limits, states and the parquet round trip."""
import numpy as np
import pandas as pd
import pytest

from IMDb import families
from IMDb.analysis import baselines as bl
from IMDb.analysis.inference import latent_and_probabilities, load_keras, load_latent_model
from IMDb.architectures import keras_of
from IMDb.analysis.table import BASE_COLUMNS, METADATA_COLUMNS, AnalysisTable, build_table
from IMDb.bundle import Bundle
from IMDb.data import dataset_states
from IMDb.measures import metadata
from tests.conftest import synthetic_reviews, synthetic_unlabeled

pytestmark = pytest.mark.slow
HIDDEN = 8


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """The per-review cache in a temp folder, never the user's."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IMDB_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A tiny CNN trained for one epoch on 240 synthetic reviews (seconds), with its data."""
    from IMDb.toolkits import train

    root = tmp_path_factory.mktemp("analysis_table")
    pd.concat([synthetic_reviews(120, 0, "train"), synthetic_reviews(40, 1, "test")],
              ignore_index=True).to_parquet(root / "imdb.parquet")
    synthetic_unlabeled(30).to_parquet(root / "imdb_unsup.parquet")
    cfg = families.config("cnn", data=str(root / "imdb.parquet"), vocab_size=60, seq_len=40, embed_dim=8,
                          filters=8, hidden=HIDDEN, epochs=1, pretrained_embeddings=False,
                          train_embeddings=True, out_dir=str(root / "models"), runs_dir=str(root / "runs"))
    train(cfg)
    return cfg


@pytest.fixture(scope="module")
def test_table(bundle):
    return build_table("cnn", "test", models_dir=bundle.model_dir.parent, cfg=bundle, progress=False,
                       baselines=True)


def test_columns_dtypes_and_no_missing_values(test_table, bundle):
    frame = test_table.frame
    assert list(frame.columns[:len(BASE_COLUMNS)]) == list(BASE_COLUMNS)
    assert set(METADATA_COLUMNS) <= set(frame.columns)
    assert set(test_table.fields) == set(METADATA_COLUMNS)
    assert len(frame) == 80 and (frame["state"] == "test").all()
    assert frame["label"].dtype == np.float64 and frame["loss"].dtype == np.float64
    assert frame["prediction"].dtype == np.int64 and frame["correct"].dtype == bool
    for col in ("rating_stars", "length_chars", "tokens_count", "oov_count", "html_residue", "negations"):
        assert frame[col].dtype == np.int64, col
    assert frame["tokens_truncated"].dtype == bool
    assert not frame.isna().any().any()  # every row is labeled: nothing is missing
    assert np.allclose(frame["p_negative"] + frame["p_positive"], 1, atol=1e-5)
    assert (frame["prediction"] == (frame["p_positive"] > 0.5)).all()
    assert (frame["correct"] == (frame["prediction"] == frame["label"])).all()
    assert list(frame["sample_id"]) == list(dataset_states.load_states(bundle)["test"]["sample_id"])


def test_latent_is_the_latent_layer(test_table, bundle):
    """The table's latent (the ONNX graph's added output) is the Keras model's ``latent`` layer."""
    assert test_table.latent.shape == (80, HIDDEN) and test_table.latent.dtype == np.float32
    assert (test_table.latent >= 0).all()  # the CNN's latent layer is a ReLU
    read = Bundle.read("cnn", bundle.model_dir.parent)
    model = load_keras(read)
    tokens = read.tokenizer.encode(test_table.frame["text"].tolist()[:5])["tokens"]
    latent = keras_of(model).Model(model.inputs, model.get_layer("latent").output)
    expected = np.asarray(latent(tokens, training=False))
    assert np.allclose(test_table.latent[:5], expected, atol=1e-5)


def test_loss_is_minus_log_probability_of_the_label(test_table):
    frame = test_table.frame
    p_label = np.where(frame["label"] == 1, frame["p_positive"], frame["p_negative"])
    assert np.allclose(frame["loss"], -np.log(np.clip(p_label, 1e-7, 1)), rtol=1e-5, atol=1e-6)


def test_batches_give_the_same_numbers_as_single_samples(test_table, bundle):
    read = Bundle.read("cnn", bundle.model_dir.parent)
    model, texts = load_latent_model(read), test_table.frame["text"].tolist()[:12]
    one_latent, one_probs = latent_and_probabilities(model, read.tokenizer, texts, batch_size=1)
    batch_latent, batch_probs = latent_and_probabilities(model, read.tokenizer, texts, batch_size=5)  # uneven last batch
    assert np.allclose(one_probs, batch_probs, atol=1e-6) and np.allclose(one_latent, batch_latent, atol=1e-5)
    assert np.allclose(batch_probs, test_table.frame[["p_negative", "p_positive"]].to_numpy()[:12], atol=1e-6)


def test_the_table_agrees_with_predict(test_table, bundle):
    from IMDb.predict import Predictor

    probs = Predictor.load("cnn", bundle.model_dir.parent).predict(test_table.frame["text"].tolist())
    assert np.allclose(probs, test_table.frame[["p_negative", "p_positive"]].to_numpy(), atol=1e-5)


def test_metadata_columns_are_the_binders_values(test_table, bundle):
    from IMDb.tensorleap.integration import Review

    tokenizer = Bundle.read("cnn", bundle.model_dir.parent).tokenizer
    row = test_table.frame.iloc[7]
    review = Review(row["sample_id"], row["text"], int(row["label"]), int(row["rating_stars"]), "")
    for name, value in metadata.all_fields(review, tokenizer).items():
        values = value if isinstance(value, dict) else {None: value}
        for key, v in values.items():
            col = "label_name" if name == "label" else name if key is None else f"{name}_{key}"
            assert row[col] == pytest.approx(v) if isinstance(v, float) else row[col] == v, col


def test_baseline_columns(test_table, bundle):
    frame = test_table.frame
    for name in bl.BASELINES:
        p, loss = frame[bl.column(name, "p_positive")], frame[bl.column(name, "loss")]
        assert p.between(0, 1).all() and (loss >= 0).all()
    expected = np.clip((frame["textblob_polarity"] + 1) / 2, 1e-3, 1 - 1e-3)
    assert np.allclose(frame[bl.column("textblob", "p_positive")], expected)
    tfidf_accuracy = ((frame[bl.column("tfidf", "p_positive")] > 0.5) == frame["label"]).mean()
    assert tfidf_accuracy > 0.9  # the synthetic sentiment words are easy for a bag of words
    assert set(test_table.timings) >= {"load_model", "load_data", "inference", "metadata", "baselines",
                                       "total", "peak_rss_mib"}


def test_a_second_table_reads_the_cache_and_is_the_same(test_table, bundle, cache_dir, monkeypatch):
    stores = sorted(p.name.rsplit("-", 1)[0] for p in (cache_dir / "reviews").iterdir())
    assert stores == ["metadata-text", "metadata-tokens", "tfidf"]
    monkeypatch.setattr(bl, "fitted_tfidf", None)  # neither the metadata nor the TF-IDF is computed again
    monkeypatch.setattr(metadata, "textblob", None)
    again = build_table("cnn", "test", models_dir=bundle.model_dir.parent, cfg=bundle, progress=False,
                        baselines=True)
    pd.testing.assert_frame_equal(again.frame, test_table.frame, check_exact=True)
    assert np.array_equal(again.latent, test_table.latent)


def test_save_and_load_round_trip(test_table, tmp_path):
    path = test_table.save(tmp_path / "table.parquet")
    loaded = AnalysisTable.load(path)
    pd.testing.assert_frame_equal(loaded.frame, test_table.frame)
    assert np.array_equal(loaded.latent, test_table.latent) and loaded.model == "cnn"
    assert [p.name for p in tmp_path.iterdir()] == ["table.parquet"]  # no temp file left
    (tmp_path / "other.parquet").write_bytes(b"")
    test_table.frame.to_parquet(tmp_path / "other.parquet")
    with pytest.raises(ValueError, match="not an analysis table"):
        AnalysisTable.load(tmp_path / "other.parquet")


def test_limit_is_a_seeded_stratified_sample(bundle):
    table = build_table("cnn", "training", limit=40, models_dir=bundle.model_dir.parent, cfg=bundle,
                        progress=False)
    training = dataset_states.load_states(bundle)["training"]
    assert len(table) == 40 and table.frame["sample_id"].isin(training["sample_id"]).all()
    share = training["label"].mean()
    assert abs(table.frame["label"].mean() - share) <= 1 / 40 + 1e-9
    again = dataset_states.stratified_sample(training, 40, seed=0)
    assert list(again["sample_id"]) == list(table.frame["sample_id"])
    assert list(dataset_states.stratified_sample(training, 40, seed=1)["sample_id"]) != list(again["sample_id"])
    assert dataset_states.stratified_sample(training, 10_000) is training


def test_unlabeled_state_has_missing_label_fields(bundle):
    table = build_table("cnn", "unlabeled", models_dir=bundle.model_dir.parent, cfg=bundle, progress=False)
    frame = table.frame
    assert len(frame) == 30 and frame["label"].isna().all() and frame["loss"].isna().all()
    assert frame["correct"].isna().all() and frame["rating_stars"].isna().all()
    assert frame["label_name"].isna().all() and not table.labeled.any()
    assert frame["p_positive"].notna().all() and frame["textblob_polarity"].notna().all()
    assert "rating_stars" not in table.numeric_fields and "oov_count" in table.numeric_fields


def test_default_states_follow_the_model_card(bundle, monkeypatch):
    monkeypatch.setenv("IMDB_DATA", bundle.data)
    table = build_table("cnn", "validation", models_dir=bundle.model_dir.parent, progress=False)
    expected = dataset_states.load_states(bundle)["validation"]["sample_id"]
    assert list(table.frame["sample_id"]) == list(expected)


def test_unknown_state_and_missing_model(bundle, tmp_path):
    from IMDb.errors import ModelError

    with pytest.raises(ValueError, match="unknown state"):
        build_table("cnn", "holdout", models_dir=bundle.model_dir.parent, cfg=bundle, progress=False)
    with pytest.raises(ModelError):
        build_table("cnn", "test", models_dir=tmp_path, cfg=bundle, progress=False)
