"""Why did the model say that? Per-token and per-phrase attributions of one review, and a check
that they are faithful.

Three views of the same review, all in the "padding out" counterfactual (a word is removed by
replacing its id with the padding id, as the tokenizer pads short reviews), so they are comparable:

- integrated gradients (IG) on the embedding layer: the model is split at the embedding output,
  the embeddings are interpolated from a baseline (the padding embedding at every word position) to
  the review's, and the gradients along the path are averaged (trapezoid rule) and multiplied by
  (input - baseline). Summed over the embedding dimension this gives one number per token, and the
  tokens' numbers add up to f(review) - f(baseline) (completeness), which is checked and reported.
- occlusion of n-grams (n = 1, 2, 3): every n-gram is padded out and the change of p_positive
  measured, all variants of one review in one batched predict call, so a phrase such as "mildly
  entertaining" is scored as a unit, with its interaction (phrase delta minus its words' deltas).
- faithfulness: padding out the top-k attributed tokens must lower the probability of the predicted
  class more than padding out k random words.

The Keras model is only needed for IG (gradients); occlusion and faithfulness take any batched
``predict_tokens(tokens [n, seq_len]) -> probabilities [n, 2]``, such as ONNX Runtime's
`IMDb.predict.Predictor.predict_tokens`, which is several times faster than Keras on CPU.

Keras versions: IG works with a TensorFlow-backed functional model from either tf_keras (Keras 2,
the ``model.h5`` files; the analysis uses these) or Keras 3 (`IMDb.models.build`). The split reads
only the public layer graph (``layer.input`` / ``layer.output``) and re-applies the layers after the
embedding to a new input, so any functional architecture works, provided each layer after the
embedding is called once and with its inputs only (no masks or extra call arguments).
"""
from __future__ import annotations

import importlib
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from IMDb.config import LABELS
from IMDb.text import OOV_ID, PAD_ID

PredictTokens = Callable[[np.ndarray], np.ndarray]
POSITIVE = LABELS.index("positive")
NEGATIVE = LABELS.index("negative")
EMBEDDING_LAYER = "embedding"


# --------------------------------------------------------------------------- splitting the model
@dataclass
class EmbeddingSplit:
    """A model cut at its embedding output: the embedding matrix, and the rest of the network as a
    model of the embeddings (plus the raw tokens when a later layer also reads them)."""

    embedding: Any  # the model's embedding layer (its weights are read at each call: never stale)
    head: Any  # Keras model: embeddings [n, seq_len, dim] (, tokens [n, seq_len]) -> probabilities
    needs_tokens: bool
    seq_len: int

    @property
    def matrix(self) -> np.ndarray:
        """The embedding matrix [vocab, dim]."""
        return np.asarray(self.embedding.get_weights()[0], dtype=np.float32)

    def embed(self, tokens: np.ndarray) -> np.ndarray:
        return self.matrix[np.asarray(tokens).astype(np.int64)]

    def __call__(self, embeddings, tokens=None):
        inputs = [embeddings, tokens] if self.needs_tokens else embeddings
        return self.head(inputs, training=False)


def _keras_module(model) -> Any:
    """`tf_keras` or `keras`, whichever built `model`: the head must be built with the same one."""
    root = type(model).__module__.split(".")[0]
    module = importlib.import_module("tf_keras" if root == "tf_keras" else "keras")
    if module.__name__ == "keras" and module.backend.backend() != "tensorflow":
        raise ValueError(f"integrated gradients need the TensorFlow backend, Keras runs on "
                         f"{module.backend.backend()!r}")
    return module


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


def split_at_embedding(model, layer: str = EMBEDDING_LAYER) -> EmbeddingSplit:
    """Cut a functional model at the output of its embedding layer.

    The layers that follow are re-applied, in dependency order, to a new input of the embedding's
    output shape (a worklist over ``model.layers``: a layer runs once all its inputs are known), so
    branches and merges work and no architecture is special-cased. The raw tokens become a second
    input only if some later layer reads them too.
    """
    keras = _keras_module(model)
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
            return EmbeddingSplit(embedding, head, needs_tokens, int(shape[0]))
    raise ValueError(f"could not rebuild {model.name!r} after layer {embedding.name!r}: some layer "
                     f"reads neither the embedding output nor the model input")


_SPLITS: "weakref.WeakKeyDictionary[Any, EmbeddingSplit]" = weakref.WeakKeyDictionary()


def _as_split(model_or_split) -> EmbeddingSplit:
    """The model's split, made once per model: each split adds call nodes to the model's layers."""
    if isinstance(model_or_split, EmbeddingSplit):
        return model_or_split
    if model_or_split not in _SPLITS:
        _SPLITS[model_or_split] = split_at_embedding(model_or_split)
    return _SPLITS[model_or_split]


# --------------------------------------------------------------------------- integrated gradients
@dataclass
class IGResult:
    """Attributions [n_targets, seq_len] and the completeness check of each target."""

    targets: list[int]
    attributions: np.ndarray
    f_input: np.ndarray  # model output of each target at the review
    f_baseline: np.ndarray  # ... and at the baseline
    steps: int

    @property
    def delta(self) -> np.ndarray:
        return self.f_input - self.f_baseline

    @property
    def total(self) -> np.ndarray:
        return self.attributions.sum(axis=1)

    @property
    def abs_error(self) -> np.ndarray:
        """|sum(attributions) - (f(x) - f(baseline))|: the integration error, 0 for exact IG."""
        return np.abs(self.total - self.delta)

    @property
    def rel_error(self) -> np.ndarray:
        return self.abs_error / np.maximum(np.abs(self.delta), 1e-6)

    def completeness(self, i: int = 0) -> dict:
        return {"target": LABELS[self.targets[i]], "sum": float(self.total[i]),
                "f_input": float(self.f_input[i]), "f_baseline": float(self.f_baseline[i]),
                "delta": float(self.delta[i]), "abs_error": float(self.abs_error[i]),
                "rel_error": float(self.rel_error[i]), "steps": self.steps}


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


def integrated_gradients_report(model, tokens: np.ndarray,
                                targets: int | Sequence[int] = (NEGATIVE, POSITIVE), steps: int = 50,
                                baseline: str | np.ndarray = "pad", batch_size: int = 64) -> IGResult:
    """IG of one review for each target class, with the completeness figures.

    `model` is a Keras model or an `EmbeddingSplit` (split once, reuse it for many reviews). The
    steps+1 interpolated embeddings go through the head in batches of `batch_size` (one batch for
    steps <= 63); gradients of all targets come from one forward pass.
    """
    import tensorflow as tf

    if steps < 1:
        raise ValueError("steps must be >= 1")
    split = _as_split(model)
    tokens = np.asarray(tokens).reshape(-1)
    if len(tokens) != split.seq_len:
        raise ValueError(f"the model takes {split.seq_len} tokens, got {len(tokens)}")
    targets = [int(targets)] if np.isscalar(targets) else [int(t) for t in targets]
    matrix = split.matrix
    x = matrix[tokens.astype(np.int64)]
    b = matrix[baseline_tokens(tokens, baseline).astype(np.int64)]
    diff = x - b
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps, dtype=np.float32)  # trapezoid rule on [0, 1]
    weights[[0, -1]] /= 2
    avg = np.zeros((len(targets), *x.shape), dtype=np.float64)
    outputs = np.empty((steps + 1, len(targets)), dtype=np.float64)
    tok = tf.constant(np.broadcast_to(tokens.astype(np.float32), (min(batch_size, steps + 1), len(tokens))))
    for i in range(0, steps + 1, batch_size):
        a = alphas[i:i + batch_size]
        path = tf.constant(b[None] + a[:, None, None] * diff[None])
        with tf.GradientTape(persistent=len(targets) > 1) as tape:
            tape.watch(path)
            probs = split(path, tok[: len(a)])
            picked = [tf.reduce_sum(probs[:, t]) for t in targets]  # rows are independent
        w = tf.constant(weights[i:i + batch_size])
        for j, value in enumerate(picked):
            grads = tape.gradient(value, path)
            avg[j] += tf.tensordot(w, grads, axes=1).numpy()
        outputs[i:i + len(a)] = probs.numpy()[:, targets]
        del tape
    attributions = (avg * diff[None]).sum(axis=-1)
    attributions[:, tokens == PAD_ID] = 0.0
    return IGResult(targets, attributions, outputs[-1], outputs[0], steps)


def integrated_gradients(model, tokens: np.ndarray, target: int = POSITIVE, steps: int = 50,
                         baseline: str | np.ndarray = "pad") -> np.ndarray:
    """Per-token IG attributions [seq_len] of class `target` (0 at padding); they sum to
    p_target(review) - p_target(baseline) up to the integration error (see
    `integrated_gradients_report` for the check)."""
    return integrated_gradients_report(model, tokens, target, steps, baseline).attributions[0]


# --------------------------------------------------------------------------- occlusion
def _n_real(tokens: np.ndarray) -> int:
    """Number of word positions: the tokenizer pads at the end only."""
    nonpad = np.flatnonzero(tokens != PAD_ID)
    return int(nonpad[-1]) + 1 if len(nonpad) else 0


def occlude(tokens: np.ndarray, start: int, length: int, mode: str = "pad") -> np.ndarray:
    """The review with tokens[start:start+length] padded out ("pad") or cut out with the rest
    shifted left and padded at the end ("remove")."""
    out = np.array(tokens, copy=True)
    if mode == "pad":
        out[start:start + length] = PAD_ID
    elif mode == "remove":
        rest = tokens[start + length:]
        out[start:start + len(rest)] = rest
        out[start + len(rest):] = PAD_ID
    else:
        raise ValueError(f"mode must be 'pad' or 'remove', not {mode!r}")
    return out


RANK_KEYS = {"delta": "delta", "log_odds": "delta_log_odds", "interaction": "interaction"}


def _log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


def occlusion(predict_tokens_fn: PredictTokens, tokens: np.ndarray, n_values: Iterable[int] = (1, 2, 3),
              words: Sequence[str] | None = None, mode: str = "pad", rank_by: str = "delta") -> list[dict]:
    """Every n-gram of the review occluded in turn; sorted by the |value| named by `rank_by`
    (default: |delta|), largest first.

    delta = p_positive(review) - p_positive(review without the n-gram): positive when the phrase
    pushed toward "positive", like the IG sign for the positive class. delta_log_odds is the same
    change in log-odds, which does not shrink when the prediction is saturated (a confidently wrong
    review at p = 0.003 moves by thousandths in probability whatever is removed); `rank_by`
    "log_odds" sorts by it. For n > 1, interaction = delta_log_odds - the sum of its words'
    delta_log_odds: 0 when the words act independently, far from 0 when the phrase acts as a unit
    ("mildly entertaining" less positive than "entertaining"). It is measured in log-odds because
    the softmax's curvature alone makes probability deltas non-additive. `rank_by` "interaction"
    surfaces such phrases (unigrams last). The `dense` model is additive in log-odds (per-word
    features, averaged): its interactions are 0 up to rounding, only the CNN can have units.

    Default mode "pad" replaces the n-gram with padding ids: the other words keep their positions,
    so the change belongs to the phrase alone (no new n-grams form across the gap in the CNN), and it
    is the same counterfactual as the IG baseline and the faithfulness check. "remove" cuts it out
    and shifts the rest left (in-distribution for a model that never saw padding mid-review, at
    the price of new word pairs across the gap). All variants go to `predict_tokens_fn` at once.
    """
    if rank_by not in RANK_KEYS:
        raise ValueError(f"rank_by must be one of {', '.join(RANK_KEYS)}, not {rank_by!r}")
    tokens = np.asarray(tokens).reshape(-1)
    n_real = _n_real(tokens)
    spans = [(s, n) for n in sorted(set(int(v) for v in n_values)) for s in range(n_real - n + 1)]
    if not spans:
        return []
    batch = np.stack([tokens] + [occlude(tokens, s, n, mode) for s, n in spans]).astype(np.float32)
    p = np.asarray(predict_tokens_fn(batch), dtype=np.float64)[:, POSITIVE]
    deltas = p[0] - p[1:]
    deltas_lo = _log_odds(p[:1]) - _log_odds(p[1:])
    unigram = {s: d for (s, n), d in zip(spans, deltas_lo) if n == 1}
    rows = []
    for (s, n), d, d_lo, after in zip(spans, deltas, deltas_lo, p[1:]):
        phrase = words[s:s + n] if words is not None else [f"#{int(t)}" for t in tokens[s:s + n]]
        row = {"start": s, "length": n, "words": " ".join(phrase), "delta": float(d),
               "delta_log_odds": float(d_lo), "p_positive": float(after), "interaction": None}
        if n > 1 and all(i in unigram for i in range(s, s + n)):
            row["interaction"] = float(d_lo - sum(unigram[i] for i in range(s, s + n)))
        rows.append(row)
    key = RANK_KEYS[rank_by]
    rows.sort(key=lambda r: (r[key] is None, -abs(r[key] or 0.0), r["length"], r["start"]))
    return rows


def top_phrases(rows: list[dict], k: int = 10, distinct: bool = True) -> list[dict]:
    """The first `k` occlusion rows (as `occlusion` ranked them); with `distinct`, a row overlapping
    one already taken is skipped, so "mildly entertaining" does not also appear as "entertaining"."""
    taken: list[dict] = []
    for row in rows:
        span = range(row["start"], row["start"] + row["length"])
        if distinct and any(set(span) & set(range(t["start"], t["start"] + t["length"])) for t in taken):
            continue
        taken.append(row)
        if len(taken) == k:
            break
    return taken


# --------------------------------------------------------------------------- faithfulness
def faithfulness(predict_tokens_fn: PredictTokens, tokens: np.ndarray, attributions: np.ndarray,
                 k: Iterable[int] = (5, 10), n_random: int = 20, seed: int = 0,
                 target: int | None = None) -> dict:
    """Does padding out the top-k attributed tokens lower p(predicted class) more than padding out
    k random words? `attributions` are for the predicted class (or `target`): the top-k are the k
    largest values, the strongest evidence for that class. The random drop is the mean over
    `n_random` seeded draws; everything goes to `predict_tokens_fn` in one call.

    Per k: top_drop, random_drop (mean, std), ratio = top_drop / random_drop (None when the random
    drop is <= 0), passed = top_drop > random_drop (None when k covers every word: both sets are the
    whole review).
    """
    tokens = np.asarray(tokens).reshape(-1)
    attributions = np.asarray(attributions, dtype=np.float64).reshape(-1)
    real = np.flatnonzero(tokens != PAD_ID)
    rng = np.random.default_rng(seed)
    ks = sorted(set(int(v) for v in k))
    order = real[np.argsort(-attributions[real], kind="stable")]
    variants, plan = [tokens], []
    for kk in ks:
        kk_eff = min(kk, len(real))
        top = tokens.copy()
        top[order[:kk_eff]] = PAD_ID
        variants.append(top)
        for _ in range(n_random):
            rand = tokens.copy()
            rand[rng.choice(real, size=kk_eff, replace=False)] = PAD_ID
            variants.append(rand)
        plan.append((kk, kk_eff))
    probs = np.asarray(predict_tokens_fn(np.stack(variants).astype(np.float32)), dtype=np.float64)
    return score_faithfulness(probs, plan, len(real), n_random, seed, target)


def score_faithfulness(probs: np.ndarray, plan: list[tuple[int, int]], n_units: int, n_random: int,
                       seed: int, target: int | None = None) -> dict:
    """The `faithfulness` dict from the probabilities of [review, then per (k, k_used) in `plan`:
    top-k removed, `n_random` random-k removed]; `n_units` words could be removed."""
    c = int(np.argmax(probs[0])) if target is None else int(target)
    p0 = probs[0, c]
    per_k, i = [], 1
    for kk, kk_eff in plan:
        top_drop = p0 - probs[i, c]
        rand = p0 - probs[i + 1:i + 1 + n_random, c]
        i += 1 + n_random
        random_drop = float(rand.mean()) if n_random else float("nan")
        meaningful = 0 < kk_eff < n_units and n_random > 0
        per_k.append({"k": kk, "k_used": kk_eff, "top_drop": float(top_drop), "random_drop": random_drop,
                      "random_std": float(rand.std()) if n_random else None,
                      "ratio": float(top_drop / random_drop) if meaningful and random_drop > 0 else None,
                      "passed": bool(top_drop > random_drop) if meaningful else None})
    decided = [r["passed"] for r in per_k if r["passed"] is not None]
    return {"target": LABELS[c], "p_target": float(p0), "n_words": int(n_units), "n_random": n_random,
            "seed": seed, "per_k": per_k, "passed": all(decided) if decided else None}


def faithfulness_summary(results: Iterable[dict]) -> dict:
    """Aggregate of `faithfulness` results over samples, per k: mean drops, their ratio and the
    share of samples that passed (undecided samples left out)."""
    results = list(results)
    per_k = {}
    for r in results:
        for row in r["per_k"]:
            per_k.setdefault(row["k"], []).append(row)
    out = []
    for kk, rows in sorted(per_k.items()):
        decided = [row for row in rows if row["passed"] is not None]
        top = float(np.mean([row["top_drop"] for row in decided])) if decided else None
        rand = float(np.mean([row["random_drop"] for row in decided])) if decided else None
        out.append({"k": kk, "n": len(decided), "mean_top_drop": top, "mean_random_drop": rand,
                    "ratio": top / rand if decided and rand > 0 else None,
                    "pass_rate": float(np.mean([row["passed"] for row in decided])) if decided else None})
    decided = [r["passed"] for r in results if r["passed"] is not None]
    return {"n_samples": len(results), "per_k": out,
            "pass_rate": float(np.mean(decided)) if decided else None,
            "passed": bool(all(decided)) if decided else None}


# --------------------------------------------------------------------------- samples and explain
def choose_samples(frame: pd.DataFrame, n: int = 6) -> pd.DataFrame:
    """The highest-loss false positives and false negatives, n // 2 of each (the other kind fills
    in when one runs short), most costly first, with a `kind` column."""
    labeled = frame[frame["label"].notna()]
    label = labeled["label"].astype(int)
    kinds = {"false positive": labeled[(label == NEGATIVE) & (labeled["prediction"] == POSITIVE)],
             "false negative": labeled[(label == POSITIVE) & (labeled["prediction"] == NEGATIVE)]}
    ranked = {kind: part.sort_values("loss", ascending=False, kind="stable").assign(kind=kind)
              for kind, part in kinds.items()}
    fp, fn = ranked["false positive"], ranked["false negative"]
    n_fp = min(len(fp), max(n // 2 + n % 2, n - len(fn)))
    n_fn = min(len(fn), n - n_fp)
    chosen = pd.concat([fp.head(n_fp), fn.head(n_fn)])
    return chosen.sort_values("loss", ascending=False, kind="stable")


def keras_predict_tokens(model, batch_size: int = 256) -> PredictTokens:
    """A `predict_tokens` function from a Keras model, for when no ONNX session is at hand."""
    def predict(tokens: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(model(tokens[i:i + batch_size].astype(np.float32), training=False))
                               for i in range(0, len(tokens), batch_size)])
    return predict


def _python(value):
    """JSON-safe scalar: numpy -> Python, NaN -> None."""
    if value is None:
        return None
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def samples_frame(texts_or_frame, n_samples: int | None = None) -> pd.DataFrame:
    """The reviews to explain as a frame: texts, a frame or an AnalysisTable, narrowed to the
    `n_samples` costliest errors when given (`choose_samples`)."""
    frame = getattr(texts_or_frame, "frame", texts_or_frame)
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame({"text": list(frame)})
    return frame if n_samples is None else choose_samples(frame, n_samples)


def explanation(row: dict, predicted: int, probabilities: np.ndarray, ig: IGResult) -> dict:
    """The fields every explanation has, whatever the model: which review, what it was predicted,
    and the completeness of its integrated gradients."""
    label = _python(row.get("label"))
    return {"sample_id": _python(row.get("sample_id")), "kind": row.get("kind"),
            "label": None if label is None else int(label), "prediction": int(predicted),
            "p_positive": float(probabilities[POSITIVE]), "loss": _python(row.get("loss")),
            "completeness": {LABELS[t]: ig.completeness(i) for i, t in enumerate(ig.targets)}}


def explain(model, tokenizer, texts_or_frame, *, predict_tokens: PredictTokens | None = None,
            n_samples: int | None = None, steps: int = 50, baseline: str = "pad",
            n_values: Sequence[int] = (1, 2, 3), top_ngrams: int = 10, rank_by: str = "delta",
            occlusion_mode: str = "pad", k: Sequence[int] = (5, 10),
            n_random: int = 20, seed: int = 0, progress: bool = False) -> list[dict]:
    """Explanations of reviews, as JSON-serialisable dicts for the report.

    `texts_or_frame`: review texts, or a frame (or an AnalysisTable) with a `text` column and
    optionally sample_id, label, loss, prediction, kind; with `n_samples`, the frame is first
    narrowed to its highest-loss false positives and false negatives (`choose_samples`). `model` is
    the Keras model (IG); `predict_tokens` (default: the Keras model) scores the occlusion and
    faithfulness variants, e.g. `Predictor.predict_tokens` (ONNX Runtime).

    Each dict: words (the review's words at its token positions, no padding; OOV words as written,
    flagged in `oov`), ig_positive / ig_negative (one float per word), completeness (per target),
    p_positive, prediction, label, ngrams (the `top_ngrams` occlusion rows ranked by `rank_by`, no
    two overlapping; see `occlusion` for `occlusion_mode`), faithfulness (of the IG of the predicted
    class), seconds per stage.
    """
    frame = samples_frame(texts_or_frame, n_samples)
    split = _as_split(model)
    predict = predict_tokens or keras_predict_tokens(model)
    texts = frame["text"].tolist()
    encoded = tokenizer.encode(texts)
    rows = frame.to_dict("records")
    iterator = zip(rows, texts, encoded)
    if progress:
        from tqdm.auto import tqdm
        iterator = tqdm(iterator, total=len(rows), desc="attribution", unit="review")
    out = []
    for row, text, tokens in iterator:
        n = _n_real(tokens)
        words = tokenizer.tokens(text)[:n]
        t0 = time.perf_counter()
        ig = integrated_gradients_report(split, tokens, (NEGATIVE, POSITIVE), steps, baseline)
        t1 = time.perf_counter()
        rows_occ = occlusion(predict, tokens, n_values, words, occlusion_mode, rank_by)
        t2 = time.perf_counter()
        p = np.asarray(predict(tokens[None].astype(np.float32)), dtype=np.float64)[0]
        predicted = int(np.argmax(p))
        faith = faithfulness(predict, tokens, ig.attributions[ig.targets.index(predicted)], k, n_random, seed)
        t3 = time.perf_counter()
        out.append(explanation(row, predicted, p, ig) | {
            "words": list(words),
            "oov": [bool(t == OOV_ID) for t in tokens[:n]],
            "truncated": len(tokenizer.ids(text)) > len(tokens),
            "ig_positive": [float(v) for v in ig.attributions[ig.targets.index(POSITIVE), :n]],
            "ig_negative": [float(v) for v in ig.attributions[ig.targets.index(NEGATIVE), :n]],
            "ngrams": top_phrases(rows_occ, top_ngrams),
            "faithfulness": faith,
            "seconds": {"ig": t1 - t0, "occlusion": t2 - t1, "faithfulness": t3 - t2},
        })
    return out
