"""Per-review metadata for Tensorleap: plain functions of the review (and the model's tokenizer).

Each function is one concept; fields that belong together come back as one dict (the platform shows
them as ``<function>_<key>``). ``TYPES`` declares every field's type, so a missing value (``None``:
the label-dependent fields in the unlabeled state, a ratio over zero tokens) is never guessed.
TextBlob's sentiment (about a millisecond a review) is cached per review text, so the 100k reviews
are scored once per process however many passes the platform makes.
"""
from __future__ import annotations

import functools
import re

from code_loader.contract.enums import DatasetMetadataType as T

from IMDb.config.run import LABELS
from IMDb.text.tokenizer import Tokenizer
from IMDb.text.word_tokenizer import HTML_RESIDUE, split_words

NEUTRAL_RATING = 5.5  # midpoint of the 1-10 star scale
# Negators as the tokenizer writes them: lowercase, apostrophes deleted ("didn't" -> "didnt").
NEGATIONS = frozenset("""
    not no never none nobody nothing nowhere neither nor cannot without
    dont doesnt didnt isnt arent wasnt werent hasnt havent hadnt wont wouldnt cant couldnt
    shouldnt mustnt neednt aint
""".split())

# Cues of the linguistic phenomena the behavioural suite tests (`IMDb.behaviour`), as cleaned words.
CONTRAST_MARKERS = frozenset("but however although though yet whereas nevertheless nonetheless despite".split())
INTENSIFIERS = frozenset("very really extremely incredibly truly absolutely totally utterly highly remarkably "
                         "so too".split())
REDUCERS = frozenset("somewhat slightly fairly rather mildly barely hardly quite".split())
REDUCER_PHRASES = (("a", "bit"), ("kind", "of"), ("sort", "of"), ("a", "little"))
NEGATION_SCOPE = 3  # a sentiment word up to this many words after a negator, in the same clause, is negated
SENTIMENT_STRENGTH = 0.3  # |polarity| in TextBlob's lexicon from which a word counts as a sentiment word
_CLAUSE = re.compile(r"[.,;:!?()]+")

TYPES: dict[str, T | dict[str, T]] = {
    "label": T.string,
    "rating": {"stars": T.int, "score_confidence": T.float},
    "length": {"chars": T.int, "words": T.int},
    "tokens": {"count": T.int, "truncated": T.boolean},
    "oov": {"count": T.int, "ratio": T.float},
    "textblob": {"polarity": T.float, "subjectivity": T.float},
    "html_residue": T.int,
    "punctuation": {"exclamation_marks": T.int, "question_marks": T.int},
    "negations": T.int,
    "phenomena": {"negated_sentiment": T.int, "contrast_markers": T.int, "intensifiers": T.int, "reducers": T.int},
}
LABEL_DEPENDENT = {"label": None, "rating": ("stars", "score_confidence")}  # None in the unlabeled state


def label(label_id: int | None) -> str | None:
    """The ground-truth class name, None without a label."""
    return None if label_id is None else LABELS[label_id]


def rating(stars: int | None) -> dict:
    """The star rating and its distance from neutral, |stars - 5.5| (0.5 to 4.5): how decided the
    reviewer was. None without a label."""
    if stars is None:
        return {"stars": None, "score_confidence": None}
    return {"stars": int(stars), "score_confidence": abs(float(stars) - NEUTRAL_RATING)}


def length(text: str) -> dict:
    """The review as written: its characters, and its whitespace-separated words once HTML residue
    is removed (punctuation stays attached: "well-made," is one word, two tokens)."""
    return {"chars": len(text), "words": len(HTML_RESIDUE.sub(" ", text).split())}


def tokens(text: str, tokenizer: Tokenizer) -> dict:
    """Tokens the model's tokenizer makes of the whole review, and whether the input cuts it off."""
    count = tokenizer.count(text)
    return {"count": count, "truncated": count > tokenizer.max_tokens}


def oov(text: str, tokenizer: Tokenizer) -> dict:
    """Out-of-vocabulary tokens of the whole review, and their share of its tokens."""
    count, total = tokenizer.oov_count(text), tokenizer.count(text)
    return {"count": count, "ratio": count / total if total else None}


def textblob(text: str) -> dict:
    """TextBlob's (pattern lexicon) polarity in [-1, 1] and subjectivity in [0, 1] of the review,
    HTML residue removed. Needs no NLTK corpora."""
    polarity, subjectivity = _textblob_scores(text)
    return {"polarity": polarity, "subjectivity": subjectivity}


@functools.lru_cache(maxsize=None)
def _textblob_scores(text: str) -> tuple[float, float]:
    # What TextBlob(text).sentiment returns, from the analyzer it calls: building the TextBlob and
    # the namedtuple class it makes per call took a third of the time.
    from textblob.en import sentiment

    polarity, subjectivity = sentiment(HTML_RESIDUE.sub(" ", text))
    return float(polarity), float(subjectivity)


def textblob_cache_info():
    return _textblob_scores.cache_info()


def html_residue(text: str) -> int:
    """HTML tags and entities left in the text (mostly ``<br />`` line breaks)."""
    return len(HTML_RESIDUE.findall(text))


def punctuation(text: str) -> dict:
    return {"exclamation_marks": text.count("!"), "question_marks": text.count("?")}


def negations(text: str) -> int:
    """Negation words (``NEGATIONS``) among the review's cleaned words."""
    return sum(word in NEGATIONS for word in split_words(text))


@functools.lru_cache(maxsize=1)
def sentiment_strength() -> dict[str, float]:
    """Each word's strength of sentiment in TextBlob's lexicon (pattern's en-sentiment.xml),
    |polarity| in [0, 1], by lowercase word."""
    from textblob.en import sentiment as lexicon

    strength = {}
    for word, senses in lexicon.items():
        averaged = senses.get(None) if isinstance(senses, dict) else None
        if averaged:
            strength[word.lower()] = min(abs(float(averaged[0])), 1.0)
    return strength


def phenomena(text: str) -> dict:
    """Counts a platform user can slice by for the suite's capabilities: sentiment words within
    `NEGATION_SCOPE` words after a negator in the same clause ("not very good", "didn't enjoy"),
    contrast markers (but, although, ...), intensifiers (very, extremely, ...) and reducers
    (somewhat, a bit, ...)."""
    strength = sentiment_strength()
    negated = contrast = intensifiers = reducers = 0
    for clause in _CLAUSE.split(HTML_RESIDUE.sub(" ", text)):
        words = split_words(clause)
        last_negator = None
        for i, word in enumerate(words):
            if word in NEGATIONS:
                last_negator = i
            elif last_negator is not None and i - last_negator <= NEGATION_SCOPE \
                    and strength.get(word, 0.0) >= SENTIMENT_STRENGTH:
                negated += 1
                last_negator = None  # one negator negates one sentiment word
            contrast += word in CONTRAST_MARKERS
            intensifiers += word in INTENSIFIERS
            reducers += word in REDUCERS or tuple(words[i:i + 2]) in REDUCER_PHRASES
    return {"negated_sentiment": negated, "contrast_markers": contrast, "intensifiers": intensifiers,
            "reducers": reducers}


def text_fields(text: str) -> dict[str, object]:
    """The values that depend on the review's text alone, by function name: the same for every
    model, so the analysis computes them once per text (`IMDb.analysis.cache`)."""
    return {"length": length(text), "textblob": textblob(text), "html_residue": html_residue(text),
            "punctuation": punctuation(text), "negations": negations(text), "phenomena": phenomena(text)}


def tokenizer_fields(text: str, tokenizer: Tokenizer) -> dict[str, object]:
    """The values that depend on the model's tokenizer too, by function name."""
    return {"tokens": tokens(text, tokenizer), "oov": oov(text, tokenizer)}


def all_fields(review, tokenizer: Tokenizer) -> dict[str, object]:
    """Every metadata function's value for one review, by function name in ``TYPES`` order (for
    tests and reports)."""
    fields = {"label": label(review.label), "rating": rating(review.rating), **text_fields(review.text),
              **tokenizer_fields(review.text, tokenizer)}
    return {name: fields[name] for name in TYPES}


_PYTHON_TYPES = {T.string: (str,), T.int: (int,), T.float: (float,), T.boolean: (bool,)}


def type_problems(name: str, value, labeled: bool = True) -> list[str]:
    """Why `value` (what metadata function `name` returned) does not match ``TYPES``; [] if it does.

    None is accepted only where a value is missing by definition: label-dependent fields without a
    label, and the OOV ratio of a review with no tokens.
    """
    declared = TYPES[name]
    if not isinstance(declared, dict):
        return _check(name, value, declared, may_be_none=not labeled and name in LABEL_DEPENDENT)
    if not isinstance(value, dict) or set(value) != set(declared):
        return [f"{name}: expected keys {sorted(declared)}, got {value!r}"]
    problems = []
    for key, kind in declared.items():
        may_be_none = (not labeled and key in (LABEL_DEPENDENT.get(name) or ())) or (name, key) == ("oov", "ratio")
        problems += _check(f"{name}_{key}", value[key], kind, may_be_none)
    return problems


def _check(field: str, value, kind: T, may_be_none: bool) -> list[str]:
    if value is None:
        return [] if may_be_none else [f"{field}: None where a {kind.value} is required"]
    ok = isinstance(value, _PYTHON_TYPES[kind]) and not (kind is T.int and isinstance(value, bool))
    return [] if ok else [f"{field}: expected {kind.value}, got {type(value).__name__} {value!r}"]
