"""Does BERT gain from longer inputs at test time? The shipped model (fine-tuned at 256 pieces,
head+tail) scored on the same test reviews at several input lengths, head+tail, no retraining.

The checkpoint has 512 position embeddings and the Keras model takes any length up to that, so a
longer WordPiece cut (same vocabulary, head_tokens = (seq_len - 2) // 2) can be fed as is. Reviews
of at most 254 pieces get the same input at every length, so they are scored once (at 256); only
the longer ones are scored again at each other length. Each length is compared with 256 on the
same reviews: the paired per-review difference in correctness, with a 95% normal interval, and the
discordant counts (McNemar).

Probabilities are cached per length by sample_id (--cache), so a later run on a larger sample (or
the whole split, --limit 0) only scores the reviews it has not seen.

Usage (a seeded, label-stratified test sample; --limit 0 for the whole split):

    IMDB_DATA=../shared/data/imdb/imdb.parquet .venv/bin/python scripts/experiments/bert_length.py --limit 3000
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from IMDb import families
from IMDb.analysis.inference import load_keras
from IMDb.bundle import Bundle
from IMDb.config.run import MODELS_DIR
from IMDb.data import data_source
from IMDb.data import dataset_states
from IMDb.text.wordpiece import WordPieceTokenizer


def keras_probabilities(model, tokenizer, texts, batch_size: int) -> np.ndarray:
    """Probabilities [n, 2] from the Keras model: unlike the ONNX graph (fixed at 256 pieces), it
    takes any length up to its 512 position embeddings."""
    probs = np.zeros((len(texts), 2))
    for rows, inputs in tokenizer.batches(texts, batch_size):
        probs[rows] = np.asarray(model([inputs[n] for n in tokenizer.input_names], training=False))
    return probs


def cached_predict(model, tokenizer, texts, ids, cache: Path | None, label: str) -> np.ndarray:
    """Probabilities [n, 2] of `texts` (ids: their sample_ids), reusing and extending `cache`."""
    known: dict = {}
    if cache is not None and cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        known = dict(zip(stored["ids"].tolist(), stored["probs"]))
    todo = [i for i, sid in enumerate(ids) if sid not in known]
    print(f"[{label}] {len(ids) - len(todo):,} cached, {len(todo):,} to score", flush=True)
    t0 = time.perf_counter()
    if todo:
        probs = keras_probabilities(model, tokenizer, [texts[i] for i in todo], families.get("bert").batch_size)
        for i, p in zip(todo, probs):
            known[ids[i]] = p
        if cache is not None:
            keys = list(known)
            tmp = cache.with_suffix(".tmp.npz")
            np.savez(tmp, ids=np.asarray(keys), probs=np.stack([known[k] for k in keys]))
            tmp.replace(cache)
    print(f"[{label}] {time.perf_counter() - t0:.0f} s", flush=True)
    return np.stack([known[sid] for sid in ids])


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, int, int]:
    """mean(a - b) of 0/1 correctness, its 95% normal interval, and the discordant counts."""
    d = a.astype(float) - b.astype(float)
    mean, se = d.mean(), d.std(ddof=1) / math.sqrt(len(d)) if len(d) > 1 else 0.0
    return mean, mean - 1.96 * se, mean + 1.96 * se, int(((a == 1) & (b == 0)).sum()), \
        int(((a == 0) & (b == 1)).sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lengths", type=int, nargs="+", default=[384, 512],
                        help="input lengths to compare with the shipped one (256)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/bert-length"),
                        help="folder for per-length probability caches ('' for none)")
    parser.add_argument("--long-only", action="store_true",
                        help="score only the reviews longer than 254 pieces (at 256 too); the "
                             "accuracy over the whole split is then the card's test accuracy plus "
                             "the paired change on the long reviews (whole split only)")
    args = parser.parse_args()

    start = time.perf_counter()
    bert = Bundle.read("bert", MODELS_DIR)
    model, tokenizer = load_keras(bert), bert.tokenizer
    base_len = tokenizer.seq_len
    if tokenizer.truncation != "headtail":
        print(f"note: the shipped tokenizer truncates {tokenizer.truncation!r}")
    test = dataset_states.load_states(bert.split_config(data_source.choose()))["test"]
    frame = dataset_states.stratified_sample(test, args.limit or None, args.seed).reset_index(drop=True)
    texts, labels = frame["text"].tolist(), frame["label"].to_numpy()
    ids = frame["sample_id"].astype(str).tolist()
    lengths = np.array([len(e.ids) for e in tokenizer.encodings(texts)])
    long = np.flatnonzero(lengths > base_len - 2)
    print(f"{len(frame):,} test reviews (seed {args.seed}, limit {args.limit}); {len(long):,} "
          f"({len(long) / len(frame):.1%}) longer than {base_len - 2} pieces; median length "
          f"{int(np.median(lengths))}, share > 382: {(lengths > 382).mean():.1%}, "
          f"> 510: {(lengths > 510).mean():.1%}", flush=True)

    cache = args.cache if str(args.cache) not in ("", ".") else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)

    def cache_file(n: int) -> Path | None:
        return None if cache is None else cache / f"probs_{n}.npz"

    if args.long_only:  # the short reviews get the same input at every length: leave them out
        frame, lengths = frame.iloc[long].reset_index(drop=True), lengths[long]
        texts, labels, ids = [texts[i] for i in long], labels[long], [ids[i] for i in long]
        total, long = len(test) if not args.limit else args.limit, np.arange(len(long))
    base = cached_predict(model, tokenizer, texts, ids, cache_file(base_len), f"{base_len}")
    right = {base_len: base.argmax(1) == labels}
    for n in args.lengths:
        if n == base_len:
            continue
        longer = WordPieceTokenizer(tokenizer.tokenizer, n, "headtail")
        probs = base.copy()
        probs[long] = cached_predict(model, longer, [texts[i] for i in long], [ids[i] for i in long],
                                     cache_file(n), f"{n}")
        right[n] = probs.argmax(1) == labels

    print(f"\n{len(frame):,} test reviews (seed {args.seed}), {len(long):,} longer than "
          f"{base_len - 2} pieces; wall {time.perf_counter() - start:.0f} s")
    for n, hits in right.items():
        print(f"seq_len {n:>3} head+tail: accuracy {hits.mean():.4f} (on the long reviews "
              f"{hits[long].mean():.4f})")
    for n, hits in right.items():
        if n == base_len:
            continue
        mean, lo, hi, won, lost = paired(hits, right[base_len])
        print(f"{n} - {base_len}: {mean * 100:+.2f} points, 95% CI [{lo * 100:+.2f}, {hi * 100:+.2f}]; "
              f"{won} reviews fixed, {lost} broken")
        if args.long_only:
            scale = len(long) / total
            card = bert.card["figures"]["test"]["accuracy"] if not args.limit else None
            line = (f"  over all {total:,} reviews: {mean * scale * 100:+.3f} points, 95% CI "
                    f"[{lo * scale * 100:+.3f}, {hi * scale * 100:+.3f}]")
            if card is not None:
                line += (f"; card test accuracy {card:.4f} (256) -> {card + (won - lost) / total:.4f} "
                         f"at {n}")
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
