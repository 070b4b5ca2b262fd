"""The analysis as one call: every stage in order, each timed, then the report folder.

`run_analysis` (``imdb-leap analyze``): table -> projection -> clusters -> insights -> exploration ->
attribution -> label errors -> training curves -> report. `run_compare` (``imdb-leap compare``):
one table per model on the same reviews -> comparison -> label errors -> training curves -> report.

Each stage prints one line to stderr when it ends (wall seconds, peak RSS so far, what it found);
the long ones (inference, metadata, attribution) show their own tqdm bars. The timings go into
summary.json. Bad settings and failed inputs raise `AnalysisError` (an `IMDbError`: the CLI prints
one line).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from IMDb import console, families, toolkits
from IMDb.config.run import MODELS_DIR, Config
from IMDb.data.dataset_states import STATES
from IMDb.errors import AnalysisError
from IMDb.output.atomic import REPORT_MARKER, check_out_dir

PROJECTIONS = ("umap", "pca", "tsne")
CLUSTERINGS = ("kmeans", "hdbscan")
ANALYZE_STAGES = ("table", "projection", "clusters", "insights", "exploration", "attribution",
                  "label errors", "training curves", "report")
COMPARE_STAGES = ("table a", "table b", "comparison", "label errors", "training curves", "robustness", "report")
# fewest reviews an analysis runs on: k-means tries k = 3..12 and needs more points than clusters,
# HDBSCAN's smallest cluster is 5 reviews; checked up front (--limit) and on the state read
MIN_REVIEWS = 10


@dataclass
class StageLog:
    """Times the stages of a run and prints one line per stage; `timings` feeds summary.json."""

    title: str
    names: tuple[str, ...]
    progress: bool = True
    timings: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def run(self, name: str, fn: Callable[[], Any], detail: Callable[[Any], str] | None = None) -> Any:
        """`fn()` timed as stage `name`. Errors pass through unchanged: bad input is refused before the
        first stage (or raised as an `IMDbError` where it is read), so anything else is a bug and keeps
        its traceback."""
        from IMDb.analysis.table import peak_rss_mib

        index = self.names.index(name) + 1 if name in self.names else len(self.timings) + 1
        prefix = f"{self.title}: [{index}/{len(self.names)}] {name}"
        if self.progress:
            print(f"{prefix} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        result = fn()
        console.check_interrupt()  # a Ctrl-C that a library swallowed during the stage ends the run here
        seconds = time.perf_counter() - t0
        entry = {"stage": name, "seconds": round(seconds, 3), "peak_rss_mib": round(peak_rss_mib(), 1)}
        self.timings.append(entry)
        if self.progress:
            extra = f" ({detail(result)})" if detail else ""
            print(f"{prefix}: {seconds:.1f} s, peak RSS {entry['peak_rss_mib']:.0f} MiB{extra}",
                  file=sys.stderr, flush=True)
        return result


def default_out_dir(name: str, state: str) -> Path:
    """reports/<model>-<state>, under the current folder."""
    return Path("reports") / f"{name}-{state}"


def split_states(state: str) -> list[str]:
    """"test" -> ["test"]; "training+validation+test" -> the three (analysed together)."""
    parts = [p.strip() for p in state.split("+")]
    unknown = [p for p in parts if p not in STATES]
    if unknown or len(set(parts)) != len(parts):
        raise AnalysisError(f"unknown or repeated state in {state!r}; choose one of {', '.join(STATES)}, "
                            f"or several joined by '+' (e.g. training+test)")
    return parts


def _check(state: str, projection: str = "umap", clusters: str = "kmeans", k: int | None = None,
           limit: int | None = None, n_samples: int = 0) -> None:
    split_states(state)
    if projection not in PROJECTIONS:
        raise AnalysisError(f"unknown projection {projection!r}; choose one of {', '.join(PROJECTIONS)}")
    if clusters not in CLUSTERINGS:
        raise AnalysisError(f"unknown clustering {clusters!r}; choose one of {', '.join(CLUSTERINGS)}")
    if k is not None and k < 2:
        raise AnalysisError(f"--k must be at least 2, got {k}")
    if limit is not None and limit < MIN_REVIEWS:
        raise AnalysisError(f"--limit must be at least {MIN_REVIEWS} (the clustering stage needs that many "
                            f"reviews), got {limit}")
    if k is not None and limit is not None and k > limit:
        raise AnalysisError(f"--k {k} asks for more clusters than the {limit} reviews of --limit")
    if n_samples < 0:
        raise AnalysisError(f"--samples must be 0 or more, got {n_samples}")


def state_cfg(name: str, models_dir: Path, data: str | None) -> Config | None:
    """The model's own split settings (its card) with another data source; None keeps the default
    (IMDB_DATA)."""
    if data is None:
        return None
    from IMDb.bundle import Bundle

    return Bundle.read(name, models_dir).split_config(str(data))


def state_table(name: str, state: str, limit: int | None, models_dir: Path, cfg: Config | None,
           baselines: bool, progress: bool, seed: int):
    """The model's table of one state, or of several ("training+test", `limit` per state) stacked."""
    from IMDb.analysis.baselines import forget_tfidf
    from IMDb.analysis.table import AnalysisTable, build_table, peak_rss_mib

    tables = [build_table(name, part, limit, models_dir=models_dir, cfg=cfg, progress=progress,
                          baselines=baselines, seed=seed) for part in split_states(state)]
    forget_tfidf()  # every table scored with it is built
    table = tables[0]
    if len(tables) > 1:
        timings: dict[str, float] = {}
        for t in tables:
            for key, value in t.timings.items():
                timings[key] = max(timings.get(key, 0.0), value) if key == "peak_rss_mib" \
                    else timings.get(key, 0.0) + value
        timings["peak_rss_mib"] = peak_rss_mib()
        table = AnalysisTable(pd.concat([t.frame for t in tables], ignore_index=True),
                              np.concatenate([t.latent for t in tables]), name, timings)
    if len(table) < MIN_REVIEWS:
        raise AnalysisError(f"the {state} state holds {len(table)} review(s); an analysis needs at least "
                            f"{MIN_REVIEWS}: use a larger dataset (--data) or another --state")
    return table


def _cards(names, models_dir: Path) -> dict[str, dict]:
    from IMDb.bundle import read_card

    return {n: read_card(n, models_dir) for n in names}


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
    from IMDb.analysis.inference import load_keras
    from IMDb.analysis.faithfulness import faithfulness_summary
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
    `label_error_models` (default: `name` alone) are the models whose probabilities, averaged, find
    the likely label errors: an ensemble's mistakes agree less often than one model's.
    `label_decisions` (an export of ``imdb-leap explore``'s label-error queue) gives its relabelled
    reviews their new labels before anything is scored.
    `overwrite` replaces an earlier report in `out_dir`; a folder holding anything else is refused
    before any work starts."""
    from IMDb.analysis import clusters as clustering
    from IMDb.analysis import describe, exploration, label_errors, projection as projecting
    from IMDb.analysis.report import ReportInputs, write_report
    from IMDb.explore.decisions import apply_relabels, read_relabels

    _check(state, projection, clusters, k, limit, n_samples)
    models_dir = Path(models_dir)
    out = Path(out_dir) if out_dir is not None else default_out_dir(name, state)
    check_out_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite")
    error_models = list(label_error_models or [name])
    relabels = read_relabels(label_decisions) if label_decisions is not None else {}  # a bad file fails first
    cards = _cards(dict.fromkeys([name, *error_models]), models_dir)  # a missing model fails before any work
    cfg = cfg or state_cfg(name, models_dir, data)
    log = StageLog(f"analyze {name}/{state}", ANALYZE_STAGES, progress)
    settings: dict[str, Any] = {"model": name, "state": state, "projection": projection, "clusters": clusters,
                                "k": k, "limit": limit, "samples": n_samples, "seed": seed,
                                "models_dir": str(models_dir), "data": cfg.data if cfg else None,
                                "label_error_models": error_models}
    notes: list[str] = []

    table = log.run("table", lambda: state_table(name, state, limit, models_dir, cfg, baselines, progress, seed),
                    lambda t: f"{len(t):,} reviews, latent {t.latent.shape[1]}-d")
    log.timings[-1]["steps"] = {k_: round(v, 3) for k_, v in table.timings.items()}
    if label_decisions is not None:
        settings["label_decisions"] = {"file": str(label_decisions), "changed": apply_relabels(table.frame, relabels)}
        print(f"analyze: --label-decisions {label_decisions}: {settings['label_decisions']['changed']:,} "
              f"label(s) changed", file=sys.stderr, flush=True)
    frame, fields = table.frame, table.numeric_fields

    xy = log.run("projection", lambda: projecting.project(table.latent, projection, seed),
                 lambda _: f"{projection} of {len(frame):,} points")

    def cluster_stage():
        chosen_k, scores = k, None
        if clusters == "kmeans" and k is None:
            chosen_k, scores = clustering.choose_k(table.latent, seed=seed)
        labels = clustering.cluster(table.latent, clusters, chosen_k, seed)
        settings["k_chosen"] = int(len(np.unique(labels[labels >= 0])))
        if scores:
            settings["silhouette"] = {str(c): round(s, 4) for c, s in scores.items()}
        return labels, clustering.cluster_summary(frame, labels, fields)

    labels, summary = log.run("clusters", cluster_stage,
                              lambda r: f"{settings['k_chosen']} clusters"
                                        + (" (k by silhouette)" if clusters == "kmeans" and k is None else ""))
    def insight_stage():
        found = clustering.insights(frame, labels, fields)
        described = describe.describe_clusters(frame, labels, fields)
        summary.insert(0, "description", [described.get(int(c), "") for c in summary.index])
        for insight in found:
            insight["headline"] = describe.headline(insight, described.get(insight.get("cluster")))
        return found

    found = log.run("insights", insight_stage, lambda r: f"{len(r)} significant")

    def explore():
        return (exploration.metadata_vs_loss(frame, fields), exploration.correlations(frame, fields),
                exploration.seed_claims(frame))

    binned, corr, claims = log.run("exploration", explore, lambda r: ", ".join(
        f"{c['verdict']}" for c in r[2]))
    explanations, faith = log.run(
        "attribution", lambda: _attribution(name, frame, n_samples, models_dir, progress, seed),
        lambda r: f"{len(r[0])} reviews; faithfulness pass rate "
                  f"{(r[1] or {}).get('pass_rate') if r[1] else 'n/a'}")

    def errors():
        if not frame["label"].notna().any():
            return None
        others = {m: state_table(m, state, limit, models_dir, cfg or state_cfg(m, models_dir, data), False,
                                 progress, seed) for m in error_models if m != name}
        for other in others.values():
            apply_relabels(other.frame, relabels)
        return label_errors.from_tables([others.get(m, table) for m in error_models])

    found_errors = log.run("label errors", errors, lambda r: "no labels" if r is None else (
        f"{r.attrs['count']:,} likely" + (f" by {'+'.join(r.attrs['per_model'])}; alone: " + ", ".join(
            f"{m} {n:,}" for m, n in r.attrs["per_model"].items()) if r.attrs.get("per_model") else "")))
    curves = log.run("training curves", lambda: {name: exploration.training_curves(name, models_dir)},
                     lambda r: f"{sum(len(c.get('batches', [])) for c in r.values()):,} batches logged")

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
    inputs = ReportInputs(
        model=name, state=state, tables={name: table}, frame=frame, cards=cards,
        settings=settings, projection=xy, clusters=labels, cluster_summary=summary, insights=found,
        binned=binned, correlations=corr, claims=claims, explanations=explanations, faithfulness=faith,
        curves=curves, label_errors=found_errors, timings=log.timings, started=log.started, notes=notes)
    path = log.run("report", lambda: write_report(out, inputs, overwrite=overwrite),
                   lambda p: str(p / "dashboard.html"))
    if progress:
        print(f"analyze: done in {time.perf_counter() - log.started:.1f} s: {path / 'dashboard.html'}",
              file=sys.stderr, flush=True)
    return path


def run_compare(a: str, b: str, state: str = "test", out_dir: str | Path | None = None, *,
                limit: int | None = None, progress: bool = True, models_dir: str | Path = MODELS_DIR,
                cfg: Config | None = None, data: str | None = None, baselines: bool = True,
                seed: int = 0, worst: int = 20, overwrite: bool = False, robustness: bool = False,
                cad: str | Path | None = None) -> Path:
    """Model `a` against model `b` on the same reviews of one state (default: test), written to
    `out_dir` (default reports/compare-<a>-<b>-<state>); returns the folder. `overwrite` as in
    `run_analysis`; `robustness` adds both models' behavioural tests, CAD pairs (`cad`, default
    $IMDB_CAD) and calibration side by side (`IMDb.robustness.run`)."""
    from IMDb.analysis import exploration, label_errors
    from IMDb.analysis.compare import compare
    from IMDb.analysis.report import ReportInputs, write_report

    _check(state, limit=limit)
    if a == b:
        raise AnalysisError(f"compare needs two different models, got {a!r} twice")
    models_dir = Path(models_dir)
    out = Path(out_dir) if out_dir is not None else Path("reports") / f"compare-{a}-{b}-{state}"
    check_out_dir(out, REPORT_MARKER, replace=overwrite, flag="--overwrite")
    cards = _cards([a, b], models_dir)  # both models checked before the first table is built
    if robustness:
        from IMDb.robustness import run as checks

        checks.check_cad(cad)  # a missing or empty CAD file fails before any work too; none given: skipped
    log = StageLog(f"compare {a} {b}/{state}", COMPARE_STAGES, progress)
    table_a = log.run("table a", lambda: state_table(a, state, limit, models_dir, cfg or state_cfg(a, models_dir, data),
                                                     baselines, progress, seed), lambda t: f"{a}: {len(t):,} reviews")
    table_b = log.run("table b", lambda: state_table(b, state, limit, models_dir, cfg or state_cfg(b, models_dir, data),
                                                     False, progress, seed), lambda t: f"{b}: {len(t):,} reviews")
    result = log.run("comparison", lambda: compare(table_a, table_b, (a, b), worst=worst),
                     lambda r: f"{r['summary']['n']:,} shared reviews")
    if result["summary"]["n"] == 0:
        raise AnalysisError(f"{a} and {b} share no review of the {state} state: were they trained on "
                            f"different splits? (compare the seed/val_fraction in their model cards)")
    found_errors = log.run(
        "label errors", lambda: label_errors.from_tables([table_a, table_b])
        if table_a.frame["label"].notna().any() else None,
        lambda r: "no labels" if r is None else f"{r.attrs['count']:,} likely")
    curves = log.run("training curves",
                     lambda: {n: exploration.training_curves(n, models_dir) for n in (a, b)})
    behaviour = log.run("robustness", lambda: [checks.result(n, cad=cad, models_dir=models_dir, progress=progress)
                                               for n in (a, b)]) if robustness else None
    notes = [f"Loss change = loss({b}) − loss({a}); relative change = loss change / loss({a})."]
    if "training" in split_states(state):
        notes.append("The training state is in-sample for both models and for the TF-IDF baseline.")
    inputs = ReportInputs(
        model=f"{a} vs {b}", state=state, tables={a: table_a, b: table_b}, cards=cards,
        settings={"models": [a, b], "state": state, "limit": limit, "seed": seed, "worst": worst,
                  "models_dir": str(models_dir)},
        curves=curves, label_errors=found_errors, comparison=result, robustness=behaviour,
        timings=log.timings, started=log.started, notes=notes)
    path = log.run("report", lambda: write_report(out, inputs, overwrite=overwrite),
                   lambda p: str(p / "dashboard.html"))
    if progress:
        print(f"compare: done in {time.perf_counter() - log.started:.1f} s: {path / 'dashboard.html'}",
              file=sys.stderr, flush=True)
    return path
