import collections
import json
import random
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from IMDb.errors import ModelError
from IMDb.text.word_tokenizer import OOV_ID, PAD_ID, WordTokenizer, clean, split_words
import IMDb.text.word_tokenizer as text_module


@pytest.mark.parametrize("raw, expected", [
    ("Great movie!<br /><br />Loved it.", "great movie loved it"),
    ("I didn't like it; it isn't good.", "i didnt like it it isnt good"),
    ("It\u2019s a caf\u00e9 &amp; na\u00efve <i>FILM</i>", "its a cafe naive film"),
    ("10/10 -- would watch again\u0096twice", "10 10 would watch again twice"),
    ("   ", ""),
    ("<SPOILER>ends badly</SPOILER>", "ends badly"),
])
def test_clean(raw, expected):
    assert clean(raw) == expected


def test_clean_is_idempotent():
    text = "It's <b>GREAT</b>, isn't it? Caf\u00e9!"
    assert clean(clean(text)) == clean(text)


@pytest.fixture
def fitted():
    texts = ["good good good film", "bad film", "good bad ugly", "the film was good"]
    return WordTokenizer(vocab_size=5, seq_len=6).fit(texts)


def test_vocabulary_is_most_frequent_words(fitted):
    assert fitted.words == ["[PAD]", "[OOV]", "good", "film", "bad"]


def test_encode_pads_truncates_and_marks_oov(fitted):
    ids = fitted.token_ids(["good ugly film", "good " * 10])
    assert ids.dtype == np.int32 and ids.shape == (2, 6)
    assert ids[0].tolist() == [2, OOV_ID, 3, PAD_ID, PAD_ID, PAD_ID]
    assert ids[1].tolist() == [2] * 6


def test_tokens_align_with_encoded_positions(fitted):
    text = "Good, UGLY film!"
    tokens = fitted.positions(text)
    assert len(tokens) == fitted.seq_len
    assert tokens[:3] == ["good", "ugly", "film"] and tokens[3:] == [""] * 3
    ids = fitted.token_ids([text])[0]
    assert [t == "" for t in tokens] == [i == PAD_ID for i in ids]


def test_oov_count_covers_the_whole_review(fitted):
    text = "good " * 10 + "ugly weird"
    assert fitted.oov_count(text) == 2  # both beyond seq_len


def test_save_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "tok.json")
    loaded = WordTokenizer.load(path)
    texts = ["good bad film", "ugly thing", ""]
    assert loaded.fingerprint == fitted.fingerprint
    np.testing.assert_array_equal(loaded.token_ids(texts), fitted.token_ids(texts))


def test_load_rejects_missing_and_edited_files(fitted, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        WordTokenizer.load(tmp_path / "missing.json")
    path = fitted.save(tmp_path / "tok.json")
    data = json.loads(path.read_text())
    data["words"][2] = "great"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="fingerprint"):
        WordTokenizer.load(path)
    data["words"][2] = data["words"][3]
    edited = WordTokenizer(seq_len=data["seq_len"])
    edited.words_ = data["words"]
    data["fingerprint"] = edited.fingerprint
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="repeats a word"):
        WordTokenizer.load(path)
    path.write_text("{not json")
    with pytest.raises(ModelError, match="not a valid"):
        WordTokenizer.load(path)


def test_unfitted_tokenizer_says_so():
    with pytest.raises(ModelError, match="not fitted"):
        WordTokenizer().token_ids(["x"])


def test_split_words_matches_clean():
    text = "A <br />mildly  entertaining... film"
    assert split_words(text) == clean(text).split() == ["a", "mildly", "entertaining", "film"]


# -- exactness of the batched encoder (issue 14) -----------------------------------------------
# The per-review implementation that the batched one replaced, kept verbatim as the oracle: the
# batched `encode`, `ids` and `fit` must give exactly its ids and vocabulary.
_REF_HTML = re.compile(r"<[^<>]*>|&#?[A-Za-z0-9]+;")
_REF_COMBINING = re.compile(r"[\u0300-\u036f]")
_REF_APOSTROPHES = str.maketrans("", "", "´’‘\u0091\u0092")
_REF_TABLE = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256)).lower()


def _ref_clean_bytes(text: str) -> bytes:
    if "<" in text or "&" in text:
        text = _REF_HTML.sub(" ", text)
    if not text.isascii():
        text = _REF_COMBINING.sub("", unicodedata.normalize("NFD", text.translate(_REF_APOSTROPHES)))
        data = text.encode("ascii", "replace")
    else:
        data = text.encode("ascii")
    return data.translate(_REF_TABLE, b"'`")


def _ref_lookup(words: list[str]) -> dict[bytes, int]:
    return {w.encode("ascii"): i for i, w in enumerate(words[2:], start=2)}


def _ref_ids(lookup: dict[bytes, int], text: str) -> list[int]:
    return [lookup.get(w, OOV_ID) for w in _ref_clean_bytes(text).split()]


def _ref_encode(words: list[str], seq_len: int, texts: list[str]) -> np.ndarray:
    lookup = _ref_lookup(words)
    out = np.zeros((len(texts), seq_len), dtype=np.int32)
    for row, text in zip(out, texts):
        ids = [lookup.get(w, OOV_ID) for w in _ref_clean_bytes(text).split()[:seq_len]]
        row[: len(ids)] = ids
    return out


def _ref_fit(texts: list[str], vocab_size: int) -> list[str]:
    counts = collections.Counter(w for t in texts for w in _ref_clean_bytes(t).split())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: vocab_size - 2]
    return ["[PAD]", "[OOV]", *(w.decode("ascii") for w, _ in ranked)]


FRAGMENTS = [
    # HTML residue: tags, entities, things that only look like them
    "Great movie!<br /><br />Loved it.", "<i>FILM</i>", "<SPOILER>ends badly</SPOILER>", "<br/>",
    "&amp;", "&#39;", "&#x27;", "&quot;quoted&quot;", "rock & roll", "&amp no semicolon",
    "&caf\u00e9;",
    "a < b > c", "<a href='x'>link</a>", "unclosed <tag", "x>y", "<<br />>", "<multi\nline tag>",
    "&#;", "&&amp;;", "<", ">", "&", ";",
    # accents and Unicode decompositions
    "caf\u00e9", "na\u00efve", "\u00c5ngstr\u00f6m", "\u212bngstr\u00f6m", "re\u0301sume\u0301",
    "\u00c9COLE", "\u0130stanbul", "K\u212a", "\ufb01lm", "\uff26\uff55\uff4c\uff4c", "x\u00b2",
    "\u2160\u216b", "\u2460", "a\u1fefb", "a\u1ffdb", "a\u037eb", "a\u0340b", "a\u0483b",
    "\u00e0 la carte", "Se\u00f1or", "Bj\u00f6rk", "\u00c6on", "\u00f8re", "\u0153uvre",
    # apostrophes of every kind, and look-alikes that are not deleted
    "didn't", "didn`t", "didn\u00b4t", "didn\u2019t", "didn\u2018t", "didn\x91t", "didn\x92t",
    "didn\u201bt", "didn\u02bct", "didn\u2032t", "'quoted'", "rock 'n' roll",
    # other scripts, symbols, replacement and control characters, odd whitespace
    "Stra\u00dfe", "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",  # Cyrillic
    "\u6620\u753b\u306f\u7d20\u6674\u3089\u3057\u3044", "\u0645\u0631\u062d\u0628\u0627",  # CJK, Arabic
    "\U0001f600\U0001f44d\U0001f3fd", "\ufffd", "\ud800", "bad\udcffbyte", "nul\x00byte",
    "tab\there", "new\nline", "cr\r\nlf", "v\x0bt\x0cf", "nb\u00a0sp", "em\u2003sp", "ideo\u3000sp",
    "\x96dash\x97", "ellipsis\x85", "\u2013\u2014\u201c\u201d\u00ab\u00bb", "\u00a310", "\u00bd",
    # case, digits, punctuation-only
    "GREAT", "MiXeD CaSe", "10/10", "7.5", "1,000", "x-ray", "e-mail", "!!!", "...", "?!", "--",
]


def _synthetic_reviews(vocabulary: list[str], n: int = 300, seed: int = 14) -> list[str]:
    """Every fragment alone and glued between words, edge cases, then `n` reviews mixing fragments
    and vocabulary words (some upper-cased) joined by spaces, nothing (so pieces merge:
    ``&am`` + ``p;``), newlines or ``<br />``."""
    rng = random.Random(seed)
    reviews = [*FRAGMENTS, *(f"word{f}word" for f in FRAGMENTS),
               "", " ", "\n\t", "' ` \u2019", "<br />".join(FRAGMENTS),
               " ".join(rng.choice(vocabulary) for _ in range(1200))]  # longer than any seq_len
    for _ in range(n):
        review = ""
        for _ in range(rng.randint(0, 60)):
            piece = rng.choice(FRAGMENTS) if rng.random() < 0.5 else rng.choice(vocabulary)
            piece = piece.upper() if rng.random() < 0.1 else piece
            review += rng.choice([" ", " ", "", "\n", "<br />"]) + piece
        reviews.append(review)
    return reviews


@pytest.fixture(scope="module")
def dense_tokenizer():
    return WordTokenizer.load(Path(__file__).resolve().parents[1] / "models/dense/tokenizer.json")


@pytest.mark.parametrize("batch", [7, text_module._BATCH])
def test_encode_and_ids_match_the_per_review_reference(dense_tokenizer, monkeypatch, batch):
    monkeypatch.setattr(text_module, "_BATCH", batch)  # 7: many batch boundaries, some mid-corpus
    reviews = _synthetic_reviews(dense_tokenizer.words[2:])
    words, seq_len = dense_tokenizer.words, dense_tokenizer.seq_len
    lookup = _ref_lookup(words)
    expected = [_ref_ids(lookup, review) for review in reviews]
    # the corpus has fewer words than 3x the vocabulary (looked up in the dict); with each review
    # repeated 8 times it has more (Arrow's index_in) when it is one batch
    assert sum(map(len, expected)) < 3 * len(words) < 8 * sum(map(len, expected))
    for corpus in (reviews, [" ".join([r] * 8) for r in reviews]):
        np.testing.assert_array_equal(dense_tokenizer.token_ids(corpus),
                                      _ref_encode(words, seq_len, corpus))
    for review, ids in zip(reviews, expected):
        assert dense_tokenizer.word_ids(review) == ids
        assert dense_tokenizer.oov_count(review) == ids.count(OOV_ID)
        assert split_words(review) == [w.decode() for w in _ref_clean_bytes(review).split()]


@pytest.mark.parametrize("batch", [7, text_module._BATCH])
def test_fit_matches_the_per_review_reference(dense_tokenizer, monkeypatch, batch):
    monkeypatch.setattr(text_module, "_BATCH", batch)
    reviews = _synthetic_reviews(dense_tokenizer.words[2:500], seed=15)
    small = WordTokenizer(vocab_size=60, seq_len=12).fit(iter(reviews))  # fit takes any iterable
    assert small.words == _ref_fit(reviews, 60)
    np.testing.assert_array_equal(small.token_ids(reviews), _ref_encode(small.words, 12, reviews))
    lookup = _ref_lookup(small.words)
    assert [small.word_ids(r) for r in reviews] == [_ref_ids(lookup, r) for r in reviews]
    assert WordTokenizer(vocab_size=100_000).fit(reviews).words == _ref_fit(reviews, 100_000)


def test_every_code_point_cleans_as_the_reference():
    """Each character, surrogates included, between letters: the cleaning is per character
    (canonical reordering only moves combining marks, which are all deleted or spaces)."""
    texts = ["".join(f"{chr(c)}q" for c in range(lo, min(lo + 2048, 0x110000)))
             for lo in range(0, 0x110000, 2048)]
    expected = [_ref_clean_bytes(t).split() for t in texts]
    (words, counts), = text_module._split_batches(texts)
    assert counts.tolist() == [len(e) for e in expected]
    assert words.to_pylist() == [w.decode() for e in expected for w in e]


def test_encode_of_nothing_is_an_empty_batch(fitted):
    assert fitted.token_ids([]).shape == (0, fitted.seq_len)
    assert fitted.word_ids("") == [] and fitted.word_ids("!!! <br />") == []
