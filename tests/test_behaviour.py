"""The behavioural suite: deterministic for a seed, big enough, well-formed cases, and scoring that
gives a toy model with known behaviour exactly the failure rates it must get."""
import re

import numpy as np
import pytest

from IMDb.behaviour import augment, scoring, suite
from IMDb.behaviour.lexicon import LEXICON, NEUTRAL_SENTENCES
from IMDb.behaviour.suite import fill


@pytest.fixture(scope="module")
def tests():
    return suite.generate(seed=0)


def test_the_suite_is_deterministic_for_a_seed(tests):
    again = suite.generate(seed=0)
    assert [t.cases for t in again] == [t.cases for t in tests]
    assert [t.in_carrier(0).cases for t in again[:3]] == [t.in_carrier(0).cases for t in tests[:3]]
    other = suite.generate(seed=1)
    assert [t.cases for t in other] != [t.cases for t in tests]


def test_size_and_coverage(tests):
    assert len(tests) >= 15 and sum(len(t.cases) for t in tests) >= 2000
    assert {t.kind for t in tests} == {"MFT", "INV", "DIR"}
    capabilities = {t.capability for t in tests}
    assert {"vocabulary", "intensifiers and reducers", "negation", "contrast", "comparison", "temporal shift",
            "faint praise", "invariance", "directional"} <= capabilities
    assert len({t.name for t in tests}) == len(tests)
    for t in tests:
        assert len(set(c.texts for c in t.cases)) == len(t.cases)  # distinct cases
        assert all(len(c.texts) == (1 if t.kind == "MFT" else 2) for c in t.cases)
        assert all("{" not in text for c in t.cases for text in c.texts)  # every placeholder filled
    assert "Mildly entertaining, not brilliant." in {c.texts[0] for t in tests for c in t.cases}


def test_perturbations_change_only_what_they_say(tests):
    by_name = {t.name: t for t in tests}
    for case in by_name["inv_casing"].cases:
        assert case.texts[1].lower() == case.texts[0].lower()
    for case in by_name["inv_html"].cases:
        assert "<br /><br />" in case.texts[1] and case.texts[1].replace("<br /><br />", " ").replace("  ", " ") \
            .strip() == case.texts[0]
    for case in by_name["inv_names"].cases:
        assert sum(a != b for a, b in zip(case.texts[0].split(), case.texts[1].split())) <= 2
    for case in by_name["dir_add_positive"].cases:
        assert case.texts[1].startswith(case.texts[0]) and case.expected == 1


def test_carrier_paragraphs_are_review_length_and_neutral_words_only(tests):
    carried = tests[0].in_carrier(0)
    for case, short in zip(carried.cases, tests[0].cases):
        text = case.texts[0]
        assert short.texts[0] in text and 100 <= len(text.split()) <= 220
        assert not set(LEXICON["pos"] + LEXICON["neg"]) & set(text.replace(short.texts[0], "").lower()
                                                                .replace(".", " ").split())


def toy_predict(texts):
    """Positive exactly when the text holds a word of the positive list and none of the negative
    list, ignoring negation: it passes vocabulary, fails negated positives."""
    pos, neg = set(LEXICON["pos"]), set(LEXICON["neg"])
    out = []
    for t in texts:
        words = set(t.lower().replace(".", " ").replace(",", " ").replace("!", " ").split())
        p = 0.9 if words & pos and not words & neg else 0.1
        out.append([1 - p, p])
    return np.array(out)


def test_mft_scoring_on_a_toy_model(tests):
    by_name = {t.name: t for t in tests}
    assert scoring.score(by_name["vocabulary_positive"], toy_predict)["failure_rate"] == 0.0
    assert scoring.score(by_name["vocabulary_negative"], toy_predict)["failure_rate"] == 0.0
    negated = scoring.score(by_name["negated_positive"], toy_predict)
    assert negated["failure_rate"] == 1.0 and len(negated["examples"]) == scoring.EXAMPLES


def test_inv_and_dir_scoring_on_hand_made_cases():
    inv = suite.Test("t", "invariance", "INV", "", (suite.Case(("a good film", "A GOOD FILM"), 0),
                                                    suite.Case(("a good film", "a bad film"), 0)))
    result = scoring.score(inv, toy_predict)
    assert result["failures"] == 1 and result["examples"][0]["texts"] == ["a good film", "a bad film"]
    d = suite.Test("d", "directional", "DIR", "", (suite.Case(("bad", "bad. good"), +1),  # 0.1 -> 0.1: ok
                                                   suite.Case(("good", "good. bad"), +1),  # 0.9 -> 0.1: fails
                                                   suite.Case(("good", "good. bad"), -1)))  # falls: ok
    assert scoring.score(d, toy_predict)["failures"] == 1


def test_dir_tolerates_small_moves():
    t = suite.Test("d", "directional", "DIR", "", (suite.Case(("x", "y"), +1),))
    assert not scoring.failures(t, [np.array([0.50]), np.array([0.50 - scoring.DIR_TOLERANCE / 2])]).any()
    assert scoring.failures(t, [np.array([0.50]), np.array([0.50 - 2 * scoring.DIR_TOLERANCE])]).all()


def test_by_capability_pools_cases():
    results = [{"capability": "a", "failures": 1, "cases": 10}, {"capability": "a", "failures": 3, "cases": 10},
               {"capability": "b", "failures": 0, "cases": 5}]
    assert scoring.by_capability(results) == {"a": 0.2, "b": 0.0}


def pattern(template: str) -> re.Pattern:
    """What `suite.fill` can make of `template`: each placeholder any of its words, "a" or "an"."""
    parts = re.split(r"\{(\w+)\}", template)
    body = "".join(re.escape(part) if i % 2 == 0 else "(?:" + "|".join(map(re.escape, LEXICON[part])) + ")"
                   for i, part in enumerate(parts))
    return re.compile(re.sub(r"\b([Aa])\\ ", r"\1n?\\ ", body))


@pytest.fixture(scope="module")
def augmented():
    return augment.sentences(1500, seed=0)


def test_augmentation_frames_and_carriers_are_not_the_suites(tests):
    cases = {c.texts[0] for t in tests for c in t.cases}
    assert not [t for t, _ in augment.TEMPLATES if any(pattern(t).fullmatch(c) for c in cases)]
    assert not set(augment.CARRIER) & set(NEUTRAL_SENTENCES)
    suite_paragraph = " ".join(text for t in tests for c in t.in_carrier(0).cases for text in c.texts)
    assert not [s for s in augment.CARRIER if pattern(s).search(suite_paragraph)]
    own = [fill(s, np.random.default_rng(0))[0] for s in augment.CARRIER]
    assert not [s for s in NEUTRAL_SENTENCES if any(pattern(s).fullmatch(o) for o in own)]
    sentiment = set(LEXICON["pos"]) | set(LEXICON["neg"])
    assert not [s for s in augment.CARRIER if sentiment & set(re.findall(r"[a-z]+", s.lower()))]


def test_augmentation_contains_no_suite_case_short_or_in_a_paragraph(tests, augmented):
    assert len(augmented) == 1500 and set(augmented["label"]) == {0, 1}
    assert 0.4 < augmented["label"].mean() < 0.6
    suite_texts = {text for t in tests for c in t.cases for text in c.texts}
    assert not set(augmented["text"]) & suite_texts
    assert not set(augmented["text"]) & {text for t in tests for c in t.in_carrier(0).cases for text in c.texts}
    joined = "\n".join(augmented["text"])
    assert not [s for s in suite_texts if s in joined]
    assert not [s for s in NEUTRAL_SENTENCES if pattern(s).search(joined)]
    assert augmented.equals(augment.sentences(1500, seed=0))


def test_about_half_of_the_augmentation_sits_in_a_carrier_paragraph(augmented):
    carriers = [pattern(s) for s in augment.CARRIER]
    in_paragraph = augmented["text"].map(lambda text: any(p.search(text) for p in carriers))
    assert 0.4 < in_paragraph.mean() < 0.6
    lengths = augmented["text"][in_paragraph].str.split().str.len()
    assert lengths.min() >= 35 and lengths.max() <= 200
    frames = [pattern(t) for t, _ in augment.TEMPLATES]
    short = augmented["text"][~in_paragraph]
    assert short.map(lambda text: any(p.fullmatch(text) for p in frames)).all()
