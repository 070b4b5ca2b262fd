#!/usr/bin/env python
"""Check the Tensorleap integration (leap_binder.py, entered through leap_integration.py) locally
before a push.

First, project_config.yaml as it is: one clear line when its data_path cannot exist inside a pushed
bundle (a relative path leaves the uploaded code); the committed placeholder is noted as the one
edit a push needs. Then, for every model the integration serves (each in its own process, chosen
with IMDB_MODEL):

(a) runs the integration test over N samples (default 20, spread over each state) of the training,
    validation, test and unlabeled states, and checks what each decorated function returns: input
    dtype and shape, one-hot ground truth in the order [negative, positive], probabilities, a
    finite loss (NaN, "undefined", without a label), metrics, metadata types and visualizers;
(b) emulates the platform: copies exactly the files leap.yaml includes (what `leap push` uploads)
    to a temporary folder and makes the one documented edit in its project_config.yaml (data_path:
    the dataset here; model: the one checked); then, in a virtual environment of leap.yaml's
    pythonVersion (Python 3.10) holding only requirements.txt plus code-loader (cached under
    .cache/), with no IMDB_* variable and IS_TENSORLEAP_PLATFORM=true, runs
    ``LeapLoader(<bundle>, <entryFile>).check_dataset()`` (``is_valid``, no failing payload) and
    fetches samples by state and id. The model runs apart, as on the platform (ONNX Runtime is not
    in the lean environment): this process scores the fetched inputs, and a second lean process
    parses the bundle again, checks that the sample ids and inputs are the first one's, and drives
    every loss, metric and visualizer as the engine does: inputs and logits as float16, the
    unlabeled ground truth None (what reads it is skipped there, and a prediction bar must still be
    drawn), losses and metrics on batches of several sizes (per-sample values must agree), each
    input-wired visualizer's heat-map hook called with a map shaped like its input;
(c) prints a summary table and, with --json PATH, writes the same result for programs to read:
    {"passed", "seconds", "failures", "notes", "registered", "models": {name: {"integration": the
    (a) result (run_worker's: states, errors, ...) or null, "platform": the (b) result ("status":
    "valid", "INVALID" or "skipped"; payloads, failing, metadata_fields, connections,
    engine_calls, lengths, python, packages, errors, warnings) or null}}}. The tests read this, not
    the table. The exit status is 0 only if everything passed.

Where it runs: `poetry run test` (IMDb/cli/testing.py) runs it once after the pytest suite, on the
dataset and the shipped models: that is the run CI keeps. The tests drive it on synthetic data only
for what that run cannot show (a bad config, an unknown model, the push, a new family); their
full synthetic run is skipped when the test command runs this file right after (it would repeat it).

Usage: python leap_test.py [--models dense,cnn] [--samples 20] [--platform-only] [--config FILE]
                           [--json PATH]
Needs the dataset (IMDB_DATA, else data_path of project_config.yaml) and the model bundles (models/,
or IMDB_MODELS_DIR, whose bundles then replace models/ in (b)'s copy).
Telemetry: code-loader's usage analytics stay off unless TL_DISABLE_ANALYTICS is set (to empty to
turn them on).
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import redirect_stdout
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
MAX_ERRORS = 12  # per model: the first few tell the story

os.environ.setdefault("TL_DISABLE_ANALYTICS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# ----------------------------------------------------------------------------------- (a) integration test


def spread(ids: list, n: int) -> list:
    """n ids evenly spaced over the state (states are ordered by label, so both labels appear)."""
    if len(ids) <= n:
        return list(ids)
    step = (len(ids) - 1) / (n - 1) if n > 1 else 0
    return [ids[round(i * step)] for i in range(n)]


def check_sample(lb, model, sample_id, response) -> tuple[list[str], dict]:
    """Run the integration test on one sample, then call every decorated function and check it."""
    import math

    import numpy as np

    from IMDb.config.run import LABELS
    from IMDb.measures import metadata

    problems: list[str] = []
    review = response.data.review(sample_id)
    labeled = review.label is not None

    with redirect_stdout(io.StringIO()):  # code-loader prints "Successful!" per call
        lb.integration_test(sample_id, response)

    inputs = {name: encoder(sample_id, response) for name, encoder in lb.INPUT_ENCODERS.items()}
    for name, x in inputs.items():
        if x.dtype != np.float32 or x.shape != (lb.MODEL.seq_len,):
            problems.append(f"input {name}: {x.dtype} {x.shape}, expected float32 ({lb.MODEL.seq_len},)")
        elif not np.all(np.isfinite(x)) or np.any(x != np.round(x)) or x.min() < 0:
            problems.append(f"input {name}: values are not token ids")

    gt = lb.sentiment_gt(sample_id, response)
    if gt.dtype != np.float32:
        problems.append(f"ground truth dtype {gt.dtype}, expected float32")
    if labeled:
        if gt.shape != (len(LABELS),) or gt.sum() != 1 or LABELS[int(gt.argmax())] != LABELS[review.label]:
            problems.append(f"ground truth {gt.tolist()} is not the one-hot of {LABELS[review.label]!r} "
                            f"in the order {list(LABELS)}")
    elif gt.shape != (0,):
        problems.append(f"unlabeled ground truth has shape {gt.shape}, expected (0,)")

    prediction = model.run(None, {name: x[None] for name, x in inputs.items()})[0]
    if prediction.shape != (1, len(LABELS)) or not np.all(np.isfinite(prediction)):
        problems.append(f"prediction {prediction.tolist()} is not one finite logit per class")

    loss = lb.cross_entropy(gt[None], prediction)
    acc = lb.accuracy(gt[None], prediction)
    errs = lb.errors(gt[None], prediction)
    matrix = lb.confusion_matrix(gt[None], prediction)
    if loss.shape != (1,) or loss.dtype != np.float32:
        problems.append(f"loss {loss!r}: expected float32 of shape (1,)")
    loss_value = float(loss.reshape(-1)[0])
    if labeled:
        if not math.isfinite(loss_value) or loss_value < 0:
            problems.append(f"loss {loss_value} is not finite and >= 0")
        if float(acc[0]) not in (0.0, 1.0) or len(matrix[0]) != len(LABELS):
            problems.append(f"metrics: accuracy {acc.tolist()}, confusion elements {matrix}")
        if float(errs["false_positive"][0]) + float(errs["false_negative"][0]) != 1.0 - float(acc[0]):
            problems.append(f"errors {errs} disagree with accuracy {acc.tolist()}")
    elif not math.isnan(loss_value) or not math.isnan(float(acc[0])) or matrix != [[]]:
        problems.append(f"unlabeled sample: loss {loss_value}, accuracy {acc.tolist()}, confusion {matrix}: "
                        "expected undefined (NaN, no confusion elements)")

    for name, function in lb.METADATA.items():
        value = function(sample_id, response)
        problems += metadata.type_problems(name, value, labeled)
        if not labeled and name in metadata.LABEL_DEPENDENT:
            if (value if name == "label" else set(value.values())) not in (None, {None}):
                problems.append(f"metadata {name}: {value!r} without a label")

    from code_loader.contract.datasetclasses import SamplePreprocessResponse

    sample = SamplePreprocessResponse(np.array([sample_id]), response)
    text_input = inputs[lb.TEXT_INPUT]
    shown = lb.review_visualizer(text_input, sample)
    if len(shown.data) != len(text_input) or shown.heatmap is not None:
        problems.append("review visualizer: expected one word per input position and no heat map of its own")
    heat = lb.lexicon_visualizer(sample)
    if heat.data != shown.data or len(heat.heatmap) != len(heat.data) \
            or not all(type(v) is float for v in heat.heatmap):
        problems.append("lexicon visualizer: expected the review's positions and one plain float each")
    oov = lb.oov_visualizer(text_input, sample)
    if oov.mask.shape != (len(text_input),) or oov.mask.dtype != np.uint8:
        problems.append(f"oov_tokens visualizer: mask {oov.mask.dtype} {oov.mask.shape}")
    bar = lb.prediction_visualizer(prediction, gt[None])
    if bar.labels != list(LABELS) or bar.body.shape != (len(LABELS),) or abs(float(bar.body.sum()) - 1) > 1e-3 \
            or (bar.gt is not None) != labeled:
        problems.append(f"prediction visualizer: labels {bar.labels}, body {bar.body.tolist()}, gt {bar.gt}: "
                        "expected probabilities, with the ground truth where there is a label")
    only = lb.prediction_only_visualizer(prediction)
    if only.labels != list(LABELS) or only.gt is not None or not np.allclose(only.body, bar.body):
        problems.append("prediction_only visualizer: expected the prediction bar's probabilities, without "
                        "ground truth")
    if not lb.cleaned_text_visualizer(sample).data and review.text.strip():
        problems.append("cleaned_text visualizer: no words")

    stats = {"loss": loss_value if labeled else None, "correct": float(acc[0]) if labeled else None,
             "label": LABELS[review.label] if labeled else None}
    return [f"{response.state.value} {sample_id}: {p}" for p in problems], stats


def run_worker(model_name: str, samples: int) -> dict:
    """(a) for the model IMDB_MODEL names, in this process."""
    result = {"model": model_name, "states": {}, "errors": [], "registered": {}}
    start = time.perf_counter()
    try:
        sys.path.insert(0, str(REPO_ROOT))
        with redirect_stdout(io.StringIO()):
            import leap_binder as lb
            responses = lb.preprocess() + [lb.preprocess_unlabeled()]
            model = lb.load_model()
        result["registered"] = registered_names()
        again = lb.preprocess() + [lb.preprocess_unlabeled()]
    except Exception as e:  # report, do not crash: the parent prints it
        result["errors"].append(f"setup: {type(e).__name__}: {e}")
        result["seconds"] = round(time.perf_counter() - start, 1)
        return result

    states = [r.state.value for r in responses]
    if states != ["training", "validation", "test", "unlabeled"]:
        result["errors"].append(f"states {states}, expected training, validation, test, unlabeled")
    for response, repeat in zip(responses, again):
        ids = response.sample_ids
        if not ids or not all(isinstance(s, str) for s in ids) or len(set(ids)) != len(ids) or ids != repeat.sample_ids:
            result["errors"].append(f"{response.state.value}: sample ids must be unique, stable strings")
        losses, correct, labels, elapsed = [], [], {}, time.perf_counter()
        chosen = spread(ids, samples)
        for sample_id in chosen:
            try:
                problems, stats = check_sample(lb, model, sample_id, response)
            except Exception as e:
                problems, stats = [f"{response.state.value} {sample_id}: {type(e).__name__}: {e}"], {}
                if len(result["errors"]) < 2:
                    problems[0] += "\n" + traceback.format_exc(limit=6)
            result["errors"] += problems
            if stats.get("loss") is not None:
                losses.append(stats["loss"])
                correct.append(stats["correct"])
            labels[stats.get("label") or "none"] = labels.get(stats.get("label") or "none", 0) + 1
        result["states"][response.state.value] = {
            "size": len(ids), "samples": len(chosen), "labels": labels,
            "accuracy": sum(correct) / len(correct) if correct else None,
            "mean_loss": sum(losses) / len(losses) if losses else None,
            "ms_per_sample": round((time.perf_counter() - elapsed) / max(len(chosen), 1) * 1000, 1)}
    result["errors"] = result["errors"][:MAX_ERRORS]
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def code_loader_defaults() -> set[str]:
    """The names of code-loader's own losses, metrics and visualizers, which it registers beside
    the binder's: the checks look at the binder's handlers only."""
    from code_loader.default_losses import loss_name_to_function
    from code_loader.default_metrics import metrics_names_to_functions_and_direction
    from code_loader.visualizers.default_visualizers import DefaultVisualizer

    return {*loss_name_to_function, *metrics_names_to_functions_and_direction, *(v.value for v in DefaultVisualizer)}


def registered_names() -> dict:
    """What the binder registered with code-loader (its own handlers, not code-loader's defaults)."""
    from code_loader import leap_binder

    setup = leap_binder.setup_container
    defaults = code_loader_defaults()
    return {
        "inputs": [h.name for h in setup.inputs],
        "ground_truths": [h.name for h in setup.ground_truths],
        "prediction_types": [(p.name, p.labels) for p in setup.prediction_types],
        "losses": [h.custom_loss_handler_data.name for h in setup.custom_loss_handlers
                   if h.custom_loss_handler_data.name not in defaults],
        "metrics": [h.metric_handler_data.name for h in setup.metrics if h.metric_handler_data.name not in defaults],
        "metadata": [h.name for h in setup.metadata],
        "visualizers": [h.visualizer_handler_data.name for h in setup.visualizers
                        if h.visualizer_handler_data.name not in defaults],
    }


# ----------------------------------------------------------------------------------- (b) platform emulation


def make_bundle(dest: Path, config: Path, data_path: str, model: str, models_dir: Path) -> Path:
    """Copy exactly the files leap.yaml includes to `dest` (project_config.yaml from `config`; the
    models/ files from `models_dir`'s bundles when that is not the repository's models/) and make the one
    documented edit in its project_config.yaml: data_path, here the dataset on this machine; and
    model, the one checked."""
    import re
    import shutil

    from IMDb.config import workspace

    other_models = models_dir.resolve() != (REPO_ROOT / "models").resolve()
    for rel in workspace.bundle_files(REPO_ROOT):
        source = REPO_ROOT / rel
        if rel == "project_config.yaml":
            source = config
        elif rel.startswith("models/") and other_models:  # that folder's bundles instead, file for file
            source = models_dir / rel[len("models/"):]
            if not source.is_file():
                continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / rel)
    edited = dest / "project_config.yaml"
    text = edited.read_text()
    for key, value in (("data_path", data_path), ("model", model)):
        text, n = re.subn(rf"^{key}:.*$", f"{key}: {json.dumps(value)}", text, count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"leap_test: {config} has no '{key}:' line to set")
    edited.write_text(text)
    return dest


def platform_python() -> Path:
    """A virtual environment of leap.yaml's pythonVersion holding only requirements.txt plus
    code-loader (the platform image's own), built once under .cache/ and rebuilt when either
    changes."""
    import hashlib
    import shutil
    import tomllib

    from IMDb.config import workspace

    version = workspace.python_version()
    pins = [d for d in tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
            if d.startswith("code-loader")]
    key = hashlib.sha256((version + (REPO_ROOT / "requirements.txt").read_text() + "".join(pins)).encode()
                         ).hexdigest()[:12]
    venv = REPO_ROOT / ".cache" / f"platform-venv-py{version.replace('.', '')}-{key}"
    python = venv / "bin" / "python"
    if (venv / ".complete").is_file():
        return python
    base = workspace.find_python(version)
    for old in venv.parent.glob("platform-venv-*"):
        shutil.rmtree(old, ignore_errors=True)
    print(f"leap_test: building {venv.relative_to(REPO_ROOT)} (Python {version}: requirements.txt + "
          f"{', '.join(pins)}) ...", flush=True)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "-r", str(REPO_ROOT / "requirements.txt"), *pins], check=True)
    (venv / ".complete").write_text(key)
    return python


def _ids_digest(ids) -> str:
    import hashlib

    return hashlib.sha256("\n".join(map(str, ids)).encode()).hexdigest()[:16]


def run_emulation(bundle: Path, entry: str, phase: str, arrays: str, per_state: int = 4) -> dict:
    """(b) in this process: the lean environment, the bundle alone on sys.path, no IMDB_* variable,
    IS_TENSORLEAP_PLATFORM=true before code-loader is imported; check_dataset() first in both phases.
    Phase ``samples`` fetches `per_state` samples of each state by id and writes their ids, inputs
    and ground truth to `arrays` (.npz). Phase ``engine``, a fresh process, checks that the sample
    ids and inputs are those of the first phase, then drives the engine-side entry points of
    LeapLoader the way the platform does (see the module docstring) with the model's logits, which
    the parent wrote into `arrays`."""
    result = {"is_valid": False, "general_error": None, "failing": [], "warnings": [], "payloads": 0,
              "engine_calls": 0, "errors": []}
    leaked = sorted(k for k in os.environ if k.startswith("IMDB_"))
    if os.environ.get("IS_TENSORLEAP_PLATFORM") != "true" or "code_loader" in sys.modules or leaked:
        result["general_error"] = f"not a platform-like process (IMDB_* set: {leaked})"
        return result
    sys.path[:] = [str(bundle)] + [p for p in sys.path[1:] if Path(p or ".").resolve() != REPO_ROOT]
    os.chdir(bundle)
    import numpy as np
    from code_loader import LeapLoader
    from code_loader.contract.enums import DataStateEnum
    from code_loader.contract.mapping import NodeMappingType

    loader = LeapLoader(str(bundle), entry)
    parsed = loader.check_dataset()
    result.update(is_valid=bool(parsed.is_valid), general_error=parsed.general_error, payloads=len(parsed.payloads))
    for payload in parsed.payloads:
        entry_ = {"name": payload.name, "display": {k: str(v)[:600] for k, v in payload.display.items()}}
        if not payload.is_passed:
            result["failing"].append(entry_)
        elif payload.display:  # passed, with something to say
            result["warnings"].append(entry_)
    connections = (parsed.engine_file_contract.node_connections or []) if parsed.engine_file_contract else []
    wiring = {c.node.name: dict(c.node_inputs or {}) for c in connections}
    wired = sorted(str(m.type.value) for m in wiring.get("cross_entropy", {}).values())
    if wired != sorted([NodeMappingType.GroundTruth.value, NodeMappingType.Prediction0.value]):
        result["failing"].append({"name": "mapping", "display": {
            "Errors": f"the loss is not wired to the ground truth and the prediction: {wired}"}})
    if parsed.setup is not None:
        p = parsed.setup.preprocess
        result["lengths"] = {"training": p.training_length, "validation": p.validation_length,
                             "test": p.test_length, "unlabeled": p.unlabeled_length}
        result["metadata_fields"] = len(parsed.setup.metadata)
    result["connections"] = len(connections)
    result["python"] = "%d.%d.%d" % sys.version_info[:3]
    result["packages"] = {m: __import__(m).__version__ for m in ("numpy", "pandas", "sklearn")}
    if not parsed.is_valid:
        return result
    import IMDb

    if not Path(IMDb.__file__).resolve().is_relative_to(bundle.resolve()):
        result["errors"].append(f"the package was imported from {IMDb.__file__}, not from the bundle")

    states = (DataStateEnum.training, DataStateEnum.validation, DataStateEnum.test, DataStateEnum.unlabeled)
    ids_by_state = loader.get_preprocess_sample_ids(update_unlabeled_preprocess=True)
    if phase == "samples":
        saved = {}
        for state in states:
            ids = list(ids_by_state[state])[:per_state]
            try:
                samples = [loader.get_sample(state, sid) for sid in ids]
            except Exception as e:  # report, do not crash: the parent prints it
                result["errors"].append(f"{state.name}: {type(e).__name__}: {e}")
                continue
            saved[f"{state.name}/ids"] = np.array(ids)
            saved[f"{state.name}/all_ids"] = np.array([_ids_digest(ids_by_state[state])])
            for name in samples[0].inputs:
                saved[f"{state.name}/input/{name}"] = np.stack([s.inputs[name] for s in samples]).astype(np.float32)
            if state != DataStateEnum.unlabeled:
                saved[f"{state.name}/gt"] = np.stack([s.gt["sentiment"] for s in samples]).astype(np.float32)
            elif any(s.gt is not None for s in samples):
                result["errors"].append("unlabeled: get_sample gave a ground truth; the engine expects None")
        if "onnxruntime" in sys.modules:
            result["errors"].append("the dataset side imported onnxruntime, which the platform does not install")
        np.savez(arrays, **saved)
        return result

    stored = dict(np.load(arrays))
    defaults = code_loader_defaults()
    losses = {k: v for k, v in loader.custom_loss_by_name().items() if k not in defaults}
    metrics = {k: v for k, v in loader.metric_by_name().items() if k not in defaults}
    visualizers = {k: v for k, v in loader.visualizer_by_name().items() if k not in defaults}

    def reads_ground_truth(node: str, args: list[str]) -> bool:
        return any(wiring[node][arg].type.value == NodeMappingType.GroundTruth.value for arg in args)

    for state in states:
        if f"{state.name}/ids" not in stored:
            continue
        ids = [str(i) for i in stored[f"{state.name}/ids"]]
        try:
            if _ids_digest(ids_by_state[state]) != str(stored[f"{state.name}/all_ids"][0]):
                result["errors"].append(f"{state.name}: the sample ids differ between two processes")
            samples = [loader.get_sample(state, sid) for sid in ids]
            inputs = {name: np.stack([s.inputs[name] for s in samples]).astype(np.float32)
                      for name in samples[0].inputs}
            for name, x in inputs.items():
                if not np.array_equal(x, stored[f"{state.name}/input/{name}"]):
                    result["errors"].append(f"{state.name}: input {name} of the same ids differs between two processes")
            stored_inputs = {name: x.astype(np.float16) for name, x in inputs.items()}  # as the engine keeps them
            labeled = state != DataStateEnum.unlabeled
            gt = stored[f"{state.name}/gt"].astype(np.float16) if labeled else None  # get_sample's None
            logits = stored[f"{state.name}/logits"].astype(np.float16)  # the platform stores float16

            def feed(node: str, args: list[str], rows=slice(None)) -> dict:
                """Each argument as the platform wires it (the integration test's mapping)."""
                fed = {}
                for arg in args:
                    source = wiring[node][arg]
                    kind = source.type.value
                    if kind.startswith("Input") and source.name in stored_inputs:
                        fed[arg] = stored_inputs[source.name][rows]
                    elif kind == NodeMappingType.GroundTruth.value:
                        fed[arg] = gt[rows]
                    elif kind.startswith("Prediction"):
                        fed[arg] = logits[rows]
                    else:
                        raise ValueError(f"{node}.{arg} is wired to {kind} {source.name!r}")
                return fed

            # the engine skips what reads a ground truth for unlabeled samples (code-loader says so)
            run_losses = {k: v for k, v in losses.items() if labeled or not reads_ground_truth(k, v.arg_names)}
            run_metrics = {k: v for k, v in metrics.items() if labeled or not reads_ground_truth(k, v.arg_names)}
            run_visualizers = {k: v for k, v in visualizers.items()
                               if labeled or not reads_ground_truth(k, v.arg_names)}
            # several batch sizes: the whole batch, one sample, and the rest; per-sample values must agree
            batches = [slice(None), slice(0, 1), slice(1, None)] if len(ids) > 1 else [slice(None)]
            for name, handler in run_losses.items():
                per_batch = []
                for rows in batches:
                    loss = np.asarray(loader.run_custom_loss(name, np.array(ids[rows]), state,
                                                             feed(name, handler.arg_names, rows)), np.float64)
                    result["engine_calls"] += 1
                    if loss.shape != (len(ids[rows]),) or not np.all(np.isfinite(loss)):
                        result["errors"].append(f"{state.name}: loss {name} gave {loss.tolist()}")
                    per_batch.append(loss.reshape(-1))
                if len(per_batch) == 3 and per_batch[0].shape == (len(ids),) \
                        and not np.allclose(per_batch[0], np.concatenate(per_batch[1:]), atol=1e-3):
                    result["errors"].append(f"{state.name}: loss {name} depends on the batch size")
            for name, handler in run_metrics.items():
                for rows in batches:
                    value = loader.run_metric(name, np.array(ids[rows]), state, feed(name, handler.arg_names, rows))
                    result["engine_calls"] += 1
                    if len(value) != len(ids[rows]) and not isinstance(value, dict):
                        result["errors"].append(f"{state.name}: metric {name} gave {len(value)} values for "
                                                f"{len(ids[rows])}")
            drawn = set()
            for name, handler in run_visualizers.items():
                heat_args = [a for a in handler.arg_names if wiring[name][a].type.value.startswith("Input")]
                for i, sid in enumerate(ids):
                    fed = feed(name, handler.arg_names, slice(i, i + 1))
                    shown = loader.run_visualizer(name, np.array([sid]), state, fed)
                    result["engine_calls"] += 1
                    drawn.add(str(shown.type))
                    if shown.type != handler.type:
                        result["errors"].append(f"{state.name} {sid}: visualizer {name} drew {shown.type}")
                    for arg in heat_args:  # the platform's attribution map, shaped like the input
                        heat = loader.run_heatmap_visualizer(name, np.array([sid]), state,
                                                             {arg: np.ones_like(fed[arg], dtype=np.float32)})
                        result["engine_calls"] += 1
                        if heat is not None and np.asarray(heat).size != fed[arg].size:
                            result["errors"].append(f"{state.name} {sid}: heat map of {name} has shape "
                                                    f"{np.asarray(heat).shape}")
            if not labeled and not any("HorizontalBar" in t for t in drawn):
                result["errors"].append("unlabeled: no prediction bar is drawn without a ground truth")
        except Exception as e:  # report, do not crash: the parent prints it
            result["errors"].append(f"{state.name}: {type(e).__name__}: {e}")
    return result


def score_arrays(arrays: Path, onnx_path: Path) -> None:
    """The model's part, apart from the lean processes as on the platform: the logits of the inputs
    the first phase fetched, added to `arrays`."""
    import numpy as np
    import onnxruntime as ort

    stored = dict(np.load(arrays))
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    for key in [k for k in stored if k.endswith("/ids")]:
        state = key.split("/")[0]
        inputs = {k.split("/")[-1]: v for k, v in stored.items() if k.startswith(f"{state}/input/")}
        stored[f"{state}/logits"] = session.run(None, inputs)[0]
    np.savez(arrays, **stored)


# ----------------------------------------------------------------------------------- (c) driver and summary


def _subprocess(args: list[str], env: dict, timeout: int = 900, python: str | Path = sys.executable
                ) -> tuple[dict | None, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        try:
            proc = subprocess.run([str(python), str(Path(__file__).resolve()), *args, "--out", str(out)],
                                  env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"no result within {timeout} s"
        if out.is_file():
            return json.loads(out.read_text()), ""
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        return None, f"exit status {proc.returncode}: " + "\n".join(tail)


def _fmt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def emulate(model: str, config: Path, data_path: str, models_dir: Path, python: Path) -> dict:
    """(b) for one model: the bundle in a temporary folder, the two lean processes and the model's
    logits between them; one result (the second process's, with the first one's problems)."""
    from IMDb.config import workspace

    lean_env = {k: v for k, v in os.environ.items() if not k.startswith("IMDB_")} | {"IS_TENSORLEAP_PLATFORM": "true"}
    entry = workspace.read()["entryFile"]
    with tempfile.TemporaryDirectory() as tmp:
        bundle = make_bundle(Path(tmp) / "bundle", config, data_path, model, models_dir)
        arrays = Path(tmp) / "samples.npz"
        common = ["--emulate", str(bundle), "--entry", entry, "--arrays", str(arrays)]
        first, crash = _subprocess([*common, "--phase", "samples"], lean_env, python=python)
        if first is None:
            return {"is_valid": False, "failing": [], "payloads": 0,
                    "errors": [f"the platform-emulation process failed: {crash}"]}
        if not first.get("is_valid") or first.get("failing") or first.get("errors") or not arrays.is_file():
            return first
        score_arrays(arrays, models_dir / model / "model.onnx")
        second, crash = _subprocess([*common, "--phase", "engine"], lean_env, python=python)
        if second is None:
            return first | {"errors": [f"the second platform-emulation process failed: {crash}"]}
        return second | {"errors": first.get("errors", []) + second.get("errors", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated models (default: every model the integration serves)")
    parser.add_argument("--samples", type=int, default=20, help="samples per state (default 20)")
    parser.add_argument("--platform-only", dest="platform_only", action="store_true",
                        help="only (b), the platform emulation (what `imdb-leap push` runs)")
    parser.add_argument("--config", type=Path, help="the project_config.yaml to check and bundle (default: "
                                                     "the repository's)")
    parser.add_argument("--json", dest="json_path", type=Path, metavar="PATH",
                        help="also write the result as JSON to PATH (what the tests read)")
    parser.add_argument("--worker", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--emulate", metavar="BUNDLE", help=argparse.SUPPRESS)
    parser.add_argument("--entry", help=argparse.SUPPRESS)
    parser.add_argument("--phase", choices=("samples", "engine"), help=argparse.SUPPRESS)
    parser.add_argument("--arrays", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker or args.emulate:  # a child process: write the JSON result
        try:
            result = run_emulation(Path(args.emulate), args.entry, args.phase, args.arrays) if args.emulate \
                else run_worker(args.worker, args.samples)
        except Exception as e:
            result = {"errors": [f"{type(e).__name__}: {e}"], "general_error": f"{type(e).__name__}: {e}"}
        Path(args.out).write_text(json.dumps(result, default=str))
        return 0

    from IMDb import bundle as bundles
    from IMDb.config import environment, project_file
    from IMDb.data.sources import resolve_source
    from IMDb.errors import IMDbError
    from IMDb.tensorleap import integration

    if args.config:
        project_file.PATH = args.config.resolve()
    models = args.models.split(",") if args.models else list(integration.served_models())
    start = time.perf_counter()
    tests, checks, failures, registered, notes = [], [], [], None, []
    results = {model: {"integration": None, "platform": None} for model in models}

    def report(passed: bool) -> None:
        if args.json_path:
            args.json_path.write_text(json.dumps(
                {"passed": passed, "seconds": round(time.perf_counter() - start, 1), "failures": failures,
                 "notes": notes, "registered": registered, "models": results}, indent=1, default=str))

    try:
        committed = project_file.load()
        data_path, python = str(resolve_source().resolve()), platform_python()
    except (IMDbError, subprocess.CalledProcessError) as e:
        print(f"leap_test: {e}", file=sys.stderr)
        failures.append(str(e))
        report(False)
        return 1
    problem = project_file.bundle_problem(committed)
    if problem:  # checked as the file is, before the bundle's copy is edited
        failures.append(problem)
    elif committed.is_placeholder:
        notes.append(f"{project_file.PATH.name}: data_path is the placeholder {committed.written!r}: "
                     f"the one edit before a push (the emulation sets it to {data_path})")
        print(f"leap_test: {notes[-1]}")
    models_dir = environment.models_dir()
    for model in models:
        if not args.platform_only:
            env = {**os.environ, environment.MODEL: model, environment.DATA: data_path}
            print(f"leap_test: {model}: integration test over {args.samples} samples per state ...", flush=True)
            worker, crash = _subprocess(["--worker", model, "--samples", str(args.samples)], env)
            if worker is None:
                failures.append(f"{model}: the integration-test process failed: {crash}")
                worker = {"states": {}, "errors": []}
            results[model]["integration"] = worker
            failures += [f"{model}: {e}" for e in worker.get("errors", [])]
            registered = registered or worker.get("registered")
            if not worker["states"]:
                tests.append([model, "-", "-", "did not run", "-", "-", "-"])
            for state, s in worker["states"].items():
                labels = ", ".join(f"{k} {v}" for k, v in sorted(s["labels"].items()))
                tests.append([model, state, f"{s['samples']} of {s['size']}", labels, _fmt(s["accuracy"], ".2f"),
                              _fmt(s["mean_loss"]), f"{s['ms_per_sample']:.0f}"])

        if model not in bundles.names(models_dir):
            checks.append([model, f"skipped: not in {models_dir}", "-", "-", "-", "-", "-", "-", "-", "-"])
            results[model]["platform"] = {"status": "skipped", "reason": f"not in {models_dir}"}
            continue
        print(f"leap_test: {model}: the bundle alone, lean environment, IS_TENSORLEAP_PLATFORM=true ...", flush=True)
        emulated = time.perf_counter()
        checked = emulate(model, project_file.PATH, data_path, models_dir, python)
        general = _short(checked.get("general_error"))
        ok = checked.get("is_valid") and not checked.get("failing") and not general and not checked.get("errors")
        if general:
            failures.append(f"{model}: check_dataset: {general}")
        elif not checked.get("is_valid") or checked.get("failing"):
            failures.append(f"{model}: check_dataset: is_valid={checked.get('is_valid')}, "
                            f"failing payloads: {checked.get('failing')}")
        failures += [f"{model}: engine: {e}" for e in checked.get("errors", [])[:MAX_ERRORS]]
        results[model]["platform"] = {**checked, "status": "valid" if ok else "INVALID",
                                      "seconds": round(time.perf_counter() - emulated, 1)}
        for warning in checked.get("warnings", []):
            print(f"leap_test: {model}: check_dataset note: {warning}")
        lengths = checked.get("lengths") or {}
        lean = ", ".join(f"{k} {v}" for k, v in {"Python": checked.get("python"),
                                                  **(checked.get("packages") or {})}.items() if v)
        checks.append([model, "valid" if ok else "INVALID", str(checked.get("payloads", 0)),
                       str(len(checked.get("failing", []))), str(checked.get("metadata_fields", "-")),
                       str(checked.get("connections", "-")), str(checked.get("engine_calls", 0)),
                       f"{time.perf_counter() - emulated:.0f}",
                       ", ".join(f"{k} {v}" for k, v in lengths.items()), lean])

    if tests:
        print_table(["model", "state", "samples", "labels", "accuracy", "mean loss", "ms/sample"], tests,
                    "(a) integration test")
    print_table(["model", "check_dataset", "payloads", "failing", "metadata fields", "mapping links",
                 "engine calls", "seconds", "states", "lean environment"], checks,
                f"(b) platform emulation: the bundle alone, requirements.txt only ({python.parent.parent.name}), "
                "no IMDB_* variable")
    if registered:
        print("\nregistered by leap_binder.py:")
        for kind, names in registered.items():
            print(f"  {kind}: {', '.join(map(str, names))}")
    if failures:
        print(f"\nFAILED ({len(failures)} problem(s)):")
        for failure in failures:
            print(f"  - {failure}")
    print(f"\nleap_test: {'FAILED' if failures else 'passed'} in {time.perf_counter() - start:.0f} s")
    report(not failures)
    return 1 if failures else 0


def _short(error: str | None) -> str | None:
    """code-loader's general error carries a whole traceback: keep its first line."""
    if not error:
        return None
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0]


def print_table(header: list[str], rows: list[list[str]], title: str) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
