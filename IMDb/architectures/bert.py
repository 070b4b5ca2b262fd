"""A pretrained BERT-family encoder fine-tuned for review sentiment.

keras_hub's `BertBackbone` reads a Hugging Face BERT folder (``config.json``, ``model.safetensors``,
``vocab.txt``) offline, or a hub id (``hf://owner/name``) when there is a network. The head is the
masked mean of the last layer's token vectors (``latent``: the pooling all-MiniLM-L6-v2 was trained
with; its [CLS] pooler was never trained) -> dropout -> logits over [negative, positive].

Inputs follow the platform's rules: float32 ``input_ids``, ``attention_mask`` and ``token_type_ids``
(any length up to the checkpoint's 512 positions), cast to int32 inside the model.
"""
from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

from IMDb.config.run import Config
from IMDb.errors import ModelError
from IMDb.text.wordpiece import INPUT_NAMES

# a randomly initialised BERT small enough to train a few steps in a test
TINY = dict(num_layers=2, num_heads=2, hidden_dim=32, intermediate_dim=64, max_sequence_length=512)


def checkpoint_file(checkpoint: str, name: str) -> Path:
    """A file of the checkpoint: from its folder, or fetched (and cached) for a hub id."""
    if "://" not in checkpoint:
        path = Path(checkpoint).expanduser() / name
        if not path.is_file():
            raise ModelError(f"no {name} in BERT checkpoint folder {Path(checkpoint).expanduser()}: "
                             f"set IMDB_BERT (or --bert) to a Hugging Face BERT folder, e.g. "
                             f"../shared/models/all-MiniLM-L6-v2, or to a hub id such as "
                             f"hf://sentence-transformers/all-MiniLM-L6-v2")
        return path
    from keras_hub.src.utils.preset_utils import get_file

    return Path(get_file(checkpoint, name))


def backbone(cfg: Config):
    import keras_hub

    if cfg.model_config.bert_tiny:
        return keras_hub.models.BertBackbone(vocabulary_size=cfg.model_config.vocab_size, dropout=cfg.model_config.dropout,
                                             **TINY)
    checkpoint = cfg.model_config.bert_checkpoint
    if "://" not in checkpoint:
        checkpoint_file(checkpoint, "config.json")  # a clear error before keras_hub's own
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return keras_hub.models.BertBackbone.from_preset(str(Path(checkpoint).expanduser())
                                                         if "://" not in checkpoint else checkpoint)
    except (ValueError, OSError, ImportError) as e:
        raise ModelError(f"could not load BERT checkpoint {checkpoint!r}: {e}") from e


def build(cfg: Config, keras: ModuleType):
    if not hasattr(keras, "ops"):
        raise ModelError("the BERT model is Keras 3 only (keras_hub); its platform format is ONNX")
    layers, ops = keras.layers, keras.ops
    inputs = [layers.Input(shape=(None,), dtype="float32", name=name) for name in INPUT_NAMES]
    ids, mask, types = (ops.cast(x, "int32") for x in inputs)
    encoder = backbone(cfg)
    encoder.get_layer("pooled_dense").trainable = False  # unused: the head pools the tokens itself
    encoded = encoder({"token_ids": ids, "segment_ids": types, "padding_mask": mask})
    latent = layers.GlobalAveragePooling1D(name="latent")(encoded["sequence_output"],
                                                          mask=ops.cast(mask, "bool"))
    x = layers.Dropout(cfg.model_config.dropout, name="dropout")(latent)
    out = layers.Dense(2, name="logits")(x)
    return keras.Model(inputs, out, name=cfg.model)
