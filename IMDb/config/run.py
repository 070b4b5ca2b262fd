"""The settings of a model run: `Architecture` (what the model is made of) apart from `RunSettings`
(how it is trained, on what data, where its files go), joined in `Config`, which a model card
records whole.

The fields' defaults are generic; each shipped model's own settings (its preset) are data in its
family module (`IMDb.families`), applied by `IMDb.families.config`.

Each field declares what it accepts: its annotation gives the type (a bool is not an int, an int
is a float, a float must be finite) and a numeric field its range (`Range`, in the field's
metadata). `problem` checks one value against that declaration, and every edge asks it: `Config`
itself when it is made, `imdb-leap train`'s options (`IMDb.cli.imdb_leap` makes each from the field that
names it, ``option`` and ``help`` in its metadata) and a model card's ``config``
(`IMDb.bundle.check_card`). Nothing lists the rules twice.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from IMDb.config import environment
from IMDb.errors import SettingError

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = environment.REPO_MODELS
LABELS = ("negative", "positive")  # index = class id; the platform shows them in this order


@dataclass(frozen=True)
class Range:
    """The values a number may take: from `low` to `high`, each bound included unless `open_low` /
    `open_high`; None: unbounded on that side."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def __contains__(self, value: float) -> bool:
        return not ((self.low is not None and (value < self.low or (self.open_low and value == self.low)))
                    or (self.high is not None and (value > self.high or (self.open_high and value == self.high))))

    def __str__(self) -> str:
        def number(v: float) -> str:
            return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"

        low = None if self.low is None else f"{'>' if self.open_low else '>='} {number(self.low)}"
        high = None if self.high is None else f"{'<' if self.open_high else '<='} {number(self.high)}"
        return " and ".join(filter(None, (low, high)))


def setting(default=dataclasses.MISSING, *, low: float | None = None, high: float | None = None,
            open_low: bool = False, open_high: bool = False, choices: tuple[str, ...] | None = None,
            default_factory=dataclasses.MISSING, option: str | None = None, help: str | None = None):
    """A dataclass field with the range (or choices) its values must keep, read by `problem`; with
    `option`, the `imdb-leap train` option that sets it (`IMDb.cli.imdb_leap` makes it from the field, with
    `help`)."""
    metadata = {"range": Range(low, high, open_low, open_high)} if low is not None or high is not None else {}
    if choices:
        metadata["choices"] = choices
    if option:
        metadata["option"], metadata["help"] = option, help
    return field(default=default, default_factory=default_factory, metadata=metadata)


def kinds(annotation: str) -> set[str]:
    """The type names of a field annotation such as ``int | None``."""
    return {k.strip() for k in annotation.split("|")}


def describe(annotation: str, rule: Range | None = None, choices: tuple[str, ...] | None = None) -> str:
    """What a value of the annotation (and range) must be, in words: ``a whole number >= 1``."""
    names = kinds(annotation)
    words = ("a whole number" if "int" in names else "a finite number" if "float" in names
             else "true or false" if "bool" in names else "a string" if "str" in names else annotation)
    if choices:
        words = "one of " + ", ".join(map(repr, choices))
    if rule is not None and str(rule):
        words += f" {rule}"
    return f"null or {words}" if "None" in names else words


def problem(value: object, annotation: str, rule: Range | None = None,
            choices: tuple[str, ...] | None = None) -> str | None:
    """None if `value` (as read from JSON or the command line) fits the annotation, range and
    choices; else what it must be (`describe`)."""
    names = kinds(annotation)
    if value is None:
        fits = "None" in names
    elif isinstance(value, bool):
        fits = "bool" in names
    elif isinstance(value, int):
        fits = ("int" in names or "float" in names) and (rule is None or value in rule)
    elif isinstance(value, float):
        fits = "float" in names and math.isfinite(value) and (rule is None or value in rule)
    elif isinstance(value, (str, os.PathLike)):  # a path given from Python
        fits = "str" in names and (not choices or value in choices)
    else:
        fits = False
    return None if fits else describe(annotation, rule, choices)


@dataclass
class Architecture:
    """What a model is made of: its tokenizer and its layers. Two models with the same architecture
    settings differ only in their weights; each family's `build` reads these."""

    # tokenizer
    vocab_size: int = setting(20_000, low=3, option="--vocab-size")  # [PAD], [OOV] and at least one word
    seq_len: int = setting(400, low=1, option="--seq-len")
    # BERT: which pieces of a long review are kept, the first and last ("headtail") or the first
    truncation: str = setting("headtail", choices=("headtail", "head"), option="--truncation",
                              help="BERT: keep a long review's first and last pieces (default) or only its first")
    head_tokens: int | None = setting(None, low=1)  # BERT: pieces kept from the start with headtail (default: half)
    # layers
    embed_dim: int = setting(64, low=1)
    hidden: int = setting(64, low=1)
    filters: int = setting(64, low=1)
    kernel_size: int = setting(5, low=1)
    dropout: float = setting(0.0, low=0, high=1, open_high=True)
    pretrained_embeddings: bool = False  # PPMI-SVD vectors from training + unlabeled reviews
    train_embeddings: bool = True  # False keeps the (pretrained) word vectors fixed
    bert_checkpoint: str = setting(default_factory=environment.bert_checkpoint, option="--bert",  # the pretrained encoder
                                   help="BERT: a Hugging Face BERT folder or hub id (default: $IMDB_BERT, else "
                                        "hf://sentence-transformers/all-MiniLM-L6-v2)")
    bert_tiny: bool = False  # a small random BERT instead of the checkpoint's weights (tests)


@dataclass
class RunSettings:
    """How a model is trained, on what data, and where its files go."""

    # optimisation
    batch_size: int = setting(64, low=1, option="--batch-size")
    epochs: int = setting(10, low=1, option="--epochs")
    learning_rate: float = setting(1e-3, low=0, open_low=True, option="--learning-rate")
    patience: int = setting(2, low=0)
    seed: int = setting(42, low=0, high=2**32 - 1, option="--seed")  # numpy's seeds
    fine_tune_epochs: int = setting(0, low=0)  # with fixed word vectors: a second stage that trains them too
    fine_tune_learning_rate: float = setting(1e-4, low=0, open_low=True)
    weight_decay: float = setting(0.01, low=0)
    warmup_fraction: float = setting(0.06, low=0, high=1)  # linear warmup, then linear decay to 0
    max_steps: int | None = setting(None, low=1, option="--max-steps",  # not whole epochs
                                    help="BERT: train this many steps (the learning rate decays to 0 over them)")
    checkpoint_every: int = setting(50, low=1, option="--checkpoint-every",
                                    help="BERT: steps between resumable checkpoints (default: 50)")
    # data
    val_fraction: float = setting(0.2, low=0, high=1, open_low=True, open_high=True)
    train_limit: int | None = setting(None, low=1, option="--train-limit",
                                      help="train on a random subset of this many reviews (quick runs)")
    counterfactual: bool = setting(False, option="--counterfactual",
                                   help="add the CAD training pairs ($IMDB_CAD/train_paired.tsv) to the training state")
    augment: int = setting(0, low=0, option="--augment",  # `IMDb.behaviour.augment`
                           help="add N template sentences (negation, contrast, faint praise)")
    # BERT with counterfactual: this share of the CAD training pairs is kept out of training, and
    # each epoch's end is scored on its revisions and the validation reviews (the mean of the two
    # accuracies) to choose the weights shipped
    cad_holdout: float = setting(0.2, low=0, high=1, open_high=True, option="--cad-holdout",
                                 help="with --counterfactual: the share of CAD training pairs kept aside to "
                                      "choose the epoch on, with the validation reviews (default: 0.2)")
    # paths
    data: str | None = setting(default_factory=environment.data, option="--data",
                               help="parquet file, aclImdb folder, aclImdb_v1.tar.gz or 'download' "
                                    "(default: $IMDB_DATA)")
    out_dir: str = str(MODELS_DIR)
    runs_dir: str = str(REPO_ROOT / "runs")  # checkpoints and TensorBoard events, not shipped


@dataclass
class Config(RunSettings, Architecture):
    """One model's run: its name, its `Architecture` and its `RunSettings`, as one flat record a
    model card stores whole (``card.json``'s ``config``). `IMDb.families.config` starts from a
    model's preset."""

    model: str = "dense"

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if (expected := field_problem(f.name, getattr(self, f.name))) is not None:
                raise SettingError(f"{f.name} must be {expected}, got {getattr(self, f.name)!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def model_dir(self) -> Path:
        return Path(self.out_dir) / self.model


FIELDS = {f.name: f for f in dataclasses.fields(Config)}


def field_problem(name: str, value: object, nullable: bool = False) -> str | None:
    """None if `value` fits `Config` field `name` (its annotation, range and choices; `nullable`:
    null is allowed too, as for the paths a card stores as null); else what it must be."""
    f = FIELDS[name]
    annotation = f.type + (" | None" if nullable else "")
    return problem(value, annotation, f.metadata.get("range"), f.metadata.get("choices"))
