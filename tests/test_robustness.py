"""`imdb-leap robustness` and `imdb-leap calibrate` end to end on the tiny bundles, the robustness
section in the dashboards, and the robustness page in headless Chromium."""
import json
import shutil

import numpy as np
import pytest

from IMDb.cli import imdb_leap
from IMDb.predict import Predictor
from tests.test_counterfactual import GOOD


@pytest.fixture
def cad(tmp_path):
    folder = tmp_path / "cad"
    folder.mkdir()
    (folder / "dev_paired.tsv").write_text(GOOD)
    return folder


def test_robustness_writes_json_and_page_for_two_models(word_bundles, cad, tmp_path, capsys):
    out = tmp_path / "robustness"
    assert imdb_leap.main(["robustness", "--model", "dense,cnn", "--models-dir", str(word_bundles), "--cad", str(cad),
                     "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "robustness.json").read_text())
    assert [r["model"] for r in results] == ["dense", "cnn"]
    for r in results:
        assert r["cad"]["pairs"] == 2 and r["calibration"] is None
        for form in ("short", "carrier"):
            tests = r["behaviour"][form]["tests"]
            assert len(tests) >= 15 and all(0 <= t["failure_rate"] <= 1 for t in tests)
            assert {"name", "capability", "type", "cases", "failure_rate"} <= set(tests[0])
    assert all(r["seed"] == 0 and r["temperature_applied"] is None and r["seconds"] >= 0 for r in results)
    page = (out / "dashboard.html").read_text()
    assert "dense carrier" in page and "cnn short" in page and "<script" not in page
    assert all(f'id="{s}"' in page for s in ("behaviour", "counterfactual", "calibration"))
    assert str(out / "dashboard.html") in capsys.readouterr().out


def test_robustness_with_a_named_folder_lacking_the_pairs_refuses_before_work(word_bundles, tmp_path, capsys):
    assert imdb_leap.main(["robustness", "--model", "dense", "--models-dir", str(word_bundles),
                     "--cad", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert "dev_paired.tsv" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_calibrate_records_the_temperature_and_predict_applies_it(word_bundles, synthetic_dataset, tmp_path,
                                                                  monkeypatch, capsys):
    models = tmp_path / "models"
    shutil.copytree(word_bundles, models)
    monkeypatch.setenv("IMDB_DATA", str(synthetic_dataset))
    before = Predictor.load("dense", models)
    assert before.temperature is None
    assert imdb_leap.main(["calibrate", "--model", "dense", "--models-dir", str(models), "--quiet"]) == 0
    card = json.loads((models / "dense" / "card.json").read_text())
    c = card["calibration"]
    assert c["temperature"] > 0 and 0 <= c["ece_after"] <= 1 and len(c["reliability_after"]) == 15
    assert "temperature" in capsys.readouterr().out
    after = Predictor.load("dense", models)
    texts = ["a great film", "an awful film"]
    logits = after.predict_logits(after.encode(texts))
    z = logits / c["temperature"]
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert np.allclose(after.predict(texts), expected, atol=1e-9)


def suite_results(name: str, description: str = "d", texts: tuple = ("<script>x</script>",)) -> dict:
    """One model's behaviour results holding one test, short and in a carrier paragraph."""
    test = {"name": name, "capability": "negation", "type": "MFT", "description": description, "cases": 2,
            "failure_rate": 0.5, "failures": 1, "examples": [{"texts": list(texts), "p_positive": [0.9] * len(texts),
                                                              "expected": 0}]}
    return {"cases": 2, **{form: {"tests": [test], "by_capability": {"negation": rate}}
                           for form, rate in (("short", 0.5), ("carrier", 0.25))}}


def test_the_comparison_page_carries_the_robustness_stages_sections():
    from IMDb.analysis.report import build_summary, render_html
    from IMDb.analysis.stages.behaviour import BehaviourResult
    from IMDb.analysis.stages.calibration import CalibrationResult
    from IMDb.analysis.stages.counterfactual import CounterfactualResult
    from tests.test_analysis_report import make_inputs

    run = make_inputs(with_comparison=True)
    run.results["behaviour"] = BehaviourResult(0, {"m": suite_results("t<b>")}, {"m": 1.0})
    run.results["counterfactual"] = CounterfactualResult({"m": {"skipped": "no pairs <given>"}}, {"m": 0.0})
    run.results["calibration"] = CalibrationResult({"m": {"calibration": None, "temperature_applied": None}})
    page, plots = render_html(run, plotly_js="")
    assert all(f'id="{s}"' in page for s in ("behaviour", "counterfactual", "calibration"))
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page and "t&lt;b&gt;" in page
    assert "Skipped: no pairs &lt;given&gt;" in page and "not calibrated" in page
    summary = build_summary(run, plots, [], {})
    assert summary["behaviour"]["m"]["carrier"]["by_capability"] == {"negation": 0.25}
    assert summary["counterfactual"] == {"m": {"skipped": "no pairs <given>"}}
    assert summary["calibration"] == {"m": {"calibration": None, "temperature_applied": None}}


def test_an_analysis_summary_names_the_robustness_stages_it_did_not_run():
    from IMDb.analysis.report import build_summary
    from tests.test_analysis_report import make_inputs

    summary = build_summary(make_inputs(), [], [], {})
    assert {k: summary[k] for k in ("behaviour", "counterfactual", "calibration")} == dict.fromkeys(
        ("behaviour", "counterfactual", "calibration"))


def test_the_robustness_page_renders_in_chromium(tmp_path):
    from tests.test_analysis_report import PAYLOAD
    from tests.browser import load, problems, require_browser
    from IMDb.analysis.robustness_report import render
    from IMDb.analysis.run_state import Run
    from IMDb.analysis.stages.behaviour import BehaviourResult
    from IMDb.analysis.stages.calibration import CalibrationResult
    from IMDb.analysis.stages.counterfactual import CounterfactualResult

    require_browser()
    model = PAYLOAD[:20]
    bins = [{"low": i / 15, "high": (i + 1) / 15, "count": 3 if i > 7 else 0, "confidence": 0.6 if i > 7 else None,
             "accuracy": 0.7 if i > 7 else None} for i in range(15)]
    calibration = {"temperature": 1.2, "ece_before": 0.02, "ece_after": 0.01, "nll_before": 0.3, "nll_after": 0.29,
                   "measured_on": "test", "reliability_before": bins, "reliability_after": bins}
    results = [BehaviourResult(0, {model: suite_results("inv_names", PAYLOAD, (PAYLOAD, "b"))}, {model: 1.0}),
               CounterfactualResult({model: {"pairs": 1, "accuracy_original": 1.0, "accuracy_revised": 0.0,
                                             "both_right": 0.0, "mean_p_change_toward_revision": -0.2}}, {model: 0.1}),
               CalibrationResult({model: {"calibration": calibration, "temperature_applied": 1.2}})]
    run = Run("robustness", model, "")
    path = tmp_path / "robustness.html"
    path.write_text(render([r.section(run) for r in results], [model]))
    tools = load(path, tmp_path)
    try:
        text = tools.evaluate("document.body.innerText")
        injected = tools.evaluate("document.querySelectorAll('script, img, iframe').length")
        bars = tools.evaluate("document.querySelectorAll('svg rect').length")
        found = problems(tools.events)
    finally:
        tools.close()
    assert PAYLOAD in text and injected == 0 and bars == 2 * 7 and not found

