"""Benchmark of one BERT training step in float32 and in mixed bfloat16 (`--precision`).

Each precision runs in a fresh process: the `Trainer` that `imdb-leap train --model bert` uses
(the pretrained encoder from IMDB_BERT or --bert), one step to compile, then --steps timed steps
on a batch of --batch random pieces of --length positions (every position real, so a step costs
what a full-length batch of the training reviews costs). Prints seconds per step and the ratio.

    python scripts/benchmarks/benchmark_bert_precision.py --length 384 --steps 3

bfloat16 pays off on CPUs with bfloat16 dot-product instructions (x86 `avx512_bf16` or AMX); on
others it can be slower than float32.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

PRECISIONS = ("float32", "mixed_bfloat16")


def one(precision: str, length: int, batch: int, steps: int, bert: str | None) -> float:
    """Seconds per training step of `precision` in this process."""
    import numpy as np

    from IMDb import families
    from IMDb import toolkits
    from IMDb.training.bert_finetune import with_tokenizer
    from IMDb.training.bert_steps import Trainer

    cfg = families.config("bert", seq_len=length, precision=precision, **({"bert_checkpoint": bert} if bert else {}))
    cfg, tokenizer = with_tokenizer(cfg)
    family = families.get("bert")
    trainer = Trainer(cfg, tokenizer, family, toolkits.of(family))
    rng = np.random.default_rng(0)
    x = [rng.integers(1000, tokenizer.vocab_size, (batch, length)).astype(np.float32),
         np.ones((batch, length), np.float32), np.zeros((batch, length), np.float32)]
    y = rng.integers(0, 2, batch).astype(np.int32)
    trainer.train_step(*x, y)
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(*x, y)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=384)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--bert", help="a Hugging Face BERT folder (default: $IMDB_BERT)")
    parser.add_argument("--only", choices=PRECISIONS, help=argparse.SUPPRESS)  # one precision, in a child
    args = parser.parse_args()
    if args.only:
        print(json.dumps(one(args.only, args.length, args.batch, args.steps, args.bert)))
        return
    seconds = {}
    for precision in PRECISIONS:
        out = subprocess.run([sys.executable, __file__, "--only", precision, *sys.argv[1:]],
                             check=True, capture_output=True, text=True).stdout
        seconds[precision] = json.loads(out.strip().splitlines()[-1])
    print(f"| precision | s/step (batch {args.batch} x {args.length} pieces) |\n|---|---:|")
    for precision, s in seconds.items():
        print(f"| {precision} | {s:.2f} |")
    print(f"speed-up: {seconds['float32'] / seconds['mixed_bfloat16']:.2f}x")


if __name__ == "__main__":
    main()
