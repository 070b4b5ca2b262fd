"""A model card, ``card.json``: what a model is (its settings, the data and split it was trained on,
its tokenizer's fingerprint, its figures, its calibration), made and checked in one place.

`card_fields` makes what every card holds; `check_card` checks one against its schema (the known
keys' types, ranges and finiteness, the config's fields as their settings classes declare them
(`IMDb.families.setting_fields`), the ``calibration`` record whole; unknown keys are allowed).
The card's ``config`` is flat (`IMDb.config.run.Config.to_dict`), as every shipped card has it.
`IMDb.bundle` reads and writes it with the rest of the bundle.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from IMDb import families
from IMDb.config.fields import Range, field_problem, problem
from IMDb.config.run import Config
from IMDb.errors import ModelError
from IMDb.text.tokenizer import Tokenizer

# key -> (JSON type, required); other keys are informative (timings, machine...)
CARD_SCHEMA: dict[str, tuple[type, bool]] = {
    "model": (str, True), "config": (dict, True), "tokenizer_fingerprint": (str, True),
    "figures": (dict, False), "input_names": (list, False), "data_checksum": (str, False),
    "split_checksums": (dict, False)}
NULL_PATHS = ("data", "out_dir", "runs_dir", "teacher")  # config fields a card stores as null (no local paths)
UNIT, POSITIVE, NON_NEGATIVE = Range(0, 1), Range(0, open_low=True), Range(0)
# figures.<state>: key -> (annotation, range); a missing key is allowed
FIGURES_SCHEMA = {"loss": ("float", NON_NEGATIVE), "accuracy": ("float", UNIT), "samples": ("int", NON_NEGATIVE)}
# ``calibration``, as `imdb-leap calibrate` writes it (`IMDb.robustness.calibrate`): key -> (annotation,
# range, required). Absent, a model is not calibrated; present, it is whole, since whatever shows a
# probability divides by its temperature and the robustness report draws the rest.
CALIBRATION_SCHEMA = {
    "temperature": ("float", POSITIVE, True), "ece_before": ("float", UNIT, True),
    "ece_after": ("float", UNIT, True), "nll_before": ("float", NON_NEGATIVE, True),
    "nll_after": ("float", NON_NEGATIVE, True), "measured_on": ("str", None, True),
    "reliability_before": ("list", None, True), "reliability_after": ("list", None, True),
    "fitted_on": ("str", None, False), "bins": ("int", Range(1), False)}
# one bin of a reliability diagram (`IMDb.measures.calibration.reliability`): every key required
BIN_SCHEMA = {"low": ("float", UNIT), "high": ("float", UNIT), "count": ("int", NON_NEGATIVE),
              "confidence": ("float | None", UNIT), "accuracy": ("float | None", UNIT)}


def card_fields(cfg: Config, tokenizer: Tokenizer, model: Any, figures: dict, train_seconds: float) -> dict:
    """What every model card holds: the settings (no local paths), the data, split and tokenizer
    it was trained with, its figures, and where and how long it trained."""
    from IMDb.data import dataset_states

    labeled = dataset_states.labeled(cfg.data)
    flat = cfg.to_dict()
    return {
        "model": cfg.model,
        "config": flat | {k: None for k in NULL_PATHS if k in flat},
        "data_checksum": dataset_states.checksum(labeled),
        "split_checksums": dataset_states.split_checksums(dataset_states.make_states(labeled, cfg)),
        "tokenizer_fingerprint": tokenizer.fingerprint,
        "figures": figures,
        "train_seconds": round(train_seconds, 1),
        "parameters": int(model.count_params()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "onnx_max_abs_diff": None,
    }


def check_card(card: object, path: Path) -> None:
    """Raise one ModelError naming the key where `card` breaks the schema: the top-level keys
    (`CARD_SCHEMA`), the config's fields (typed and ranged as their settings class declares them), figures
    {state: {"loss": number, "accuracy": number, "samples": number, ...}} and the calibration record
    (`CALIBRATION_SCHEMA`). Numbers must be finite (a JSON ``NaN`` or ``Infinity`` is refused)."""
    def bad(key: str, expected: str, value: object) -> ModelError:
        try:
            shown = json.dumps(value)
        except (TypeError, ValueError):
            shown = repr(value)
        return ModelError(f"{path}: {key} must be {expected}, got {shown[:60]}; restore the "
                          f"bundle's own card.json or retrain the model")

    if not isinstance(card, dict):
        raise bad("the card", "a JSON object", card)
    for key, (kind, required) in CARD_SCHEMA.items():
        if key not in card and required:
            raise ModelError(f"{path}: no {key!r} key; restore the bundle's own card.json or retrain the model")
        if key in card and not isinstance(card[key], kind):
            raise bad(key, {dict: "an object", str: "a string", list: "a list"}[kind], card[key])
    declared = families.setting_fields()
    for key, value in card["config"].items():
        if key in declared and (expected := field_problem(declared[key], value, key in NULL_PATHS)):
            raise bad(f"config.{key}", expected, value)
    for state, figures in card.get("figures", {}).items():
        if not isinstance(figures, dict) or any(problem(figures[k], *rule) for k, rule in FIGURES_SCHEMA.items()
                                                if k in figures):
            raise bad(f"figures.{state}", "an object with numbers loss >= 0, accuracy in 0..1 and "
                                          "samples >= 0", figures)
    if not all(isinstance(n, str) for n in card.get("input_names", [])):
        raise bad("input_names", "a list of strings", card["input_names"])
    for state, value in card.get("split_checksums", {}).items():
        if not isinstance(value, str):
            raise bad(f"split_checksums.{state}", "a string", value)
    if "calibration" in card:
        check_calibration(card["calibration"], bad)


def check_calibration(record: object, bad) -> None:
    """The card's ``calibration`` against `CALIBRATION_SCHEMA`: an object holding every required
    key, each known key of its type and in its range, each reliability bin whole (`BIN_SCHEMA`);
    `bad(key, expected, value)` makes the error."""
    if not isinstance(record, dict):
        raise bad("calibration", "an object as `imdb-leap calibrate` writes it (temperature, "
                                 "ece_before, ...)", record)
    missing = [k for k, (_, _, required) in CALIBRATION_SCHEMA.items() if required and k not in record]
    if missing:
        raise bad("calibration", f"a complete record (no {', '.join(missing)}): run `imdb-leap calibrate` "
                                 f"again, or remove the key", record)
    for key, (kind, rule, _) in CALIBRATION_SCHEMA.items():
        if key not in record:
            continue
        value = record[key]
        if kind == "list":
            if not isinstance(value, list):
                raise bad(f"calibration.{key}", "a list of bins", value)
            for i, b in enumerate(value):
                if not isinstance(b, dict) or any(k not in b or problem(b[k], *r) for k, r in BIN_SCHEMA.items()):
                    raise bad(f"calibration.{key}[{i}]", "a bin {low, high, count, confidence, accuracy} "
                                                          "of numbers in 0..1 (count >= 0; null in an "
                                                          "empty bin)", b)
        elif expected := problem(value, kind, rule):
            raise bad(f"calibration.{key}", expected, value)
