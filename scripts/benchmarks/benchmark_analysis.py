"""Benchmark of `imdb-leap analyze`: wall time per stage and peak RSS, cold and warm.

Each run is the full analysis (default settings: UMAP, k-means with k by silhouette, 6 explained
reviews, baselines) in a fresh process, so its peak RSS is its own and one-time costs are counted
as a user would pay them:

    5k   the test state, a seeded label-stratified sample of 5,000 reviews
    25k  the whole test state (the goal: 90 s cold, 60 s warm, 2 GB, on the 2-core machine)
    50k  training+validation+test together (49,877 labeled reviews: every labeled review once)

first  empty caches, numba's included: the first analysis after installing (numba compiles UMAP's
       and pynndescent's code; later analyses load it from numba's cache)
cold   a new, empty IMDB_CACHE, numba's cache as the first run left it: the first analysis of
       these reviews (metadata, TF-IDF baseline and map computed)
warm   a second process with the cache the cold run left (metadata, TF-IDF scores, map read back)

Usage (the dataset from IMDB_DATA or --data; the model from models/ or --models-dir):

    python scripts/benchmarks/benchmark_analysis.py                              # 5k, 25k and 50k, first
    python scripts/benchmarks/benchmark_analysis.py --sizes 25k --model cnn --cold-warm   # first, cold, warm

It prints a markdown table (seconds per stage, peak RSS, total) and, with --cold-warm, whether the
summary.json figures of the three runs are equal. Reports go to --out (default: a temp folder,
removed afterwards unless --keep); the caches (IMDB_CACHE, NUMBA_CACHE_DIR) go to a temp folder,
removed afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SIZES = {"5k": ("test", 5000), "25k": ("test", None), "50k": ("training+validation+test", None)}
GOALS = {"cold": 90, "warm": 60}  # seconds at 25k, the analysis's own wall time
GOAL_MIB = 2048
NOT_FIGURES = ("timings", "generated")  # summary.json keys that may differ between equal runs


def one(args: argparse.Namespace) -> None:
    """Child process: one analysis; prints its summary's timings as JSON on the last line."""
    sys.path.insert(0, str(REPO))
    from IMDb.analysis.analyze import run_analysis
    from IMDb.analysis.settings import AnalyzeSettings

    state, limit = SIZES[args.one]
    out = run_analysis(args.model, AnalyzeSettings(state=state, limit=limit, data=args.data), Path(args.out),
                       models_dir=args.models_dir, progress=True)
    summary = json.loads((out / "summary.json").read_text())
    n = next(r["n"] for r in summary["models_and_baselines"] if r["name"] == args.model)
    print(json.dumps({"size": args.one, "n": n, "timings": summary["timings"]}), flush=True)


def run(size: str, kind: str, args: argparse.Namespace, out: Path, cache: Path, numba: Path) -> dict:
    """One analysis in a fresh process with IMDB_CACHE=`cache` and NUMBA_CACHE_DIR=`numba`; its
    timings, or SystemExit."""
    cmd = [sys.executable, __file__, "--one", size, "--model", args.model, "--models-dir", args.models_dir,
           "--out", str(out)] + (["--data", args.data] if args.data else [])
    env = {**os.environ, "IMDB_CACHE": str(cache), "NUMBA_CACHE_DIR": str(numba)}
    print(f"== {size} {kind}: IMDB_CACHE={cache} NUMBA_CACHE_DIR={numba} {' '.join(cmd)}",
          file=sys.stderr, flush=True)
    t0, cpu0 = time.perf_counter(), _children_cpu()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO, env=env)
    peak = [0.0]
    sampler = threading.Thread(target=_sample_tree, args=(proc, peak), daemon=True)
    sampler.start()
    stdout, _ = proc.communicate()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: the {size} {kind} run failed (exit {proc.returncode})")
    return {**json.loads(stdout.strip().splitlines()[-1]), "kind": kind, "process_seconds": time.perf_counter() - t0,
            "cpu_seconds": _children_cpu() - cpu0, "tree_mib": peak[0]}


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's ended children and theirs (the workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _sample_tree(proc: subprocess.Popen, peak: list[float]) -> None:
    """The largest sum of resident memory of `proc` and its descendants (the metadata workers),
    sampled every 0.2 s until it ends: a worker's own ru_maxrss would count its parent's pages,
    copied at fork before its exec."""
    while proc.poll() is None:
        pids, total = {proc.pid}, 0
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            except OSError:
                continue  # the process ended meanwhile
            if int(fields["PPid"]) in pids or int(fields["Pid"]) in pids:
                pids.add(int(fields["Pid"]))
                total += int(fields.get("VmRSS", "0 kB").split()[0])
        peak[0] = max(peak[0], total / 1024)
        time.sleep(0.2)


def table(results: list[dict]) -> str:
    """Markdown: one column per run, one row per stage, then the table stage's steps and totals."""
    stages: list[str] = []
    for r in results:
        for s in r["timings"]["stages"]:
            if s["stage"] not in stages:
                stages.append(s["stage"])
    head = "| stage | " + " | ".join(f"{r['size']} ({r['n']:,}) {r['kind']} s" for r in results) + " |"
    lines = [head, "|" + "---|" * (len(results) + 1)]
    for stage in stages:
        cells = []
        for r in results:
            s = next((s for s in r["timings"]["stages"] if s["stage"] == stage), None)
            cells.append("–" if s is None else f"{s['seconds']:.1f}")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    steps = {r["kind"] + r["size"]: r["timings"]["stages"][0].get("steps", {}) for r in results}
    names = [k for k in next(iter(steps.values()), {}) if k not in ("total", "peak_rss_mib")]
    for step in names:
        lines.append(f"| &nbsp;&nbsp;table: {step} | " + " | ".join(
            f"{steps[r['kind'] + r['size']].get(step, float('nan')):.1f}" for r in results) + " |")
    lines.append("| **total (wall)** | "
                 + " | ".join(f"**{r['timings']['total_seconds']:.1f}**" for r in results) + " |")
    lines.append("| process wall, with imports | " + " | ".join(f"{r['process_seconds']:.1f}" for r in results) + " |")
    lines.append("| CPU s (analysis and workers) | "
                 + " | ".join(f"{r['cpu_seconds']:.1f}" for r in results) + " |")
    lines.append("| peak RSS (MiB) | " + " | ".join(f"{r['timings']['peak_rss_mib']:,.0f}" for r in results) + " |")
    lines.append("| peak RSS with the metadata workers (MiB, sampled) | "
                 + " | ".join(f"{r['tree_mib']:,.0f}" for r in results) + " |")
    lines.append("| s per 1k reviews | " + " | ".join(f"{1000 * r['timings']['total_seconds'] / r['n']:.1f}"
                                                   for r in results) + " |")
    return "\n".join(lines)


def same_figures(a: Path, b: Path) -> list[str]:
    """The summary.json keys whose values differ between two report folders (timings aside)."""
    left, right = (json.loads((p / "summary.json").read_text()) for p in (a, b))
    return [k for k in sorted(set(left) | set(right)) if k not in NOT_FIGURES and left.get(k) != right.get(k)]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="cnn")
    p.add_argument("--sizes", default="5k,25k,50k", help="comma-separated, of " + ", ".join(SIZES))
    p.add_argument("--cold-warm", dest="cold_warm", action="store_true",
                   help="run each size twice with the same cache: cold (empty), then warm")
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
    kinds = ("first", "cold", "warm") if args.cold_warm else ("first",)
    temp = None if args.out else tempfile.mkdtemp(prefix="imdb-bench-")
    out = Path(args.out or temp)
    caches = Path(tempfile.mkdtemp(prefix="imdb-bench-cache-"))
    imdb_cache = {"first": "first", "cold": "second", "warm": "second"}  # warm reuses cold's
    results, differences = [], {}
    started = time.perf_counter()
    try:
        for size in sizes:
            reports = [out / kind / f"{args.model}-{size}" for kind in kinds]
            for kind, report in zip(kinds, reports):
                results.append(run(size, kind, args, report, caches / size / imdb_cache[kind],
                                   caches / size / "numba"))
            if args.cold_warm:
                differences[size] = sorted({k for other in reports[1:] for k in same_figures(reports[0], other)})
    finally:
        shutil.rmtree(caches, ignore_errors=True)
    print(f"\nimdb-leap analyze --model {args.model}: seconds per stage (fresh process per run; "
          f"{os.cpu_count()} CPU cores; {time.perf_counter() - started:.0f} s in all)\n")
    print(table(results))
    print()
    for size, keys in differences.items():
        print(f"{size}: summary.json figures of the first, cold and warm runs: "
              + ("identical" if not keys else f"DIFFER in {keys}"))
    for r in (r for r in results if r["size"] == "25k" and r["kind"] in GOALS):
        t, m = r["timings"]["total_seconds"], max(r["timings"]["peak_rss_mib"], r["tree_mib"])
        verdict = "met" if t <= GOALS[r["kind"]] and m <= GOAL_MIB else "NOT met"
        print(f"goal at 25k {r['kind']} (<= {GOALS[r['kind']]} s and <= {GOAL_MIB} MiB): {verdict} "
              f"({t:.0f} s, {m:,.0f} MiB)")
    if temp is not None and args.keep:
        print(f"reports kept in {out}")
    elif temp is not None:
        shutil.rmtree(temp, ignore_errors=True)
    return 1 if any(differences.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
