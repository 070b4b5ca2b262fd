"""Benchmark of `imdb-leap analyze`: wall time per stage and peak RSS, and how the total grows.

Each size runs the full analysis (default settings: UMAP, k-means with k by silhouette, 6 explained
reviews, baselines) in a fresh process, so its peak RSS is its own and UMAP's first-call compile
is counted as a user would pay it:

    5k   the test state, a seeded label-stratified sample of 5,000 reviews
    25k  the whole test state (the goal: under 5 minutes and 4 GB on the 2-core machine)
    50k  training+validation+test together (49,877 labeled reviews: every labeled review once)

Usage (the dataset from IMDB_DATA or --data; the model from models/ or --models-dir):

    python scripts/benchmark_analysis.py                       # 5k, 25k and 50k
    python scripts/benchmark_analysis.py --sizes 25k --model cnn

It prints a markdown table (seconds per stage and size, peak RSS, total) and writes the reports to
--out (default: a temp folder, removed afterwards unless --keep).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = {"5k": ("test", 5000), "25k": ("test", None), "50k": ("training+validation+test", None)}
GOAL_SECONDS, GOAL_MIB = 300, 4096


def one(args: argparse.Namespace) -> None:
    """Child process: one analysis; prints its summary's timings as JSON on the last line."""
    sys.path.insert(0, str(REPO))
    from IMDb.analysis.run import run_analysis

    state, limit = SIZES[args.one]
    out = run_analysis(args.model, state, Path(args.out) / f"{args.model}-{args.one}", limit=limit,
                       models_dir=args.models_dir, data=args.data, progress=True)
    summary = json.loads((out / "summary.json").read_text())
    n = next(r["n"] for r in summary["models_and_baselines"] if r["name"] == args.model)
    print(json.dumps({"size": args.one, "n": n, "timings": summary["timings"]}), flush=True)


def table(results: list[dict]) -> str:
    stages: list[str] = []
    for r in results:
        for s in r["timings"]["stages"]:
            if s["stage"] not in stages:
                stages.append(s["stage"])
    head = "| stage | " + " | ".join(f"{r['size']} ({r['n']:,}) s" for r in results) + " |"
    lines = [head, "|" + "---|" * (len(results) + 1)]
    for stage in stages:
        cells = []
        for r in results:
            s = next((s for s in r["timings"]["stages"] if s["stage"] == stage), None)
            cells.append("–" if s is None else f"{s['seconds']:.1f}")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    for r in results:  # the table stage's own steps, for the largest share of the time
        r["steps"] = r["timings"]["stages"][0].get("steps", {})
    steps = [k for k in results[0]["steps"] if k not in ("total", "peak_rss_mib")] if results else []
    for step in steps:
        lines.append(f"| &nbsp;&nbsp;table: {step} | "
                     + " | ".join(f"{r['steps'].get(step, float('nan')):.1f}" for r in results) + " |")
    lines.append("| **total (wall)** | "
                 + " | ".join(f"**{r['timings']['total_seconds']:.1f}**" for r in results) + " |")
    lines.append("| process wall, with imports | " + " | ".join(f"{r['process_seconds']:.1f}" for r in results) + " |")
    lines.append("| peak RSS (MiB) | " + " | ".join(f"{r['timings']['peak_rss_mib']:,.0f}" for r in results) + " |")
    lines.append("| s per 1k reviews | " + " | ".join(f"{1000 * r['timings']['total_seconds'] / r['n']:.1f}"
                                                   for r in results) + " |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="cnn")
    p.add_argument("--sizes", default="5k,25k,50k", help="comma-separated, of " + ", ".join(SIZES))
    p.add_argument("--models-dir", dest="models_dir", default=str(REPO / "models"))
    p.add_argument("--data", default=None, help="dataset source (default: $IMDB_DATA)")
    p.add_argument("--out", default=None, help="where the reports go (default: a temp folder)")
    p.add_argument("--keep", action="store_true", help="keep the reports written to the temp folder")
    p.add_argument("--one", choices=sorted(SIZES), help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ.setdefault("TL_DISABLE_ANALYTICS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.one:
        one(args)
        return 0

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        p.error(f"unknown size(s) {unknown}; choose from {', '.join(SIZES)}")
    temp = None if args.out else tempfile.mkdtemp(prefix="imdb-bench-")
    out = args.out or temp
    results = []
    started = time.perf_counter()
    for size in sizes:
        cmd = [sys.executable, __file__, "--one", size, "--model", args.model, "--models-dir", args.models_dir,
               "--out", out] + (["--data", args.data] if args.data else [])
        print(f"== {size}: {' '.join(cmd)}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
        if proc.returncode != 0:
            print(f"benchmark: the {size} run failed (exit {proc.returncode})", file=sys.stderr)
            return 1
        results.append({**json.loads(proc.stdout.strip().splitlines()[-1]),
                        "process_seconds": time.perf_counter() - t0})
    print(f"\nimdb-leap analyze --model {args.model}: seconds per stage (fresh process per size; "
          f"{os.cpu_count()} CPU cores; {time.perf_counter() - started:.0f} s in all)\n")
    print(table(results))
    at_25k = next((r for r in results if r["size"] == "25k"), None)
    if at_25k:
        t, m = at_25k["timings"]["total_seconds"], at_25k["timings"]["peak_rss_mib"]
        verdict = "met" if t < GOAL_SECONDS and m < GOAL_MIB else "NOT met"
        print(f"\ngoal at 25k (< {GOAL_SECONDS} s and < {GOAL_MIB} MiB): {verdict} ({t:.0f} s, {m:,.0f} MiB)")
    if temp is not None and args.keep:
        print(f"reports kept in {out}")
    elif temp is not None:
        shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
