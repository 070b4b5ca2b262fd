"""IMDb.analysis.cache and what the analysis keeps in it: a second lookup reads what the first stored, a
changed text or version misses, and the metadata and TF-IDF scores read back equal those computed
afresh, column by column and dtype by dtype. IMDB_CACHE is a temp folder in every test."""
import numpy as np
import pandas as pd
import pytest

from IMDb.analysis import baselines as bl
from IMDb.analysis import cache
from IMDb.analysis import metadata_job as table
from IMDb.bundle import Bundle
from IMDb.measures import metadata
from IMDb.tensorleap.integration import Review
from tests.conftest import make_word_bundle, synthetic_reviews


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("IMDB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def squares(texts):
    return pd.DataFrame({"length": [len(t) for t in texts], "half": [len(t) / 2 for t in texts]})


def test_a_second_lookup_reads_what_the_first_stored(cache_dir):
    texts = ["a", "bb", "a", "ccc"]
    first = cache.lookup("demo", "v1", texts)
    assert first.missing == ["a", "bb", "ccc"]  # each text computed once
    values = first.fill(squares(first.missing))
    pd.testing.assert_frame_equal(values, squares(texts))
    again = cache.lookup("demo", "v1", texts[::-1])
    assert again.missing == []
    pd.testing.assert_frame_equal(again.fill(), squares(texts[::-1]))
    assert not [p for p in cache_dir.rglob("*") if p.name.endswith(".tmp")]  # no temp file left


def test_a_changed_text_or_version_misses(cache_dir):
    found = cache.lookup("demo", "v1", ["a", "bb"])
    found.fill(squares(found.missing))
    changed = cache.lookup("demo", "v1", ["a", "bb!"])
    assert changed.missing == ["bb!"]
    pd.testing.assert_frame_equal(changed.fill(squares(changed.missing)), squares(["a", "bb!"]))
    assert cache.lookup("demo", "v2", ["a", "bb"]).missing == ["a", "bb"]
    assert cache.version("x", modules=[cache]) != cache.version("y", modules=[cache])


def test_damaged_files_are_ignored_and_many_files_merged(cache_dir, monkeypatch):
    for text in ["a", "bb", "ccc"]:
        found = cache.lookup("demo", "v1", [text])
        found.fill(squares(found.missing))
    folder = cache.store_dir("demo", "v1")
    (folder / "damaged.parquet").write_bytes(b"not parquet")
    monkeypatch.setattr(cache, "MAX_FILES", 2)
    found = cache.lookup("demo", "v1", ["a", "bb", "ccc"])
    assert found.missing == []
    assert len(list(folder.glob("*.parquet"))) == 1  # merged, the damaged file dropped
    assert cache.lookup("demo", "v1", ["a", "bb", "ccc"]).missing == []


def test_wrong_number_of_computed_rows_is_refused():
    found = cache.lookup("demo", "v1", ["a", "bb"])
    with pytest.raises(ValueError, match="expected 2 computed rows"):
        found.fill(squares(["a"]))


def test_a_stored_array_is_read_back_and_a_damaged_one_computed_again(cache_dir):
    calls = []

    def compute():
        calls.append(1)
        return np.arange(6, dtype=np.float32).reshape(3, 2)

    first = cache.stored_array("maps", "v1", compute)
    again = cache.stored_array("maps", "v1", compute)
    assert len(calls) == 1 and again.dtype == np.float32 and np.array_equal(again, first)
    (cache_dir / "maps" / "v1.npy").write_bytes(b"damaged")
    np.testing.assert_array_equal(cache.stored_array("maps", "v1", compute), first)
    assert len(calls) == 2


@pytest.fixture(scope="module")
def word_model(tmp_path_factory):
    models_dir = tmp_path_factory.mktemp("cache_bundle") / "models"
    make_word_bundle(models_dir, "cnn", synthetic_reviews(30, 0)["text"], seq_len=12)
    return Bundle.read("cnn", models_dir).tokenizer


def reviews() -> pd.DataFrame:
    frame = synthetic_reviews(20, 3, "test")
    frame.loc[5, "text"] = ""  # no tokens: the OOV ratio is missing
    frame.loc[6, "text"] = frame.loc[7, "text"]  # the same text twice
    return frame.astype({"label": float}).assign(sample_id=[f"test_{i}" for i in range(len(frame))])


def fresh_metadata(frame: pd.DataFrame, word_model) -> pd.DataFrame:
    """The metadata as computed before the cache: every binder field of every review, typed at once."""
    columns: dict[str, list] = {}
    for row in frame.itertuples():
        review = Review(row.sample_id, row.text, int(row.label), int(row.rating), row.movie)
        table._flatten(metadata.all_fields(review, word_model), columns)
    return pd.DataFrame({c: table._typed(v, table.METADATA_TYPES[c]) for c, v in columns.items()},
                        index=frame.index)


def test_metadata_from_the_cache_equals_fresh_metadata(word_model, monkeypatch):
    frame = reviews()
    expected = fresh_metadata(frame, word_model)
    assert expected["oov_ratio"].isna().sum() == 1
    monkeypatch.setattr(table, "CHUNK", 8)  # several tasks: computed on worker processes
    computed = table.metadata_frame(frame, word_model)
    monkeypatch.setattr(table, "_field_columns", None)  # nothing may be computed now
    from_cache = table.metadata_frame(frame, word_model)
    for got in (computed, from_cache):
        assert list(got.columns) == list(table.METADATA_COLUMNS)
        for column in expected:
            pd.testing.assert_series_equal(got[column], expected[column], check_exact=True, obj=column)


def test_metadata_is_computed_here_when_the_workers_die(word_model, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    class Dead:
        def result(self):
            raise BrokenProcessPool("a worker died")

    frame = reviews()
    monkeypatch.setattr(table, "CHUNK", 8)
    with table.MetadataJob(frame, word_model) as job, pytest.warns(RuntimeWarning, match="__main__"):
        job.futures = [Dead() for _ in job.tasks]
        got = job.result()
    pd.testing.assert_frame_equal(got, fresh_metadata(frame, word_model), check_exact=True)


def test_changed_text_or_code_recomputes_metadata(word_model, monkeypatch):
    frame = reviews()
    table.metadata_frame(frame, word_model)
    edited = frame.assign(text=frame["text"].where(frame.index != 2, "Awful!"))
    calls = []
    original = table._field_columns
    monkeypatch.setattr(table, "_field_columns", lambda texts, tokenizer=None: calls.append(texts)
                        or original(texts, tokenizer))
    got = table.metadata_frame(edited, word_model)
    assert calls == [["Awful!"], ["Awful!"]]  # the text fields, then the tokenizer's
    pd.testing.assert_frame_equal(got, fresh_metadata(edited, word_model), check_exact=True)
    calls.clear()
    monkeypatch.setattr(table, "_text_version", lambda: "another")
    table.metadata_frame(frame, word_model)
    assert calls == [frame["text"].drop_duplicates().tolist()]  # the tokenizer's still hit


def test_tfidf_scores_are_stored_per_training_state(monkeypatch):
    train, test = synthetic_reviews(40, 0, "train"), synthetic_reviews(10, 1, "test")
    texts = test["text"].tolist()
    expected = bl.tfidf_baseline(bl.fit_tfidf(train["text"].tolist(), train["label"].to_numpy()), texts)
    first = bl.tfidf_scores(train, texts)
    np.testing.assert_array_equal(first, expected)
    monkeypatch.setattr(bl, "fitted_tfidf", None)  # a second run neither fits nor scores
    np.testing.assert_array_equal(bl.tfidf_scores(train, texts), expected)
    with pytest.raises(TypeError):  # another training state is another store: it must fit
        bl.tfidf_scores(train.iloc[:60], texts)
