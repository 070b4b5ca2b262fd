"""What the user chooses for `imdb-leap analyze` and `imdb-leap compare`, declared once: one settings
dataclass per command (`AnalyzeSettings`, `CompareSettings`, on the `ReviewSettings` both share).
Each field declares what it accepts (`IMDb.config.fields.setting`: range, choices) and, with
``option`` and ``help``, the option that sets it: the CLI makes the command's options from the
fields, its handler the settings from the options, `run_analysis` / `run_compare` take them whole
and summary.json records them. The rules that join two fields (a state's names, --k against
--limit) are the class's `check`, run when it is made, like the fields' own (`Checked`).

This module imports nothing heavy: the CLI's parser reads it (`imdb-leap predict --help` does not
import pandas).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from IMDb.analysis.methods import CLUSTERINGS, PROJECTIONS
from IMDb.config.fields import Checked, setting
from IMDb.config.run import RUN_FIELDS, Config
from IMDb.data.state_names import STATES
from IMDb.errors import AnalysisError

# fewest reviews an analysis runs on: k-means tries k = 3..12 and needs more points than clusters,
# HDBSCAN's smallest cluster is 5 reviews; checked up front (--limit) and on the state read
MIN_REVIEWS = 10


def split_states(state: str) -> list[str]:
    """"test" -> ["test"]; "training+validation+test" -> the three (analysed together)."""
    parts = [p.strip() for p in state.split("+")]
    unknown = [p for p in parts if p not in STATES]
    if unknown or len(set(parts)) != len(parts):
        raise AnalysisError(f"unknown or repeated state in {state!r}; choose one of {', '.join(STATES)}, "
                            f"or several joined by '+' (e.g. training+test)")
    return parts


def _state(default: str):
    """The --state field, with the command's own default."""
    return setting(default, option="--state", help=f"{', '.join(STATES)}, or several joined by '+' such as "
                                                   f"training+test (default: {default})")


@dataclass(frozen=True)
class ReviewSettings(Checked):
    """Which reviews an analysis command reads: the state (or states joined by '+'; compare's
    default, test, here, analyze's its own), a seeded, label-stratified sample of `limit` reviews per
    state, from `data` (default: $IMDB_DATA)."""

    state: str = _state("test")
    limit: int | None = setting(None, low=1, option="--limit",
                                help="analyse a seeded, label-stratified sample of N reviews")
    seed: int = setting(0, low=0, high=2**32 - 1)  # numpy's seeds
    data: str | None = setting(None, option="--data", help=RUN_FIELDS["data"].metadata["help"])

    def __post_init__(self) -> None:
        super().__post_init__()
        self.check()

    def check(self) -> None:
        """The rules no single field declares, as `AnalysisError`s."""
        split_states(self.state)
        if self.limit is not None and self.limit < MIN_REVIEWS:
            raise AnalysisError(f"--limit must be at least {MIN_REVIEWS} (the clustering stage needs that many "
                                f"reviews), got {self.limit}")

    def recorded(self, cfg: Config | None) -> dict[str, Any]:
        """summary.json's record of the settings: every field, the data source as the run reads it
        (`cfg`'s, where the run was given or made one)."""
        return {**dataclasses.asdict(self), "data": cfg.data if cfg else self.data}


@dataclass(frozen=True)
class AnalyzeSettings(ReviewSettings):
    """`imdb-leap analyze`: the latent map and clustering, the reviews explained, the models that
    find likely label errors (default: the analysed one alone, averaged when several), and
    ``imdb-leap explore``'s label decisions to score with."""

    state: str = _state("training")
    projection: str = setting(PROJECTIONS[0], choices=PROJECTIONS, option="--projection",
                              help=f"2-D map of the latent space (default: {PROJECTIONS[0]})")
    clusters: str = setting(CLUSTERINGS[0], choices=CLUSTERINGS, option="--clusters",
                            help=f"clustering of the latent space (default: {CLUSTERINGS[0]})")
    k: int | None = setting(None, low=2, option="--k", help="k-means clusters (default: chosen by silhouette)")
    samples: int = setting(6, low=0, option="--samples",
                           help="reviews to explain: the highest-loss false positives and negatives (default: 6)")
    label_error_models: list[str] | None = setting(
        None, option="--label-error-models",
        help="find likely label errors with these models' probabilities averaged (default: --model alone)")
    label_decisions: str | None = setting(
        None, option="--label-decisions", metavar="FILE",
        help="score with corrected labels: the label_decisions.csv that `imdb-leap explore`'s label-error queue "
             "exports (its relabelled reviews take their new label)")

    def check(self) -> None:
        super().check()
        if self.k is not None and self.limit is not None and self.k > self.limit:
            raise AnalysisError(f"--k {self.k} asks for more clusters than the {self.limit} reviews of --limit")


@dataclass(frozen=True)
class CompareSettings(ReviewSettings):
    """`imdb-leap compare` (on the test state by default): the `worst` reviews listed, and with
    `robustness` both models' behavioural tests, CAD pairs (`cad`, default $IMDB_CAD) and
    calibration side by side."""

    worst: int = setting(20, low=1)
    robustness: bool = setting(False, option="--robustness",
                               help="add both models' behavioural failure rates, CAD pairs and calibration "
                                    "side by side")
    cad: str | None = setting(None, option="--cad", metavar="FOLDER",
                              help="folder of the CAD pairs' dev_paired.tsv (default: $IMDB_CAD)")
