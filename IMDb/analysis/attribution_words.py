"""The word models (dense, CNN) for attribution: their embedding split, and how a review's token
positions become the words a reader sees.

- `KerasSplit` / `split_at_embedding`: a TensorFlow-backed functional model from either tf_keras
  (Keras 2, the ``model.h5`` files; the analysis uses these) or Keras 3 (`IMDb.architectures.build`), cut
  at the output of its ``embedding`` layer. The split reads only the public layer graph
  (``layer.input`` / ``layer.output``) and re-applies the layers after the embedding to a new input,
  so any functional architecture works, provided each layer after the embedding is called once and
  with its inputs only (no masks or extra call arguments). Its baseline is the "padding out"
  counterfactual: the padding id at every word position (or the OOV id), padding kept as padding.
- `WordReviews`: the per-model glue `IMDb.analysis.attribution.explain` uses. One token position is
  one word; removing words pads their positions out (the same counterfactual as the IG baseline),
  and the occlusion and faithfulness variants go to a batched ``predict_tokens`` (ONNX Runtime's
  `IMDb.predict.Predictor.predict_tokens` is several times faster than Keras on CPU).
"""
from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from IMDb.analysis.explanation import Review
from IMDb.analysis.integrated_gradients import NEGATIVE, POSITIVE, IGResult
from IMDb.analysis.integrated_gradients import integrated_gradients as _integrated_gradients
from IMDb.analysis.occlusion import Phrase, n_real, occlusion, top_phrases
from IMDb.architectures import keras_of
from IMDb.text.word_tokenizer import OOV_ID, PAD_ID
from IMDb.toolkits.base import PredictTokens

EMBEDDING_LAYER = "embedding"


# --------------------------------------------------------------------------- the split
def baseline_tokens(tokens: np.ndarray, baseline: str | np.ndarray = "pad") -> np.ndarray:
    """Token ids of the baseline: "pad" = padding at every position (the empty review), "oov" =
    the out-of-vocabulary id at the word positions, or an explicit id array. Padding positions of
    the review stay padding in every baseline, so they get exactly zero attribution."""
    tokens = np.asarray(tokens)
    if isinstance(baseline, str):
        if baseline not in ("pad", "oov"):
            raise ValueError(f"baseline must be 'pad', 'oov' or token ids, not {baseline!r}")
        base = np.full_like(tokens, PAD_ID if baseline == "pad" else OOV_ID)
    else:
        base = np.asarray(baseline).astype(tokens.dtype).reshape(tokens.shape)
    return np.where(tokens == PAD_ID, PAD_ID, base)


@dataclass
class KerasSplit:
    """A word model cut at its embedding output: the embedding matrix, and the rest of the network
    as a model of the embeddings (plus the raw tokens when a later layer also reads them)."""

    embedding: Any  # the model's embedding layer (its weights are read at each call: never stale)
    head: Any  # Keras model: embeddings [n, seq_len, dim] (, tokens [n, seq_len]) -> probabilities
    needs_tokens: bool
    seq_len: int
    baseline: str | np.ndarray = "pad"  # see `baseline_tokens`
    batch_size: int = 64  # path points per pass: one batch for steps <= 63
    complementary: bool = False  # one gradient per target, as the model's outputs are read

    @property
    def matrix(self) -> np.ndarray:
        """The embedding matrix [vocab, dim]."""
        return np.asarray(self.embedding.get_weights()[0], dtype=np.float32)

    def embed(self, tokens: np.ndarray) -> np.ndarray:
        return self.matrix[np.asarray(tokens).astype(np.int64)]

    def with_baseline(self, baseline: str | np.ndarray) -> "KerasSplit":
        """The same split with another baseline (shares the head: no new graph)."""
        same = isinstance(baseline, str) and isinstance(self.baseline, str) and baseline == self.baseline
        return self if same else dataclasses.replace(self, baseline=baseline)

    def baseline_ids(self, tokens: np.ndarray) -> np.ndarray:
        tokens = np.asarray(tokens)
        if tokens.shape[-1] != self.seq_len:
            raise ValueError(f"the model takes {self.seq_len} tokens, got {tokens.shape[-1]}")
        return baseline_tokens(tokens, self.baseline)

    def __call__(self, embeddings, tokens=None):
        if not self.needs_tokens:
            return self.head(embeddings, training=False)
        tokens = np.asarray(tokens, dtype=np.float32)
        if tokens.ndim == 1:  # one review for every row of the path
            tokens = np.broadcast_to(tokens, (int(embeddings.shape[0]), len(tokens)))
        return self.head([embeddings, tokens], training=False)


def _flat(x) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _embedding_layer(model, name: str):
    try:
        return model.get_layer(name)
    except ValueError:
        found = [layer for layer in model.layers if type(layer).__name__ == "Embedding"]
        if len(found) != 1:
            raise ValueError(f"model {model.name!r} has no layer {name!r} and {len(found)} Embedding "
                             f"layers; name the one to attribute to") from None
        return found[0]


def split_at_embedding(model, layer: str = EMBEDDING_LAYER) -> KerasSplit:
    """Cut a functional model at the output of its embedding layer.

    The layers that follow are re-applied, in dependency order, to a new input of the embedding's
    output shape (a worklist over ``model.layers``: a layer runs once all its inputs are known), so
    branches and merges work and no architecture is special-cased. The raw tokens become a second
    input only if some later layer reads them too.
    """
    keras = keras_of(model)
    embedding = _embedding_layer(model, layer)
    shape = tuple(embedding.output.shape[1:])
    for needs_tokens in (False, True):
        new_embeddings = keras.Input(shape=shape, name="embeddings")
        known = {id(embedding.output): new_embeddings}
        inputs = [new_embeddings]
        if needs_tokens:
            new_tokens = keras.Input(shape=tuple(model.inputs[0].shape[1:]), name="tokens_again")
            known[id(model.inputs[0])] = new_tokens
            inputs.append(new_tokens)
        pending = [lay for lay in model.layers
                   if lay is not embedding and type(lay).__name__ != "InputLayer"]
        progress = True
        while pending and progress:
            progress = False
            for lay in list(pending):
                ins = _flat(lay.input)
                if all(id(t) in known for t in ins):
                    mapped = [known[id(t)] for t in ins]
                    out = lay(mapped if isinstance(lay.input, (list, tuple)) else mapped[0])
                    for old, new in zip(_flat(lay.output), _flat(out)):
                        known[id(old)] = new
                    pending.remove(lay)
                    progress = True
        outputs = model.outputs
        if all(id(t) in known for t in outputs):
            head = keras.Model(inputs, known[id(outputs[0])] if len(outputs) == 1 else
                               [known[id(t)] for t in outputs], name=f"{model.name}_after_{layer}")
            return KerasSplit(embedding, head, needs_tokens, int(shape[0]))
    raise ValueError(f"could not rebuild {model.name!r} after layer {embedding.name!r}: some layer "
                     f"reads neither the embedding output nor the model input")


_SPLITS: "weakref.WeakKeyDictionary[Any, KerasSplit]" = weakref.WeakKeyDictionary()


def as_split(model_or_split) -> KerasSplit:
    """The model's split, made once per model: each split adds call nodes to the model's layers."""
    if isinstance(model_or_split, KerasSplit):
        return model_or_split
    if model_or_split not in _SPLITS:
        _SPLITS[model_or_split] = split_at_embedding(model_or_split)
    return _SPLITS[model_or_split]


def integrated_gradients_report(model, tokens: np.ndarray,
                                targets: int | Sequence[int] = (NEGATIVE, POSITIVE), steps: int = 50,
                                baseline: str | np.ndarray = "pad", batch_size: int = 64) -> IGResult:
    """IG of one review of a word model (a Keras model, or its `KerasSplit`: split once, reuse it
    for many reviews) for each target class, with the completeness figures
    (`IMDb.analysis.integrated_gradients.integrated_gradients`, baseline from `baseline_tokens`)."""
    split = as_split(model).with_baseline(baseline)
    return _integrated_gradients(split, np.asarray(tokens).reshape(-1), targets, steps, batch_size=batch_size)


def integrated_gradients(model, tokens: np.ndarray, target: int = POSITIVE, steps: int = 50,
                         baseline: str | np.ndarray = "pad") -> np.ndarray:
    """Per-token IG attributions [seq_len] of class `target` (0 at padding); they sum to
    p_target(review) - p_target(baseline) up to the integration error (see
    `integrated_gradients_report` for the check)."""
    return integrated_gradients_report(model, tokens, target, steps, baseline).attributions[0]


def keras_predict_tokens(model, batch_size: int = 256) -> PredictTokens:
    """A `predict_tokens` function from a Keras model, for when no ONNX session is at hand."""
    def predict(tokens: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(model(tokens[i:i + batch_size].astype(np.float32), training=False))
                               for i in range(0, len(tokens), batch_size)])
    return predict


# --------------------------------------------------------------------------- the glue
@dataclass
class WordReviews:
    """Word models: one token position per word, removal = padding out (IG baseline, occlusion and
    faithfulness share that counterfactual); n-gram occlusion runs."""

    split: KerasSplit
    tokenizer: Any  # IMDb.text.word_tokenizer.WordTokenizer
    predict_tokens: PredictTokens

    @classmethod
    def of(cls, model, tokenizer, predict_tokens: PredictTokens | None = None,
           baseline: str = "pad") -> "WordReviews":
        return cls(as_split(model).with_baseline(baseline), tokenizer,
                   predict_tokens or keras_predict_tokens(model))

    def read(self, text: str) -> Review:
        tokens = self.tokenizer.token_ids([text])[0]
        n = n_real(tokens)
        word_of = np.where(np.arange(len(tokens)) < n, np.arange(len(tokens)), -1)
        return Review(tokens, word_of, list(self.tokenizer.positions(text)[:n]),
                      [bool(t == OOV_ID) for t in tokens[:n]], self.tokenizer.count(text) > len(tokens))

    def probabilities(self, review: Review, ig: IGResult) -> np.ndarray:
        """p of the review from the fast predictor (the one the variants are scored with)."""
        return np.asarray(self.predict_tokens(review.ids[None].astype(np.float32)), dtype=np.float64)[0]

    def without(self, review: Review, words: np.ndarray) -> np.ndarray:
        """The review with those words padded out (positions kept)."""
        out = review.ids.copy()
        out[words] = PAD_ID
        return out

    def predict(self, rows: list[np.ndarray]) -> np.ndarray:
        return np.asarray(self.predict_tokens(np.stack(rows).astype(np.float32)), dtype=np.float64)

    def phrases(self, review: Review, n_values: Sequence[int], mode: str, rank_by: str, k: int) -> list[Phrase]:
        """The `k` top n-grams by occlusion, no two overlapping."""
        rows = occlusion(self.predict_tokens, review.ids, n_values, review.words, mode, rank_by)
        return top_phrases(rows, k)
