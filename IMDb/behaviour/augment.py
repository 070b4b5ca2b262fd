"""Training sentences in the suite's style, from templates disjoint from the evaluation ones.

They teach negation, contrast and faint praise with sentence frames the behavioural suite never
uses (a test checks no frame is shared and no generated sentence is a suite case), so a lower
failure rate after training on them is not the suite's own sentences memorised.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from IMDb.behaviour.suite import NEG, POS, Case, distinct, fill, generator

TEMPLATES: list[tuple[str, int]] = [
    ("Honestly, the {aspect} isn't {pos} in the slightest.", NEG),
    ("The {aspect} was hardly {pos}.", NEG),
    ("There is nothing {pos} about this {film}.", NEG),
    ("Calling this {film} {pos} would be a lie.", NEG),
    ("The {aspect} is far from {pos}.", NEG),
    ("Nothing about the {aspect} was {neg}.", POS),
    ("The {aspect} is far from {neg}.", POS),
    ("You could never call the {aspect} {neg}.", POS),
    ("The {aspect} wasn't {neg} for a second.", POS),
    ("Despite a {pos} {aspect}, the {film} itself is {neg}.", NEG),
    ("Despite a {neg} {aspect}, the {film} itself is {pos}.", POS),
    ("The {aspect} had promise; however, the {film} ends up {neg}.", NEG),
    ("The {aspect} felt {neg} early on; however, the {film} ends up {pos}.", POS),
    ("Its one redeeming feature is the {aspect}.", NEG),
    ("Apart from the {aspect}, there is little to like here.", NEG),
    ("Apart from a {neg} {aspect}, there is a lot to like here.", POS),
    ("It's fine, I guess, if you have nothing better to do.", NEG),
    ("Serviceable, but instantly forgettable.", NEG),
    ("Competent enough, yet it never comes alive.", NEG),
    ("Once I loved {name}, but here the {aspect} is {neg}.", NEG),
    ("I once disliked {name}, but here the {aspect} is {pos}.", POS),
    ("It is a lot worse than {title} ever was.", NEG),
    ("It beats {title} by a mile.", POS),
    ("All that talent, and the {film} is still {neg}.", NEG),
]


def sentences(n: int, seed: int = 0) -> pd.DataFrame:
    """Up to `n` distinct sentences (text, label) drawn from `TEMPLATES` with `seed`."""
    rng = generator(seed, "augmentation")

    def make() -> Case:
        template, label = TEMPLATES[rng.integers(len(TEMPLATES))]
        return Case((fill(template, rng)[0],), label)

    cases = distinct(make, n)
    return pd.DataFrame({"text": [c.texts[0] for c in cases],
                         "label": np.array([c.expected for c in cases], dtype=np.int64)})
