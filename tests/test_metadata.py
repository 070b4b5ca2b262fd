"""The metadata functions: values, declared types, missing values and the TextBlob cache."""
import pytest

from IMDb.measures import metadata
from IMDb.tensorleap.integration import Review
from IMDb.text.word_tokenizer import WordTokenizer


def tiny_tokenizer(seq_len: int = 5) -> WordTokenizer:
    """A real word tokenizer: what the metadata functions read (`IMDb.text.tokenizer.Tokenizer`)."""
    return WordTokenizer(vocab_size=6, seq_len=seq_len).fit(["good film good plot", "bad film"])


def test_label_and_rating():
    assert metadata.label(0) == "negative" and metadata.label(1) == "positive" and metadata.label(None) is None
    assert metadata.rating(1) == {"stars": 1, "score_confidence": 4.5}
    assert metadata.rating(10)["score_confidence"] == 4.5
    assert metadata.rating(4)["score_confidence"] == 1.5 and metadata.rating(7)["score_confidence"] == 1.5
    assert metadata.rating(None) == {"stars": None, "score_confidence": None}


def test_lengths_tokens_and_truncation():
    text = "Good film.<br /><br />Bad, bad PLOT!"
    assert metadata.length(text) == {"chars": len(text), "words": 5}  # HTML residue is not a word
    assert metadata.length("A well-made, low-key film.") == {"chars": 26, "words": 4}
    tokenizer = tiny_tokenizer(seq_len=5)
    assert metadata.tokens(text, tokenizer) == {"count": 5, "truncated": False}  # good film bad bad plot
    assert metadata.tokens(text + " again", tokenizer) == {"count": 6, "truncated": True}


def test_oov_count_and_ratio():
    tokenizer = tiny_tokenizer()
    vocabulary = set(tokenizer.words)
    assert {"good", "film", "bad", "plot"} <= vocabulary
    assert metadata.oov("good zebra film quokka", tokenizer) == {"count": 2, "ratio": 0.5}
    assert metadata.oov("?!", tokenizer) == {"count": 0, "ratio": None}  # no tokens: the ratio is undefined


def test_html_punctuation_and_negations():
    text = "I didn't like it. Not at all!<br /><br />Isn't it &amp; wasn't it? No!! Nothing? Never."
    assert metadata.html_residue(text) == 3
    assert metadata.punctuation(text) == {"exclamation_marks": 3, "question_marks": 2}
    assert metadata.negations(text) == 7  # didnt not isnt wasnt no nothing never
    assert metadata.negations("A knot, a note and nothingness.") == 0


def test_textblob_polarity_subjectivity_and_html_is_ignored():
    good = metadata.textblob("A wonderful, brilliant and moving film.")
    bad = metadata.textblob("A terrible, boring and awful film.")
    assert good["polarity"] > 0.3 and bad["polarity"] < -0.3
    assert 0 <= good["subjectivity"] <= 1 and isinstance(good["polarity"], float)
    assert metadata.textblob("Great acting.<br /><br />Great story.") == metadata.textblob("Great acting.   Great story.")


def test_textblob_is_computed_once_per_review():
    text = "A one-off review for the cache test: delightful, if a little slow."
    before = metadata.textblob_cache_info()
    first = metadata.textblob(text)
    for _ in range(5):
        assert metadata.textblob(text) == first
    after = metadata.textblob_cache_info()
    assert after.misses - before.misses == 1 and after.hits - before.hits == 5


def test_textblob_needs_no_nltk_data(monkeypatch, tmp_path):
    import nltk

    def refuse(*args, **kwargs):
        raise AssertionError("NLTK download attempted")

    monkeypatch.setattr(nltk, "download", refuse)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    value = metadata.textblob("An unseen sentence, so the cache cannot answer: quite good actually.")
    assert value["polarity"] > 0


def review(text="Not bad at all! A great film.", label=1, rating=8):
    return Review("train/pos/1", text, label, rating, "tt0000001")


def test_all_fields_match_the_declared_types():
    fields = metadata.all_fields(review(), tiny_tokenizer())
    assert set(fields) == set(metadata.TYPES)
    for name, value in fields.items():
        assert metadata.type_problems(name, value) == [], name


def test_unlabeled_reviews_have_no_label_fields_but_keep_the_rest():
    fields = metadata.all_fields(review(label=None, rating=None), tiny_tokenizer())
    assert fields["label"] is None and fields["rating"] == {"stars": None, "score_confidence": None}
    assert all(metadata.type_problems(name, value, labeled=False) == [] for name, value in fields.items())
    assert metadata.type_problems("label", None, labeled=True) == ["label: None where a string is required"]
    assert fields["length"]["chars"] > 0 and fields["textblob"]["polarity"] is not None


@pytest.mark.parametrize("name, value", [
    ("rating", {"stars": 8.0, "score_confidence": 2.5}),   # stars must be an int
    ("tokens", {"count": 3, "truncated": 0}),              # a bool, not an int
    ("html_residue", True),                                # a bool is not an int
    ("length", {"chars": 3}),                              # a missing key
])
def test_type_problems_are_reported(name, value):
    assert metadata.type_problems(name, value)


def test_every_field_declares_a_type_for_missing_values():
    """code-loader can only accept a None field if its type is declared (metadata_type)."""
    from code_loader.contract.enums import DatasetMetadataType

    for name, declared in metadata.TYPES.items():
        kinds = declared.values() if isinstance(declared, dict) else [declared]
        assert all(isinstance(kind, DatasetMetadataType) for kind in kinds), name


def test_phenomena_count_the_suites_cues():
    assert metadata.phenomena("This film is not good at all.") == {
        "negated_sentiment": 1, "contrast_markers": 0, "intensifiers": 0, "reducers": 0}
    cues = metadata.phenomena("I didn't enjoy it. Great cast, but a bit slow and kind of dull; very long.")
    assert cues == {"negated_sentiment": 1, "contrast_markers": 1, "intensifiers": 1, "reducers": 2}
    # the scope ends at the clause: "not" here negates nothing that follows the comma
    assert metadata.phenomena("Not once, great film.")["negated_sentiment"] == 0
    assert metadata.phenomena("not a film that anyone would call great")["negated_sentiment"] == 0  # too far
    assert metadata.type_problems("phenomena", metadata.phenomena("")) == []
