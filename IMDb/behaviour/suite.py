"""The behavioural tests: capabilities of a movie-review sentiment model, each as templates that a
seed expands into cases.

Every test runs twice: on its short texts, and with each text set inside a carrier paragraph of
sentiment-neutral sentences (about 150 words, a typical review's length), so a failure cannot be
put down to short texts being unlike the training reviews.

- MFT: a case is one text and the label it must get.
- INV: a case is a text and a perturbed copy (another name, a typo, ``<br />``...); the predicted
  label must not change.
- DIR: a case is a text and the same text with a clearly positive (negative) sentence appended;
  p(positive) must not fall (rise) by more than `scoring.DIR_TOLERANCE`.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from IMDb.behaviour.lexicon import LEXICON, NEGATIVE_SENTENCES, NEUTRAL_SENTENCES, POSITIVE_SENTENCES

NEG, POS = 0, 1
CASES_PER_TEST = 100
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_ARTICLE = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")
CARRIER_SENTENCES = 5  # neutral sentences on each side of a case's text: about 150 words in all


@dataclass(frozen=True)
class Case:
    texts: tuple[str, ...]  # MFT: (text,); INV and DIR: (text, changed text)
    expected: int  # MFT: the label; DIR: +1 (p(positive) must not fall) or -1; INV: 0


@dataclass(frozen=True)
class Test:
    name: str
    capability: str
    kind: str  # "MFT", "INV" or "DIR"
    description: str
    cases: tuple[Case, ...]

    def in_carrier(self, seed: int) -> "Test":
        """The same cases, each text inside one neutral paragraph (the same one for both texts of
        an INV or DIR case, so only the change under test differs)."""
        rng = generator(seed, self.name + "/carrier")
        cases = []
        for case in self.cases:
            before, after = carrier(rng)
            cases.append(Case(tuple(f"{before} {t} {after}" for t in case.texts), case.expected))
        return Test(self.name, self.capability, self.kind, self.description, tuple(cases))


def generator(seed: int, name: str) -> np.random.Generator:
    """One generator per test: adding or reordering tests changes no other test's cases."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def fill(template: str, rng: np.random.Generator, fixed: dict[str, str] | None = None) -> tuple[str, dict]:
    """The template with one word drawn per placeholder (repeated placeholders get the same word),
    and the words drawn."""
    words = dict(fixed or {})
    for key in _PLACEHOLDER.findall(template):
        if key not in words:
            words[key] = str(rng.choice(LEXICON[key]))
    return _ARTICLE.sub(r"\1n ", template.format(**words)), words


def carrier(rng: np.random.Generator) -> tuple[str, str]:
    """`CARRIER_SENTENCES` neutral sentences before a case's text and as many after it."""
    chosen = [fill(NEUTRAL_SENTENCES[i], rng)[0]
              for i in rng.choice(len(NEUTRAL_SENTENCES), size=2 * CARRIER_SENTENCES, replace=False)]
    return " ".join(chosen[:CARRIER_SENTENCES]), " ".join(chosen[CARRIER_SENTENCES:])


def distinct(make: Callable[[], Case | None], n: int) -> tuple[Case, ...]:
    """Up to `n` distinct cases (fewer when the templates cannot make more)."""
    cases, seen = [], set()
    for _ in range(n * 50):
        case = make()
        if case is not None and case.texts not in seen:
            seen.add(case.texts)
            cases.append(case)
            if len(cases) == n:
                break
    return tuple(cases)


def mft(templates: list[tuple[str, int]], rng: np.random.Generator, n: int) -> tuple[Case, ...]:
    def make() -> Case:
        template, label = templates[rng.integers(len(templates))]
        return Case((fill(template, rng)[0],), label)
    return distinct(make, n)


def inv_swap(templates: list[str], key: str, rng: np.random.Generator, n: int) -> tuple[Case, ...]:
    """The same text with the word at `key` (a name, a title, a number) replaced by another."""
    def make() -> Case:
        template = templates[rng.integers(len(templates))]
        text, words = fill(template, rng)
        other = str(rng.choice([w for w in LEXICON[key] if w != words[key]]))
        return Case((text, fill(template, rng, {**words, key: other})[0]), 0)
    return distinct(make, n)


def inv_perturb(templates: list[str], perturb: Callable[[str, np.random.Generator], str],
                rng: np.random.Generator, n: int) -> tuple[Case, ...]:
    def make() -> Case | None:
        text = fill(templates[rng.integers(len(templates))], rng)[0]
        changed = perturb(text, rng)
        return Case((text, changed), 0) if changed != text else None
    return distinct(make, n)


def dir_append(templates: list[str], sentences: list[str], direction: int, rng: np.random.Generator,
               n: int) -> tuple[Case, ...]:
    def make() -> Case:
        text = fill(templates[rng.integers(len(templates))], rng)[0]
        return Case((text, f"{text} {rng.choice(sentences)}"), direction)
    return distinct(make, n)


# --------------------------------------------------------------------------- perturbations


def typos(text: str, rng: np.random.Generator) -> str:
    """One or two swaps of adjacent letters inside words of four letters or more."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(re.sub(r"\W", "", w)) >= 4]
    for i in rng.choice(long, size=min(len(long), int(rng.integers(1, 3))), replace=False):
        w = words[i]
        j = int(rng.integers(0, len(w.rstrip(".,!?")) - 1))
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def casing(text: str, rng: np.random.Generator) -> str:
    return text.upper() if rng.random() < 0.5 else text.lower()


def punctuation(text: str, rng: np.random.Generator) -> str:
    stripped = text.rstrip(".!?")
    return stripped + str(rng.choice(["", "!", "!!", "...", " ."]))


CONTRACTIONS = {"is not": "isn't", "was not": "wasn't", "did not": "didn't", "do not": "don't",
                "does not": "doesn't", "can not": "can't", "I am": "I'm", "it is": "it's", "It is": "It's"}


def contractions(text: str, rng: np.random.Generator) -> str:
    """Contract what is written out, or write out what is contracted."""
    for full, short in CONTRACTIONS.items():
        if full in text:
            return text.replace(full, short)
        if short in text:
            return text.replace(short, full)
    return text


def html_residue(text: str, rng: np.random.Generator) -> str:
    """``<br /><br />`` between sentences, as the IMDb reviews carry it."""
    return re.sub(r"([.!?]) ", r"\1<br /><br />", text, count=1) if ". " in text else text + "<br /><br />"


# --------------------------------------------------------------------------- the suite

# two-sentence reviews with a name, a title and a number, of either sentiment (INV and DIR bases)
BASES = [
    "{name} plays a {role} in {title}. The {aspect} is {pos}.",
    "{name} plays a {role} in {title}. The {aspect} is {neg}.",
    "I saw {title} {n} times. It is {pos}.",
    "I saw {title} {n} times. It is {neg}.",
    "{title} was made in {year} by {name}. I did not think it was {neg}.",
    "{title} was made in {year} by {name}. I do not think it is {pos}.",
    "{name} is {pos} as the {role}, and the {aspect} is {int} {pos} too.",
    "{name} is {neg} as the {role}, and the {aspect} is {int} {neg} too.",
]


def _tests(seed: int, n: int) -> list[Test]:
    spec = [*_word_and_negation_tests(n), *_contrast_and_praise_tests(n), *_invariance_and_direction_tests(n)]
    return [Test(name, capability, kind, description, make(generator(seed, name)))
            for name, capability, kind, description, make in spec]


def _word_and_negation_tests(n: int) -> list[tuple]:
    """(name, capability, kind, description, make(rng)) of the vocabulary, intensifier and negation tests."""
    return [
        ("vocabulary_positive", "vocabulary", "MFT", "a positive word about the film",
         lambda r: mft([("The {film} was {pos}.", POS), ("This is a {pos} {film}.", POS),
                        ("The {aspect} is {pos}.", POS), ("What a {pos} {film}!", POS)], r, n)),
        ("vocabulary_negative", "vocabulary", "MFT", "a negative word about the film",
         lambda r: mft([("The {film} was {neg}.", NEG), ("This is a {neg} {film}.", NEG),
                        ("The {aspect} is {neg}.", NEG), ("What a {neg} {film}!", NEG)], r, n)),
        ("intensifiers", "intensifiers and reducers", "MFT", "very good, extremely boring",
         lambda r: mft([("The {film} was {int} {pos}.", POS), ("The {aspect} is {int} {neg}.", NEG),
                        ("An {int} {pos} {film}.", POS), ("An {int} {neg} {film}.", NEG)], r, n)),
        ("reducers", "intensifiers and reducers", "MFT", "somewhat good, a bit boring: the sign stays",
         lambda r: mft([("The {film} was {red} {pos}.", POS), ("The {aspect} is {red} {neg}.", NEG),
                        ("I found it {red} {pos}.", POS), ("I found it {red} {neg}.", NEG)], r, n)),
        ("negated_positive", "negation", "MFT", "not good is negative",
         lambda r: mft([("The {film} was not {pos}.", NEG), ("This {film} is not {pos} at all.", NEG),
                        ("I did not find the {aspect} {pos}.", NEG), ("The {aspect} was never {pos}.", NEG)],
                       r, n)),
        ("negated_negative", "negation", "MFT", "not bad is positive",
         lambda r: mft([("The {film} was not {neg}.", POS), ("The {aspect} is not {neg} at all.", POS),
                        ("I did not find the {aspect} {neg}.", POS), ("This {film} is never {neg}.", POS)],
                       r, n)),
        ("negation_scope", "negation", "MFT", "the negation governs a later sentiment word",
         lambda r: mft([("I don't think the {aspect} was {pos}.", NEG),
                        ("I wouldn't say this {film} is {pos}.", NEG),
                        ("Nobody would call this {film} {pos}.", NEG),
                        ("I don't think anyone could call the {aspect} {neg}.", POS)], r, n)),
        ("double_negation", "negation", "MFT", "two negations cancel",
         lambda r: mft([("I can't say I didn't enjoy this {film}.", POS),
                        ("I can't say the {aspect} was not {pos}.", POS),
                        ("It is not true that the {film} was not {pos}.", POS),
                        ("I can't say the {aspect} wasn't {neg}.", NEG)], r, n)),
    ]


def _contrast_and_praise_tests(n: int) -> list[tuple]:
    """The contrast, comparison, temporal shift and faint praise tests, as `_word_and_negation_tests`."""
    return [
        ("contrast_but", "contrast", "MFT", "the clause after 'but' decides",
         lambda r: mft([("The {aspect} was {neg}, but overall the {film} is {pos}.", POS),
                        ("The {aspect} was {pos}, but overall the {film} is {neg}.", NEG),
                        ("The {aspect} is {pos}, yet the {film} is {neg}.", NEG),
                        ("The {aspect} is {neg}, yet the {film} is {pos}.", POS)], r, n)),
        ("contrast_although", "contrast", "MFT", "the main clause decides, not the concession",
         lambda r: mft([("Although the {aspect} was {pos}, the {film} was {neg}.", NEG),
                        ("Although the {aspect} was {neg}, the {film} was {pos}.", POS),
                        ("Even though the {aspect} is {neg}, I thought the {film} was {pos}.", POS),
                        ("Even though the {aspect} is {pos}, I thought the {film} was {neg}.", NEG)], r, n)),
        ("only_good_thing", "contrast", "MFT", "'the only good thing' condemns the rest",
         lambda r: mft([("The only good thing about this {film} was the {aspect}.", NEG),
                        ("The only {pos} part of this {film} was the {aspect}.", NEG),
                        ("The only bad thing about this {film} was the {aspect}.", POS),
                        ("The only {neg} part of this {film} was the {aspect}.", POS)], r, n)),
        ("comparison", "comparison", "MFT", "better or worse than another film",
         lambda r: mft([("This {film} is much worse than {title}.", NEG),
                        ("This {film} is far better than {title}.", POS),
                        ("{title} was {pos}, but this {film} is worse in every way.", NEG),
                        ("{title} was {neg}, but this {film} is better in every way.", POS)], r, n)),
        ("temporal_shift", "temporal shift", "MFT", "what the reviewer thinks now decides",
         lambda r: mft([("I used to love films by {name}, but this one is {neg}.", NEG),
                        ("I used to think {name} was {neg}, but this {film} is {pos}.", POS),
                        ("At first the {aspect} seemed {neg}, but it turned out {pos}.", POS),
                        ("At first the {aspect} seemed {pos}, but it turned out {neg}.", NEG)], r, n)),
        ("faint_praise", "faint praise", "MFT", "mild words that mean a poor film",
         lambda r: mft([("Mildly entertaining, not brilliant.", NEG), ("At least the {aspect} was okay.", NEG),
                        ("The {aspect} was passable at best.", NEG),
                        ("It was watchable, I suppose, but nothing more.", NEG),
                        ("Not the worst {film} I have seen, but close.", NEG),
                        ("The best I can say is that the {aspect} was not {neg}.", NEG)], r, n)),
        ("wasted_cast", "faint praise", "MFT", "a good cast wasted is a bad film",
         lambda r: mft([("What a waste of a {cast_adj} cast.", NEG), ("{name} deserved a better script.", NEG),
                        ("A {cast_adj} cast cannot save this {film}.", NEG),
                        ("Even {name} could not save this {film}.", NEG)], r, n)),
    ]


def _invariance_and_direction_tests(n: int) -> list[tuple]:
    """The invariance (INV) and directional (DIR) tests, as `_word_and_negation_tests`."""
    return [
        ("inv_names", "invariance", "INV", "another person's name",
         lambda r: inv_swap(BASES[:2] + BASES[4:], "name", r, n)),
        ("inv_titles", "invariance", "INV", "another film title",
         lambda r: inv_swap(BASES[:6], "title", r, n)),
        ("inv_numbers", "invariance", "INV", "another number",
         lambda r: inv_swap(BASES[2:4], "n", r, n)),
        ("inv_typos", "invariance", "INV", "one or two swapped letters",
         lambda r: inv_perturb(BASES, typos, r, n)),
        ("inv_casing", "invariance", "INV", "all upper or all lower case",
         lambda r: inv_perturb(BASES, casing, r, n)),
        ("inv_punctuation", "invariance", "INV", "the final punctuation changed",
         lambda r: inv_perturb(BASES, punctuation, r, n)),
        ("inv_contractions", "invariance", "INV", "is not / isn't, did not / didn't",
         lambda r: inv_perturb(BASES[4:6], contractions, r, n)),
        ("inv_html", "invariance", "INV", "<br /> residue between sentences",
         lambda r: inv_perturb(BASES, html_residue, r, n)),
        ("dir_add_positive", "directional", "DIR", "a clearly positive sentence appended",
         lambda r: dir_append(BASES, POSITIVE_SENTENCES, +1, r, n)),
        ("dir_add_negative", "directional", "DIR", "a clearly negative sentence appended",
         lambda r: dir_append(BASES, NEGATIVE_SENTENCES, -1, r, n)),
    ]


def generate(seed: int = 0, n: int = CASES_PER_TEST) -> list[Test]:
    """Every test with up to `n` distinct cases, the same for the same seed."""
    return _tests(seed, n)
