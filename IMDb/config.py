"""The settings of a model run: `Architecture` (what the model is made of) apart from `RunSettings`
(how it is trained, on what data, where its files go), joined in `Config`, which a model card
records whole.

The fields' defaults are generic; each shipped model's own settings (its preset) are data in its
family module (`IMDb.families`), applied by `Config.for_model`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from IMDb import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = settings.REPO_MODELS
LABELS = ("negative", "positive")  # index = class id; the platform shows them in this order


@dataclass
class Architecture:
    """What a model is made of: its tokenizer and its layers. Two models with the same architecture
    settings differ only in their weights; each family's `build` reads these."""

    # tokenizer
    vocab_size: int = 20_000
    seq_len: int = 400
    truncation: str = "headtail"  # BERT: "head" or "headtail", which pieces of a long review are kept
    head_tokens: int | None = None  # BERT: pieces kept from the start with headtail (default: half)
    # layers
    embed_dim: int = 64
    hidden: int = 64
    filters: int = 64
    kernel_size: int = 5
    dropout: float = 0.0
    pretrained_embeddings: bool = False  # PPMI-SVD vectors from training + unlabeled reviews
    train_embeddings: bool = True  # False keeps the (pretrained) word vectors fixed
    bert_checkpoint: str = field(default_factory=settings.bert_checkpoint)  # the pretrained encoder
    bert_tiny: bool = False  # a small random BERT instead of the checkpoint's weights (tests)


@dataclass
class RunSettings:
    """How a model is trained, on what data, and where its files go."""

    # optimisation
    batch_size: int = 64
    epochs: int = 10
    learning_rate: float = 1e-3
    patience: int = 2
    seed: int = 42
    fine_tune_epochs: int = 0  # with fixed word vectors: a second stage that trains them too
    fine_tune_learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06  # linear warmup, then linear decay to 0
    max_steps: int | None = None  # stop (and decay to 0) after this many steps, not whole epochs
    checkpoint_every: int = 50  # steps between resumable checkpoints
    # data
    val_fraction: float = 0.2
    train_limit: int | None = None  # subsample the training state (tests, quick runs)
    counterfactual: bool = False  # add the CAD training pairs ($IMDB_CAD/train_paired.tsv) to training
    augment: int = 0  # add this many template sentences (`IMDb.behaviour.augment`) to training
    # paths
    data: str | None = field(default_factory=settings.data)
    out_dir: str = str(MODELS_DIR)
    runs_dir: str = str(REPO_ROOT / "runs")  # checkpoints and TensorBoard events, not shipped


@dataclass
class Config(RunSettings, Architecture):
    """One model's run: its name, its `Architecture` and its `RunSettings`, as one flat record a
    model card stores whole (``card.json``'s ``config``). `Config.for_model` starts from a model's
    preset."""

    model: str = "dense"

    @classmethod
    def for_model(cls, model: str, **overrides) -> "Config":
        """The preset of `model` (its family's data, `IMDb.families`), with `overrides` on top; a
        ModelError names the models there are."""
        from IMDb import families

        return cls(model=model, **{**families.get(model).preset, **overrides})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def model_dir(self) -> Path:
        return Path(self.out_dir) / self.model
