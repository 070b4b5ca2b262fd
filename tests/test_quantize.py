"""`imdb-leap quantize` (`IMDb.quantize`): on the tiny BERT bundle, the exact float32 rewrites keep
the logits, the command writes a bundle that `Predictor` loads and that agrees with its source,
replaces one only with --overwrite, and refuses a bad source in one line; slow, it reproduces the
shipped models/bert-int8 byte for byte from models/bert."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from IMDb.bundle import Bundle
from IMDb.cli import extras
from IMDb.cli.imdb_leap import main
from IMDb.config.run import MODELS_DIR
from IMDb.predict import Predictor
from IMDb.quantize import rewrites


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def models(bert_bundle, tmp_path_factory) -> Path:
    """A models folder holding a copy of the tiny `bert` bundle."""
    root = tmp_path_factory.mktemp("quantize") / "models"
    shutil.copytree(bert_bundle / "bert", root / "bert")
    return root


@pytest.fixture(scope="module")
def quantized(models, synthetic_dataset) -> Path:
    """`imdb-leap quantize` run on it, evaluated on 20 of the synthetic test reviews."""
    assert main(["quantize", "--models-dir", str(models), "--data", str(synthetic_dataset), "--limit", "20",
                 "--quiet"]) == 0
    return models / "bert-int8"


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def run_onnx(model, inputs: dict) -> np.ndarray:
    import onnxruntime as ort

    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, inputs)[0]


def test_fusing_the_layer_norms_keeps_the_logits(models, synthetic_dataset):
    """On the tiny BERT's tf2onnx graph: every 13-node layer norm becomes one LayerNormalization."""
    import onnx
    import pandas as pd

    source = Bundle.read("bert", models)
    model = onnx.load(str(source.file("model.onnx")))
    inputs = source.tokenizer.encode(pd.read_parquet(synthetic_dataset)["text"].head(16).tolist())
    before = run_onnx(model, inputs)
    assert rewrites.fuse_layer_norms(model) == 5  # embeddings, and attention and feed-forward of 2 layers
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("LayerNormalization") == 5 and "GlobalAveragePool" not in ops
    assert np.abs(run_onnx(model, inputs) - before).max() < 1e-5 and np.abs(before).max() > 1e-3


def test_untransposing_the_attention_scores_keeps_them():
    """The shipped BERT's pattern: MatMul(K, Q^T) of [batch, seq, heads, dim] keys and queries, then
    a Transpose of the scores, read by a Mul: after it, one MatMul(Q, K^T) and no big Transpose."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = [2, 5, 3, 4]  # batch, seq, heads, dim
    graph = helper.make_graph(
        [helper.make_node("Transpose", ["key"], ["k"], perm=[0, 2, 1, 3]),
         helper.make_node("Transpose", ["query"], ["q_t"], perm=[0, 2, 3, 1]),
         helper.make_node("MatMul", ["k", "q_t"], ["scores_t"]),
         helper.make_node("Transpose", ["scores_t"], ["scores"], perm=[0, 1, 3, 2]),
         helper.make_node("Mul", ["scores", "half"], ["out"])], "attention",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in ("key", "query")],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 3, 5, 5])],
        [numpy_helper.from_array(np.array(0.5, np.float32), "half")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    rng = np.random.default_rng(0)
    inputs = {n: rng.normal(size=shape).astype(np.float32) for n in ("key", "query")}
    before = run_onnx(model, inputs)
    assert rewrites.untranspose_attention_scores(model) == 1
    onnx.checker.check_model(model)
    assert [n.op_type for n in model.graph.node] == ["Transpose", "Transpose", "MatMul", "Mul"]
    assert np.allclose(run_onnx(model, inputs), before, atol=1e-6)


def test_the_bundle_loads_and_agrees_with_its_source(quantized, models, synthetic_dataset):
    import onnx
    import pandas as pd

    int8, fp32 = Predictor.load("bert-int8", models), Predictor.load("bert", models)
    assert int8.tokenizer.fingerprint == fp32.tokenizer.fingerprint and int8.temperature is None
    ops = {n.op_type for n in onnx.load(str(quantized / "model.onnx")).graph.node}
    assert {"MatMulInteger", "DynamicQuantizeLinear", "DequantizeLinear", "LayerNormalization"} <= ops
    texts = pd.read_parquet(synthetic_dataset)["text"].tolist()
    ours, theirs = int8.predict_logits(int8.encode(texts)), fp32.predict_logits(fp32.encode(texts))
    assert (ours.argmax(1) == theirs.argmax(1)).mean() >= 0.95
    assert np.abs(ours - theirs).max() < 0.5

    card = json.loads((quantized / "card.json").read_text())
    assert card["model"] == "bert-int8" and card["quantized_from"] == "bert"
    assert card["figures"]["test"]["samples"] == card["int8_vs_fp32"]["test_reviews_compared"] == 20
    q = card["quantization"]
    assert q["model_sha256"] == sha256(quantized / "model.onnx") and q["int8_bytes"] < q["fp32_bytes"]
    assert len(q["weight_only_int8"]["matmuls"]) == 2  # the tiny BERT's two layers, both weight-only
    assert q["accuracy"]["fp32_test_source"] == "measured in this run, on the same reviews"
    assert q["throughput"]["int8_reviews_per_s"] > 0
    assert sha256(quantized / "tokenizer.json") == sha256(models / "bert" / "tokenizer.json")


def test_a_bundle_is_replaced_only_with_overwrite(quantized, models, capsys):
    card = (quantized / "card.json").read_text()
    assert main(["quantize", "--models-dir", str(models), "--no-evaluate", "--quiet"]) == 2
    assert "already holds an imdb-leap output; pass --overwrite" in error_line(capsys)
    assert (quantized / "card.json").read_text() == card
    # the same file again, not evaluated: the figures measured on it are kept
    assert main(["quantize", "--models-dir", str(models), "--no-evaluate", "--overwrite", "--quiet"]) == 0
    again = json.loads((quantized / "card.json").read_text())
    assert again["figures"] == json.loads(card)["figures"] and "figures_carried_over" in again["quantization"]


def test_a_bad_source_is_one_line(models, word_bundles, tmp_path, capsys):
    out = ["--models-dir", str(tmp_path), "--no-evaluate"]
    assert main(["quantize", *out]) == 2  # no bert bundle beside it
    assert "no model 'bert'" in error_line(capsys)
    assert main(["quantize", "--source-dir", str(word_bundles / "cnn"), *out]) == 2
    assert "quantized from a bert bundle" in error_line(capsys)
    cnn_as_bert = tmp_path / "elsewhere" / "bert"
    shutil.copytree(word_bundles / "cnn", cnn_as_bert)
    assert main(["quantize", "--source-dir", str(cnn_as_bert), *out]) == 2
    assert "describes model 'cnn', not 'bert'" in error_line(capsys)
    assert main(["quantize", "--model", "bert", "--source-dir", str(models / "bert"), *out]) == 2
    assert "bert is trained, not quantized" in error_line(capsys)
    assert not (tmp_path / "bert-int8").exists()


def test_a_missing_library_names_the_train_extra():
    error = ModuleNotFoundError("No module named 'sklearn'", name="sklearn")
    assert "pip install 'imdb-leap[train]'" in extras.missing_extra(error, "quantize")


@pytest.mark.slow
@pytest.mark.skipif(not (MODELS_DIR / "bert" / "model.onnx").is_file() or
                    not (MODELS_DIR / "bert-int8" / "card.json").is_file(), reason="the shipped bert bundles are absent")
def test_reproduces_the_shipped_bert_int8(tmp_path):
    """models/bert -> bert-int8 with --no-evaluate over a copy of the shipped bundle: the same
    model.onnx byte for byte, so the card keeps the shipped figures and is the shipped card."""
    shipped = MODELS_DIR / "bert-int8"
    shutil.copytree(shipped, tmp_path / "bert-int8")
    assert main(["quantize", "--source-dir", str(MODELS_DIR / "bert"), "--models-dir", str(tmp_path),
                 "--no-evaluate", "--overwrite", "--quiet"]) == 0
    assert sha256(tmp_path / "bert-int8" / "model.onnx") == sha256(shipped / "model.onnx")
    assert json.loads((tmp_path / "bert-int8" / "card.json").read_text()) == json.loads((shipped / "card.json").read_text())
