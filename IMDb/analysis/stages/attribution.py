"""The attribution stage: the chosen reviews explained (IG, occlusion, faithfulness;
`IMDb.analysis.attribution`); its section is "Sample analysis". A model made without training has
no gradients of its own: the model it is made from explains it (`Family.explained_by`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from IMDb import families, toolkits
from IMDb.analysis.escape import plain, snippet
from IMDb.analysis.explanation import Explanation
from IMDb.analysis.faithfulness import Faithfulness
from IMDb.analysis.latent_map import label_name
from IMDb.analysis.metric_plots import faithfulness_plot
from IMDb.analysis.run_state import Run
from IMDb.analysis.sections import Section, text
from IMDb.analysis.stage import Result, Stage, register
from IMDb.analysis.templating import heat, table
from IMDb.config.run import LABELS


def _explanation(e: Explanation, review: Any) -> dict:
    """One explained review: heading, snippet, heat maps, completeness, faithfulness, n-grams."""
    words, oov, faith = e.words or [], e.oov, e.faithfulness or Faithfulness()
    return {
        "sample_id": text(e.sample_id or ""), "kind": text(e.kind or ""),
        "truth": label_name(e.label), "predicted": LABELS[int(e.prediction)],
        "p_positive": plain(e.p_positive, 3), "loss": plain(e.loss, 3),
        "review": None if review is None else snippet(review, 600),
        "positive": heat(words, e.ig_positive or [], oov), "negative": heat(words, e.ig_negative or [], oov),
        "completeness": "; ".join(f"{k}: Σ attributions {plain(v.sum, 3)} vs Δf {plain(v.delta, 3)}"
                                  for k, v in (e.completeness or {}).items()),
        "truncated": bool(e.truncated), "target": text(faith.target or ""),
        "faithfulness": "; ".join(f"k={plain(r.k)}: top drop {plain(r.top_drop, 3)} vs random "
                                  f"{plain(r.random_drop, 3)}" for r in faith.per_k or []),
        "passed": faith.passed,
        "ngrams": table([asdict(r) for r in e.ngrams], ["words", "length", "delta", "interaction", "p_positive"],
                        {"delta": "Δ p(positive)", "p_positive": "p(positive) without"}) if e.ngrams else None}


@dataclass
class AttributionResult(Result):
    """The explained reviews (dicts are read as `Explanation`s) and their faithfulness overall."""

    explanations: list[Explanation] = field(default_factory=list)
    faithfulness: dict | None = None

    def __post_init__(self) -> None:
        self.explanations = [Explanation.coerce(e) for e in self.explanations]

    def summary(self) -> dict[str, Any]:
        return {"attribution": {"faithfulness": self.faithfulness,
                                "samples": [e.summary() for e in self.explanations]}}

    def section(self, run: Run) -> Section | None:
        if not self.explanations:
            return None
        texts, frame = {}, run.frame
        if frame is not None and "sample_id" in frame:
            sub = frame[frame["sample_id"].isin({e.sample_id for e in self.explanations})]
            texts = dict(zip(sub["sample_id"], sub["text"]))
        faith = self.faithfulness
        plot = faithfulness_plot(faith) if faith else None
        overall = {"n": faith.get("n_samples"), "pass_rate": faith.get("pass_rate"), "passed": faith.get("passed"),
                   "per_k": table(faith.get("per_k", []), ["k", "n", "mean_top_drop", "mean_random_drop", "ratio",
                                                           "pass_rate"])} if faith else None
        context = {"faithfulness": overall, "plot": plot,
                   "explanations": [_explanation(e, texts.get(e.sample_id)) for e in self.explanations]}
        return Section("samples", "Sample analysis", context, (plot,))


def explain(run: Run) -> AttributionResult:
    """IG (+ occlusion) + faithfulness of the chosen samples; for the word models, ONNX Runtime
    scores the variants (its session is loaded on first use: models scored otherwise never load it)."""
    from functools import cache

    from IMDb.analysis.attribution import explain as explain_all
    from IMDb.analysis.faithfulness import faithfulness_summary
    from IMDb.analysis.inference import load_keras
    from IMDb.analysis.samples import samples_to_explain
    from IMDb.bundle import Bundle
    from IMDb.predict import Predictor

    n_samples, models_dir = run.settings["samples"], run.need("models_dir")
    if n_samples == 0:
        return AttributionResult()
    chosen = samples_to_explain(run.need("table").table.frame, n_samples)
    bundle = Bundle.read(families.get(run.settings["model"]).explained_by, models_dir)
    predictor = cache(lambda: Predictor.load(bundle.name, models_dir))
    explainer = toolkits.of(bundle.family).explainer(bundle.family, load_keras(bundle), bundle.tokenizer,
                                                     predict_tokens=lambda tokens: predictor().predict_tokens(tokens))
    explanations = explain_all(explainer, chosen, seed=run.settings["seed"], progress=run.need("progress"))
    return AttributionResult(explanations, faithfulness_summary(e.faithfulness for e in explanations))


def _detail(r: AttributionResult) -> str:
    rate = r.faithfulness.get("pass_rate") if r.faithfulness else "n/a"
    return f"{len(r.explanations)} reviews; faithfulness pass rate {rate}"


register(Stage("attribution", ("analyze",), explain,
               needs=("table", "models_dir", "progress"), detail=_detail,
               absent={"attribution": {"faithfulness": None, "samples": []}}))
