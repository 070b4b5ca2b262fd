"""The word models (dense, CNN): one word per input position, ``tokens`` in, an ``.h5`` for TF 2.12.

Their tokenizer is `IMDb.text.word_tokenizer.WordTokenizer`; how they are built, trained, exported and explained
is `IMDb.toolkits.words`. The presets below are the shipped models' settings.
"""
from __future__ import annotations

from IMDb.families.base import Family
from IMDb.text.word_tokenizer import WordTokenizer


class WordFamily(Family):
    """A word model (its architecture is the toolkit's, by the model's name)."""

    kind = "words"
    tokenizer = WordTokenizer
    keras_file = "model.h5"  # written with tf_keras, which the platform's TF 2.12 reads


DENSE = WordFamily("dense", dict(seq_len=800, embed_dim=64, hidden=64, epochs=8, batch_size=64))
CNN = WordFamily("cnn", dict(seq_len=600, embed_dim=64, filters=64, kernel_size=5, hidden=64, dropout=0.5,
                             pretrained_embeddings=True, train_embeddings=False, fine_tune_epochs=3, epochs=20,
                             patience=3, batch_size=64))
