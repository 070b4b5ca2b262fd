"""The training state a trainer fits on: IMDb's training reviews plus what the run adds to teach
negation and contrast (the CAD training pairs, template sentences). Kept apart from `IMDb.data.dataset_states`,
which the Tensorleap bundle ships, because these sources are for training only."""
from __future__ import annotations

import pandas as pd

from IMDb.config.run import Config


def with_extra_training(cfg: Config, states: dict, holdout: float = 0.0
                        ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The training state with the CAD training pairs (`cfg.counterfactual`) and `cfg.augment`
    template sentences added, nothing of the validation or test reviews in it; and, with a
    `holdout` share, the CAD training pairs kept out of it to choose a checkpoint on (their
    revisions are reviews the model never saw; CAD's dev pairs stay for the final measurement)."""
    parts, selection = [states["training"]], None
    if cfg.counterfactual:
        from IMDb.data.counterfactual import cad_file, read_pairs, training_rows, usable_pairs

        held_out = set(states["validation"]["text"]) | set(states["test"]["text"])
        pairs, selection = usable_pairs(read_pairs(cad_file("train_paired.tsv")), held_out, holdout, cfg.seed)
        rows = training_rows(pairs, states["training"])
        aside = f", {len(selection)} kept aside to choose the checkpoint" if len(selection) else ""
        print(f"data: + {len(rows)} counterfactual reviews from {rows.attrs['pairs']} CAD training pairs "
              f"({pairs.attrs['dropped_pairs']} pairs dropped: a text is a validation or test review{aside})")
        parts.append(rows)
    if cfg.augment:
        from IMDb.behaviour.augment import sentences

        rows = sentences(cfg.augment, cfg.seed)
        print(f"data: + {len(rows)} template sentences (IMDb/behaviour/augment.py)")
        parts.append(rows)
    return pd.concat(parts, ignore_index=True), selection if selection is not None and len(selection) else None
