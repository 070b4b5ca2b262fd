"""The robustness section of the offline dashboard: behavioural failure rates, counterfactual pairs
and calibration of one or more models, side by side.

`section` is the HTML of the section (``imdb-leap compare --robustness`` adds it to the comparison
page, importing this module when it renders, so there is no import cycle); `render` is the whole page ``imdb-leap robustness`` writes. Everything is static HTML and an
inline SVG reliability diagram: no script runs. Every string from a result (test names, generated
texts, failing examples) goes through `esc` or `html_table`, like the rest of the dashboard.
"""
from __future__ import annotations

import time

from IMDb.analysis.escape import esc, fmt
from IMDb.analysis.report import CSS, html_table

RATE = "{:.1%}".format


def _pct(value) -> str:
    return "–" if value is None else esc(RATE(value))


def capability_table(results: list[dict]) -> str:
    """Failure rate per capability, short and in a carrier paragraph, one column pair per model."""
    capabilities = list(results[0]["behaviour"]["short"]["by_capability"])
    rows = []
    for capability in capabilities:
        row = {"capability": capability}
        for r in results:
            for form in ("short", "carrier"):
                row[f"{r['model']} {form}"] = r["behaviour"][form]["by_capability"].get(capability)
        rows.append(row)
    formats = {k: _pct for k in rows[0] if k != "capability"}
    return html_table(rows, formats=formats)


def test_table(results: list[dict]) -> str:
    rows = []
    for i, test in enumerate(results[0]["behaviour"]["short"]["tests"]):
        row = {"test": test["name"], "type": test["type"], "capability": test["capability"],
               "what": test["description"], "cases": test["cases"]}
        for r in results:
            for form in ("short", "carrier"):
                row[f"{r['model']} {form}"] = r["behaviour"][form]["tests"][i]["failure_rate"]
        rows.append(row)
    formats = {k: _pct for k in rows[0] if k.endswith(("short", "carrier"))}
    return html_table(rows, formats=formats)


def counterfactual_table(results: list[dict]) -> str:
    rows = [{"model": r["model"], **{k: v for k, v in r["counterfactual"].items() if k != "file"}}
            for r in results]
    pct = {k: _pct for k in ("accuracy_original", "accuracy_revised", "both_right")}
    return html_table(rows, headers={"accuracy_original": "originals", "accuracy_revised": "revisions",
                                     "both_right": "both right",
                                     "mean_p_change_toward_revision": "mean Δp(positive) toward the revision"},
                      formats=pct)


def reliability_svg(bins: list[dict], title: str, size: int = 220) -> str:
    """Accuracy against confidence per bin (bars) and the diagonal of perfect calibration."""
    pad, inner = 28, size - 36
    x = lambda v: pad + v * inner  # noqa: E731
    y = lambda v: size - pad + 8 - v * inner  # noqa: E731
    bars = []
    for b in bins:
        if not b["count"]:
            continue
        low, high, acc, conf, n = b["low"], b["high"], b["accuracy"], b["confidence"], b["count"]
        tip = f"{low:.2f}-{high:.2f}: accuracy {acc:.3f}, confidence {conf:.3f}, {n} reviews"
        bars.append(f'<rect x="{x(low):.1f}" y="{y(acc):.1f}" width="{(high - low) * inner - 1:.1f}" '
                    f'height="{y(0) - y(acc):.1f}" fill="#2f6fb0" opacity="0.75"><title>{esc(tip)}</title></rect>')
    return (f'<figure class="plot-figure"><svg width="{size}" height="{size}" role="img" '
            f'aria-label="{esc(title)}"><line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" '
            f'stroke="#b42318" stroke-dasharray="4 3"/>{"".join(bars)}'
            f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(0)}" stroke="#5b6570"/>'
            f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(0)}" y2="{y(1)}" stroke="#5b6570"/>'
            f'<text x="{x(0.5)}" y="{size - 4}" font-size="10" text-anchor="middle">confidence</text>'
            f'</svg><figcaption>{esc(title)}</figcaption></figure>')


def calibration_part(results: list[dict]) -> str:
    rows, figures = [], []
    for r in results:
        c = r.get("calibration")
        if not c:
            rows.append({"model": r["model"], "temperature": "not calibrated: run imdb-leap calibrate"})
            continue
        rows.append({"model": r["model"], "temperature": c["temperature"], "ECE before": c["ece_before"],
                     "ECE after": c["ece_after"], "NLL before": c["nll_before"], "NLL after": c["nll_after"],
                     "measured on": c["measured_on"]})
        figures.append(reliability_svg(c["reliability_before"], f"{r['model']}: before (T = 1)"))
        figures.append(reliability_svg(c["reliability_after"], f"{r['model']}: after (T = {c['temperature']})"))
    return html_table(rows) + f'<div class="cards">{"".join(figures)}</div>'


def examples_part(results: list[dict]) -> str:
    parts = []
    for r in results:
        items = []
        for test in r["behaviour"]["short"]["tests"]:
            for ex in test["examples"][:1]:
                texts = " → ".join(ex["texts"])
                p = ", ".join(fmt(v, 3) for v in ex["p_positive"])
                items.append(f"<li><b>{esc(test['name'])}</b>: {esc(texts)} "
                             f'<span class="muted">(p(positive) {esc(p)})</span></li>')
        parts.append(f"<h4>{esc(r['model'])}</h4><ul>{''.join(items) or '<li>none</li>'}</ul>")
    return "".join(parts)


def section(results: list[dict]) -> str:
    """The robustness section for `results` (each a robustness.json document)."""
    cases = results[0]["behaviour"]["cases"]
    return (f'<p class="muted">{cases:,} generated cases in {len(results[0]["behaviour"]["short"]["tests"])} '
            f'tests, each scored as a short text and inside a neutral carrier paragraph (about 150 words). '
            f'Failure rates: lower is better.</p>'
            f"<h3>Failure rate by capability</h3>{capability_table(results)}"
            f"<h3>Every test</h3>{test_table(results)}"
            f"<h3>Counterfactual pairs (CAD development set)</h3>{counterfactual_table(results)}"
            f"<h3>Calibration (test split, 15 bins)</h3>{calibration_part(results)}"
            f"<h3>A failing case per test</h3>{examples_part(results)}")


def render(results: list[dict]) -> str:
    """The standalone robustness page (no script, so its policy allows none)."""
    title = ", ".join(r["model"] for r in results)
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imdb-leap robustness: {esc(title)}</title>
<style>{CSS}</style>
</head><body data-render="done">
<header><h1>imdb-leap robustness: {esc(title)}</h1>
<div class="muted">generated {esc(time.strftime('%Y-%m-%d %H:%M:%S'))}; works offline</div></header>
<main><section id="robustness"><h2>Behaviour and robustness</h2>{section(results)}</section></main>
</body></html>
"""
