"""How the int8 model scores against its float32 source: accuracy and loss on the test reviews
evaluated, and, on the same reviews, how often the two predict the same class and how far their
logits move. The card's ``figures.test``, ``int8_vs_fp32`` and ``quantization.accuracy``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from IMDb.data.dataset_states import stratified_sample
from IMDb.measures.scores import log_softmax
from IMDb.quantize.measure import logits
from IMDb.quantize.settings import COMPARED


@dataclass
class Plan:
    """Which test reviews (positions in the test split) each model runs on. `fp32_test`: the
    source's accuracy on the evaluated reviews from its card (the full split), else None and the
    source runs on all of them."""

    evaluated: np.ndarray
    compared: np.ndarray
    fp32_test: dict | None
    selection: str


def plan(test: pd.DataFrame, limit: int | None, seed: int, source_card: dict) -> Plan:
    """The int8 model runs on the test split, or a label-stratified sample of `limit` reviews. The
    float32 model runs on the same reviews, except on the full split when its card already holds
    its accuracy there: then on a stratified sample of `COMPARED` (the agreement figures)."""
    stratified = f"stratified by label, seed {seed} (IMDb.data.dataset_states.stratified_sample)"
    evaluated = stratified_sample(test, limit, seed).index.to_numpy()
    card_test = (source_card.get("figures") or {}).get("test") or {}
    if len(evaluated) == len(test) and card_test.get("samples") == len(test) and len(test) > COMPARED:
        compared = stratified_sample(test, COMPARED, seed).index.to_numpy()
        return Plan(evaluated, compared, card_test, stratified)
    return Plan(evaluated, evaluated, None, "the full test split" if len(evaluated) == len(test) else stratified)


def scores(z: np.ndarray, labels: np.ndarray) -> dict:
    """Mean cross-entropy of softmax(logits) (no temperature), accuracy and the reviews counted."""
    loss = float(-log_softmax(z)[np.arange(len(labels)), labels].mean())
    return {"loss": round(loss, 4), "accuracy": round(float((z.argmax(1) == labels).mean()), 4),
            "samples": int(len(labels))}


def agreement(z8: np.ndarray, z32: np.ndarray) -> dict:
    """How alike the two models' outputs are on the same reviews."""
    change = np.abs(np.exp(log_softmax(z8)) - np.exp(log_softmax(z32)))
    return {"same_prediction": round(float((z8.argmax(1) == z32.argmax(1)).mean()), 5),
            "max_abs_logit_diff": round(float(np.abs(z8 - z32).max()), 5),
            "mean_abs_logit_diff": round(float(np.abs(z8 - z32).mean()), 5),
            "max_probability_change": round(float(change.max()), 5)}


def evaluate(sessions: dict, inputs: dict[str, np.ndarray], labels: np.ndarray, chosen: Plan,
             batch_size: int, source: str, progress: bool) -> tuple[dict, dict]:
    """Run both models as `chosen` plans; returns the card's measured entries (``figures``,
    ``int8_vs_fp32``) and its ``quantization.accuracy``."""
    def run(name: str, rows: np.ndarray) -> np.ndarray:
        return logits(sessions[name], inputs, rows, batch_size,
                      desc=f"{name} on {len(rows):,} test reviews" if progress else None)

    z8 = run("int8", chosen.evaluated)
    z32 = run("fp32", chosen.compared)
    at = np.searchsorted(chosen.evaluated, chosen.compared)  # the compared rows within the evaluated
    int8_test = scores(z8, labels[chosen.evaluated])
    both = {"fp32": scores(z32, labels[chosen.compared]), "int8": scores(z8[at], labels[chosen.compared])}
    fp32_test = chosen.fp32_test or both["fp32"]
    measured = {"figures": {"test": int8_test},
                "int8_vs_fp32": {"test_reviews_compared": len(chosen.compared), "selection": chosen.selection,
                                 **agreement(z8[at], z32), **both}}
    accuracy = {"int8_test": int8_test["accuracy"], "fp32_test": fp32_test["accuracy"],
                "fp32_test_source": (f"{source}'s card, figures.test (same {len(chosen.evaluated):,} reviews)"
                                     if chosen.fp32_test else "measured in this run, on the same reviews"),
                "difference": round(int8_test["accuracy"] - fp32_test["accuracy"], 4)}
    return measured, accuracy
