"""Fine-tuning the BERT model: a resumable loop, because an epoch takes most of an hour on a CPU.

- Batches are drawn per epoch from a seeded shuffle, sorted by length within chunks of 50 batches
  and padded to the longest review of the batch (rounded up to 32), which skips most padding.
- AdamW (decoupled weight decay, none on biases and norms), gradient norm clipped at 1, linear
  warmup then linear decay to 0 over the whole run.
- ``--precision mixed_bfloat16`` computes the steps in bfloat16 on float32 weights (faster on CPUs with
  bfloat16 instructions); the model is rebuilt in float32 before it is scored and shipped.
- Every ``checkpoint_every`` steps (and at each epoch's end) the weights, the optimizer's state, the
  step and the curves are written to ``runs/bert/<key>/checkpoint/`` (a temp folder, then renamed;
  one folder per bundle being made, locked while a run uses it: `IMDb.training.runs`). Run the same command
  again and it goes on from there; ``--restart`` discards it. A checkpoint made
  with other settings is refused rather than mixed in.
- Logs: ``batches.csv`` (per step), ``history.csv`` (per epoch: training and validation loss and
  accuracy), a progress bar.
- Each epoch's end keeps its weights in the run's folder and is scored for the choice of what is
  shipped: the validation accuracy, or, with ``--counterfactual``, its mean with the accuracy on
  the revisions of the CAD training pairs kept out of training (``--cad-holdout``, 20%). The best
  epoch is shipped, not necessarily the last.

The steps themselves are `IMDb.training.bert_steps`. When training is done the model is evaluated on validation and test and the bundle is written to
``models/bert/``: ``model.onnx`` (the platform's format), ``model.keras``, ``tokenizer.json``,
``card.json``, ``history.csv``, ``batches.csv``.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from IMDb import bundle
from IMDb.card import card_fields
from IMDb.config.run import Config
from IMDb.data import dataset_states, training_set
from IMDb.errors import ModelError
from IMDb.families.base import Family
from IMDb.text.wordpiece import INPUT_NAMES, WordPieceTokenizer
from IMDb.toolkits.base import Toolkit
from IMDb.training import runs
from IMDb.training.bert_steps import SELECTION, Trainer, init_weights, metrics, run_steps, weights_file
from IMDb.training.export import onnx_max_abs_diff

def with_tokenizer(cfg: Config) -> tuple[Config, WordPieceTokenizer]:
    """The checkpoint's WordPiece tokenizer at `cfg`'s length, and `cfg` with its vocabulary size
    (the model's embedding table must match the checkpoint's vocabulary, whatever the default)."""
    from IMDb.architectures.bert import checkpoint_file

    own = cfg.model_config
    tokenizer = WordPieceTokenizer.from_vocab(checkpoint_file(own.bert_checkpoint, "vocab.txt"), seq_len=own.seq_len,
                                              truncation=own.truncation, head_tokens=own.head_tokens)
    return dataclasses.replace(cfg, model_config=dataclasses.replace(own, vocab_size=tokenizer.vocab_size)), tokenizer


def run_key(cfg: Config) -> str:
    """What a checkpoint must agree on to be resumed: every setting that changes the run."""
    settings = cfg.to_dict()
    for name in ("data", "out_dir", "runs_dir", "checkpoint_every"):
        settings.pop(name)
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def train(cfg: Config, family: Family, kit: Toolkit, restart: bool = False) -> dict:
    """Fine-tune (or resume) `cfg.model` with `family`'s `kit`, evaluate, export; return the card."""
    with runs.resumable_run_dir(cfg) as run_dir:
        return _train(cfg, family, kit, run_dir, restart)


def _train(cfg: Config, family: Family, kit: Toolkit, run_dir: Path, restart: bool) -> dict:
    checkpoint = run_dir / "checkpoint"
    if restart and checkpoint.exists():
        shutil.rmtree(checkpoint)
    cfg, tokenizer = with_tokenizer(cfg)
    states, data = _prepare(cfg, tokenizer)
    trainer = Trainer(cfg, tokenizer, family, kit)
    steps_per_epoch = -(-len(data["lengths"]) // cfg.batch_size)
    total = cfg.model_config.max_steps or cfg.epochs * steps_per_epoch
    state = run_steps(trainer, cfg, data, _resume(trainer, cfg, checkpoint, total), run_dir, total)
    train_s = state["train_seconds"]
    chosen, figures = _ship(trainer, state, data, run_dir, rescore=trainer.to_float32())
    with open(run_dir / "history.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(state["history"][0]))
        writer.writeheader()
        writer.writerows(state["history"])
    card = card_fields(cfg, tokenizer, trainer.model, figures, train_s) | {
        "input_names": list(INPUT_NAMES),
        "steps": total,
        "epochs_run": round(total / steps_per_epoch, 3),
        "seconds_per_step": round(train_s / total, 3),
        "chosen_epoch": chosen["epoch"],
    }
    if cfg.model_config.init_from:  # which weights it went on from: the folder may since hold others
        card["init_from_sha256"] = hashlib.sha256(init_weights(cfg, family).read_bytes()).hexdigest()
    _write_bundle(cfg, family, kit, trainer, tokenizer, states, data, run_dir, card)
    print(f"wrote {cfg.model_dir} (train {train_s:.0f} s, {total} steps)")
    return card


def _prepare(cfg: Config, tokenizer: WordPieceTokenizer) -> tuple[dict, dict]:
    """The states (with what the run adds to training, and the CAD revisions kept aside to choose
    the epoch on) and their ``rows`` of pieces, ``labels`` and the training ``lengths``."""
    t0 = time.perf_counter()
    states = dataset_states.load_states(cfg)
    if cfg.counterfactual or cfg.augment:
        states["training"], aside = training_set.with_extra_training(cfg, states, holdout=cfg.model_config.cad_holdout)
        if aside is not None:  # their revisions, never trained on, help choose the epoch shipped
            states[SELECTION] = pd.DataFrame({"text": aside["revised"], "label": aside["revised_label"]})
    rows = {name: tokenizer.rows(frame["text"].tolist()) for name, frame in states.items()}
    labels = {name: frame["label"].to_numpy(np.int32) for name, frame in states.items()}
    lengths = np.array([len(r) for r in rows["training"]])
    print("data: " + ", ".join(f"{k} {len(v)}" for k, v in rows.items())
          + f"; training pieces per review: median {np.median(lengths):.0f}, "
            f"{(lengths >= cfg.model_config.seq_len).mean():.0%} truncated ({time.perf_counter() - t0:.1f} s)")
    return states, {"rows": rows, "labels": labels, "lengths": lengths}


def _resume(trainer: Trainer, cfg: Config, checkpoint: Path, total: int) -> dict:
    """A fresh run's state, or the checkpoint's, restored into `trainer`; a checkpoint of a run
    with other settings is refused."""
    key = run_key(cfg)
    if not (checkpoint / "state.json").is_file():
        return {"run_key": key, "step": 0, "train_seconds": 0.0, "history": []}
    saved = json.loads((checkpoint / "state.json").read_text(encoding="utf-8"))
    if saved.get("run_key") != key:
        raise ModelError(f"{checkpoint} holds a run with other settings; resume it with the "
                         f"same ones, or pass --restart to discard it")
    state = trainer.restore(checkpoint)
    print(f"resuming from step {state['step']} of {total} ({checkpoint})")
    return state


def _ship(trainer: Trainer, state: dict, data: dict, run_dir: Path, rescore: bool) -> tuple[dict, dict]:
    """Every epoch's end scored validation (and the held-out CAD revisions) and kept its weights:
    the best by `selection` is shipped (the later one on a tie), loaded into `trainer`. Its history
    entry, and the card's figures (validation scored again when `rescore`: the epoch's end was
    scored in another precision than the float32 model shipped)."""
    rows, labels = data["rows"], data["labels"]
    chosen = max(reversed(state["history"]), key=lambda h: h["selection"])
    if chosen is not state["history"][-1]:
        trainer.model.load_weights(weights_file(run_dir, chosen["step"]))
        print(f"shipping the weights of epoch {chosen['epoch']} (selection {chosen['selection']:.4f}, the last "
              f"epoch's {state['history'][-1]['selection']:.4f})")
    figures = {"validation": (metrics(trainer.predict(rows["validation"], desc="validation"), labels["validation"])
                              if rescore else {"loss": chosen["val_loss"], "accuracy": chosen["val_accuracy"],
                                               "samples": len(labels["validation"])}),
               "test": metrics(trainer.predict(rows["test"], desc="test"), labels["test"])}
    for name in ("validation", "test"):
        print(f"{name:>10}: accuracy {figures[name]['accuracy']:.4f}  loss {figures[name]['loss']:.4f}"
              f"  ({figures[name]['samples']} reviews)")
    figures["training"] = {k: chosen[k] for k in ("loss", "accuracy")} | {
        "samples": len(data["lengths"]), "note": "running mean over the chosen epoch's batches (dropout on)"}
    return chosen, figures


def _write_bundle(cfg: Config, family: Family, kit: Toolkit, trainer: Trainer, tokenizer: WordPieceTokenizer,
                  states: dict, data: dict, run_dir: Path, card: dict) -> None:
    """Write the bundle: ONNX (its agreement with Keras measured into the card), the Keras file,
    tokenizer, logs, card and split."""
    sample = tokenizer.pad(data["rows"]["test"][:200])

    def onnx_writer(path: Path) -> None:
        kit.save_onnx(family, trainer.model, cfg, path)
        card["onnx_max_abs_diff"] = onnx_max_abs_diff(trainer.model, path, sample)

    bundle.write(cfg.model_dir, {
        "model.onnx": onnx_writer,
        family.keras_file: lambda p: kit.save_keras(family, trainer.model, cfg, p),
        "tokenizer.json": tokenizer.save,
        "history.csv": lambda p: p.write_bytes((run_dir / "history.csv").read_bytes()),
        "batches.csv": lambda p: p.write_bytes((run_dir / "batches.csv").read_bytes()),
        "card.json": card,
        bundle.SPLIT: bundle.split_record(states["validation"]),
    })
