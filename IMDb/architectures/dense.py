"""The seeds' densely connected model: Embedding -> Dense -> GlobalAveragePooling1D -> logits.

Every word is scored on its own (a single-word context), which is what the seeds' heat maps show.
"""
from __future__ import annotations

from types import ModuleType

from IMDb.config.run import Config


def build(cfg: Config, keras: ModuleType):
    layers = keras.layers
    tokens = layers.Input(shape=(cfg.model_config.seq_len,), dtype="float32", name="tokens")
    x = layers.Embedding(cfg.model_config.vocab_size, cfg.model_config.embed_dim, name="embedding")(tokens)
    x = layers.Dense(cfg.model_config.hidden, activation="relu", name="dense")(x)
    x = layers.GlobalAveragePooling1D(name="latent")(x)
    out = layers.Dense(2, name="logits")(x)
    return keras.Model(tokens, out, name="dense")
