"""A tiny training run proves the loop: logs, best checkpoint, bundle, card, and inference."""
import csv
import json

import numpy as np
import pytest

from IMDb import families
from IMDb.predict import Predictor
from IMDb.toolkits import train
from tests.conftest import synthetic_reviews

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    frame = synthetic_reviews(150, 0, "train")
    test = synthetic_reviews(50, 1, "test")
    import pandas as pd
    pd.concat([frame, test], ignore_index=True).to_parquet(root / "imdb.parquet")
    unsup = synthetic_reviews(100, 2, "unsup").drop(columns=["label", "rating"])
    unsup.assign(id=range(len(unsup))).to_parquet(root / "imdb_unsup.parquet")
    # the shipped CNN recipe: PPMI vectors from training + unlabeled, fixed, then a fine-tuning stage
    cfg = families.config("cnn", data=str(root / "imdb.parquet"), vocab_size=60, seq_len=40,
                          embed_dim=8, filters=8, hidden=8, epochs=2, fine_tune_epochs=1,
                          batch_size=32, out_dir=str(root / "models"), runs_dir=str(root / "runs"))
    assert cfg.model_config.pretrained_embeddings and not cfg.model_config.train_embeddings
    card = train(cfg)
    return cfg, card


def test_bundle_files_and_card(bundle):
    cfg, card = bundle
    folder = cfg.model_dir
    assert {p.name for p in folder.iterdir()} == {
        "model.h5", "model.onnx", "tokenizer.json", "card.json", "split.json", "history.csv", "batches.csv",
        ".imdb-leap-manifest"}
    validation = json.loads((folder / "split.json").read_text())["validation"]
    assert len(validation) == card["figures"]["validation"]["samples"] and validation == sorted(validation)
    assert set(card["split_checksums"]) == {"training", "validation", "test"}
    assert json.loads((folder / "card.json").read_text()) == card
    assert set(card["figures"]) == {"training", "validation", "test"}
    assert card["epochs_run"] == 3 and 1 <= card["best_epoch"] <= 3  # 2 + 1 fine-tuning
    assert card["onnx_max_abs_diff"] < 1e-5
    assert len(card["data_checksum"]) == 64
    assert not list(folder.parent.glob(".*"))  # no temp folders left behind


def test_logs_per_epoch_and_per_batch(bundle):
    cfg, _ = bundle
    epochs = list(csv.DictReader(open(cfg.model_dir / "history.csv")))
    batches = list(csv.DictReader(open(cfg.model_dir / "batches.csv")))
    assert [int(row["epoch"]) for row in epochs] == [0, 1, 2]  # one log across both stages
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[0])
    assert len(batches) == 3 * int(np.ceil(cfg_train_size(cfg) / cfg.batch_size))
    assert [int(row["step"]) for row in batches] == list(range(1, len(batches) + 1))
    assert len(list((cfg.model_dir.parent.parent / "runs" / "cnn").glob("*/best.keras"))) == 1  # its own run


def cfg_train_size(cfg):
    from IMDb.data import dataset_states
    return len(dataset_states.load_states(cfg)["training"])


def test_the_trained_bundle_predicts(bundle):
    cfg, _ = bundle
    predictor = Predictor.load("cnn", cfg.model_dir.parent)
    probs = predictor.predict(["wonderful superb film", "awful dull waste"])
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)
