"""Word vectors learned without labels, to initialise the CNN's embedding layer.

The CNN overfits its 1.3M embedding weights within two epochs when they start at random. Vectors
from the positive pointwise mutual information (PPMI) of word co-occurrences, reduced by a truncated
SVD (Levy & Goldberg, 2014: the matrix that word2vec implicitly factorises), give it word
similarities learned from the 50k unlabeled reviews and the training state: never the test split.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from tqdm.auto import tqdm

from IMDb.text.word_tokenizer import PAD_ID, WordTokenizer


def cooccurrence(tokenizer: WordTokenizer, texts: Iterable[str], window: int = 4,
                 progress: bool = True) -> sp.csr_matrix:
    """Symmetric counts of word pairs at most `window` words apart, weighted 1/distance."""
    vocab = tokenizer.vocab_size
    ids = []
    for text in tqdm(texts, desc="co-occurrence", unit="review", disable=not progress, mininterval=2):
        ids.extend(tokenizer.word_ids(text))
        ids.extend([PAD_ID] * window)  # a gap so that windows never span two reviews
    corpus = np.asarray(ids, dtype=np.int64)
    counts = sp.csr_matrix((vocab, vocab), dtype=np.float64)
    for distance in range(1, window + 1):
        left, right = corpus[:-distance], corpus[distance:]
        keep = (left > 1) & (right > 1)  # neither padding nor out-of-vocabulary
        pairs = sp.csr_matrix((np.full(keep.sum(), 1.0 / distance), (left[keep], right[keep])),
                              shape=(vocab, vocab))
        counts = counts + pairs + pairs.T
    return counts


def ppmi_vectors(counts: sp.csr_matrix, dim: int, seed: int = 0, alpha: float = 0.75,
                 scale: float = 0.05) -> np.ndarray:
    """[vocab, dim] float32 vectors from the PPMI matrix (context counts smoothed by `alpha`),
    scaled so that a component's spread (`scale`) is that of Keras's default embedding init."""
    counts = counts.tocoo()
    total = counts.sum()
    word = np.asarray(counts.sum(axis=1)).ravel()
    context = word ** alpha
    context_p = context / context.sum()
    pmi = np.log((counts.data / total) / ((word[counts.row] / total) * context_p[counts.col]))
    keep = pmi > 0
    ppmi = sp.csr_matrix((pmi[keep], (counts.row[keep], counts.col[keep])), shape=counts.shape)
    svd = TruncatedSVD(n_components=dim, random_state=seed, algorithm="randomized", n_iter=5)
    vectors = svd.fit_transform(ppmi)  # U * S
    vectors /= np.sqrt(svd.singular_values_)[None, :]  # U * sqrt(S): the symmetric split
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-8)
    return (vectors * scale * np.sqrt(dim)).astype(np.float32)
