"""`imdb-leap calibrate`: does p(positive) mean what it says?

Calibration (`IMDb.measures.calibration`): ECE before and after temperature scaling. `calibrate`
fits the temperature on the validation state, measures ECE on the test split and records both in
the model's card through the bundle (`IMDb.bundle.write_card`, which holds the shipped models to
``--overwrite`` as training does), where `IMDb.predict.Predictor` applies the temperature and
``imdb-leap robustness`` reads it.
"""
from __future__ import annotations

from pathlib import Path

from IMDb import bundle
from IMDb.config.run import MODELS_DIR
from IMDb.data import data_source
from IMDb.data import dataset_states as datasets
from IMDb.measures import calibration as cal
from IMDb.measures.scores import probabilities
from IMDb.predict import Predictor


def calibrate(name: str, *, models_dir: str | Path = MODELS_DIR, data: str | None = None,
              progress: bool = True, overwrite: bool = False) -> dict:
    """Fit the temperature of model `name` on its validation state, measure ECE (15 bins) on the
    test split before and after, and record it all in its card.json (`IMDb.bundle.write_card`:
    in the repository's models/ only with `overwrite`); returns the record."""
    models_dir = Path(models_dir)
    predictor = Predictor.load(name, models_dir)
    # the card's split, on the dataset `IMDb.data.data_source` chooses (--data first)
    cfg = predictor.bundle.split_config(data_source.choose(data))
    states = datasets.load_states(cfg)
    logits, labels = {}, {}
    for state in ("validation", "test"):
        frame = states[state]
        if progress:
            print(f"calibrate {name}: scoring {len(frame):,} {state} reviews ...", flush=True)
        logits[state] = predictor.predict_logits(predictor.encode(frame["text"].tolist()))
        labels[state] = frame["label"].to_numpy().astype(int)
    temperature = cal.fit_temperature(logits["validation"], labels["validation"])
    before = probabilities(logits["test"])
    after = probabilities(logits["test"], temperature)
    record = {"temperature": round(temperature, 4), "fitted_on": f"validation ({len(labels['validation'])} reviews)",
              "measured_on": f"test ({len(labels['test'])} reviews)", "bins": cal.BINS,
              "ece_before": round(cal.expected_calibration_error(before, labels["test"]), 4),
              "ece_after": round(cal.expected_calibration_error(after, labels["test"]), 4),
              "nll_before": round(cal.negative_log_likelihood(logits["test"], labels["test"]), 4),
              "nll_after": round(cal.negative_log_likelihood(logits["test"], labels["test"], temperature), 4),
              "reliability_before": cal.reliability(before, labels["test"]),
              "reliability_after": cal.reliability(after, labels["test"])}
    bundle.write_card(name, {**predictor.card, "calibration": record}, models_dir, replace=overwrite)
    return record

