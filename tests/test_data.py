import pandas as pd

from IMDb.config.run import Config
from IMDb.data import dataset_states


def test_sample_ids_are_stable_strings(synthetic_labeled):
    ids = dataset_states.sample_ids(synthetic_labeled)
    assert ids.iloc[0] == "train/neg/0" and ids.is_unique
    unlabeled = synthetic_labeled[["id", "movie", "text"]].head(3).assign(split="unsup")
    assert dataset_states.sample_ids(unlabeled).tolist() == ["unsup/0", "unsup/1", "unsup/2"]


def test_states_are_deterministic_grouped_and_stratified(synthetic_labeled):
    cfg = Config(val_fraction=0.2, seed=3)
    a, b = dataset_states.make_states(synthetic_labeled, cfg), dataset_states.make_states(synthetic_labeled, cfg)
    for name in dataset_states.LABELED_STATES:
        pd.testing.assert_frame_equal(a[name], b[name])
    training, validation = a["training"], a["validation"]
    assert not set(training["movie"]) & set(validation["movie"])
    assert 0.1 < len(validation) / (len(training) + len(validation)) < 0.35
    assert set(validation["label"]) == {0, 1}
    assert len(a["test"]) == (synthetic_labeled["split"] == "test").sum()


def test_nothing_from_test_reaches_training(synthetic_labeled):
    leaked = synthetic_labeled[synthetic_labeled["split"] == "test"].head(5).assign(split="train", id=range(900, 905))
    frame = pd.concat([synthetic_labeled, leaked], ignore_index=True)
    states = dataset_states.make_states(frame, Config())
    test_texts = set(states["test"]["text"])
    assert not test_texts & set(states["training"]["text"])
    assert not test_texts & set(states["validation"]["text"])


def test_other_seed_gives_other_split(synthetic_labeled):
    a = dataset_states.make_states(synthetic_labeled, Config(seed=1))["validation"]["sample_id"]
    b = dataset_states.make_states(synthetic_labeled, Config(seed=2))["validation"]["sample_id"]
    assert set(a) != set(b)


def test_checksum_depends_on_content_only(synthetic_labeled):
    shuffled_columns = synthetic_labeled[list(reversed(synthetic_labeled.columns))]
    assert dataset_states.checksum(shuffled_columns) == dataset_states.checksum(synthetic_labeled)
    edited = synthetic_labeled.copy()
    edited.loc[0, "text"] += "!"
    assert dataset_states.checksum(edited) != dataset_states.checksum(synthetic_labeled)


def test_real_states(imdb_data):
    states = dataset_states.load_states(Config(data=str(imdb_data)))
    sizes = {k: len(v) for k, v in states.items()}
    assert sizes["test"] == 25_000
    assert 19_500 < sizes["training"] < 20_500 and 4_500 < sizes["validation"] < 5_500
    assert sizes["training"] + sizes["validation"] == 25_000 - 123 - 0  # cross-split duplicates dropped
    assert not set(states["training"]["movie"]) & set(states["validation"]["movie"])
    assert abs(states["validation"]["label"].mean() - 0.5) < 0.02


def test_a_train_split_too_small_to_divide_is_one_error(synthetic_labeled):
    import pytest

    from IMDb.errors import DataError

    tiny = synthetic_labeled.groupby(["split", "label"]).head(2)  # 2 reviews per label and split
    with pytest.raises(DataError, match=r"tiny\.parquet: the train split holds 2 negative and 2 positive .* "
                                        r"needs at least 5 of each"):
        dataset_states.make_states(tiny, Config(data="tiny.parquet"))
