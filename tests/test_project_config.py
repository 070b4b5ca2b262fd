"""project_config.yaml: the integration's bundled settings, and every way it can be wrong."""
from pathlib import Path

import pandas as pd
import pytest

from IMDb.config import project_file
from IMDb.data import data_source, dataset_states
from IMDb.data.sources import resolve_source
from IMDb.errors import ConfigError, DataError, ModelError
from IMDb.tensorleap import integration

GOOD = "data_path: data/imdb.parquet\nmodel: cnn\nsample_limit_per_split: null\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "project_config.yaml"
    path.write_text(text)
    return path


def test_the_committed_file_is_valid():
    cfg = project_file.load()
    assert cfg.model in integration.served_models() and cfg.sample_limit_per_split is None
    assert cfg.data_path.is_absolute()


def test_a_relative_data_path_is_relative_to_the_file(tmp_path):
    cfg = project_file.load(write(tmp_path, GOOD))
    assert cfg == project_file.ProjectConfig(tmp_path / "data/imdb.parquet", "cnn", None)


@pytest.mark.parametrize("text, words", [
    ("model: cnn\nsample_limit_per_split: null\n", "missing key 'data_path'"),
    (GOOD + "extra: 1\n", "unknown key 'extra'"),
    (GOOD.replace("cnn", "7"), "model must be a model name"),
    (GOOD.replace("null", "0"), "sample_limit_per_split must be null or a positive whole number"),
    (GOOD.replace("null", "true"), "sample_limit_per_split must be null or a positive whole number"),
    (GOOD.replace("data/imdb.parquet", "[a, b]"), "data_path must be the dataset's path"),
    ("- a list\n", "expected a mapping"),
    ("data_path: [unclosed\n", "is not valid YAML at line"),
])
def test_bad_files_stop_with_one_line_naming_the_file_and_key(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        project_file.load(path)
    message = str(error.value)
    assert str(path) in message and words in message and "\n" not in message


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        project_file.load(tmp_path / "absent.yaml")


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    """Point the integration at a config file of the test's own, with no IMDB_* override."""
    def use(text: str) -> Path:
        path = write(tmp_path, text)
        monkeypatch.setattr(project_file, "PATH", path)
        return path
    for name in ("IMDB_DATA", "IMDB_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return use


def test_the_config_is_used_when_no_variable_overrides_it(config_file, synthetic_dataset, monkeypatch):
    config_file(f"data_path: {synthetic_dataset}\nmodel: cnn\nsample_limit_per_split: null\n")
    assert integration.model_name() == "cnn" and data_source.choose() == str(synthetic_dataset)
    monkeypatch.setenv("IMDB_MODEL", "bert")
    monkeypatch.setenv("IMDB_DATA", "/elsewhere.parquet")
    assert integration.model_name() == "bert" and data_source.choose() == "/elsewhere.parquet"


def test_an_unknown_model_or_a_missing_dataset_names_the_file_and_key(config_file, tmp_path):
    path = config_file(f"data_path: {tmp_path / 'nothing.parquet'}\nmodel: gpt\nsample_limit_per_split: 5\n")
    with pytest.raises(ModelError, match=rf"{path}: model 'gpt' is not a model this integration serves"):
        integration.model_name()
    with pytest.raises(ConfigError, match=rf"{path}: data_path .*nothing.parquet' does not exist"):
        data_source.choose()


def test_the_sample_limit_is_seeded_and_keeps_the_label_balance():
    frame = pd.DataFrame({"label": [0] * 300 + [1] * 100, "text": [f"r{i}" for i in range(400)]})
    kept = dataset_states.stratified_sample(frame, 40, seed=42)
    assert len(kept) == 40 and kept["label"].sum() == 10 and kept.index.is_monotonic_increasing
    assert kept.equals(dataset_states.stratified_sample(frame, 40, seed=42))
    assert dataset_states.stratified_sample(frame, None, seed=42) is frame and dataset_states.stratified_sample(frame, 999, 42) is frame
    unlabeled = frame.drop(columns="label")
    assert len(dataset_states.stratified_sample(unlabeled, 7, seed=1)) == 7


# --------------------------------------------------------------------------- a pushable data_path


def test_the_committed_data_path_is_the_platform_placeholder_and_pushable():
    """Tensorleap's convention: the active line is the platform path (a clear placeholder, the one
    edit before a push), the local path only a comment; local runs use IMDB_DATA."""
    cfg = project_file.load()
    assert cfg.is_placeholder and cfg.written == project_file.PLACEHOLDER
    assert project_file.bundle_problem(cfg) is None
    text = project_file.PATH.read_text()
    assert "# data_path: ../shared/data/imdb/imdb.parquet" in text and "IMDB_DATA" in text


@pytest.mark.parametrize("value, words", [
    ("../shared/data/imdb/imdb.parquet", "is relative: inside a pushed bundle"),
    ("data/imdb.parquet", "is relative: inside a pushed bundle"),
    ("~/imdb/imdb.parquet", "starts with ~"),
])
def test_a_data_path_a_pushed_bundle_cannot_reach_is_one_line(tmp_path, value, words):
    path = write(tmp_path, GOOD.replace("data/imdb.parquet", value))
    problem = project_file.bundle_problem(project_file.load(path), path)
    assert str(path) in problem and words in problem and "data volume" in problem and "\n" not in problem


def test_the_placeholder_asks_for_imdb_data_locally(config_file, monkeypatch):
    config_file(f"data_path: {project_file.PLACEHOLDER}\nmodel: cnn\nsample_limit_per_split: null\n")
    assert data_source.choose() is None  # the placeholder names no dataset: the loader lists the ways
    with pytest.raises(DataError, match="data_path is the platform placeholder .* set IMDB_DATA"):
        resolve_source()
    monkeypatch.setenv("IMDB_DATA", "/elsewhere.parquet")
    assert data_source.choose() == "/elsewhere.parquet"


def test_every_command_and_the_binder_choose_the_data_in_one_order(config_file, synthetic_dataset, monkeypatch,
                                                                   tmp_path):
    """--data, else IMDB_DATA, else project_config.yaml's data_path."""
    config_file(f"data_path: {synthetic_dataset}\nmodel: cnn\nsample_limit_per_split: null\n")
    assert data_source.choose() == str(synthetic_dataset)
    monkeypatch.setenv("IMDB_DATA", str(tmp_path / "env.parquet"))
    assert data_source.choose() == str(tmp_path / "env.parquet")
    assert data_source.choose(tmp_path / "given.parquet") == str(tmp_path / "given.parquet")
