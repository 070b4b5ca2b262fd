"""The robustness sections of the offline dashboard, the models side by side: behavioural failure
rates (`behaviour_context`), counterfactual pairs (`counterfactual_context`) and calibration
(`calibration_context`), each the context of its stage's section template
(``templates/sections/<behaviour|counterfactual|calibration>.html.j2``; the stages are in
`IMDb.analysis.stages`). ``imdb-leap compare --robustness`` adds them to the comparison page;
`render` is the whole page ``imdb-leap robustness`` writes (``templates/robustness.html.j2``, with
the dashboard's style sheet). Everything is static HTML and an inline SVG reliability diagram: no
script runs. Every string from a result (test names, generated texts, failing examples) is escaped
by the templates' autoescaping, like the rest of the dashboard.
"""
from __future__ import annotations

import math
import time

from IMDb.analysis.escape import plain
from IMDb.analysis.templating import render as render_template, table

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def percent(value) -> str:
    """A rate as a percentage with one decimal ('–' when missing or not a number)."""
    return "–" if value is None or not math.isfinite(value) else f"{value:.1%}"


def capability_table(models: dict[str, dict]) -> dict:
    """Failure rate per capability, short and in a carrier paragraph, one column pair per model."""
    capabilities = list(next(iter(models.values()))["short"]["by_capability"])
    rows = []
    for capability in capabilities:
        row = {"capability": capability}
        for model, b in models.items():
            for form in ("short", "carrier"):
                row[f"{model} {form}"] = b[form]["by_capability"].get(capability)
        rows.append(row)
    return table(rows, formats={k: percent for k in (rows[0] if rows else {}) if k != "capability"})


def test_table(models: dict[str, dict]) -> dict:
    rows = []
    for i, test in enumerate(next(iter(models.values()))["short"]["tests"]):
        row = {"test": test["name"], "type": test["type"], "capability": test["capability"],
               "what": test["description"], "cases": test["cases"]}
        for model, b in models.items():
            for form in ("short", "carrier"):
                row[f"{model} {form}"] = b[form]["tests"][i]["failure_rate"]
        rows.append(row)
    return table(rows, formats={k: percent for k in (rows[0] if rows else {}) if k.endswith(("short", "carrier"))})


def examples_part(models: dict[str, dict]) -> list[dict]:
    """Per model, the first failing example of each test: its texts and p(positive) values."""
    return [{"model": model,
             "items": [{"test": test["name"], "texts": " → ".join(ex["texts"]),
                        "p": ", ".join(plain(v, 3) for v in ex["p_positive"])}
                       for test in b["short"]["tests"] for ex in test["examples"][:1]]}
            for model, b in models.items()]


def behaviour_context(models: dict[str, dict]) -> dict:
    """The behaviour section's context: `models` maps a model to its suite results
    (`IMDb.robustness.measure.behaviour`)."""
    first = next(iter(models.values()))
    return {"cases": f"{first['cases']:,}", "tests": len(first["short"]["tests"]),
            "capabilities": capability_table(models), "every_test": test_table(models),
            "examples": examples_part(models)}


def counterfactual_context(models: dict[str, dict]) -> dict:
    """The counterfactual section's context: the CAD figures of the models that have them (a model's
    ``{"skipped": reason}`` has none; the reason is shown instead)."""
    rows = [{"model": model, **{k: v for k, v in cad.items() if k != "file"}}
            for model, cad in models.items() if "skipped" not in cad]
    pct = {k: percent for k in ("accuracy_original", "accuracy_revised", "both_right")}
    return {"skipped": next((cad["skipped"] for cad in models.values() if "skipped" in cad), None),
            "table": table(rows, headers={"accuracy_original": "originals", "accuracy_revised": "revisions",
                                          "both_right": "both right",
                                          "mean_p_change_toward_revision": "mean Δp(positive) toward the revision"},
                           formats=pct)}


def reliability(bins: list[dict], title: str, size: int = 220) -> dict:
    """The ``reliability`` macro's diagram: accuracy against confidence per bin (bars, each with a
    tooltip) and the diagonal of perfect calibration, in SVG coordinates."""
    pad, inner = 28, size - 36
    x = lambda v: pad + v * inner  # noqa: E731
    y = lambda v: size - pad + 8 - v * inner  # noqa: E731
    bars = []
    for b in bins:
        if not b["count"]:
            continue
        low, high, acc, conf, n = b["low"], b["high"], b["accuracy"], b["confidence"], b["count"]
        bars.append({"x": f"{x(low):.1f}", "y": f"{y(acc):.1f}", "width": f"{(high - low) * inner - 1:.1f}",
                     "height": f"{y(0) - y(acc):.1f}",
                     "tip": f"{low:.2f}-{high:.2f}: accuracy {acc:.3f}, confidence {conf:.3f}, {n} reviews"})
    return {"size": size, "title": title, "bars": bars, "x0": x(0), "y0": y(0), "x1": x(1), "y1": y(1),
            "xm": x(0.5)}


def calibration_context(models: dict[str, dict]) -> dict:
    """The calibration section's context: `models` maps a model to its card's ``calibration``
    record (None: not calibrated) and ``temperature_applied``."""
    rows, figures = [], []
    for model, entry in models.items():
        c = entry["calibration"]
        if not c:
            rows.append({"model": model, "temperature": "not calibrated: run imdb-leap calibrate"})
            continue
        rows.append({"model": model, "temperature": c["temperature"], "ECE before": c["ece_before"],
                     "ECE after": c["ece_after"], "NLL before": c["nll_before"], "NLL after": c["nll_after"],
                     "measured on": c["measured_on"]})
        figures.append(reliability(c["reliability_before"], f"{model}: before (T = 1)"))
        figures.append(reliability(c["reliability_after"], f"{model}: after (T = {c['temperature']})"))
    return {"table": table(rows), "figures": figures}


def render(sections: list, models: list[str]) -> str:
    """The standalone page ``imdb-leap robustness`` writes: the robustness stages' sections
    (`IMDb.analysis.sections.Section`) under one heading; no script, so its policy allows none."""
    return render_template("robustness.html.j2", heading=f"imdb-leap robustness: {', '.join(models)}", csp=CSP,
                           generated=time.strftime("%Y-%m-%d %H:%M:%S"), sections=sections)
