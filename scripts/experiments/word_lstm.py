"""Can a word model read negation? A recurrent word model, trained like the CNN, before it is shipped.

The CNN sees each word through windows of five words and pools them; a negator and the word it
governs a few words later ("not ... brilliant") rarely meet in one window, and its negation
failures are 76% (short) and 70% (in a paragraph). This model keeps the CNN's fixed PPMI word
vectors and its first convolution (phrases of ``kernel_size`` words, halved in length by pooling),
then reads the phrases in order with an LSTM, so a negator can change what every later phrase
means; max and average pooling over its states feed the ``latent`` layer as in the CNN.

Why a forward LSTM: Tensorleap's importer (leap-model-parser 0.1.257, `.ci/platform_import.py`) was
run on tiny models of each candidate. A forward ``LSTM`` (``return_sequences``) imports as ``.h5``
and as ONNX. A ``GRU`` imports as ``.h5`` but not as ONNX (Keras 3's export is a ``Loop``; tf_keras's
a ``GRU`` node with explicit activations, "Custom Activations in GRU not implemented"); a backward
layer (``go_backwards``) exports a ``ReverseSequence`` it cannot read, ``Bidirectional`` fails as
``.h5`` (KeyError 'output_shape') and ``MultiHeadAttention`` too (an unknown keyword).

The model is registered at run time (`IMDb.families.register`), so the package serves it only once
it is shipped; until then the script trains it into a folder of your choice with the usual
`imdb-leap train` options:

    .venv/bin/python scripts/experiments/word_lstm.py train --model lstm --counterfactual --augment 4000 \\
        --models-dir ~/.cache/imdb-leap/attempts/lstm-a1

and `robustness`, `predict` or `compare` read that folder the same way (the first argument is the
`imdb-leap` command).
"""
from __future__ import annotations

import sys
from types import ModuleType

from IMDb import families
from IMDb.config.run import Config
from IMDb.families.words import WordFamily
from IMDb.toolkits import words

LSTM = WordFamily("lstm", dict(seq_len=600, embed_dim=64, filters=64, kernel_size=3, hidden=64, dropout=0.5,
                             pretrained_embeddings=True, train_embeddings=False, fine_tune_epochs=3, epochs=20,
                             patience=3, batch_size=64))


def build(cfg: Config, keras: ModuleType):
    own, layers = cfg.model_config, keras.layers
    tokens = layers.Input(shape=(own.seq_len,), dtype="float32", name="tokens")
    x = layers.Embedding(own.vocab_size, own.embed_dim, trainable=own.train_embeddings, name="embedding")(tokens)
    x = layers.SpatialDropout1D(own.dropout / 2, name="embedding_dropout")(x)
    x = layers.Conv1D(own.filters, own.kernel_size, padding="same", activation="relu", name="conv1")(x)
    x = layers.MaxPooling1D(2, name="pool1")(x)
    x = layers.LSTM(own.hidden, return_sequences=True, name="lstm")(x)
    x = layers.Concatenate(name="global_pool")([layers.GlobalMaxPooling1D(name="max_pool")(x),
                                                layers.GlobalAveragePooling1D(name="average_pool")(x)])
    x = layers.Dropout(own.dropout, name="dropout")(x)
    x = layers.Dense(own.hidden, activation="relu", name="latent")(x)
    out = layers.Dense(2, name="logits")(x)
    return keras.Model(tokens, out, name="lstm")


if __name__ == "__main__":
    families.register(LSTM)
    words.ARCHITECTURES[LSTM.name] = build
    from IMDb.cli.imdb_leap import main

    sys.exit(main(sys.argv[1:]))
