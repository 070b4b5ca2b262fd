"""The seeds' convolutional model: three Conv1D blocks give each feature a window of several words
("mildly entertaining"); global max pooling keeps the strongest phrase of each filter and global
average pooling how much of the review carries it.

With trainable, randomly initialised embeddings this model overfits after two epochs (0.873 test
accuracy, measured). The shipped configuration starts the embedding from PPMI word vectors learned
on the training and unlabeled reviews (IMDb/training/embeddings.py) and keeps them fixed, so the convolutions
learn phrases over word similarities instead of memorising rare words (film titles, names); dropout
on the embeddings and before the head does the rest.
"""
from __future__ import annotations

from types import ModuleType

from IMDb.config.run import Config


def build(cfg: Config, keras: ModuleType):
    layers = keras.layers
    tokens = layers.Input(shape=(cfg.model_config.seq_len,), dtype="float32", name="tokens")
    x = layers.Embedding(cfg.model_config.vocab_size, cfg.model_config.embed_dim, trainable=cfg.model_config.train_embeddings,
                         name="embedding")(tokens)
    x = layers.SpatialDropout1D(cfg.model_config.dropout / 2, name="embedding_dropout")(x)
    for i in (1, 2, 3):
        x = layers.Conv1D(cfg.model_config.filters, cfg.model_config.kernel_size, padding="same", activation="relu",
                          name=f"conv{i}")(x)
        if i < 3:
            x = layers.MaxPooling1D(2, name=f"pool{i}")(x)
    x = layers.Concatenate(name="global_pool")([layers.GlobalMaxPooling1D(name="max_pool")(x),
                                                layers.GlobalAveragePooling1D(name="average_pool")(x)])
    x = layers.Dropout(cfg.model_config.dropout, name="dropout")(x)
    x = layers.Dense(cfg.model_config.hidden, activation="relu", name="latent")(x)
    out = layers.Dense(2, name="logits")(x)
    return keras.Model(tokens, out, name="cnn")
