"""The robustness section of the offline dashboard: behavioural failure rates, counterfactual pairs
and calibration of one or more models, side by side.

`context` is what the section's template (``templates/sections/robustness.html.j2``) shows;
``imdb-leap compare --robustness`` adds the section to the comparison page (`IMDb.analysis.stages.robustness`),
`section` is the section's HTML alone and `render` the whole page ``imdb-leap robustness`` writes
(``templates/robustness.html.j2``, with the dashboard's style sheet). Everything is static HTML and
an inline SVG reliability diagram: no script runs. Every string from a result (test names,
generated texts, failing examples) is escaped by the templates' autoescaping, like the rest of the
dashboard.
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


def capability_table(results: list[dict]) -> dict:
    """Failure rate per capability, short and in a carrier paragraph, one column pair per model."""
    capabilities = list(results[0]["behaviour"]["short"]["by_capability"])
    rows = []
    for capability in capabilities:
        row = {"capability": capability}
        for r in results:
            for form in ("short", "carrier"):
                row[f"{r['model']} {form}"] = r["behaviour"][form]["by_capability"].get(capability)
        rows.append(row)
    return table(rows, formats={k: percent for k in (rows[0] if rows else {}) if k != "capability"})


def test_table(results: list[dict]) -> dict:
    rows = []
    for i, test in enumerate(results[0]["behaviour"]["short"]["tests"]):
        row = {"test": test["name"], "type": test["type"], "capability": test["capability"],
               "what": test["description"], "cases": test["cases"]}
        for r in results:
            for form in ("short", "carrier"):
                row[f"{r['model']} {form}"] = r["behaviour"][form]["tests"][i]["failure_rate"]
        rows.append(row)
    return table(rows, formats={k: percent for k in (rows[0] if rows else {}) if k.endswith(("short", "carrier"))})


def counterfactual_table(results: list[dict]) -> dict:
    """The CAD figures of the models that have them (``"cad": {"skipped": ...}`` has none)."""
    rows = [{"model": r["model"], **{k: v for k, v in r["cad"].items() if k != "file"}}
            for r in results if "skipped" not in r["cad"]]
    pct = {k: percent for k in ("accuracy_original", "accuracy_revised", "both_right")}
    return table(rows, headers={"accuracy_original": "originals", "accuracy_revised": "revisions",
                                "both_right": "both right",
                                "mean_p_change_toward_revision": "mean Δp(positive) toward the revision"},
                 formats=pct)


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


def calibration_part(results: list[dict]) -> dict:
    rows, figures = [], []
    for r in results:
        c = r.get("calibration")
        if not c:
            rows.append({"model": r["model"], "temperature": "not calibrated: run imdb-leap calibrate"})
            continue
        rows.append({"model": r["model"], "temperature": c["temperature"], "ECE before": c["ece_before"],
                     "ECE after": c["ece_after"], "NLL before": c["nll_before"], "NLL after": c["nll_after"],
                     "measured on": c["measured_on"]})
        figures.append(reliability(c["reliability_before"], f"{r['model']}: before (T = 1)"))
        figures.append(reliability(c["reliability_after"], f"{r['model']}: after (T = {c['temperature']})"))
    return {"table": table(rows), "figures": figures}


def examples_part(results: list[dict]) -> list[dict]:
    """Per model, the first failing example of each test: its texts and p(positive) values."""
    return [{"model": r["model"],
             "items": [{"test": test["name"], "texts": " → ".join(ex["texts"]),
                        "p": ", ".join(plain(v, 3) for v in ex["p_positive"])}
                       for test in r["behaviour"]["short"]["tests"] for ex in test["examples"][:1]]}
            for r in results]


def context(results: list[dict]) -> dict:
    """The robustness section's template context for `results` (each a robustness.json document)."""
    return {"cases": f"{results[0]['behaviour']['cases']:,}", "tests": len(results[0]["behaviour"]["short"]["tests"]),
            "capabilities": capability_table(results), "every_test": test_table(results),
            "counterfactual": counterfactual_table(results),
            "cad_skipped": next((r["cad"]["skipped"] for r in results if "skipped" in r["cad"]), None),
            "calibration": calibration_part(results),
            "examples": examples_part(results)}


def section(results: list[dict]) -> str:
    """The robustness section's HTML alone (what the dashboard puts under its heading)."""
    return render_template("sections/robustness.html.j2", c=context(results))


def render(results: list[dict]) -> str:
    """The standalone robustness page (no script, so its policy allows none)."""
    title = ", ".join(r["model"] for r in results)
    return render_template("robustness.html.j2", heading=f"imdb-leap robustness: {title}", csp=CSP,
                  generated=time.strftime("%Y-%m-%d %H:%M:%S"), c=context(results))

