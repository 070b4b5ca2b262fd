"""`imdb-leap analyze` as one call, `run_analysis`: every stage in order, each timed
(`IMDb.analysis.stages.StageLog`), then the report folder: table -> projection -> clusters ->
insights -> exploration -> attribution -> label errors -> training curves -> report.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from IMDb import families, toolkits
from IMDb.analysis.label_decisions import apply_relabels, read_relabels
from IMDb.analysis.stages import (StageLog, build_table, check_settings, read_cards, split_states,
                                  state_cfg)
from IMDb.config.run import MODELS_DIR, Config
from IMDb.output.folders import REPORT_MARKER, check_out_dir

ANALYZE_STAGES = ("table", "projection", "clusters", "insights", "exploration", "attribution",
                  "label errors", "training curves", "report")


def default_out_dir(name: str, state: str) -> Path:
    """reports/<model>-<state>, under the current folder."""
    return Path("reports") / f"{name}-{state}"


def _choose(frame, n: int):
    """The samples to explain: highest-loss false positives and negatives; without labels (or
    errors), the reviews the model is least sure about."""
    from IMDb.analysis.samples import samples_to_explain

    return samples_to_explain(frame, n)


def _attribution(name: str, frame, n_samples: int, models_dir: Path, progress: bool, seed: int):
    """IG (+ occlusion) + faithfulness of the chosen samples; for the word models, ONNX Runtime
    scores the variants (its session is loaded on first use: models scored otherwise never load it)."""
    from functools import cache

    from IMDb.analysis.attribution import explain
    from IMDb.analysis.faithfulness import faithfulness_summary
    from IMDb.analysis.inference import load_keras
    from IMDb.bundle import Bundle
    from IMDb.predict import Predictor

    if n_samples == 0:
        return [], None
    chosen = _choose(frame, n_samples)
    # a model made without training has no gradients of its own: its source model explains it
    bundle = Bundle.read(families.get(name).explained_by, models_dir)
    predictor = cache(lambda: Predictor.load(bundle.name, models_dir))
    explainer = toolkits.of(bundle.family).explainer(bundle.family, load_keras(bundle), bundle.tokenizer,
                                                     predict_tokens=lambda tokens: predictor().predict_tokens(tokens))
    explanations = explain(explainer, chosen, seed=seed, progress=progress)
    return explanations, faithfulness_summary(e.faithfulness for e in explanations)


def run_analysis(name: str, state: str = "training", out_dir: str | Path | None = None, *,
                 projection: str = "umap", clusters: str = "kmeans", k: int | None = None,
                 limit: int | None = None, n_samples: int = 6, progress: bool = True,
                 models_dir: str | Path = MODELS_DIR, cfg: Config | None = None, data: str | None = None,
                 baselines: bool = True, seed: int = 0, overwrite: bool = False,
                 label_error_models: list[str] | None = None, label_decisions: str | Path | None = None) -> Path:
    """The full analysis of model `name` on one state, written to `out_dir` (default
    reports/<model>-<state>); returns the folder. `data` (or a whole `cfg`) names another dataset;
    `limit` analyses a seeded, label-stratified sample; `n_samples` reviews are explained.
    `label_error_models` (default: `name`) find the likely label errors by their averaged probabilities
    (an ensemble's mistakes agree less often); `label_decisions` (``imdb-leap explore``'s export)
    relabels reviews before anything is scored. `overwrite` replaces an earlier report in `out_dir`;
    a folder holding anything else is refused before any work starts."""
    from IMDb.analysis import exploration, projection as projecting
    from IMDb.analysis.report import ReportInputs, write_report

    check_settings(state, projection, clusters, k, limit, n_samples)
    models_dir = Path(models_dir)
    out = Path(out_dir) if out_dir is not None else default_out_dir(name, state)
    check_out_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite")
    error_models = list(label_error_models or [name])
    relabels = read_relabels(label_decisions) if label_decisions is not None else None  # a bad file fails first
    cards = read_cards(dict.fromkeys([name, *error_models]), models_dir)  # a missing model fails before any work
    cfg = cfg or state_cfg(name, models_dir, data)
    log = StageLog(f"analyze {name}/{state}", ANALYZE_STAGES, progress)
    settings: dict[str, Any] = dict(model=name, state=state, projection=projection, clusters=clusters, k=k,
                                    limit=limit, samples=n_samples, seed=seed, models_dir=str(models_dir),
                                    data=cfg.data if cfg else None, label_error_models=error_models)
    table = log.run("table", lambda: build_table(name, state, limit, models_dir, cfg, baselines, progress, seed),
                    lambda t: f"{len(t):,} reviews, latent {t.latent.shape[1]}-d")
    log.timings[-1]["steps"] = {k_: round(v, 3) for k_, v in table.timings.items()}
    _relabel(table, label_decisions, relabels, settings)
    frame, fields = table.frame, table.numeric_fields

    xy = log.run("projection", lambda: projecting.project(table.latent, projection, seed),
                 lambda _: f"{projection} of {len(frame):,} points")
    labels, summary = log.run("clusters", lambda: _clusters(table, clusters, k, seed, settings),
                              lambda r: f"{settings['k_chosen']} clusters"
                                        + (" (k by silhouette)" if clusters == "kmeans" and k is None else ""))
    found = log.run("insights", lambda: _insights(frame, labels, fields, summary), lambda r: f"{len(r)} significant")
    binned, corr, claims = log.run("exploration", lambda: _explore(frame, fields),
                                   lambda r: ", ".join(f"{c['verdict']}" for c in r[2]))
    explanations, faith = log.run(
        "attribution", lambda: _attribution(name, frame, n_samples, models_dir, progress, seed),
        lambda r: f"{len(r[0])} reviews; faithfulness pass rate "
                  f"{(r[1] or {}).get('pass_rate') if r[1] else 'n/a'}")
    found_errors = log.run("label errors", lambda: _label_errors(
        table, name, state, limit, models_dir, cfg, data, error_models, progress, seed, relabels), _errors_found)
    curves = log.run("training curves", lambda: {name: exploration.training_curves(name, models_dir)},
                     lambda r: f"{sum(len(c.get('batches', [])) for c in r.values()):,} batches logged")
    inputs = ReportInputs(
        model=name, state=state, tables={name: table}, frame=frame, cards=cards,
        settings=settings, projection=xy, clusters=labels, cluster_summary=summary, insights=found,
        binned=binned, correlations=corr, claims=claims, explanations=explanations, faithfulness=faith,
        curves=curves, label_errors=found_errors, timings=log.timings, started=log.started,
        notes=_notes(name, state, baselines))
    path = log.run("report", lambda: write_report(out, inputs, overwrite=overwrite),
                   lambda p: str(p / "dashboard.html"))
    log.done("analyze", path)
    return path


def _clusters(table, clusters: str, k: int | None, seed: int, settings: dict):
    """The clusters of the latent vectors (k by silhouette for k-means without --k, recorded in
    `settings`) and their summary."""
    from IMDb.analysis import clusters as clustering

    chosen_k, scores = k, None
    if clusters == "kmeans" and k is None:
        chosen_k, scores = clustering.choose_k(table.latent, seed=seed)
    labels = clustering.cluster(table.latent, clusters, chosen_k, seed)
    settings["k_chosen"] = int(len(np.unique(labels[labels >= 0])))
    if scores:
        settings["silhouette"] = {str(c): round(s, 4) for c, s in scores.items()}
    return labels, clustering.cluster_summary(table.frame, labels, table.numeric_fields)


def _explore(frame, fields) -> tuple:
    """Loss by each metadata field's bins, the fields' correlations, and the seed claims checked."""
    from IMDb.analysis import exploration

    return (exploration.metadata_vs_loss(frame, fields), exploration.correlations(frame, fields),
            exploration.seed_claims(frame))


def _insights(frame, labels, fields, summary) -> list[dict]:
    """The significant insights, each with a headline, and each cluster's description put first in
    `summary`."""
    from IMDb.analysis import clusters as clustering
    from IMDb.analysis import describe

    found = clustering.insights(frame, labels, fields)
    described = describe.describe_clusters(frame, labels, fields)
    summary.insert(0, "description", [described.get(int(c), "") for c in summary.index])
    for insight in found:
        insight["headline"] = describe.headline(insight, described.get(insight.get("cluster")))
    return found


def _relabel(table, label_decisions: str | Path | None, relabels: dict[str, int] | None, settings: dict) -> None:
    """Give the reviews `relabels` names (read from `label_decisions`) their new labels in `table`,
    recorded in the report's settings and said on stderr."""
    if relabels is None:
        return
    changed = apply_relabels(table.frame, relabels)
    settings["label_decisions"] = {"file": str(label_decisions), "changed": changed}
    print(f"analyze: --label-decisions {label_decisions}: {changed:,} label(s) changed", file=sys.stderr, flush=True)


def _label_errors(table, name: str, state: str, limit: int | None, models_dir: Path, cfg: Config | None,
                  data: str | None, error_models: list[str], progress: bool, seed: int,
                  relabels: dict[str, int] | None):
    """The likely label errors by the `error_models`' averaged probabilities (the other models'
    tables built on the same reviews, with the same `relabels`); None without labels."""
    from IMDb.analysis import label_errors

    if not table.frame["label"].notna().any():
        return None
    others = {m: build_table(m, state, limit, models_dir, cfg or state_cfg(m, models_dir, data), False, progress,
                             seed) for m in error_models if m != name}
    for other in others.values():
        apply_relabels(other.frame, relabels or {})
    return label_errors.from_tables([others.get(m, table) for m in error_models])


def _errors_found(r) -> str:
    if r is None:
        return "no labels"
    return f"{r.attrs['count']:,} likely" + (f" by {'+'.join(r.attrs['per_model'])}; alone: " + ", ".join(
        f"{m} {n:,}" for m, n in r.attrs["per_model"].items()) if r.attrs.get("per_model") else "")


def _notes(name: str, state: str, baselines: bool) -> list[str]:
    """What the report says about how to read it: in-sample figures, the baselines, a model
    explained by another, reviews without labels."""
    notes = []
    if "training" in split_states(state):
        notes.append("The training state is in-sample for the model and for the TF-IDF baseline (fitted "
                     "on it): accuracy is optimistic and few label errors are found.")
    elif baselines:
        notes.append("Baselines: TextBlob polarity needs no fit; TF-IDF + logistic regression is fitted "
                     "on the training state.")
    if (source := families.get(name).explained_by) != name:
        notes.append(f"{name} ships only an ONNX file, without gradients: its table is its own, its sample "
                     f"attributions are those of {source}, the model it is made from.")
    if "unlabeled" in split_states(state):
        notes.append("The unlabeled state has no ground truth: its reviews have no loss and take no part "
                     "in the insights, claims or label errors.")
    return notes
