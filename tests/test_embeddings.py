import numpy as np

from IMDb.text.word_tokenizer import WordTokenizer
from IMDb.training.embeddings import cooccurrence, ppmi_vectors


def test_cooccurrence_is_symmetric_weighted_and_stays_inside_reviews():
    texts = ["alpha beta gamma", "delta alpha"]
    tok = WordTokenizer(vocab_size=6, seq_len=4).fit(texts)
    index = {w: i for i, w in enumerate(tok.words)}
    counts = cooccurrence(tok, texts, window=2, progress=False).toarray()
    np.testing.assert_allclose(counts, counts.T)
    assert counts[index["alpha"], index["beta"]] == 1.0
    assert counts[index["alpha"], index["gamma"]] == 0.5
    assert counts[index["gamma"], index["delta"]] == 0  # different reviews
    assert counts[:2].sum() == 0  # padding and OOV never count


def test_words_sharing_contexts_get_similar_vectors():
    rng = np.random.default_rng(0)
    texts = []
    for _ in range(400):
        texts.append(f"the film was {rng.choice(['good', 'great'])} and fun")
        texts.append(f"a plot so {rng.choice(['bad', 'awful'])} and dull")
    tok = WordTokenizer(vocab_size=20, seq_len=8).fit(texts)
    vectors = ppmi_vectors(cooccurrence(tok, texts, progress=False), dim=4)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-8)
    index = {w: i for i, w in enumerate(tok.words)}
    similarity = lambda a, b: float(unit[index[a]] @ unit[index[b]])  # noqa: E731
    assert vectors.shape == (20, 4) and vectors.dtype == np.float32
    assert similarity("good", "great") > similarity("good", "awful")
    assert similarity("bad", "awful") > similarity("bad", "great")
