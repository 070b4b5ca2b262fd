"""The model registry, and the proof that a new kind of model is a family and a toolkit: a toy
family defined here (a linear model of the review's hashed words, with a tokenizer of its own that
fits no vocabulary), registered at run time with its toolkit, is trained, predicted with, served by
the binder and analysed with no change to any module of the package."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from IMDb import families, toolkits
from IMDb.cli.imdb_leap import main
from IMDb.config.fields import setting
from IMDb.config.run import RUN_FIELDS, ModelConfig
from IMDb.errors import ModelError, SettingError
from IMDb.families.base import Family
from IMDb.output.atomic import atomic_write_text
from IMDb.text.tokenizer import Tokenizer
from IMDb.toolkits.base import Toolkit

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- the registry


def test_every_model_has_a_family_and_a_valid_preset():
    assert families.names() == ("dense", "cnn", "bert", "bert-int8")
    for name in families.names():
        family = families.get(name)
        fields = set(RUN_FIELDS) | {f.name for f in dataclasses.fields(family.config_class)}
        assert isinstance(family, Family) and family.name == name and set(family.preset) <= fields, name
        cfg = families.config(name)
        assert cfg.model == name and type(cfg.model_config) is family.config_class


def test_a_family_s_settings_are_its_own():
    """Run settings are common; a model's own are its family's config class: a BERT setting is no
    word model's, and a card written flat before the split (every family's settings) still reads."""
    assert "truncation" not in {f.name for f in dataclasses.fields(families.get("dense").config_class)}
    with pytest.raises(SettingError, match="dense has no setting truncation"):
        families.config("dense", truncation="head")
    flat = {**families.config("bert").to_dict(), **families.config("dense").to_dict()}
    cfg = families.get("dense").from_card(flat)
    assert cfg.to_dict() == families.config("dense").to_dict()


def test_a_derived_model_is_explained_by_its_source_and_not_trained():
    assert families.names(trainable=True) == ("dense", "cnn", "bert")
    assert families.names(trainable=False) == ("bert-int8",)
    int8 = families.get("bert-int8")
    assert int8.explained_by == "bert" and int8.keras_file is None and int8.made_by
    assert families.get("cnn").explained_by == "cnn"


def test_an_unknown_model_lists_the_known_ones():
    with pytest.raises(ModelError, match="unknown model 'lstm'; choose one of dense, cnn, bert, bert-int8"):
        families.get("lstm")


def test_a_bundles_split_settings_name_its_own_model():
    from IMDb.bundle import Bundle
    from IMDb.config.run import MODELS_DIR

    bert = Bundle.read("bert", MODELS_DIR)
    cfg = bert.split_config(None)
    assert (cfg.model, cfg.seed, cfg.val_fraction) == ("bert", bert.card["config"]["seed"],
                                                       bert.card["config"]["val_fraction"])


def test_a_family_without_a_toolkit_is_named():
    class Orphan(Family):
        kind = "orphan"

    with pytest.raises(ModelError, match="no toolkit for lone's family 'orphan'; there are toolkits for words, bert"):
        toolkits.of(Orphan("lone"))


# --------------------------------------------------------------------------- a fourth family


class HashedWords(Tokenizer):
    """Each word hashed into one of `buckets` ids (2 and up; 0 pads): no vocabulary is fitted, so no
    word is out of vocabulary. It keeps the word models' glue contract too (`token_ids`, pad id 0)."""

    input_names = ("hashes",)
    FORMAT = "toy-hashed-words-1"

    def __init__(self, buckets: int, seq_len: int):
        self.buckets, self.seq_len = buckets, seq_len

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.FORMAT}:{self.buckets}:{self.seq_len}".encode()).hexdigest()[:16]

    @property
    def id_count(self) -> int:
        return self.buckets + 2

    @staticmethod
    def words(text: str) -> list[str]:
        return re.findall(r"[a-z']+", text.lower())

    def token_ids(self, texts) -> np.ndarray:
        ids = np.zeros((len(texts), self.seq_len), np.int64)
        for row, text in enumerate(texts):
            hashed = [2 + zlib.crc32(w.encode()) % self.buckets for w in self.words(text)[:self.seq_len]]
            ids[row, :len(hashed)] = hashed
        return ids

    def encode(self, texts):
        return {"hashes": self.token_ids(texts).astype(np.float32)}

    def count(self, text: str) -> int:
        return len(self.words(text))

    def oov_count(self, text: str) -> int:
        return 0

    def positions(self, text: str) -> list[str]:
        kept = self.words(text)[:self.seq_len]
        return kept + [""] * (self.seq_len - len(kept))

    def oov_positions(self, text: str) -> np.ndarray:
        return np.zeros(self.seq_len, np.uint8)

    def save(self, path) -> Path:
        atomic_write_text(path, json.dumps({"format": self.FORMAT, "buckets": self.buckets, "seq_len": self.seq_len}))
        return Path(path)

    @classmethod
    def load(cls, path) -> "HashedWords":
        state = cls.read_state(path, cls.FORMAT, "a hashed-words tokenizer file")
        return cls(state["buckets"], state["seq_len"])


@dataclass
class HashedBagConfig(ModelConfig):
    """The toy's own settings: how many buckets words are hashed into, and its vectors' size."""

    buckets: int = setting(100, low=1)
    embed_dim: int = setting(8, low=1)


class HashedBag(Family):
    """The toy: what serving it needs (its tokenizer, a Keras 3 file, its config class, its preset)."""

    kind = "hashed-bag"
    tokenizer = HashedWords
    keras_file = "model.keras"
    config_class = HashedBagConfig


class HashedBagToolkit(Toolkit):
    """The mean of learnt vectors of the hashed words (``latent``), then logits; the word models'
    attribution glue (its tokenizer keeps that contract). The ids: padding, the unused OOV id, the buckets."""

    def build(self, family, cfg, keras):
        hashes = keras.layers.Input(shape=(cfg.model_config.seq_len,), dtype="float32", name="hashes")
        own = cfg.model_config
        x = keras.layers.Embedding(own.buckets + 2, own.embed_dim, name="embedding")(hashes)
        x = keras.layers.GlobalAveragePooling1D(name="latent")(x)
        return keras.Model(hashes, keras.layers.Dense(2, name="logits")(x), name=cfg.model)

    def train(self, family, cfg, restart=False):
        import keras

        from IMDb import bundle
        from IMDb.card import card_fields
        from IMDb.data import dataset_states

        states = dataset_states.load_states(cfg)
        tokenizer = HashedWords(cfg.model_config.buckets, cfg.model_config.seq_len)
        x = {n: tokenizer.encode(f["text"].tolist())["hashes"] for n, f in states.items()}
        y = {n: f["label"].to_numpy() for n, f in states.items()}
        keras.utils.set_random_seed(cfg.seed)
        model = self.build(family, cfg, keras)
        model.compile(keras.optimizers.Adam(cfg.learning_rate), metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x["training"], y["training"], epochs=cfg.epochs, batch_size=cfg.batch_size, verbose=0)
        figures = {n: {"loss": float(loss), "accuracy": float(accuracy), "samples": len(y[n])}
                   for n in states for loss, accuracy in [model.evaluate(x[n], y[n], verbose=0)]}
        card = card_fields(cfg, tokenizer, model, figures, 0.0)
        bundle.write(cfg.model_dir, {
            "model.onnx": lambda p: self.save_onnx(family, model, cfg, p),
            family.keras_file: lambda p: self.save_keras(family, model, cfg, p),
            "tokenizer.json": tokenizer.save, "card.json": card})
        return card

    def explainer(self, family, model, tokenizer, predict_tokens=None, baseline="pad"):
        from IMDb.analysis.attribution_words import WordReviews

        return WordReviews.of(model, tokenizer, predict_tokens, baseline)


TOY = HashedBag("toy", dict(buckets=198, seq_len=40, embed_dim=4, epochs=40, batch_size=16, learning_rate=0.05))


def register_toy() -> None:
    """The family's registry entry and its toolkit's; a subprocess (the binder's check) calls this too."""
    families.register(TOY)
    toolkits.register(HashedBag.kind, HashedBagToolkit())


@pytest.fixture(scope="module")
def toy(tmp_path_factory, synthetic_dataset):
    """`imdb-leap train --model toy` on the synthetic reviews: models/toy/ in a temp folder."""
    register_toy()
    models_dir = tmp_path_factory.mktemp("toy") / "models"
    try:
        assert main(["train", "--model", "toy", "--models-dir", str(models_dir), "--data", str(synthetic_dataset),
                     "--quiet"]) == 0
        yield models_dir
    finally:
        families.REGISTRY.pop("toy", None)
        toolkits.REGISTRY.pop(HashedBag.kind, None)


def test_the_toy_family_is_trained_and_predicts(toy, capsys):
    assert sorted(p.name for p in (toy / "toy").iterdir()) == [".imdb-leap-manifest", "card.json", "model.keras",
                                                              "model.onnx", "tokenizer.json"]
    card = json.loads((toy / "toy" / "card.json").read_text())
    assert card["model"] == "toy" and card["figures"]["test"]["accuracy"] > 0.9
    assert json.loads((toy / "toy" / "tokenizer.json").read_text())["format"] == HashedWords.FORMAT
    capsys.readouterr()
    assert main(["predict", "--model", "toy", "--models-dir", str(toy),
                 "A wonderful, superb film. Loved it", "Awful, dull and boring: a waste"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["positive", "negative"], lines


def test_the_binder_serves_the_toy_family(toy, synthetic_dataset):
    """leap_test.py's integration test of one model (every decorated function, every state), in a
    process where the toy family is registered."""
    script = ("import json, sys; sys.path.insert(0, '.'); from tests.test_families import register_toy; "
              "register_toy(); import leap_test; print(json.dumps(leap_test.run_worker('toy', 3)))")
    env = {**os.environ, "IMDB_MODEL": "toy", "IMDB_MODELS_DIR": str(toy), "IMDB_DATA": str(synthetic_dataset),
           "TL_DISABLE_ANALYTICS": "1"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["errors"] == []
    assert {s: r["samples"] for s, r in result["states"].items()} == \
        {"training": 3, "validation": 3, "test": 3, "unlabeled": 3}
    assert result["states"]["test"]["accuracy"] > 0.5


def test_the_toy_family_s_latent_layer_is_found_in_its_onnx_graph(toy):
    """The analysis's graph adds the toy's ``latent`` layer as an output by the rule every family uses;
    its values are the Keras layer's, its served file keeps one output."""
    from IMDb.analysis.inference import latent_and_probabilities, load_keras, load_latent_model
    from IMDb.architectures import keras_of
    from IMDb.bundle import Bundle

    bundle = Bundle.read("toy", toy)
    texts = ["A wonderful, superb film. Loved it", "Awful, dull and boring: a waste"]
    latent, _ = latent_and_probabilities(load_latent_model(bundle), bundle.tokenizer, texts, 2)
    model = load_keras(bundle)
    keras_latent = keras_of(model).Model(model.inputs, model.get_layer("latent").output)
    expected = np.asarray(keras_latent(bundle.tokenizer.encode(texts)["hashes"], training=False))
    assert latent.shape == (2, TOY.preset["embed_dim"]) and np.abs(latent - expected).max() < 1e-5
    assert [o.name for o in bundle.session().get_outputs()] == ["logits"]


@pytest.mark.slow
def test_the_toy_family_is_analysed(toy, synthetic_dataset, tmp_path):
    out = tmp_path / "report"
    assert main(["analyze", "--model", "toy", "--state", "test", "--limit", "20", "--samples", "2",
                 "--projection", "pca", "--models-dir", str(toy), "--data", str(synthetic_dataset),
                 "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    row = next(r for r in summary["models_and_baselines"] if r["name"] == "toy")
    assert row["n"] == 20 and row["accuracy"] > 0.8
    assert (out / "dashboard.html").is_file() and (out / "table.parquet").is_file()
    samples = summary["attribution"]["samples"]  # integrated gradients through the word models' glue
    assert len(samples) == 2 and all(s["completeness"]["positive"]["abs_error"] < 1e-2 for s in samples)
    assert all(s["ngrams"] for s in samples)  # occlusion ran on the toy's ONNX file
