"""`run_analysis` / `run_compare` end to end on tiny trained models and synthetic reviews: every stage
runs, the report folder is complete, and the summary's numbers agree with the saved table."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from IMDb import families
from IMDb.analysis.analyze import run_analysis
from IMDb.analysis.settings import AnalyzeSettings
from IMDb.analysis.stage import names
from IMDb.analysis.table import AnalysisTable
from IMDb.cli.imdb_leap import main
from tests.conftest import synthetic_reviews, synthetic_unlabeled

pytestmark = pytest.mark.slow
_RUNS: dict[str, object] = {}  # built once per session, shared with tests/test_dashboard_browser.py


def tiny_models(tmp_path_factory):
    """A synthetic dataset and tiny dense + cnn bundles trained on it for one epoch."""
    if "models" not in _RUNS:
        from IMDb.toolkits import train

        root = tmp_path_factory.mktemp("analysis_run")
        data = root / "imdb.parquet"
        pd.concat([synthetic_reviews(80, 0, "train"), synthetic_reviews(40, 1, "test")],
                  ignore_index=True).to_parquet(data)
        synthetic_unlabeled(40).to_parquet(root / "imdb_unsup.parquet")
        for model in ("dense", "cnn"):
            cfg = families.config(model, data=str(data), vocab_size=60, seq_len=40, embed_dim=8, filters=8,
                                  hidden=8, epochs=1, batch_size=32, pretrained_embeddings=False,
                                  train_embeddings=True, out_dir=str(root / "models"), runs_dir=str(root / "runs"))
            train(cfg)
        _RUNS["models"] = (root, data)
    return _RUNS["models"]


def analysed(tmp_path_factory):
    """run_analysis of the tiny CNN on the test state (PCA: UMAP's first-call compile is slow)."""
    if "analysis" not in _RUNS:
        root, data = tiny_models(tmp_path_factory)
        out = run_analysis("cnn", AnalyzeSettings(state="test", projection="pca", samples=4, data=str(data)),
                           root / "reports" / "cnn-test", models_dir=root / "models", progress=False)
        _RUNS["analysis"] = out
    return _RUNS["analysis"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tiny_models(tmp_path_factory)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return analysed(tmp_path_factory)


def test_every_stage_ran_and_was_timed(report):
    summary = json.loads((report / "summary.json").read_text())
    stages = [s["stage"] for s in summary["timings"]["stages"]]
    assert stages == [*names("analyze"), "report"] == [
        "table", "projection", "clusters", "insights", "attribution", "exploration", "training curves",
        "label errors", "report"]
    assert all(s["seconds"] >= 0 and s["peak_rss_mib"] > 0 for s in summary["timings"]["stages"])
    assert summary["timings"]["total_seconds"] >= sum(s["seconds"] for s in summary["timings"]["stages"]) * 0.99
    table_steps = summary["timings"]["stages"][0]["steps"]
    assert {"inference", "metadata", "baselines"} <= set(table_steps)


def test_summary_numbers_match_the_table(report):
    summary = json.loads((report / "summary.json").read_text())
    table = AnalysisTable.load(report / "table.parquet")
    frame = table.frame
    assert len(frame) == 80 and set(frame["state"]) == {"test"}
    cnn = next(r for r in summary["models_and_baselines"] if r["name"] == "cnn")
    assert cnn["n"] == 80 and cnn["accuracy"] == pytest.approx(frame["correct"].astype(float).mean())
    assert cnn["loss"] == pytest.approx(frame["loss"].mean())
    kinds = {r["name"]: r["kind"] for r in summary["models_and_baselines"]}
    assert list(kinds.values()).count("baseline") == 2
    clusters = pd.DataFrame(summary["clusters"])
    assert clusters["size"].sum() == 80 and summary["settings"]["k_chosen"] == len(clusters)
    assert len(summary["seed_claims"]) == 5
    assert {c["verdict"] for c in summary["seed_claims"]} <= {"supported", "contradicted", "no evidence"}
    from IMDb.analysis.label_errors import from_tables

    assert summary["label_errors"]["count"] == from_tables(table).attrs["count"]


def test_attribution_of_chosen_samples(report):
    summary = json.loads((report / "summary.json").read_text())
    samples = summary["attribution"]["samples"]
    assert 1 <= len(samples) <= 4
    for s in samples:
        for check in s["completeness"].values():  # IG sums to f(x) - f(baseline)
            assert abs(check["sum"] - check["delta"]) < 0.05 + 0.1 * abs(check["delta"])
    assert summary["attribution"]["faithfulness"]["n_samples"] == len(samples)


def test_report_folder_is_complete(report):
    names = {p.relative_to(report).as_posix() for p in report.rglob("*") if p.is_file()}
    assert {"dashboard.html", "summary.json", "table.parquet", "projector/vectors.tsv",
            "projector/metadata.tsv", "projector/projector_config.pbtxt"} <= names
    summary = json.loads((report / "summary.json").read_text())
    assert {"population", "clusters", "metadata_vs_loss", "training_curves"} <= set(summary["plots"])
    assert all(f"plots/{k}.png" in names for k in summary["plots"])
    vectors = np.loadtxt(report / "projector" / "vectors.tsv", delimiter="\t")
    assert vectors.shape == (80, AnalysisTable.load(report / "table.parquet").latent.shape[1])


def test_every_label_error_is_in_a_linked_csv_and_insights_lead_with_a_sentence(report):
    summary = json.loads((report / "summary.json").read_text())
    errors = pd.read_csv(report / "label_errors.csv")
    assert "label_errors.csv" in summary["files"] and len(errors) == summary["label_errors"]["count"]
    assert list(errors.columns[:7]) == ["rank", "sample_id", "label", "suggested_label", "p_given_label",
                                        "p_suggested", "margin"] and errors.columns[-1] == "text"
    table = AnalysisTable.load(report / "table.parquet").frame.set_index("sample_id")
    assert (errors["text"] == table.loc[errors["sample_id"], "text"].to_numpy()).all()  # whole texts
    assert '<a href="label_errors.csv">' in (report / "dashboard.html").read_text(encoding="utf-8")
    assert all(c["description"] for c in summary["clusters"])
    assert all(i["headline"].split(":")[1].startswith(" loss ") for i in summary["insights"])


def test_compare_and_the_cli(models, tmp_path, capsys):
    root, data = models
    out = tmp_path / "compare"
    code = main(["compare", "--model", "dense,cnn", "--state", "test", "--models-dir", str(root / "models"),
                 "--data", str(data), "--out", str(out), "--quiet"])
    assert code == 0 and capsys.readouterr().out.strip() == str(out.resolve() / "dashboard.html")
    summary = json.loads((out / "summary.json").read_text())
    # the robustness stages run only with --robustness
    robustness = {"predictors", "behaviour", "counterfactual", "calibration"}
    assert [s["stage"] for s in summary["timings"]["stages"]] == [*(n for n in names("compare") if n not in robustness),
                                                                  "report"]
    assert all(summary[k] is None for k in robustness - {"predictors"})
    comp = summary["comparison"]
    assert comp["summary"]["names"] == ["dense", "cnn"] and comp["summary"]["n"] == 80
    agreement = comp["agreement"]  # rows: dense right/wrong; columns: cnn right/wrong
    assert agreement["index"] == ["dense right", "dense wrong"] and agreement["columns"] == ["cnn right", "cnn wrong"]
    assert np.array(agreement["data"]).sum() == 80
    assert {"table_dense.parquet", "table_cnn.parquet", "comparison.parquet"} <= {p.name for p in out.iterdir()}


def test_compare_with_robustness_adds_the_robustness_stages(models, tmp_path):
    from tests.test_counterfactual import GOOD

    root, data = models
    (tmp_path / "cad").mkdir()
    (tmp_path / "cad" / "dev_paired.tsv").write_text(GOOD)
    out = tmp_path / "compare"
    assert main(["compare", "--model", "dense,cnn", "--state", "test", "--limit", "20", "--models-dir",
                 str(root / "models"), "--data", str(data), "--robustness", "--cad", str(tmp_path / "cad"),
                 "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    stages = [s["stage"] for s in summary["timings"]["stages"]]
    assert stages[-5:] == ["predictors", "behaviour", "counterfactual", "calibration", "report"]
    assert list(summary["behaviour"]) == ["dense", "cnn"] and summary["counterfactual"]["cnn"]["pairs"] == 2
    page = (out / "dashboard.html").read_text()
    assert all(f'id="{s}"' in page for s in ("comparison", "behaviour", "counterfactual", "calibration"))


def test_cli_analyze_with_options(models, tmp_path, capsys):
    root, data = models
    out = tmp_path / "a"
    code = main(["analyze", "--model", "dense", "--state", "validation+test", "--models-dir", str(root / "models"),
                 "--data", str(data), "--projection", "pca", "--clusters", "hdbscan", "--limit", "30",
                 "--samples", "0", "--label-error-models", "dense,cnn", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["clusters"] == "hdbscan" and summary["attribution"]["samples"] == []
    assert next(r for r in summary["models_and_baselines"] if r["name"] == "dense")["n"] == 60  # 30 per state
    assert summary["label_errors"]["per_model"].keys() == {"dense", "cnn"}  # --label-error-models
    assert {"p_positive_dense", "p_positive_cnn"} <= set(pd.read_csv(out / "label_errors.csv").columns)
    frame = AnalysisTable.load(out / "table.parquet").frame
    assert frame["state"].value_counts().to_dict() == {"validation": 30, "test": 30}
    assert frame["sample_id"].is_unique


@pytest.mark.parametrize("argv, words", [
    (["analyze", "--model", "nope"], "nope"),
    (["analyze", "--model", "cnn", "--k", "1"], "--k"),
    (["analyze", "--model", "cnn", "--k", "500"], "--k 500 asks for more clusters"),  # known once the table is built
    (["compare", "--model", "cnn,cnn"], "each once"),
])
def test_cli_errors_are_one_line(models, argv, words, tmp_path, capsys):
    root, data = models
    code = main([*argv, "--models-dir", str(root / "models"), "--data", str(data), "--out", str(tmp_path / "x"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("imdb-leap: error:") and words in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_the_unlabeled_state_runs_without_ground_truth(models, tmp_path):
    root, data = models
    settings = AnalyzeSettings(state="unlabeled", projection="pca", k=2, samples=2, data=str(data))
    out = run_analysis("cnn", settings, tmp_path / "u", models_dir=root / "models", progress=False)
    summary = json.loads((out / "summary.json").read_text())
    assert [s["stage"] for s in summary["timings"]["stages"]] == [*names("analyze"), "report"]
    assert summary["label_errors"] is None and summary["insights"] == []
    assert not (out / "label_errors.csv").exists()
    assert {c["verdict"] for c in summary["seed_claims"]} == {"no evidence"}
    assert len(summary["attribution"]["samples"]) == 2  # the least confident reviews
    assert all(s["kind"] == "least confident" for s in summary["attribution"]["samples"])
    assert "population" in summary["plots"]
