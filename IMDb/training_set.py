"""The training state a trainer fits on: IMDb's training reviews plus what the run adds to teach
negation and contrast (the CAD training pairs, template sentences). Kept apart from `IMDb.data`,
which the Tensorleap bundle ships, because these sources are for training only."""
from __future__ import annotations

import pandas as pd

from IMDb.config import Config


def with_extra_training(cfg: Config, states: dict) -> pd.DataFrame:
    """The training state with the CAD training pairs (`cfg.counterfactual`) and `cfg.augment`
    template sentences added; nothing of the validation or test reviews gets in."""
    parts = [states["training"]]
    if cfg.counterfactual:
        from IMDb.counterfactual import cad_file, training_rows

        held_out = set(states["validation"]["text"]) | set(states["test"]["text"])
        rows = training_rows(cad_file("train_paired.tsv"), states["training"], held_out)
        print(f"data: + {len(rows)} counterfactual reviews from {rows.attrs['pairs']} CAD training pairs "
              f"({rows.attrs['dropped_pairs']} pairs dropped: a text is a validation or test review)")
        parts.append(rows)
    if cfg.augment:
        from IMDb.behaviour.augment import sentences

        rows = sentences(cfg.augment, cfg.seed)
        print(f"data: + {len(rows)} template sentences (IMDb/behaviour/augment.py)")
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)
