"""Fine-tuning the BERT model: a resumable loop, because an epoch takes most of an hour on a CPU.

- Batches are drawn per epoch from a seeded shuffle, sorted by length within chunks of 50 batches
  and padded to the longest review of the batch (rounded up to 32), which skips most padding.
- AdamW (decoupled weight decay, none on biases and norms), gradient norm clipped at 1, linear
  warmup then linear decay to 0 over the whole run.
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

When training is done the model is evaluated on validation and test and the bundle is written to
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
from IMDb.data import dataset_states, training_set
from IMDb.training import runs
from IMDb.config.run import Config
from IMDb.families.base import Family
from IMDb.errors import ModelError
from IMDb.training.export import onnx_max_abs_diff
from IMDb.output.atomic import atomic_dir
from IMDb.toolkits.base import Toolkit
from IMDb.output.formats import dumps
from IMDb.text.wordpiece import INPUT_NAMES, WordPieceTokenizer

CHUNK_BATCHES = 50
NO_DECAY = ("bias", "gamma", "beta")  # LayerNorm scales/offsets and biases


def tokenizer_for(cfg: Config) -> WordPieceTokenizer:
    from IMDb.architectures.bert import checkpoint_file

    return WordPieceTokenizer.from_vocab(checkpoint_file(cfg.bert_checkpoint, "vocab.txt"),
                                         seq_len=cfg.seq_len, truncation=cfg.truncation,
                                         head_tokens=cfg.head_tokens)


def epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Row indices of every batch of `epoch`, the same on every run with the same seed."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), batch_size * CHUNK_BATCHES):
        chunk = order[start:start + batch_size * CHUNK_BATCHES]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def learning_rate(cfg: Config, step: int, total: int) -> float:
    warmup = max(1, int(cfg.warmup_fraction * total))
    if step < warmup:
        return cfg.learning_rate * (step + 1) / warmup
    return cfg.learning_rate * max(0.0, (total - step) / max(1, total - warmup))


def run_key(cfg: Config) -> str:
    """What a checkpoint must agree on to be resumed: every setting that changes the run."""
    settings = cfg.to_dict()
    for name in ("data", "out_dir", "runs_dir", "checkpoint_every"):
        settings.pop(name)
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


class Trainer:
    """The model, its optimizer and compiled steps; `predict` serves evaluation too."""

    def __init__(self, cfg: Config, tokenizer: WordPieceTokenizer, family: Family, kit: Toolkit):
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(cfg.seed)
        self.cfg, self.tokenizer = cfg, tokenizer
        self.model = kit.build(family, cfg, keras)
        self.optimizer = keras.optimizers.AdamW(learning_rate=cfg.learning_rate,
                                                weight_decay=cfg.weight_decay, global_clipnorm=1.0)
        self.optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY))
        self.optimizer.build(self.model.trainable_variables)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        spec = [tf.TensorSpec([None, None], tf.float32, name=n) for n in INPUT_NAMES]
        model, optimizer = self.model, self.optimizer

        @tf.function(input_signature=[*spec, tf.TensorSpec([None], tf.int32)])
        def train_step(ids, mask, types, y):
            with tf.GradientTape() as tape:
                logits = model([ids, mask, types], training=True)
                loss = loss_fn(y, logits)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)
            hits = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), y), tf.float32)
            return loss, tf.reduce_mean(hits)

        @tf.function(input_signature=spec)
        def predict_step(ids, mask, types):
            return tf.nn.softmax(model([ids, mask, types], training=False))

        self.train_step, self.predict_step = train_step, predict_step

    def inputs(self, rows: list[np.ndarray]) -> list[np.ndarray]:
        arrays = self.tokenizer.pad_tight(rows)
        return [arrays[name] for name in INPUT_NAMES]

    def predict(self, rows: list[np.ndarray], batch_size: int = 64, desc: str | None = None
                ) -> np.ndarray:
        """Probabilities [n, 2], batched by length (the order of `rows` is kept)."""
        from tqdm.auto import tqdm

        order = np.argsort([len(r) for r in rows], kind="stable")
        out = np.zeros((len(rows), 2), dtype=np.float32)
        for start in tqdm(range(0, len(rows), batch_size), desc=desc, disable=desc is None,
                          mininterval=10, unit="batch"):
            idx = order[start:start + batch_size]
            out[idx] = self.predict_step(*self.inputs([rows[i] for i in idx])).numpy()
        return out

    # ------------------------------------------------------------------ checkpoints

    def save(self, folder: Path, state: dict) -> None:
        with atomic_dir(folder, "state.json", replace=True) as tmp:  # only a checkpoint (state.json) is replaced
            self.model.save_weights(tmp / "model.weights.h5")
            np.savez(tmp / "optimizer.npz", *[v.numpy() for v in self.optimizer.variables])
            (tmp / "state.json").write_text(dumps(state, indent=1) + "\n", encoding="utf-8")

    def restore(self, folder: Path) -> dict:
        self.model.load_weights(folder / "model.weights.h5")
        with np.load(folder / "optimizer.npz") as saved:
            values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        if len(values) != len(self.optimizer.variables):
            raise ModelError(f"{folder}: the optimizer state does not match this model; "
                             f"start over with --restart")
        for variable, value in zip(self.optimizer.variables, values):
            variable.assign(value)
        return json.loads((folder / "state.json").read_text(encoding="utf-8"))


def _metrics(probs: np.ndarray, labels: np.ndarray) -> dict:
    p = np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)
    return {"loss": round(float(-np.log(p).mean()), 4),
            "accuracy": round(float((probs.argmax(1) == labels).mean()), 4),
            "samples": int(len(labels))}


def _open_batch_log(path: Path, keep_until: int):
    """The per-step CSV, cut back to the resumed step so a resumed run extends one curve."""
    rows = []
    if keep_until and path.is_file():
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["step"]) <= keep_until]
    f = open(path, "w", newline="")
    writer = csv.DictWriter(f, ["step", "epoch", "batch", "loss", "accuracy", "learning_rate",
                                "tokens"])
    writer.writeheader()
    writer.writerows(rows)
    return f, writer


SELECTION = "cad_selection"  # the state of held-out CAD revisions that helps choose the epoch


def _epoch_end(trainer: Trainer, rows: dict, labels: dict, step: int, steps_per_epoch: int,
               window: list) -> dict:
    """The history entry of an epoch's end: training means over the epoch, validation figures and
    `selection`, the figure the shipped epoch is chosen by: the validation accuracy, or with CAD
    pairs kept aside the mean of it and the accuracy on their revisions."""
    val = _metrics(trainer.predict(rows["validation"], desc="validation"), labels["validation"])
    entry = {"epoch": round(step / steps_per_epoch, 3), "step": step,
             "loss": round(float(np.mean([w[0] for w in window])), 4),
             "accuracy": round(float(np.mean([w[1] for w in window])), 4),
             "val_loss": val["loss"], "val_accuracy": val["accuracy"], "selection": val["accuracy"]}
    if SELECTION in rows:
        cad = _metrics(trainer.predict(rows[SELECTION], desc="held-out CAD"), labels[SELECTION])
        entry["cad_holdout_revised_accuracy"] = cad["accuracy"]
        entry["selection"] = round((val["accuracy"] + cad["accuracy"]) / 2, 4)
    return entry


def _weights_file(run_dir: Path, step: int) -> Path:
    return run_dir / f"step-{step}.weights.h5"


def _keep_weights(trainer: Trainer, run_dir: Path, step: int) -> None:
    """The weights at an epoch's end, beside the run's checkpoint, so that a later epoch that
    scores worse does not decide what is shipped (written to a temp name, then renamed)."""
    path = _weights_file(run_dir, step)
    tmp = path.with_name(f".{path.name}.tmp.weights.h5")
    trainer.model.save_weights(tmp)
    tmp.replace(path)


def train(cfg: Config, family: Family, kit: Toolkit, restart: bool = False) -> dict:
    """Fine-tune (or resume) `cfg.model` with `family`'s `kit`, evaluate, export; return the card."""
    with runs.resumable_run_dir(cfg) as run_dir:
        return _train(cfg, family, kit, run_dir, restart)


def _train(cfg: Config, family: Family, kit: Toolkit, run_dir: Path, restart: bool) -> dict:
    from tqdm.auto import tqdm

    checkpoint = run_dir / "checkpoint"
    if restart and checkpoint.exists():
        shutil.rmtree(checkpoint)

    t0 = time.perf_counter()
    tokenizer = tokenizer_for(cfg)
    cfg = dataclasses.replace(cfg, vocab_size=tokenizer.vocab_size)
    states = dataset_states.load_states(cfg)
    if cfg.counterfactual or cfg.augment:
        states["training"], aside = training_set.with_extra_training(cfg, states, holdout=cfg.cad_holdout)
        if aside is not None:  # their revisions, never trained on, help choose the epoch shipped
            states[SELECTION] = pd.DataFrame({"text": aside["revised"], "label": aside["revised_label"]})
    rows = {name: tokenizer.rows(frame["text"].tolist()) for name, frame in states.items()}
    labels = {name: frame["label"].to_numpy(np.int32) for name, frame in states.items()}
    lengths = np.array([len(r) for r in rows["training"]])
    print("data: " + ", ".join(f"{k} {len(v)}" for k, v in rows.items())
          + f"; training pieces per review: median {np.median(lengths):.0f}, "
            f"{(lengths >= cfg.seq_len).mean():.0%} truncated ({time.perf_counter() - t0:.1f} s)")

    trainer = Trainer(cfg, tokenizer, family, kit)
    key = run_key(cfg)
    steps_per_epoch = -(-len(lengths) // cfg.batch_size)
    total = cfg.max_steps or cfg.epochs * steps_per_epoch
    state = {"run_key": key, "step": 0, "train_seconds": 0.0, "history": []}
    if (checkpoint / "state.json").is_file():
        saved = json.loads((checkpoint / "state.json").read_text(encoding="utf-8"))
        if saved.get("run_key") != key:
            raise ModelError(f"{checkpoint} holds a run with other settings; resume it with the "
                             f"same ones, or pass --restart to discard it")
        state = trainer.restore(checkpoint)
        print(f"resuming from step {state['step']} of {total} ({checkpoint})")

    log_file, log = _open_batch_log(run_dir / "batches.csv", state["step"])
    step, window = state["step"], [tuple(w) for w in state.get("window", [])]
    bar = tqdm(total=total, initial=step, desc=cfg.model, unit="step", mininterval=5,
               dynamic_ncols=True)
    batches, batches_epoch = None, None
    t_start, seconds_before = time.perf_counter(), state["train_seconds"]
    try:
        while step < total:
            epoch, index = divmod(step, steps_per_epoch)
            if batches_epoch != epoch:
                batches, batches_epoch = epoch_batches(lengths, cfg.batch_size, cfg.seed, epoch), epoch
            idx = batches[index]
            x = trainer.inputs([rows["training"][i] for i in idx])
            lr = learning_rate(cfg, step, total)
            trainer.optimizer.learning_rate.assign(lr)
            loss, acc = (float(v) for v in trainer.train_step(*x, labels["training"][idx]))
            step += 1
            window.append((loss, acc))
            log.writerow({"step": step, "epoch": epoch + 1, "batch": index + 1, "loss": f"{loss:.5f}",
                          "accuracy": f"{acc:.5f}", "learning_rate": f"{lr:.3e}",
                          "tokens": x[0].shape[1]})
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean([w[0] for w in window[-50:]]):.3f}",
                            acc=f"{np.mean([w[1] for w in window[-50:]]):.3f}", refresh=False)
            epoch_end = step % steps_per_epoch == 0 or step == total
            if epoch_end:
                state["history"].append(_epoch_end(trainer, rows, labels, step, steps_per_epoch, window))
                bar.write(f"epoch {step / steps_per_epoch:.2f}: {state['history'][-1]}")
                _keep_weights(trainer, run_dir, step)
                window = []
            if epoch_end or step % cfg.checkpoint_every == 0:
                log_file.flush()
                state.update(step=step, window=window, train_seconds=round(
                    seconds_before + time.perf_counter() - t_start, 1))
                trainer.save(checkpoint, state)
    finally:
        bar.close()
        log_file.close()
    train_s = state["train_seconds"]

    # every epoch's end scored validation (and the held-out CAD revisions) and kept its weights:
    # the best by `selection` is shipped (the later one on a tie)
    chosen = max(reversed(state["history"]), key=lambda h: h["selection"])
    if chosen is not state["history"][-1]:
        trainer.model.load_weights(_weights_file(run_dir, chosen["step"]))
        print(f"shipping the weights of epoch {chosen['epoch']} (selection {chosen['selection']:.4f}, the last "
              f"epoch's {state['history'][-1]['selection']:.4f})")
    figures = {"validation": {"loss": chosen["val_loss"], "accuracy": chosen["val_accuracy"],
                              "samples": len(labels["validation"])},
               "test": _metrics(trainer.predict(rows["test"], desc="test"), labels["test"])}
    for name in ("validation", "test"):
        print(f"{name:>10}: accuracy {figures[name]['accuracy']:.4f}  loss {figures[name]['loss']:.4f}"
              f"  ({figures[name]['samples']} reviews)")
    figures["training"] = {k: chosen[k] for k in ("loss", "accuracy")} | {
        "samples": len(lengths), "note": "running mean over the chosen epoch's batches (dropout on)"}

    with open(run_dir / "history.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(state["history"][0]))
        writer.writeheader()
        writer.writerows(state["history"])
    card = bundle.card_fields(cfg, tokenizer, trainer.model, figures, train_s) | {
        "input_names": list(INPUT_NAMES),
        "steps": total,
        "epochs_run": round(total / steps_per_epoch, 3),
        "seconds_per_step": round(train_s / total, 3),
        "chosen_epoch": chosen["epoch"],
    }
    sample = tokenizer.pad(rows["test"][:200])

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
    print(f"wrote {cfg.model_dir} (train {train_s:.0f} s, {total} steps)")
    return card
