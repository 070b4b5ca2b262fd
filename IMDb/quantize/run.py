"""`imdb-leap quantize`, end to end: read the source bundle, quantize its ONNX file (`int8`), time
and evaluate both (`measure`, `evaluate`), refuse a result that misses its targets, and write the
bundle (model.onnx, the source's tokenizer.json and split.json, card.json) in one atomic step
(`IMDb.bundle.write`): a run that fails or is interrupted leaves the previous bundle as it was.

With ``evaluate=False`` nothing is measured and no dataset is read; the figures of the bundle it
replaces are kept when its model.onnx is byte-identical to the new one (quantization is
deterministic), and left out otherwise.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from IMDb import bundle, families
from IMDb.bundle import Bundle
from IMDb.card import check_card
from IMDb.config.run import MODELS_DIR
from IMDb.errors import ModelError
from IMDb.output.folders import check_out_dir
from IMDb.quantize import card as cards
from IMDb.quantize import int8, measure
from IMDb.quantize.settings import (MAX_ACCURACY_DROP, MAX_BYTES, THROUGHPUT_REVIEWS, THROUGHPUT_STRIDE,
                                    QuantizeSettings)

# a few clear reviews both files run on in every run: the new file loads, and agrees on the obvious
EXAMPLES = ("A wonderful, moving film. The acting is superb and I loved every minute of it.",
            "A delightful surprise, funny and warm. Highly recommended!",
            "Dull, boring and a complete waste of time. The worst film I have ever sat through.",
            "Terrible acting, an awful plot and clumsy direction. Avoid it.")


def quantizable() -> tuple[str, ...]:
    """The models this command makes: those made from a trained one without training (the registry's
    `IMDb.families.base.Family.source`)."""
    return families.names(trainable=False)


def read_source(name: str, source_dir: Path) -> Bundle:
    """The float32 bundle model `name` is quantized from, read and checked (`Bundle.read`): a folder
    named after the source model, whose card describes that model."""
    source = families.get(name).source
    if source_dir.name != source:
        raise ModelError(f"--source-dir {source_dir}: {name} is quantized from a {source} bundle, in a folder "
                         f"named {source!r} (its card names the model it holds)")
    return Bundle.read(source, source_dir.parent)


def say(progress: bool, text: str) -> None:
    if progress:
        print(text, flush=True)


def run_quantize(name: str, *, source_dir: str | Path | None = None, models_dir: str | Path = MODELS_DIR,
                 data: str | None = None, limit: int | None = None, evaluate: bool = True,
                 overwrite: bool = False, progress: bool = True,
                 settings: QuantizeSettings = QuantizeSettings()) -> Path:
    """Make model `name` (e.g. ``bert-int8``) in `models_dir` from its source bundle (`source_dir`,
    by default the source's folder in `models_dir`), replacing an earlier one only with
    `overwrite`; evaluated on the test split (`data`), or `limit` test reviews of it. Returns the
    bundle's folder."""
    if name not in quantizable():
        raise ModelError(f"{name} is trained, not quantized: `imdb-leap quantize` makes {', '.join(quantizable())}")
    started = time.perf_counter()
    source = read_source(name, Path(source_dir or Path(models_dir) / families.get(name).source))
    out = check_out_dir(Path(models_dir) / name, bundle.MARKER, replace=overwrite, flag="--overwrite")
    with tempfile.TemporaryDirectory(prefix="imdb-leap-quantize-") as tmp:
        path = Path(tmp) / "model.onnx"
        fp32 = source.file("model.onnx")
        say(progress, f"quantizing {fp32} ({fp32.stat().st_size:,} bytes) ...")
        done = int8.quantize(fp32, path, settings)
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        quantization = cards.quantization_record(settings, done, int8.graph_summary(path),
                                                 (fp32.stat().st_size, path.stat().st_size), digest)
        say(progress, f"quantized in {time.perf_counter() - started:.0f} s: {quantization['int8_bytes']:,} bytes "
                      f"({quantization['size_ratio']:.1%} of fp32), sha256 {digest[:16]}")
        sessions = {"fp32": measure.session(fp32), "int8": measure.session(path)}
        _check_examples(sessions, source, progress)
        if evaluate:
            measured, full = _measure(source, sessions, quantization, settings, data, limit, progress)
        else:
            measured, kept = cards.carried_over(out / bundle.MARKER, digest)
            quantization.update(kept)
            full = False
            say(progress, "not evaluated: " + ("the figures of the byte-identical model.onnx there are kept" if kept
                                               else "the card carries no figures"))
        card = cards.make_card(name, source.card, quantization, measured, settings.batch_size)
        check_card(card, out / bundle.MARKER)
        say(progress, cards.summary(card, out))
        _check_targets(quantization, full)
        _write(out, source, path, card)
    say(progress, f"wrote {out} in {time.perf_counter() - started:.0f} s")
    return out


def _check_examples(sessions: dict, source: Bundle, progress: bool) -> None:
    """Both files run on `EXAMPLES` (the new one loads and runs); how often they agree is printed."""
    inputs = source.tokenizer.encode(list(EXAMPLES))
    rows = np.arange(len(EXAMPLES))
    same = [measure.logits(s, inputs, rows, len(rows)).argmax(1) for s in sessions.values()]
    say(progress, f"int8 and fp32 predict the same class for {int((same[0] == same[1]).sum())} of "
                  f"{len(EXAMPLES)} example reviews")


def _measure(source: Bundle, sessions: dict, quantization: dict, settings: QuantizeSettings,
             data: str | None, limit: int | None, progress: bool) -> tuple[dict, bool]:
    """Throughput (into `quantization`) and the evaluation; returns the card's measured entries and
    whether the whole test split was evaluated."""
    from IMDb.data import data_source
    from IMDb.data.dataset_states import load_states
    from IMDb.quantize import evaluate

    cfg = source.split_config(data_source.choose(data))
    test = load_states(cfg)["test"]
    source.check_split({"test": test})
    chosen = evaluate.plan(test, limit, cfg.seed, source.card)
    timed = np.arange(0, len(test), THROUGHPUT_STRIDE)[:min(THROUGHPUT_REVIEWS, len(chosen.evaluated))]
    needed = np.union1d(chosen.evaluated, timed)
    say(progress, f"encoding {len(needed):,} test reviews ...")
    encoded = source.tokenizer.encode(test["text"].iloc[needed].tolist())
    inputs = {k: np.zeros((len(test), v.shape[1]), np.float32) for k, v in encoded.items()}
    for k, v in encoded.items():
        inputs[k][needed] = v
    say(progress, f"timing fp32 vs int8 on {len(timed)} test reviews, {settings.repeats} interleaved rounds ...")
    best = measure.throughput(sessions, inputs, timed, settings.batch_size, settings.repeats, progress)
    quantization["throughput"] = measure.throughput_record(best, len(timed), source.seq_len, settings.batch_size,
                                                           settings.repeats)
    labels = test["label"].to_numpy().astype(int)
    measured, quantization["accuracy"] = evaluate.evaluate(sessions, inputs, labels, chosen, settings.batch_size,
                                                           source.name, progress)
    return measured, len(chosen.evaluated) == len(test)


def _check_targets(quantization: dict, full: bool) -> None:
    """Refuse (nothing written) a file over `MAX_BYTES`, or, evaluated on the whole test split, an
    accuracy more than `MAX_ACCURACY_DROP` from the source's."""
    problems = []
    if quantization["int8_bytes"] > MAX_BYTES:
        problems.append(f"model.onnx is {quantization['int8_bytes']:,} bytes, over {MAX_BYTES:,}")
    accuracy = quantization.get("accuracy")
    if full and accuracy and not abs(accuracy["difference"]) <= MAX_ACCURACY_DROP:
        problems.append(f"its test accuracy {accuracy['int8_test']} is {accuracy['difference']:+.4f} from fp32's "
                        f"(at most {MAX_ACCURACY_DROP} either way)")
    if problems:
        raise ModelError("not written: " + "; ".join(problems))


def _write(out: Path, source: Bundle, model: Path, card: dict) -> None:
    """The bundle, in one atomic step: the new model.onnx, the source's tokenizer and split, the card."""
    copies = {"model.onnx": model, "tokenizer.json": source.file("tokenizer.json")}
    if (source.folder / bundle.SPLIT).is_file():
        copies[bundle.SPLIT] = source.file(bundle.SPLIT)
    bundle.write(out, {**{n: (lambda path, f=f: shutil.copyfile(f, path)) for n, f in copies.items()},
                       "card.json": card})
