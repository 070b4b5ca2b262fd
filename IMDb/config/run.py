"""The settings of a model run, in two parts (as nanoGPT keeps its model config apart from its run
settings): `RunSettings`, common to every model (how it is trained, on what data, where its files
go), and the model's own config, a `ModelConfig` subclass its family names
(`IMDb.families.base.Family.config_class`: the word models' `WordsConfig`, BERT's `BertConfig`).
`Config` joins them for one model.

The defaults are generic; each shipped model's own settings (its preset) are data in its family
module, applied by `IMDb.families.config`. A model card stores a `Config` flat (``card.json``'s
``config``: `Config.to_dict`), as it always has; `Config.from_flat` reads that format back.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from IMDb.config import environment
from IMDb.config.fields import Checked, setting
from IMDb.errors import SettingError

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = environment.REPO_MODELS
LABELS = ("negative", "positive")  # index = class id; the platform shows them in this order


@dataclass
class ModelConfig(Checked):
    """What a model is made of, and how its family trains it: the base of each family's config.
    Every model reads `seq_len` positions of a review (its tokenizer's length)."""

    seq_len: int = setting(400, low=1, option="--seq-len")


@dataclass
class RunSettings(Checked):
    """How any model is trained, on what data, and where its files go."""

    # optimisation
    batch_size: int = setting(64, low=1, option="--batch-size")
    epochs: int = setting(10, low=1, option="--epochs")
    learning_rate: float = setting(1e-3, low=0, open_low=True, option="--learning-rate")
    patience: int = setting(2, low=0)
    seed: int = setting(42, low=0, high=2**32 - 1, option="--seed")  # numpy's seeds
    # data
    val_fraction: float = setting(0.2, low=0, high=1, open_low=True, open_high=True)
    train_limit: int | None = setting(None, low=1, option="--train-limit",
                                      help="train on a random subset of this many reviews (quick runs)")
    counterfactual: bool = setting(False, option="--counterfactual",
                                   help="add the CAD training pairs ($IMDB_CAD/train_paired.tsv) to the training state")
    augment: int = setting(0, low=0, option="--augment",  # `IMDb.behaviour.augment`
                           help="add N template sentences (negation, contrast, faint praise)")
    # paths
    data: str | None = setting(default_factory=environment.data, option="--data",
                               help="parquet file, aclImdb folder, aclImdb_v1.tar.gz or 'download' "
                                    "(default: $IMDB_DATA, else project_config.yaml's data_path)")
    out_dir: str = str(MODELS_DIR)
    runs_dir: str = str(REPO_ROOT / "runs")  # checkpoints and TensorBoard events, not shipped


RUN_FIELDS = {f.name: f for f in dataclasses.fields(RunSettings)}


@dataclass
class Config(RunSettings):
    """One model's run: its name, the `RunSettings` every model has, and its own `model_config`
    (its family's `ModelConfig`; the base one where only the data settings matter, as when a
    bundle's split is carved again)."""

    model: str = "dense"
    model_config: ModelConfig = field(default_factory=ModelConfig)

    def to_dict(self) -> dict:
        """The flat record a model card stores: the model's own settings, the run settings, its name."""
        run = {name: getattr(self, name) for name in RUN_FIELDS}
        return {**dataclasses.asdict(self.model_config), **run, "model": self.model}

    @classmethod
    def from_flat(cls, flat: dict, config_class: type[ModelConfig], strict: bool = True) -> "Config":
        """A `Config` from `flat` (overrides, or a card's ``config``): the run settings and the
        `config_class` fields it names. Another key is refused (`SettingError`), unless not
        `strict`: a card written before the split holds every family's settings, the others' ignored."""
        own = {f.name for f in dataclasses.fields(config_class)}
        unknown = sorted(set(flat) - own - set(RUN_FIELDS) - {"model"})
        if unknown and strict:
            raise SettingError(f"{flat.get('model', 'this model')} has no setting {', '.join(unknown)} "
                               f"(its settings: {', '.join(sorted(own | set(RUN_FIELDS)))})")
        run = {k: v for k, v in flat.items() if k in RUN_FIELDS or k == "model"}
        return cls(**run, model_config=config_class(**{k: v for k, v in flat.items() if k in own}))

    @property
    def model_dir(self) -> Path:
        return Path(self.out_dir) / self.model
