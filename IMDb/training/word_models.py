"""Training the dense and CNN models: seeded, logged per batch and per epoch, best epoch kept.

The run writes its logs, checkpoints and TensorBoard events in a folder of its own
(``runs/<model>/<time>-<pid>/``, `IMDb.training.runs`) and, once training
and evaluation succeed, the shipped bundle under ``models/<model>/``: ``model.h5``, ``model.onnx``,
``tokenizer.json``, ``card.json`` (config, data checksum, figures, wall time), ``history.csv``
(per epoch) and ``batches.csv`` (per batch).
"""
from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from IMDb import bundle
from IMDb.card import card_fields
from IMDb.config.run import Config
from IMDb.data import dataset_states, training_set
from IMDb.families.base import Family
from IMDb.text.word_tokenizer import WordTokenizer
from IMDb.toolkits.base import Toolkit
from IMDb.training import distill, embeddings, export, runs


def _batch_logger(path: Path):
    import keras

    class BatchLogger(keras.callbacks.Callback):
        """One CSV row per training batch: global step, epoch, epoch-to-date mean loss and accuracy.

        The file is created on the first `fit` and appended to by later ones (the fine-tuning stage),
        so the steps of one run form one curve.
        """

        file = None

        def on_train_begin(self, logs=None):
            if self.file is None:
                self.file = open(path, "w", newline="")
                self.writer = csv.writer(self.file)
                self.writer.writerow(["step", "epoch", "batch", "loss", "accuracy"])
                self.step = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            self.writer.writerow([self.step, self.epoch + 1, batch + 1,
                                  f"{logs['loss']:.5f}", f"{logs['accuracy']:.5f}"])

        def close(self):
            if self.file is not None:
                self.file.close()

    return BatchLogger()


def encode_states(tokenizer: WordTokenizer, states: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Token ids and targets of each state: one-hot labels, or a teacher's probabilities where the
    state has them (a ``soft`` column: `IMDb.training.distill.taught`), so one loss (categorical
    cross-entropy) serves labeled and distilled reviews alike."""
    def targets(frame) -> np.ndarray:
        if "soft" in frame:
            return np.stack(frame["soft"].to_numpy()).astype(np.float32)
        return np.eye(2, dtype=np.float32)[frame["label"].to_numpy(np.int64)]

    return {name: (tokenizer.token_ids(frame["text"].tolist()).astype(np.float32), targets(frame))
            for name, frame in states.items()}


def train(cfg: Config, family: Family, kit: Toolkit) -> dict:
    """Train `cfg.model` (of `family`, built and saved by `kit`), evaluate it on every labeled state,
    export the bundle; return the card."""
    import keras

    keras.utils.set_random_seed(cfg.seed)
    run_dir = runs.new_run_dir(cfg)
    states, tokenizer, vectors, taught = _prepare(cfg)
    arrays = encode_states(tokenizer, states)
    fit_on = arrays["training"]
    if taught is not None:  # the labeled reviews and the teacher's: fitted on together, evaluated apart
        extra = encode_states(tokenizer, {"taught": taught})["taught"]
        fit_on = tuple(np.concatenate(pair) for pair in zip(fit_on, extra))
    model = kit.build(family, cfg, keras)
    if vectors is not None:
        model.get_layer("embedding").set_weights([vectors])
    t1 = time.perf_counter()
    val_losses = _fit(model, cfg, fit_on, arrays["validation"], run_dir, keras)
    train_s = time.perf_counter() - t1
    card = card_fields(cfg, tokenizer, model, _evaluate(model, arrays), train_s) | {
        "epochs_run": len(val_losses),
        "best_epoch": int(np.argmin(val_losses)) + 1,
        "seconds_per_epoch": round(train_s / len(val_losses), 1),
    }
    if taught is not None:
        card["teacher"] = distill.card_record(cfg.model_config.teacher, len(taught))
    _write_bundle(cfg, family, kit, model, tokenizer, states, run_dir, card, train_s)
    return card


def _prepare(cfg: Config) -> tuple[dict, WordTokenizer, np.ndarray | None, pd.DataFrame | None]:
    """The labeled states (with what the run adds to training), the tokenizer fitted on training,
    the pretrained word vectors where the model starts from them, and the unlabeled reviews with
    the teacher's probabilities where it has one (else None)."""
    t0 = time.perf_counter()
    own = cfg.model_config
    if own.teacher:
        distill.teacher_dir(own.teacher)  # a wrong folder fails now, not after the data is read
    states = dataset_states.load_states(cfg, include_unlabeled=own.pretrained_embeddings or bool(own.teacher))
    unlabeled = states.pop("unlabeled", None)
    if cfg.counterfactual or cfg.augment:
        states["training"], _ = training_set.with_extra_training(cfg, states)  # picks its epoch on val_loss
    tokenizer = WordTokenizer(own.vocab_size, own.seq_len).fit(states["training"]["text"])
    taught = distill.taught(own.teacher, unlabeled) if own.teacher else None
    vectors = None
    if own.pretrained_embeddings:
        corpus = [*states["training"]["text"], *unlabeled["text"]]
        vectors = embeddings.ppmi_vectors(embeddings.cooccurrence(tokenizer, corpus), own.embed_dim, seed=cfg.seed)
    prep_s = time.perf_counter() - t0
    print("data: " + ", ".join(f"{k} {len(v)}" for k, v in states.items()) + f" ({prep_s:.1f} s)")
    return states, tokenizer, vectors, taught


def _fit(model, cfg: Config, training: tuple, validation: tuple, run_dir: Path, keras) -> list[float]:
    """Fit `model` on `training` (token ids, targets), the best epoch's weights kept; with fixed word
    vectors and fine-tune epochs, a second stage that lets them move too, kept only if validation
    improves. The validation losses."""
    verbose = 1 if os.isatty(1) else 2  # a progress bar on a terminal, one line an epoch in a log
    batch_logger = _batch_logger(run_dir / "batches.csv")
    fit = dict(x=training[0], y=training[1], batch_size=cfg.batch_size, validation_data=validation,
               verbose=verbose)

    def callbacks(best_so_far: float | None = None) -> list:
        return [
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience,
                                          restore_best_weights=True),
            keras.callbacks.ModelCheckpoint(run_dir / "best.keras", monitor="val_loss",
                                            save_best_only=True,
                                            initial_value_threshold=best_so_far),
            keras.callbacks.CSVLogger(run_dir / "history.csv", append=best_so_far is not None),
            batch_logger,
            keras.callbacks.TensorBoard(run_dir / "tensorboard", update_freq=50),
        ]

    own = cfg.model_config
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    val_losses = model.fit(epochs=cfg.epochs, callbacks=callbacks(), **fit).history["val_loss"]
    if own.fine_tune_epochs and not own.train_embeddings:
        # Stage 2: let the fixed word vectors move too, slowly; keep it only if validation improves.
        stage1_weights, stage1_best = model.get_weights(), min(val_losses)
        model.get_layer("embedding").trainable = True
        model.compile(optimizer=keras.optimizers.Adam(own.fine_tune_learning_rate),
                      loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        stage2 = model.fit(epochs=len(val_losses) + own.fine_tune_epochs,
                           initial_epoch=len(val_losses), callbacks=callbacks(stage1_best), **fit)
        val_losses += stage2.history["val_loss"]
        if min(stage2.history["val_loss"]) >= stage1_best:
            model.set_weights(stage1_weights)
    batch_logger.close()
    return val_losses


def _evaluate(model, arrays: dict) -> dict:
    """The loss, accuracy and size of every labeled state, printed and returned (the card's figures)."""
    figures = {}
    for name, (x, y) in arrays.items():
        loss, acc = model.evaluate(x, y, batch_size=512, verbose=0)
        figures[name] = {"loss": round(float(loss), 4), "accuracy": round(float(acc), 4),
                         "samples": int(len(y))}
        print(f"{name:>10}: accuracy {acc:.4f}  loss {loss:.4f}  ({len(y)} reviews)")
    return figures


def _write_bundle(cfg: Config, family: Family, kit: Toolkit, model, tokenizer: WordTokenizer, states: dict,
                  run_dir: Path, card: dict, train_s: float) -> None:
    """Write the bundle: ONNX (its agreement with Keras measured into the card), the family's Keras
    file, tokenizer, logs, card and split."""
    def onnx_writer(path: Path) -> None:
        kit.save_onnx(family, model, cfg, path)
        sample = tokenizer.encode(states["test"]["text"].tolist()[:1000])
        card["onnx_max_abs_diff"] = export.onnx_max_abs_diff(model, path, sample)

    bundle.write(cfg.model_dir, {
        "model.onnx": onnx_writer,
        family.keras_file: lambda p: kit.save_keras(family, model, cfg, p),
        "tokenizer.json": tokenizer.save,
        "history.csv": lambda p: p.write_bytes((run_dir / "history.csv").read_bytes()),
        "batches.csv": lambda p: p.write_bytes((run_dir / "batches.csv").read_bytes()),
        "card.json": card,
        bundle.SPLIT: bundle.split_record(states["validation"]),
    })
    print(f"wrote {cfg.model_dir} (train {train_s:.0f} s, best epoch {card['best_epoch']})")
