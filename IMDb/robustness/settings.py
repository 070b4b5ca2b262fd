"""What the user chooses for `imdb-leap robustness`, declared once (`IMDb.config.fields.setting`): the
CLI makes the command's options from these fields and its handler the settings from the options, as
for analyze and compare (`IMDb.analysis.settings`)."""
from __future__ import annotations

from dataclasses import dataclass

from IMDb.config.fields import Checked, setting


@dataclass(frozen=True)
class RobustnessSettings(Checked):
    """The CAD development pairs' folder (default: $IMDB_CAD; none: the pairs are skipped, and the
    outputs say why) and the behavioural suite's generation seed."""

    cad: str | None = setting(None, option="--cad", metavar="FOLDER",
                              help="folder of the CAD pairs' dev_paired.tsv (default: $IMDB_CAD)")
    seed: int = setting(0, low=0, high=2**32 - 1, option="--seed", help="the suite's generation seed (default: 0)")
