"""The word models (dense, CNN): one word per input position, ``tokens`` in, an ``.h5`` for TF 2.12.

Their tokenizer is `IMDb.text.word_tokenizer.WordTokenizer`; how they are built, trained, exported and explained
is `IMDb.toolkits.words`; what they are made of is `WordsConfig`. The presets below are the shipped
models' settings.
"""
from __future__ import annotations

from dataclasses import dataclass

from IMDb.config.fields import setting
from IMDb.config.run import ModelConfig
from IMDb.families.base import Family
from IMDb.text.word_tokenizer import WordTokenizer


@dataclass
class WordsConfig(ModelConfig):
    """A word model: its vocabulary, its layers (the CNN's filters and kernel unused by dense) and
    its word vectors."""

    vocab_size: int = setting(20_000, low=3, option="--vocab-size")  # [PAD], [OOV] and at least one word
    embed_dim: int = setting(64, low=1)
    hidden: int = setting(64, low=1)
    filters: int = setting(64, low=1)
    kernel_size: int = setting(5, low=1)
    dropout: float = setting(0.0, low=0, high=1, open_high=True)
    pretrained_embeddings: bool = False  # PPMI-SVD vectors from training + unlabeled reviews
    train_embeddings: bool = True  # False keeps the (pretrained) word vectors fixed
    fine_tune_epochs: int = setting(0, low=0)  # with fixed word vectors: a second stage that trains them too
    fine_tune_learning_rate: float = setting(1e-4, low=0, open_low=True)
    teacher: str | None = setting(None, option="--teacher",  # `IMDb.training.distill`
                                  help="a model bundle folder (models/bert-int8): its probabilities on the "
                                       "unlabeled reviews are added to training as soft targets",
                                  metavar="DIR")


class WordFamily(Family):
    """A word model (its architecture is the toolkit's, by the model's name)."""

    kind = "words"
    tokenizer = WordTokenizer
    config_class = WordsConfig
    keras_file = "model.h5"  # written with tf_keras, which the platform's TF 2.12 reads


DENSE = WordFamily("dense", dict(seq_len=800, embed_dim=64, hidden=64, epochs=8, batch_size=64))
CNN = WordFamily("cnn", dict(seq_len=600, embed_dim=64, filters=64, kernel_size=5, hidden=64, dropout=0.5,
                             pretrained_embeddings=True, train_embeddings=False, fine_tune_epochs=3, epochs=20,
                             patience=3, batch_size=64))
