"""Training texts in the suite's style, from templates and carrier paragraphs disjoint from the evaluation ones.

They teach negation (plain, over a later sentiment word, doubled), hedged sentiment words, contrast
and faint praise with sentence frames the behavioural suite never uses, and about half of them sit
inside a neutral paragraph of this module's own sentences, as the suite's second pass puts its cases
inside its carrier paragraphs. Tests check that no frame or carrier sentence is the suite's and no
generated text contains a suite case, so a lower failure rate after training on them is not the
suite's own sentences memorised.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from IMDb.behaviour.suite import NEG, POS, Case, distinct, fill, generator

TEMPLATES: list[tuple[str, int]] = [
    # negation: a plain negator before a positive or a negative word
    ("Honestly, the {aspect} isn't {pos} in the slightest.", NEG),
    ("The {aspect} was hardly {pos}.", NEG),
    ("There is nothing {pos} about this {film}.", NEG),
    ("Calling this {film} {pos} would be a lie.", NEG),
    ("The {aspect} is far from {pos}.", NEG),
    ("Sadly, this {film} isn't {pos}.", NEG),
    ("It was not a {pos} {film}.", NEG),
    ("No part of the {aspect} is {pos}.", NEG),
    ("The {aspect} never once felt {pos} to me.", NEG),
    ("People told me it was {pos}; it isn't.", NEG),
    ("Nothing about the {aspect} was {neg}.", POS),
    ("The {aspect} is far from {neg}.", POS),
    ("You could never call the {aspect} {neg}.", POS),
    ("The {aspect} wasn't {neg} for a second.", POS),
    ("Happily, this {film} isn't {neg}.", POS),
    ("It was not a {neg} {film}.", POS),
    ("No part of the {aspect} is {neg}.", POS),
    ("The {aspect} never once felt {neg} to me.", POS),
    ("People told me it was {neg}; it isn't.", POS),
    # negation scope: the negator governs a sentiment word later in the sentence
    ("I don't believe the {aspect} is {pos}.", NEG),
    ("I didn't feel that the {film} was {pos}.", NEG),
    ("No one I know found the {aspect} {pos}.", NEG),
    ("I wouldn't describe the {aspect} as {pos}.", NEG),
    ("Not for a moment did I find the {film} {pos}.", NEG),
    ("I don't believe the {aspect} is {neg}.", POS),
    ("I didn't feel that the {film} was {neg}.", POS),
    ("No one I know found the {aspect} {neg}.", POS),
    ("I wouldn't describe the {aspect} as {neg}.", POS),
    ("Not for a moment did I find the {film} {neg}.", POS),
    # double negation: two negations cancel
    ("It's not as if the {aspect} wasn't {pos}.", POS),
    ("Nobody could deny that the {aspect} is {pos}.", POS),
    ("I never found the {aspect} anything but {pos}.", POS),
    ("I didn't dislike a single scene of this {film}.", POS),
    ("It's not as if the {aspect} wasn't {neg}.", NEG),
    ("Nobody could deny that the {aspect} is {neg}.", NEG),
    ("I never found the {aspect} anything but {neg}.", NEG),
    ("I won't pretend the {aspect} wasn't {pos}.", POS),
    ("It would be wrong to say the {film} wasn't {pos}.", POS),
    ("You can't tell me the {aspect} isn't {pos}.", POS),
    ("I couldn't honestly claim that I disliked this {film}.", POS),
    ("I won't pretend the {aspect} wasn't {neg}.", NEG),
    ("It would be wrong to say the {film} wasn't {neg}.", NEG),
    ("You can't tell me the {aspect} isn't {neg}.", NEG),
    # reducers: a hedge softens a sentiment word but keeps its sign
    ("Overall, the {aspect} felt {red} {pos} to me.", POS),
    ("Overall, the {aspect} felt {red} {neg} to me.", NEG),
    ("In my view the {film} turned out {red} {pos}.", POS),
    ("In my view the {film} turned out {red} {neg}.", NEG),
    # contrast
    ("Despite a {pos} {aspect}, the {film} itself is {neg}.", NEG),
    ("Despite a {neg} {aspect}, the {film} itself is {pos}.", POS),
    ("The {aspect} had promise; however, the {film} ends up {neg}.", NEG),
    ("The {aspect} felt {neg} early on; however, the {film} ends up {pos}.", POS),
    ("While the {aspect} is {pos}, the {film} as a whole is {neg}.", NEG),
    ("While the {aspect} is {neg}, the {film} as a whole is {pos}.", POS),
    ("Its one redeeming feature is the {aspect}.", NEG),
    ("Apart from the {aspect}, there is little to like here.", NEG),
    ("Apart from a {neg} {aspect}, there is a lot to like here.", POS),
    # faint praise
    ("It's fine, I guess, if you have nothing better to do.", NEG),
    ("Serviceable, but instantly forgettable.", NEG),
    ("Competent enough, yet it never comes alive.", NEG),
    # temporal shift and comparison
    ("Once I loved {name}, but here the {aspect} is {neg}.", NEG),
    ("I once disliked {name}, but here the {aspect} is {pos}.", POS),
    ("It is a lot worse than {title} ever was.", NEG),
    ("It beats {title} by a mile.", POS),
    ("All that talent, and the {film} is still {neg}.", NEG),
]

# sentiment-neutral sentences the paragraphs around a generated sentence are made of (none is the suite's)
CARRIER: list[str] = [
    "I rented this one after reading a short piece about it in a magazine.",
    "The story is set in a mountain village during the winter of {year}.",
    "The running time is a little under two hours.",
    "It was produced by a small independent studio.",
    "Most of the dialogue is in English, with a few scenes in French.",
    "The credits list {name} as one of the producers.",
    "My copy was a secondhand tape from a local shop.",
    "The first scene shows a wedding in a crowded church.",
    "A few of the extras were residents of the town where it was shot.",
    "The story moves back and forth between {year} and the present day.",
    "It was on television late one night last month.",
    "The main character is a {role} with a large family.",
    "There is a subplot about two neighbours and a disputed fence.",
    "I had not heard of {title} before a friend lent me the disc.",
    "It was released under a different title in some countries.",
    "Most of the actors were new to the screen at the time.",
    "The director previously made documentaries about railways.",
    "The last third takes place on a ship crossing the Atlantic.",
]
IN_PARAGRAPH = 0.5  # share of the generated sentences placed inside a carrier paragraph
PARAGRAPH_SENTENCES = (4, 12)  # fewest and most carrier sentences around one (40 to 150 words)


def paragraph(text: str, rng: np.random.Generator) -> str:
    """`text` at a random place among a random number of distinct `CARRIER` sentences."""
    count = int(rng.integers(PARAGRAPH_SENTENCES[0], PARAGRAPH_SENTENCES[1] + 1))
    chosen = [fill(CARRIER[i], rng)[0] for i in rng.choice(len(CARRIER), size=count, replace=False)]
    chosen.insert(int(rng.integers(count + 1)), text)
    return " ".join(chosen)


def sentences(n: int, seed: int = 0) -> pd.DataFrame:
    """Up to `n` distinct texts (text, label) drawn from `TEMPLATES` with `seed`, an `IN_PARAGRAPH`
    share of them inside a carrier paragraph."""
    rng = generator(seed, "augmentation")

    def make() -> Case:
        template, label = TEMPLATES[rng.integers(len(TEMPLATES))]
        text = fill(template, rng)[0]
        return Case((paragraph(text, rng) if rng.random() < IN_PARAGRAPH else text,), label)

    cases = distinct(make, n)
    return pd.DataFrame({"text": [c.texts[0] for c in cases],
                         "label": np.array([c.expected for c in cases], dtype=np.int64)})
