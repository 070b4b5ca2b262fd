"""The report folder from hand-built inputs (no model, no other stage): every file is there, the
summary holds the stage timings, and review text is escaped everywhere it lands."""
from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from IMDb.analysis.escape import esc, script_json
from IMDb.analysis.report import write_report
from IMDb.analysis.run_state import Run, TableResult
from IMDb.analysis.stages.attribution import AttributionResult
from IMDb.analysis.stages.clusters import ClustersResult
from IMDb.analysis.stages.comparison import ComparisonResult
from IMDb.analysis.stages.exploration import ExplorationResult
from IMDb.analysis.stages.insights import InsightsResult
from IMDb.analysis.stages.label_errors import LabelErrorsResult
from IMDb.analysis.stages.training import TrainingResult
from IMDb.analysis.table import METADATA_COLUMNS, AnalysisTable
from IMDb.errors import OutputError

PAYLOAD = "<script>alert(1)</script>"
HOSTILE = (f"Terrible {PAYLOAD} acting </script><img src=x onerror=\"window.__pwned=1\"> "
           "& <!-- \u2028 \"quotes\" 'single' the plot was dull")


def _frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    label = rng.integers(0, 2, n).astype(float)
    p_pos = np.clip(np.where(label == 1, rng.beta(5, 2, n), rng.beta(2, 5, n)), 1e-4, 1 - 1e-4)
    prediction = (p_pos >= 0.5).astype(int)
    loss = -np.log(np.where(label == 1, p_pos, 1 - p_pos))
    texts = [f"Synthetic review {i} the film was {'great' if l else 'dull'} and the story moved."
             for i, l in enumerate(label)]
    texts[int(np.argmax(loss))] = HOSTILE  # the worst sample: it lands in every list and hover
    frame = pd.DataFrame({
        "sample_id": [f"test/{'pos' if l else 'neg'}/{i}" for i, l in enumerate(label)], "state": "test",
        "text": texts, "label": label, "prediction": prediction, "p_negative": 1 - p_pos,
        "p_positive": p_pos, "loss": loss, "correct": prediction == label})
    for column in METADATA_COLUMNS:
        if column == "label_name":
            frame[column] = np.where(label == 1, "positive", "negative")
        elif column == "tokens_truncated":
            frame[column] = rng.random(n) < 0.2
        else:
            frame[column] = rng.integers(0, 40, n).astype(float)
    frame["baseline_textblob_p_positive"] = rng.random(n)
    frame["baseline_textblob_loss"] = rng.random(n)
    frame["baseline_tfidf_p_positive"] = p_pos
    frame["baseline_tfidf_loss"] = loss
    return frame


def make_inputs(n: int = 120, seed: int = 0, with_comparison: bool = False) -> Run:
    """A run with every stage's result, shaped as the stages return them, with a hostile review in them."""
    rng = np.random.default_rng(seed)
    frame = _frame(n, rng)
    table = AnalysisTable(frame, rng.normal(size=(n, 6)).astype(np.float32), "cnn")
    clusters = rng.integers(0, 3, n)
    worst = int(frame["loss"].idxmax())
    words = ["terrible", "<script>", "alert", "1", "</script>", "acting", "&", "dull"]
    explanation = {
        "sample_id": frame.loc[worst, "sample_id"], "kind": "false positive", "label": 0, "prediction": 1,
        "p_positive": 0.9, "loss": 2.3, "words": words, "oov": [False, True] + [False] * 6,
        "truncated": False, "ig_positive": list(rng.normal(size=8)), "ig_negative": list(rng.normal(size=8)),
        "completeness": {"negative": {"sum": -0.4, "delta": -0.41}, "positive": {"sum": 0.4, "delta": 0.41}},
        "ngrams": [{"start": 1, "length": 2, "words": "<script> alert", "delta": 0.2, "p_positive": 0.7,
                    "interaction": 0.05}],
        "faithfulness": {"target": "positive", "per_k": [{"k": 5, "top_drop": 0.3, "random_drop": 0.1}],
                         "passed": True}}
    curves = {"cnn": {
        "batches": pd.DataFrame({"step": np.arange(1, 41), "epoch": np.repeat([1, 2], 20),
                                 "batch": np.tile(np.arange(1, 21), 2), "loss": np.linspace(0.7, 0.2, 40),
                                 "accuracy": np.linspace(0.5, 0.9, 40)}).assign(
            loss_smooth=lambda d: d["loss"], accuracy_smooth=lambda d: d["accuracy"]),
        "history": pd.DataFrame({"epoch": [0, 1], "loss": [0.5, 0.3], "accuracy": [0.7, 0.85],
                                 "val_loss": [0.45, 0.35], "val_accuracy": [0.8, 0.86]})}}
    errors = pd.DataFrame({"rank": [1], "position": [worst], "sample_id": [frame.loc[worst, "sample_id"]],
                           "label": ["negative"], "suggested_label": ["positive"], "p_given_label": [0.05],
                           "p_suggested": [0.95], "margin": [0.9], "threshold": [0.8],
                           "snippet": [HOSTILE[:200]]})
    errors.attrs.update(count=1, n_labeled=n, share=1 / n, thresholds={"negative": 0.8, "positive": 0.8})
    results = {
        "table": TableResult("cnn", table),
        "clusters": ClustersResult(clusters, rng.normal(size=(n, 2)).astype(np.float32), "pca"),
        "insights": InsightsResult(
            pd.DataFrame({"cluster": [0, 1, 2], "size": [40, 40, 40], "accuracy": [0.9, 0.8, 0.5],
                          "mean_loss": [0.2, 0.3, 0.9], "oov_count": [3.0, 4.0, 9.5]}),
            [{"kind": "cluster", "description": f"cluster 2 {PAYLOAD}", "n": 40, "mean_loss": 0.9,
              "population_mean_loss": 0.45, "statistic": "Mann-Whitney U", "statistic_value": 123.0,
              "p_value": 1e-5, "effect_size": 0.6, "effect_size_name": "rank-biserial"}]),
        "attribution": AttributionResult(
            [explanation], {"n_samples": 1, "per_k": [{"k": 5, "n": 1, "mean_top_drop": 0.3, "mean_random_drop": 0.1,
                                                       "ratio": 3.0, "pass_rate": 1.0}], "pass_rate": 1.0,
                            "passed": True}),
        "exploration": ExplorationResult(
            {"oov_count": pd.DataFrame({"bin": ["0 to 9", "10 to 39"], "low": [0, 10], "high": [9, 39],
                                        "count": [60, 60], "mean_loss": [0.3, 0.6], "sem": [0.05, 0.07],
                                        "accuracy": [0.9, 0.7]}),
             f"field {PAYLOAD}": pd.DataFrame({"bin": [PAYLOAD, "b"], "low": [0, 1], "high": [0, 1],
                                               "count": [1, 2], "mean_loss": [0.1, 0.2], "sem": [np.nan, 0.1],
                                               "accuracy": [1.0, 0.5]})},
            pd.DataFrame({"rho": [0.3, -0.1], "p_value": [1e-4, 0.2], "n": [n, n]},
                         index=pd.Index(["oov_count", "length_words"], name="field")),
            [{"claim": "More OOV words, higher loss", "field": "oov_ratio", "transform": "identity",
              "expected": "positive", "statistic": "Spearman rho", "value": 0.3, "p_value": 1e-4, "n": n,
              "verdict": "supported", "reason": None}]),
        "training curves": TrainingResult(curves),
        "label errors": LabelErrorsResult(errors)}
    inputs = Run(
        "analyze", "cnn", "test",
        cards={"cnn": {"config": {"seq_len": 600, "vocab_size": 20000},
                       "figures": {"test": {"accuracy": 0.9, "loss": 0.25, "samples": 25000}}}},
        settings={"projection": "pca", "clusters": "kmeans", "k": 3}, results=results,
        timings=[{"stage": "table", "seconds": 1.5, "peak_rss_mib": 300.0},
                 {"stage": "projection", "seconds": 0.2, "peak_rss_mib": 310.0}],
        notes=[f"a note with {PAYLOAD}"])
    if with_comparison:
        from IMDb.analysis.compare import compare

        other = frame.assign(p_positive=1 - frame["p_positive"] * 0.5)
        other = other.assign(p_negative=1 - other["p_positive"], prediction=(other["p_positive"] >= 0.5).astype(int))
        other = other.assign(correct=other["prediction"] == other["label"],
                             loss=-np.log(np.where(other["label"] == 1, other["p_positive"], other["p_negative"])))
        dense = AnalysisTable(other, rng.normal(size=(n, 4)).astype(np.float32), "dense")
        inputs.results["table b"] = TableResult("dense", dense)
        inputs.results["comparison"] = ComparisonResult(compare(table, dense, ("cnn", "dense")))
    return inputs


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "cnn-test"
    return write_report(out, make_inputs(with_comparison=True))


def test_script_json_cannot_close_a_script_element():
    text = json.dumps({"t": HOSTILE})
    safe = script_json(text)
    assert "<" not in safe and ">" not in safe and "&" not in safe and "\u2028" not in safe
    assert json.loads(safe) == {"t": HOSTILE}


def test_esc_escapes_quotes_for_attributes():
    assert esc('"><script>') == "&quot;&gt;&lt;script&gt;"


def test_output_folder_has_every_file(report):
    names = {p.relative_to(report).as_posix() for p in report.rglob("*") if p.is_file()}
    assert {"dashboard.html", "summary.json", "table_cnn.parquet", "table_dense.parquet", "comparison.parquet",
            "projector/projector_config.pbtxt"} <= names
    summary = json.loads((report / "summary.json").read_text())
    assert summary["plots"] and {f"plots/{k}.png" for k in summary["plots"]} <= names
    for key in summary["plots"]:
        assert (report / "plots" / f"{key}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in report.parent.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_single_model_report_saves_table_parquet(tmp_path):
    out = write_report(tmp_path / "one", make_inputs(n=40))
    assert (out / "table.parquet").is_file()
    table = AnalysisTable.load(out / "table.parquet")
    assert len(table) == 40 and table.latent.shape == (40, 6)
    projector = out / "projector"
    vectors = (projector / "vectors.tsv").read_text().splitlines()
    meta = (projector / "metadata.tsv").read_text().splitlines()
    assert len(vectors) == 40 and len(vectors[0].split("\t")) == 6
    assert meta[0].split("\t")[0] == "sample_id" and len(meta) == 41  # header + one line per vector
    assert all(len(line.split("\t")) == len(meta[0].split("\t")) for line in meta)
    config = (projector / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "vectors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config


def _contents(folder):
    return sorted((p.relative_to(folder).as_posix(), p.read_bytes()) for p in folder.rglob("*") if p.is_file())


def test_rewriting_replaces_the_folder_atomically(tmp_path):
    out = tmp_path / "r"
    write_report(out, make_inputs(n=30))
    first = _contents(out)
    with pytest.raises(OutputError, match="--overwrite"):
        write_report(out, make_inputs(n=30, seed=1))
    assert _contents(out) == first
    write_report(out, make_inputs(n=30, seed=1), overwrite=True)
    assert _contents(out) != first
    assert (out / ".imdb-leap-report").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_a_folder_the_tool_did_not_write_is_never_replaced(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputError, match="did not write"):
        write_report(out, make_inputs(n=30), overwrite=True)
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_summary_has_stage_timings_and_verdicts(report):
    summary = json.loads((report / "summary.json").read_text())
    stages = [s["stage"] for s in summary["timings"]["stages"]]
    assert stages == ["table", "projection", "report"]
    assert all(s["seconds"] >= 0 and s["peak_rss_mib"] > 0 for s in summary["timings"]["stages"])
    assert summary["seed_claims"][0]["verdict"] == "supported"
    assert summary["label_errors"]["count"] == 1
    assert summary["comparison"]["summary"]["names"] == ["cnn", "dense"]
    names = [r["name"] for r in summary["models_and_baselines"]]
    assert names[:2] == ["cnn", "dense"] and "TF-IDF + logistic regression" in names


def test_review_text_is_escaped_everywhere(report):
    page = (report / "dashboard.html").read_text()
    # The raw payload and the attribute injection appear nowhere; only our own script elements exist.
    assert PAYLOAD not in page and "<img" not in page and "onerror=\"window" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # escaped text in tables and lists
    # inside the figure JSON (hover labels): HTML-escaped, then its "&" written as \u0026
    assert "\\u0026lt;script\\u0026gt;alert(1)" in page
    scripts = re.findall(r"<script\b[^>]*>", page)
    plots = json.loads((report / "summary.json").read_text())["plots"]
    assert len(scripts) == 2 + len(plots)  # plotly.js, the render script, one JSON block per plot
    assert all('type="application/json"' in s or "nonce=" in s for s in scripts)
    assert page.count("</script>") == len(scripts)


def test_plotly_is_inlined_once_and_nothing_is_fetched(report):
    page = (report / "dashboard.html").read_text()
    assert page.count("plotly.js v") == 1  # the bundle's banner: inlined once for all plots
    assert len(page) < 4_900_000 * 1.4  # one copy of plotly.min.js (~4.6 MB), not one per plot
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"?https?:", page)
    head = html.unescape(page[:1000])
    assert "Content-Security-Policy" in head and "connect-src 'none'" in head


def test_write_report_leaves_its_inputs_untouched(tmp_path):
    """The report records its own timing in summary.json, never in the caller's list."""
    import copy

    inputs = make_inputs(n=30)
    timings, settings, notes = copy.deepcopy(inputs.timings), copy.deepcopy(inputs.settings), list(inputs.notes)
    timings_list = inputs.timings
    out = write_report(tmp_path / "r", inputs)
    assert inputs.timings is timings_list and inputs.timings == timings
    assert inputs.settings == settings and inputs.notes == notes
    stages = json.loads((out / "summary.json").read_text())["timings"]["stages"]
    assert [s["stage"] for s in stages] == ["table", "projection", "report"]


def test_templates_and_assets_are_package_data():
    """The templates, style sheet and render script load through importlib.resources (so they ship
    in the wheel), every template compiles, and the CSS and JS cannot end their elements."""
    from importlib import resources

    from IMDb.analysis.templating import TEMPLATES, asset, environment

    folder = resources.files("IMDb.analysis") / TEMPLATES
    names = {p.name for p in folder.iterdir()} | {f"sections/{p.name}" for p in (folder / "sections").iterdir()}
    assert {"base.html.j2", "dashboard.html.j2", "robustness.html.j2", "macros.html.j2", "report.css",
            "report.js", "sections/summary.html.j2", "sections/behaviour.html.j2"} <= names
    env = environment()
    for name in sorted(n for n in names if n.endswith(".html.j2")):
        env.get_template(name)
    assert "--accent" in asset("report.css") and "Plotly.newPlot" in asset("report.js")
    assert "</" not in asset("report.css") + asset("report.js")


def test_autoescaping_is_on_and_raw_html_is_made_in_one_place():
    """Every template escapes what it prints; the only Markup in the package is made in the three
    audited functions of IMDb.analysis.templating, and no template opts out of escaping."""
    from pathlib import Path

    from markupsafe import Markup

    import IMDb
    from IMDb.analysis.templating import environment, figure_json, inline_script, render

    env = environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x=HOSTILE) == esc(HOSTILE).replace("&quot;", "&#34;").replace(
        "&#x27;", "&#39;")
    macros = env.get_template("macros.html.j2").module
    cell = macros.table({"headers": [PAYLOAD], "rows": [[{"text": PAYLOAD, "num": False, "span": PAYLOAD}]]})
    assert PAYLOAD not in cell and cell.count("&lt;script&gt;") == 3
    root = Path(IMDb.__file__).parent
    makers = {p.relative_to(root).as_posix(): p.read_text().count("Markup(") for p in root.rglob("*.py")}
    assert {k: v for k, v in makers.items() if v} == {"analysis/templating.py": 3}
    for template in (root / "analysis" / "templates").rglob("*.j2"):
        source = template.read_text()
        assert "|safe" not in source.replace(" ", "") and "autoescape" not in source, template
    with pytest.raises(ValueError, match="</script"):
        inline_script("x</SCRIPT>")
    import plotly.graph_objects as go

    data = figure_json(go.Figure(go.Scatter(x=[1], y=[2], text=[HOSTILE])))
    assert isinstance(data, Markup) and not set("<>&") & set(data) and "\\u003c/script\\u003e" in data
    page = render("robustness.html.j2", heading=PAYLOAD, csp="x", generated="now", sections=[])
    assert PAYLOAD not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
