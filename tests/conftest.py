"""Shared fixtures: a synthetic IMDb-shaped dataset (no review text from the real data) and the
real dataset when IMDB_DATA points to it (missing data fails under CI=true instead of skipping)."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TL_DISABLE_ANALYTICS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# the analysis cache (`IMDb.analysis.cache`) of this test run, never the user's ~/.cache/imdb-leap
os.environ["IMDB_CACHE"] = tempfile.mkdtemp(prefix="imdb-leap-test-cache-")
atexit.register(shutil.rmtree, os.environ["IMDB_CACHE"], ignore_errors=True)

POSITIVE = ["wonderful", "great", "moving", "superb", "delightful", "loved", "brilliant"]
NEGATIVE = ["awful", "boring", "dull", "terrible", "waste", "hated", "clumsy"]
FILLER = ["the", "plot", "actor", "scene", "camera", "story", "music", "and", "was", "it", "film"]


def synthetic_reviews(n_per_label: int = 60, seed: int = 0, split: str = "train") -> pd.DataFrame:
    """Reviews made of filler words plus sentiment words, with `<br />` residue and punctuation."""
    rng = np.random.default_rng(seed)
    rows = []
    for label, words in ((0, NEGATIVE), (1, POSITIVE)):
        for i in range(n_per_label):
            body = list(rng.choice(FILLER, size=rng.integers(8, 30))) + \
                list(rng.choice(words, size=rng.integers(2, 5)))
            rng.shuffle(body)
            text = " ".join(body).capitalize() + ".<br /><br />" + ("Really!" if i % 3 else "Why?")
            rating = int(rng.integers(1, 5)) if label == 0 else int(rng.integers(7, 11))
            rows.append(dict(split=split, label=label, rating=rating, id=i,
                             movie=f"tt{1000 + i % 15:07d}", text=text))
    frame = pd.DataFrame(rows)
    return frame.astype({"label": "int8", "rating": "int8", "id": "int32"})


@pytest.fixture
def synthetic_labeled() -> pd.DataFrame:
    return pd.concat([synthetic_reviews(60, 0, "train"), synthetic_reviews(30, 1, "test")],
                     ignore_index=True)


@pytest.fixture(scope="session")
def imdb_data() -> Path:
    """The real labeled parquet from IMDB_DATA; a skip locally, a failure in CI, when absent."""
    path = os.environ.get("IMDB_DATA")
    if not path or not Path(path).exists():
        message = f"IMDB_DATA is not set to an existing file (got {path!r})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must have the dataset")
        pytest.skip(message)
    return Path(path)


# --------------------------------------------------------------------------- Tensorleap integration
# A synthetic dataset laid out like the real one (labeled parquet + imdb_unsup.parquet beside it) and
# tiny "dense"/"cnn" bundles whose model.onnx is built by hand (no training, no TensorFlow): the
# binder's tests run end to end in seconds without the real data or the shipped models.


def synthetic_unlabeled(n: int = 40, seed: int = 7) -> pd.DataFrame:
    frame = synthetic_reviews(n // 2, seed, "unsup").drop(columns=["label", "rating"])
    return frame.assign(id=np.arange(len(frame), dtype=np.int32))


def make_word_bundle(models_dir: Path, name: str, texts, seq_len: int = 30, vocab_size: int = 60) -> Path:
    """models_dir/name/{tokenizer.json, card.json, model.onnx}: a word tokenizer fitted on `texts` and
    an ONNX model (float32 `tokens` [batch, seq_len] -> `logits` [batch, 2]) that sums a fixed
    per-word score (POSITIVE words +1.5 toward positive, NEGATIVE words toward negative)."""
    import json

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from IMDb.text.word_tokenizer import WordTokenizer

    folder = Path(models_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = WordTokenizer(vocab_size, seq_len).fit(texts)
    tokenizer.save(folder / "tokenizer.json")
    scores = np.zeros((len(tokenizer.words), 2), dtype=np.float32)
    for i, word in enumerate(tokenizer.words):
        scores[i] = [1.5, 0] if word in NEGATIVE else [0, 1.5] if word in POSITIVE else [0, 0]
    graph = helper.make_graph(
        [helper.make_node("Cast", ["tokens"], ["ids"], to=TensorProto.INT64),
         helper.make_node("Gather", ["scores", "ids"], ["per_word"]),
         helper.make_node("ReduceSum", ["per_word", "axis"], ["logits"], keepdims=0)],
        name, [helper.make_tensor_value_info("tokens", TensorProto.FLOAT, ["batch", seq_len])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        [numpy_helper.from_array(scores, "scores"), numpy_helper.from_array(np.array([1], np.int64), "axis")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(folder / "model.onnx"))
    card = {"model": name, "config": {"model": name, "vocab_size": vocab_size, "seq_len": seq_len,
                                      "seed": 42, "val_fraction": 0.2, "train_limit": None},
            "tokenizer_fingerprint": tokenizer.fingerprint}
    (folder / "card.json").write_text(json.dumps(card, indent=2))
    return folder


@pytest.fixture(scope="session")
def synthetic_dataset(tmp_path_factory) -> Path:
    """imdb.parquet (train 120 + test 60 reviews) with imdb_unsup.parquet (40 reviews) beside it."""
    root = tmp_path_factory.mktemp("synthetic_imdb")
    labeled = pd.concat([synthetic_reviews(60, 0, "train"), synthetic_reviews(30, 1, "test")], ignore_index=True)
    labeled.to_parquet(root / "imdb.parquet")
    synthetic_unlabeled().to_parquet(root / "imdb_unsup.parquet")
    return root / "imdb.parquet"


@pytest.fixture(scope="session")
def word_bundles(tmp_path_factory) -> Path:
    """A models folder with tiny `dense` (seq_len 30) and `cnn` (seq_len 24) bundles."""
    models_dir = tmp_path_factory.mktemp("bundles") / "models"
    texts = synthetic_reviews(60, 0, "train")["text"]
    make_word_bundle(models_dir, "dense", texts, seq_len=30)
    make_word_bundle(models_dir, "cnn", texts, seq_len=24, vocab_size=50)
    return models_dir


# --------------------------------------------------------------------------- BERT
# A BERT "checkpoint" that is only a vocab.txt (the synthetic reviews' words, letters and
# punctuation), and a bundle trained from it with `bert_tiny` (a 2-layer random BERT): the BERT
# code runs end to end in seconds, without the shared checkpoint.


def make_bert_vocab(folder: Path) -> Path:
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    words = sorted({w for w in POSITIVE + NEGATIVE + FILLER + ["really", "why", "br"]})
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *list(".,!?'<>/:;-"), *letters,
              *[f"##{c}" for c in letters], *words]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    return folder


def tiny_bert_config(checkpoint: Path, data: Path, out: Path, **overrides):
    from IMDb import families

    settings = dict(bert_checkpoint=str(checkpoint), bert_tiny=True, seq_len=32, batch_size=8,
                    max_steps=6, checkpoint_every=2, dropout=0.0, learning_rate=1e-3,
                    data=str(data), out_dir=str(out / "models"), runs_dir=str(out / "runs"))
    return families.config("bert", **{**settings, **overrides})


@pytest.fixture(scope="session")
def bert_bundle(tmp_path_factory, synthetic_dataset) -> Path:
    """A models folder holding a tiny trained `bert` bundle (6 steps on the synthetic reviews)."""
    from IMDb.toolkits import train

    root = tmp_path_factory.mktemp("bert")
    cfg = tiny_bert_config(make_bert_vocab(root / "checkpoint"), synthetic_dataset, root)
    train(cfg)
    return Path(cfg.out_dir)


# --------------------------------------------------------------------------- shipped bundles, synthetic data
# A shipped bundle records the split it was trained on (split.json, its card's split_checksums) and
# the binder refuses any other: on the synthetic reviews its copy must record theirs.


def record_synthetic_split(folder: Path, dataset: Path) -> None:
    """Rewrite the split.json and split_checksums of the bundle copy `folder` for `dataset`, drawn
    with the card's seed and validation fraction (the tokenizer and model stay the shipped ones)."""
    import json

    from IMDb import bundle
    from IMDb.config.run import Config
    from IMDb.data import dataset_states

    card = json.loads((folder / bundle.MARKER).read_text(encoding="utf-8"))
    saved = card["config"]
    cfg = Config(data=str(dataset), **{k: saved[k] for k in ("val_fraction", "seed", "train_limit") if k in saved})
    states = dataset_states.make_states(dataset_states.labeled(str(dataset)), cfg)
    card["split_checksums"] = dataset_states.split_checksums(states)
    (folder / bundle.MARKER).write_text(json.dumps(card, indent=2), encoding="utf-8")
    (folder / bundle.SPLIT).write_text(json.dumps(bundle.split_record(states["validation"])), encoding="utf-8")


@pytest.fixture(scope="session")
def shipped_on_synthetic(tmp_path_factory, synthetic_dataset) -> Path:
    """A models folder of the shipped served bundles (tokenizer and model linked, not copied) whose
    cards and split files record the synthetic dataset's split."""
    from IMDb.config.run import MODELS_DIR

    models = tmp_path_factory.mktemp("shipped") / "models"
    for name in ("dense", "cnn", "bert"):
        source = MODELS_DIR / name
        if not (source / "card.json").is_file():
            continue
        folder = models / name
        folder.mkdir(parents=True)
        for file in ("tokenizer.json", "model.onnx"):
            (folder / file).symlink_to(source / file)
        shutil.copy(source / "card.json", folder / "card.json")
        record_synthetic_split(folder, synthetic_dataset)
    return models
