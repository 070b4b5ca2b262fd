"""A teacher's probabilities on the unlabeled reviews, as soft targets for a word model (distillation).

The 50,000 unlabeled reviews carry no label, but a better model (BERT, or its int8 copy, which
scores about three times as fast) can say how positive each one reads; a word model trained on
those probabilities next to the labeled reviews learns from 2.5 times as many reviews and from how
sure the teacher is, not only which side it picks.

Scoring 50,000 reviews with BERT takes from about 20 minutes (int8, 256 pieces) to hours, so the
logits are kept under the cache folder (``$IMDB_CACHE/teacher/``), keyed by the teacher's ONNX file
and tokenizer and the reviews, in chunks written as they finish: a run stopped part-way resumes from
the last chunk, and the next word model trained from the same teacher scores nothing. The
probabilities apply the teacher's calibration temperature at use, so calibrating it keeps the cache.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from IMDb.config import environment
from IMDb.errors import ModelError
from IMDb.output.atomic import atomic_path

CHUNK = 1000  # reviews per cached chunk: about a minute of int8 BERT here


def teacher_dir(path: str | Path) -> Path:
    """The teacher's bundle folder (``models/bert-int8``), checked to be one."""
    folder = Path(path).expanduser()
    if not (folder / "card.json").is_file() or not (folder / "model.onnx").is_file():
        raise ModelError(f"--teacher {path}: not a model bundle (a folder with card.json and model.onnx, "
                         f"such as models/bert-int8)")
    return folder


def fingerprint(folder: Path, texts: pd.Series) -> str:
    """16 hex digits over what the teacher's logits depend on (its ONNX file and tokenizer) and the
    texts it scores: re-calibrating or re-evaluating the teacher (its card) keeps the cache."""
    digest = hashlib.sha256()
    for name in ("model.onnx", "tokenizer.json"):
        with open(folder / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    digest.update(pd.util.hash_pandas_object(texts, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def probabilities(teacher: str | Path, texts: pd.Series) -> np.ndarray:
    """The teacher bundle's probabilities [n, 2] on `texts`, with its calibration temperature where
    its card has one: its logits are scored once per teacher and texts (see the module docstring)."""
    from IMDb.bundle import Bundle
    from IMDb.measures.scores import probabilities as softmax

    folder = teacher_dir(teacher)
    return softmax(logits(folder, texts), Bundle.read(folder.name, folder.parent).temperature)


def logits(folder: Path, texts: pd.Series) -> np.ndarray:
    """The teacher's logits [n, 2] on `texts`, from the cache, the missing chunks scored and kept."""
    from IMDb.predict import Predictor

    cache = environment.cache_dir() / "teacher" / fingerprint(folder, texts)
    chunks = range(0, len(texts), CHUNK)
    missing = [start for start in chunks if not (cache / f"{start:06d}.npy").is_file()]
    if missing:
        predictor = Predictor.load(folder.name, folder.parent)
        for start in tqdm(missing, desc=f"teacher {folder.name}", unit="chunk", mininterval=2):
            scored = predictor.predict_logits(predictor.encode(texts.iloc[start:start + CHUNK].tolist()))
            with atomic_path(cache / f"{start:06d}.npy") as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, scored.astype(np.float32))
    return np.concatenate([np.load(cache / f"{start:06d}.npy") for start in chunks])


def taught(teacher: str | Path, unlabeled: pd.DataFrame) -> pd.DataFrame:
    """The unlabeled reviews' text with the teacher's probabilities as each one's ``soft`` target."""
    probs = probabilities(teacher, unlabeled["text"])
    print(f"data: + {len(probs)} unlabeled reviews with the teacher's probabilities ({teacher}: "
          f"{(probs[:, 1] > 0.5).mean():.1%} read positive)")
    return pd.DataFrame({"text": unlabeled["text"].to_numpy(), "soft": list(probs)})


def card_record(teacher: str | Path, n: int) -> dict:
    """What the student's card says of its teacher: which model, how good, on how many reviews
    (not where it lay: cards hold no local paths)."""
    from IMDb.bundle import Bundle

    folder = teacher_dir(teacher)
    card = Bundle.read(folder.name, folder.parent).card
    return {"model": card.get("model", folder.name), "tokenizer_fingerprint": card.get("tokenizer_fingerprint"),
            "test_accuracy": card.get("figures", {}).get("test", {}).get("accuracy"), "unlabeled_reviews": n}
