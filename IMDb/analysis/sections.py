"""The page's sections: `Section` (what one shows: its template, the template's context, its plots),
and the run-level summary section (`summary`: each model's card and figures, the baselines, the
notes, the stage timings, the settings) that heads every page.

Every other section is rendered by a stage's result (`IMDb.analysis.stage.Result.section`, in
``IMDb/analysis/stages/``). A context holds plain values and text only (numbers go through the
``fmt`` filter), so the autoescaping templates escape every review, name and label; the plots each
section shows are listed in `Section.plots` in page order, for their JSON blocks and PNGs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from IMDb.analysis.escape import plain
from IMDb.analysis.figures import Plot
from IMDb.analysis.metric_plots import accuracy_plot
from IMDb.analysis.templating import table

if TYPE_CHECKING:
    from IMDb.analysis.run_state import Run

BASELINES = {"textblob": "TextBlob polarity", "tfidf": "TF-IDF + logistic regression"}
BASIC = "sections/basic.html.j2"  # a generic section: paragraphs, key-value pairs, tables, plots


@dataclass(frozen=True)
class Section:
    """One section of the page: anchor id, heading, the template's context, the plots it shows in
    page order (None entries dropped), and its template (default ``sections/<id>.html.j2``; a new
    view may use `BASIC`: context keys ``paragraphs``, ``pairs``, ``tables`` as (title, `table`)
    and ``plots``)."""

    id: str
    title: str
    context: dict[str, Any]
    plots: tuple[Plot, ...] = field(default=())
    template: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "plots", tuple(p for p in self.plots if p is not None))
        object.__setattr__(self, "template", self.template or f"sections/{self.id}.html.j2")


def text(value: Any) -> str:
    """A value as text for a template ('' for None)."""
    return "" if value is None else str(value)


def _stats(frame: pd.DataFrame) -> dict:
    labeled = frame[frame["label"].notna()] if "label" in frame else frame.iloc[:0]
    return {"n": int(len(frame)), "n_labeled": int(len(labeled)),
            "accuracy": float(labeled["correct"].astype(float).mean()) if len(labeled) else None,
            "loss": float(labeled["loss"].mean()) if len(labeled) else None,
            "positive_predictions": float((frame["prediction"] == 1).mean()) if len(frame) else None}


def model_rows(run: Run) -> list[dict]:
    """Accuracy and mean loss of each model and each baseline over the labeled samples."""
    rows = [{"name": name, "kind": "model", **_stats(table.frame)} for name, table in run.tables.items()]
    frame = run.frame
    if frame is None:
        return rows
    labeled = frame[frame["label"].notna()] if "label" in frame else frame.iloc[:0]
    for baseline, title in BASELINES.items():
        p_col, l_col = f"baseline_{baseline}_p_positive", f"baseline_{baseline}_loss"
        if p_col not in frame or not len(labeled):
            continue
        right = (labeled[p_col].to_numpy() >= 0.5).astype(int) == labeled["label"].to_numpy().astype(int)
        rows.append({"name": title, "kind": "baseline", "n": int(len(frame)), "n_labeled": int(len(labeled)),
                     "accuracy": float(right.mean()), "loss": float(labeled[l_col].mean())})
    return rows


def population_loss(frame: pd.DataFrame | None) -> float | None:
    """The mean loss over the labeled reviews (None without any): the reference line of the plots."""
    if frame is None or "loss" not in frame or not frame["loss"].notna().any():
        return None
    return float(frame["loss"].mean())


def summary(run: Run) -> Section:
    """The page's first section, the run's own: each model's figures and card, the models against
    the baselines, the notes, the stage timings and the settings (with what the stages chose)."""
    cards = []
    for name, tab in run.tables.items():
        card, s = run.cards.get(name, {}), _stats(tab.frame)
        config = card.get("config", {})
        pairs = [("model", name), ("state", run.state), ("samples", plain(s["n"])),
                 ("labeled", plain(s["n_labeled"])), ("accuracy", plain(s["accuracy"])),
                 ("mean loss", plain(s["loss"])), ("predicted positive", plain(s["positive_predictions"])),
                 ("latent dimensions", plain(int(tab.latent.shape[1])))]
        if config:
            pairs.append(("sequence length / vocabulary",
                          f"{plain(config.get('seq_len'))} / {plain(config.get('vocab_size'))}"))
        figures = card.get("figures", {}).get(run.state)
        if figures:
            pairs.append(("model card, this state", f"accuracy {plain(figures.get('accuracy'))}, loss "
                                                    f"{plain(figures.get('loss'))}, n {plain(figures.get('samples'))}"))
        cards.append({"name": name, "pairs": pairs})
    rows = model_rows(run)
    plot = accuracy_plot(rows)
    timings = (table(run.timings, ["stage", "seconds", "peak_rss_mib"], {"peak_rss_mib": "peak RSS (MiB)"})
               if run.timings else None)
    context = {"cards": cards, "rows": table(rows, ["name", "kind", "n_labeled", "accuracy", "loss"],
                                             {"n_labeled": "labeled samples", "loss": "mean loss"}),
               "plot": plot, "notes": list(run.notes), "timings": timings,
               "settings": [(k, text(v)) for k, v in run.all_settings().items()]}
    return Section("summary", "Summary", context, (plot,))


