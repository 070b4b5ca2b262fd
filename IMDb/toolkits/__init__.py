"""The toolkit registry: each family kind and what makes and explains its models
(`IMDb.toolkits.base.Toolkit`).

The toolkit layer's counterpart of `IMDb.families`: `imdb-leap train` and the analysis ask `of(family)`
for the toolkit of a model's family. A new kind of model registers its toolkit here (`register`
adds one at run time, as the toy-family test does).
"""
from __future__ import annotations

from IMDb import families
from IMDb.config.run import Config
from IMDb.errors import ModelError
from IMDb.families.base import Family
from IMDb.toolkits.base import Toolkit
from IMDb.toolkits.bert import BertToolkit
from IMDb.toolkits.words import WordToolkit

REGISTRY: dict[str, Toolkit] = {"words": WordToolkit(), "bert": BertToolkit()}


def register(kind: str, toolkit: Toolkit) -> None:
    """Make and explain the models of family kind `kind` with `toolkit`."""
    REGISTRY[kind] = toolkit


def of(family: Family) -> Toolkit:
    """The toolkit of `family`'s kind; a ModelError names the kinds there are."""
    try:
        return REGISTRY[family.kind]
    except KeyError:
        raise ModelError(f"no toolkit for {family.name}'s family {family.kind!r}; "
                         f"there are toolkits for {', '.join(REGISTRY)}") from None


def train(cfg: Config, restart: bool = False) -> dict:
    """Train `cfg.model` with its family's toolkit (`Toolkit.train`); return the card."""
    family = families.get(cfg.model)
    return of(family).train(family, cfg, restart)
