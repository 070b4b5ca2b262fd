"""The model registry: each model name and its family (`IMDb.families.base.Family`).

The one place that knows which family a model belongs to. A new model is one entry here; a new
kind of model is one module beside these plus its entries, and its toolkit (`IMDb.toolkits`);
`register` adds one at run time, as the toy-family test does.
"""
from __future__ import annotations

import dataclasses
from dataclasses import Field

from IMDb.config.run import RUN_FIELDS, Config
from IMDb.errors import ModelError
from IMDb.families.base import Family
from IMDb.families.bert import BERT, BERT_INT8
from IMDb.families.words import CNN, DENSE

REGISTRY: dict[str, Family] = {f.name: f for f in (DENSE, CNN, BERT, BERT_INT8)}


def register(family: Family) -> None:
    """Serve `family` under its name (its preset and what its bundle holds)."""
    REGISTRY[family.name] = family


def names(trainable: bool | None = None) -> tuple[str, ...]:
    """Every model name, or only the trainable ones (or only the derived ones, with False)."""
    return tuple(n for n, f in REGISTRY.items() if trainable is None or f.trainable == trainable)


def get(name: str) -> Family:
    """The family instance of model `name`; a ModelError lists the models there are."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; choose one of {', '.join(REGISTRY)}") from None


def config(name: str, **overrides) -> Config:
    """The settings of model `name`: its preset with `overrides` on top (`Family.config`)."""
    return get(name).config(**overrides)


def setting_fields() -> dict[str, Field]:
    """Every setting a model run can have, by name: the run settings and each family's own
    (`Family.config_class`), where two families declare a name alike (``seq_len``)."""
    fields = dict(RUN_FIELDS)
    for family in REGISTRY.values():
        fields.update({f.name: f for f in dataclasses.fields(family.config_class) if f.name not in fields})
    return fields
