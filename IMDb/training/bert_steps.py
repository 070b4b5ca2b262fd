"""BERT's training steps: batches drawn per epoch by length, the learning-rate schedule, the
`Trainer` (model, AdamW, compiled steps, checkpoints), the loop that runs the steps from a resumed
state, and what each epoch's end scores and keeps. `IMDb.training.bert_finetune` prepares the run
around it and ships the result.
"""
from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np

from IMDb.config.run import Config
from IMDb.errors import ModelError
from IMDb.families.base import Family
from IMDb.output.folders import atomic_dir
from IMDb.output.formats import dumps
from IMDb.text.wordpiece import INPUT_NAMES, WordPieceTokenizer
from IMDb.toolkits.base import Toolkit

CHUNK_BATCHES = 50
NO_DECAY = ("bias", "gamma", "beta")  # LayerNorm scales/offsets and biases


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
    warmup = max(1, int(cfg.model_config.warmup_fraction * total))
    if step < warmup:
        return cfg.learning_rate * (step + 1) / warmup
    return cfg.learning_rate * max(0.0, (total - step) / max(1, total - warmup))


def init_weights(cfg: Config, family: Family) -> Path:
    """The Keras file of the bundle named by ``init_from`` (checked, so a wrong folder is one line)."""
    path = Path(cfg.model_config.init_from).expanduser() / family.keras_file
    if not path.is_file():
        raise ModelError(f"--init-from {cfg.model_config.init_from}: no {family.keras_file} there; "
                         f"name a trained {family.kind} model's folder, e.g. models/bert")
    return path


class Trainer:
    """The model, its optimizer and compiled steps; `predict` serves evaluation too. With
    ``precision`` mixed_bfloat16 the steps compute in bfloat16 on float32 weights, and `to_float32`
    rebuilds the model in float32 for what is scored and shipped."""

    def __init__(self, cfg: Config, tokenizer: WordPieceTokenizer, family: Family, kit: Toolkit):
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(cfg.seed)
        self.cfg, self.tokenizer, self.family, self.kit = cfg, tokenizer, family, kit
        self.model = self._build(cfg.model_config.precision)
        if cfg.model_config.init_from:
            self.model.load_weights(init_weights(cfg, family))
        self.optimizer = keras.optimizers.AdamW(learning_rate=cfg.learning_rate,
                                                weight_decay=cfg.model_config.weight_decay, global_clipnorm=1.0)
        self.optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY))
        self.optimizer.build(self.model.trainable_variables)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model, optimizer = self.model, self.optimizer

        @tf.function(input_signature=[*self._spec(), tf.TensorSpec([None], tf.int32)])
        def train_step(ids, mask, types, y):
            with tf.GradientTape() as tape:
                logits = tf.cast(model([ids, mask, types], training=True), tf.float32)
                loss = loss_fn(y, logits)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)
            hits = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), y), tf.float32)
            return loss, tf.reduce_mean(hits)

        self.train_step, self.predict_step = train_step, self._predict_step()

    @staticmethod
    def _spec() -> list:
        import tensorflow as tf

        return [tf.TensorSpec([None, None], tf.float32, name=n) for n in INPUT_NAMES]

    def _build(self, precision: str):
        """The model with its layers computing in `precision` (the global policy is put back after)."""
        import keras

        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(precision)
        try:
            return self.kit.build(self.family, self.cfg, keras)
        finally:
            keras.config.set_dtype_policy(previous)

    def _predict_step(self):
        import tensorflow as tf

        model = self.model

        @tf.function(input_signature=self._spec())
        def predict_step(ids, mask, types):
            return tf.nn.softmax(tf.cast(model([ids, mask, types], training=False), tf.float32))

        return predict_step

    def to_float32(self) -> bool:
        """Rebuild the model in float32 with the trained weights (the weights are float32 under
        either precision, so nothing is rounded); False when it already was."""
        if self.cfg.model_config.precision == "float32":
            return False
        weights = self.model.get_weights()
        self.model = self._build("float32")
        self.model.set_weights(weights)
        self.predict_step = self._predict_step()
        return True

    def inputs(self, rows: list[np.ndarray]) -> list[np.ndarray]:
        arrays = self.tokenizer.pad_tight(rows)
        return [arrays[name] for name in INPUT_NAMES]

    def predict(self, rows: list[np.ndarray], batch_size: int = 16, desc: str | None = None
                ) -> np.ndarray:
        """Probabilities [n, 2], batched by length (the order of `rows` is kept). 16 rows a batch
        score as fast as 64 on CPU and hold a quarter of the attention scores (at 512 pieces a
        batch of 64 peaked 1.7 GB higher)."""
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


def metrics(probs: np.ndarray, labels: np.ndarray) -> dict:
    p = np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)
    return {"loss": round(float(-np.log(p).mean()), 4),
            "accuracy": round(float((probs.argmax(1) == labels).mean()), 4),
            "samples": int(len(labels))}


def open_batch_log(path: Path, keep_until: int):
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


def epoch_end(trainer: Trainer, rows: dict, labels: dict, step: int, steps_per_epoch: int,
               window: list) -> dict:
    """The history entry of an epoch's end: training means over the epoch, validation figures and
    `selection`, the figure the shipped epoch is chosen by: the validation accuracy, or with CAD
    pairs kept aside the mean of it and the accuracy on their revisions."""
    val = metrics(trainer.predict(rows["validation"], desc="validation"), labels["validation"])
    entry = {"epoch": round(step / steps_per_epoch, 3), "step": step,
             "loss": round(float(np.mean([w[0] for w in window])), 4),
             "accuracy": round(float(np.mean([w[1] for w in window])), 4),
             "val_loss": val["loss"], "val_accuracy": val["accuracy"], "selection": val["accuracy"]}
    if SELECTION in rows:
        cad = metrics(trainer.predict(rows[SELECTION], desc="held-out CAD"), labels[SELECTION])
        entry["cad_holdout_revised_accuracy"] = cad["accuracy"]
        entry["selection"] = round((val["accuracy"] + cad["accuracy"]) / 2, 4)
    return entry


def weights_file(run_dir: Path, step: int) -> Path:
    return run_dir / f"step-{step}.weights.h5"


def keep_weights(trainer: Trainer, run_dir: Path, step: int) -> None:
    """The weights at an epoch's end, beside the run's checkpoint, so that a later epoch that
    scores worse does not decide what is shipped (written to a temp name, then renamed)."""
    path = weights_file(run_dir, step)
    tmp = path.with_name(f".{path.name}.tmp.weights.h5")
    trainer.model.save_weights(tmp)
    tmp.replace(path)


def run_steps(trainer: Trainer, cfg: Config, data: dict, state: dict, run_dir: Path, total: int) -> dict:
    """Run the steps from `state` (a fresh one, or a resumed checkpoint's) to `total`: each logged
    to batches.csv, each epoch's end scored (`epoch_end`) with its weights kept, a checkpoint every
    ``checkpoint_every`` steps and at each epoch's end. `data`: the ``rows`` and ``labels`` of each
    state and the training ``lengths``. Returns the state at the end."""
    from tqdm.auto import tqdm

    rows, labels, lengths = data["rows"], data["labels"], data["lengths"]
    steps_per_epoch = -(-len(lengths) // cfg.batch_size)
    log_file, log = open_batch_log(run_dir / "batches.csv", state["step"])
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
            at_epoch_end = step % steps_per_epoch == 0 or step == total
            if at_epoch_end:
                state["history"].append(epoch_end(trainer, rows, labels, step, steps_per_epoch, window))
                bar.write(f"epoch {step / steps_per_epoch:.2f}: {state['history'][-1]}")
                keep_weights(trainer, run_dir, step)
                window = []
            if at_epoch_end or step % cfg.model_config.checkpoint_every == 0:
                log_file.flush()
                state.update(step=step, window=window, train_seconds=round(
                    seconds_before + time.perf_counter() - t_start, 1))
                trainer.save(run_dir / "checkpoint", state)
    finally:
        bar.close()
        log_file.close()
    return state
