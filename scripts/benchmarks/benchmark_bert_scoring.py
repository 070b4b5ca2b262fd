"""Benchmark of BERT's scoring at the end of a training run (validation, held-out CAD, test) per
batch size: reviews a second and the peak memory the batches add.

Each batch size runs in a fresh process: the `Trainer` that `imdb-leap train --model bert` uses
(the pretrained encoder from IMDB_BERT or --bert; scoring costs the same with any weights) scores
--reviews random rows of --length pieces, every position real (the longest reviews, which set
the peak). Prints a table of reviews/s and the peak resident memory above the model's own.

    python scripts/benchmarks/benchmark_bert_scoring.py --length 512 --batches 16,64

Attention holds batch x heads x length² scores, so the peak grows with the batch; on CPU the
throughput hardly does (`Trainer.predict` uses 16).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def one(batch: int, length: int, reviews: int, bert: str | None) -> dict:
    """Reviews/s and peak memory growth (GB) of scoring with batches of `batch`, in this process."""
    import numpy as np

    from IMDb import families
    from IMDb import toolkits
    from IMDb.training.bert_finetune import with_tokenizer
    from IMDb.training.bert_steps import Trainer

    cfg, tokenizer = with_tokenizer(families.config("bert", seq_len=length,
                                                    **({"bert_checkpoint": bert} if bert else {})))
    family = families.get("bert")
    trainer = Trainer(cfg, tokenizer, family, toolkits.of(family))
    rng = np.random.default_rng(0)
    rows = [rng.integers(1000, tokenizer.vocab_size, length) for _ in range(reviews)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.perf_counter()
    trainer.predict(rows, batch_size=batch)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"per_second": reviews / seconds, "added_gb": (peak - before) * 1024 / 1e9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--batches", default="16,64", help="batch sizes, comma-separated")
    parser.add_argument("--reviews", type=int, default=128)
    parser.add_argument("--bert", help="a Hugging Face BERT folder (default: $IMDB_BERT)")
    parser.add_argument("--only", type=int, help=argparse.SUPPRESS)  # one batch size, in a child
    args = parser.parse_args()
    if args.only:
        print(json.dumps(one(args.only, args.length, args.reviews, args.bert)))
        return
    print(f"| batch | reviews/s ({args.reviews} x {args.length} pieces) | peak memory added |\n|---:|---:|---:|")
    for batch in (int(b) for b in args.batches.split(",")):
        out = subprocess.run([sys.executable, __file__, "--only", str(batch), *sys.argv[1:]],
                             check=True, capture_output=True, text=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        print(f"| {batch} | {figures['per_second']:.1f} | {figures['added_gb']:.2f} GB |")


if __name__ == "__main__":
    main()
