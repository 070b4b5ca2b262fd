"""Running the float32 and int8 files side by side: their logits in batches, and their throughput
measured as the card reports it (`throughput`)."""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np

from IMDb.quantize.settings import THROUGHPUT_STRIDE


def session(path: Path):
    """An ONNX Runtime session on the CPU, with default options (what the throughput is timed with)."""
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def logits(sess, inputs: dict[str, np.ndarray], rows: np.ndarray, batch_size: int,
           desc: str | None = None) -> np.ndarray:
    """The model's logits [len(rows), 2] for the given rows of the encoded inputs, in batches of
    `batch_size` in the rows' order (an int8 logit depends slightly on its batch: activation scales
    are computed per batch); a progress bar named `desc` when given."""
    from tqdm.auto import tqdm

    starts = range(0, len(rows), batch_size)
    out = [sess.run(None, {k: v[rows[i:i + batch_size]] for k, v in inputs.items()})[0]
           for i in tqdm(starts, desc=desc, unit="batch", disable=desc is None, mininterval=2)]
    return np.concatenate(out) if out else np.zeros((0, 2), np.float32)


def throughput(sessions: dict[str, object], inputs: dict[str, np.ndarray], rows: np.ndarray,
               batch_size: int, repeats: int, progress: bool = True) -> dict[str, float]:
    """Best-of-`repeats` reviews/s of each session on the same rows, after a warm-up batch each,
    rounds interleaved (fp32, int8, fp32, ...) so that background load hits both alike."""
    for sess in sessions.values():  # warm-up: the first batch allocates and tunes
        logits(sess, inputs, rows[:batch_size], batch_size)
    best = dict.fromkeys(sessions, 0.0)
    for round_ in range(repeats):
        for name, sess in sessions.items():
            started = time.perf_counter()
            logits(sess, inputs, rows, batch_size)
            best[name] = max(best[name], len(rows) / (time.perf_counter() - started))
        if progress:
            print(f"throughput round {round_ + 1}/{repeats}: "
                  + ", ".join(f"{n} {r:.2f} reviews/s" for n, r in best.items()) + " (best so far)", flush=True)
    return best


def throughput_record(best: dict[str, float], rows: int, seq_len: int, batch_size: int, repeats: int) -> dict:
    """The card's ``quantization.throughput``: both rates, their ratio, and how and where they were timed."""
    import onnxruntime

    return {
        "fp32_reviews_per_s": round(best["fp32"], 2), "int8_reviews_per_s": round(best["int8"], 2),
        "ratio": round(best["int8"] / best["fp32"], 3),
        "how": (f"ONNX Runtime {onnxruntime.__version__} CPUExecutionProvider, default session options; the "
                f"same {rows} test reviews (every {THROUGHPUT_STRIDE}th of the test split) at {seq_len} pieces, batch "
                f"{batch_size}, one warm-up batch each, best of {repeats} rounds run interleaved (fp32, int8, "
                f"...) in one process"),
        "machine": f"{platform.machine()}, {cpu_name()}, {cores()} CPU cores (shared with other jobs)",
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
