"""What a setting accepts, declared once on its dataclass field and checked at every edge.

Each field declares it (`setting`): its annotation gives the type (a bool is not an int, an int is a
float, a float must be finite) and a numeric field its range (`Range`, in the field's metadata), a
string field its choices; with ``option`` and ``help``, the command-line option that sets it
(`IMDb.cli` makes the option from the field: `imdb-leap train`'s from the model settings,
`analyze`'s and `compare`'s from `IMDb.analysis.settings`). `problem` checks one value against that
declaration, and every edge asks it: a settings dataclass itself when it is made (`Checked`), the
options and a model card's ``config`` (`IMDb.card.check_card`). Nothing lists the rules twice.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import Field, dataclass, field

from IMDb.errors import SettingError


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
            default_factory=dataclasses.MISSING, option: str | None = None, help: str | None = None,
            metavar: str | None = None):
    """A dataclass field with the range (or choices) its values must keep, read by `problem`; with
    `option`, the command-line option that sets it (`IMDb.cli.options.add_setting_options` makes it from
    the field, with `help` and, for a text option, the `metavar` its usage line shows)."""
    metadata = {"range": Range(low, high, open_low, open_high)} if low is not None or high is not None else {}
    if choices:
        metadata["choices"] = choices
    if option:
        metadata["option"], metadata["help"] = option, help
    if metavar:
        metadata["metavar"] = metavar
    return field(default=default, default_factory=default_factory, metadata=metadata)


def kinds(annotation: str) -> set[str]:
    """The type names of a field annotation such as ``int | None``."""
    return {k.strip() for k in annotation.split("|")}


def describe(annotation: str, rule: Range | None = None, choices: tuple[str, ...] | None = None) -> str:
    """What a value of the annotation (and range) must be, in words: ``a whole number >= 1``."""
    names = kinds(annotation)
    words = ("a whole number" if "int" in names else "a finite number" if "float" in names
             else "true or false" if "bool" in names else "a string" if "str" in names
             else "a list of strings" if "list[str]" in names else annotation)
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
    elif isinstance(value, list):
        fits = "list[str]" in names and all(isinstance(v, str) for v in value)
    else:
        fits = False
    return None if fits else describe(annotation, rule, choices)


def field_problem(f: Field, value: object, nullable: bool = False) -> str | None:
    """None if `value` fits field `f` (its annotation, range and choices; `nullable`: null is allowed
    too, as for the paths a card stores as null); else what it must be."""
    annotation = f.type + (" | None" if nullable else "")
    return problem(value, annotation, f.metadata.get("range"), f.metadata.get("choices"))


class Checked:
    """A settings dataclass whose every field is checked against its declaration when it is made
    (a field holding settings of its own, a dataclass, checked itself)."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if dataclasses.is_dataclass(getattr(self, f.name)):
                continue
            if (expected := field_problem(f, getattr(self, f.name))) is not None:
                raise SettingError(f"{f.name} must be {expected}, got {getattr(self, f.name)!r}")
