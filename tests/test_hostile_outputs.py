"""Issue 19's output cases, each as a user would meet it: nothing a user wrote is replaced (their
input, their file, a file they added inside an earlier output), runs do not write into each other,
and a bundle replaced mid-run is refused rather than mixed in."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from IMDb import bundle, families
from IMDb.cli.imdb_leap import main
from IMDb.cli.prediction_files import is_predictions_file
from IMDb.config.run import REPO_ROOT
from IMDb.errors import ModelError, OutputError
from IMDb.output.atomic import output_file
from IMDb.output.folders import MANIFEST, REPORT_MARKER, atomic_dir, check_out_dir, release
from IMDb.training import runs


def _report(out: Path, replace: bool = True) -> None:
    with atomic_dir(out, REPORT_MARKER, replace=replace, flag="--overwrite") as tmp:
        (tmp / "dashboard.html").write_text("report")


def _predict(word_bundles: Path, *args: str) -> int:
    return main(["predict", "--model", "dense", "--models-dir", str(word_bundles), "--quiet", *args])


# --------------------------------------------------------------------------- case 1: predict's output

def test_the_input_is_never_the_output_even_with_overwrite(word_bundles, tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("text\nA wonderful film.\n", encoding="utf-8")
    assert _predict(word_bundles, "--input", str(src), "--output", str(src), "--overwrite") == 2
    err = capsys.readouterr().err
    assert "is also the input" in err and err.count("\n") == 1
    assert src.read_text(encoding="utf-8") == "text\nA wonderful film.\n"


@pytest.mark.parametrize("name", ["notes.csv", "notes.jsonl"])
def test_a_users_file_is_never_replaced_even_with_overwrite(word_bundles, tmp_path, capsys, name):
    out = tmp_path / name
    out.write_text('"row","text"\n1,"my own table"\n', encoding="utf-8")
    assert _predict(word_bundles, "great", "--output", str(out), "--overwrite") == 2
    assert "not an output of this command" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == '"row","text"\n1,"my own table"\n'


@pytest.mark.parametrize("name", ["p.csv", "p.jsonl"])
def test_an_earlier_prediction_is_recognised_and_replaced_with_overwrite(word_bundles, tmp_path, name):
    out = tmp_path / name
    assert _predict(word_bundles, "great", "--output", str(out)) == 0
    assert is_predictions_file(out)
    assert _predict(word_bundles, "awful", "--output", str(out)) == 2
    assert _predict(word_bundles, "awful", "--output", str(out), "--overwrite") == 0
    assert "awful" in out.read_text(encoding="utf-8") and "great" not in out.read_text(encoding="utf-8")


def test_an_unwritable_output_folder_is_refused_before_scoring(word_bundles, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root ignores permissions: make the probe fail instead
        monkeypatch.setattr("tempfile.mkdtemp", lambda **kw: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    from IMDb.cli import prediction_files
    monkeypatch.setattr(prediction_files, "score", lambda *a, **k: pytest.fail("scored before the output was checked"))
    assert _predict(word_bundles, "great", "--output", str(folder / "p.csv")) == 2
    assert "cannot write in" in capsys.readouterr().err


# --------------------------------------------------------------------------- case 3: the swap re-checks

def test_a_file_created_while_the_run_works_is_kept(tmp_path):
    out = tmp_path / "o.csv"
    with pytest.raises(OutputError, match="exists; pass --overwrite"):
        with output_file(out, is_predictions_file, replace=False) as tmp:
            tmp.write_text('"row","text","no_words"\n', encoding="utf-8")
            out.write_text('"row","text","no_words"\n1,"another run",False\n', encoding="utf-8")
    assert out.read_text(encoding="utf-8") == '"row","text","no_words"\n1,"another run",False\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]


def test_a_users_file_created_meanwhile_is_kept_even_with_overwrite(tmp_path):
    out = tmp_path / "o.csv"
    with pytest.raises(OutputError, match="not an output of this command"):
        with output_file(out, is_predictions_file, replace=True) as tmp:
            tmp.write_text('"row","text","no_words"\n', encoding="utf-8")
            out.write_text("mine\n", encoding="utf-8")
    assert out.read_text(encoding="utf-8") == "mine\n"


# --------------------------------------------------------------------------- cases 2 and 4: folders

def _bundle(models_dir: Path, name: str = "dense") -> Path:
    return bundle.write(models_dir / name, {"card.json": {"model": name}, "model.onnx": lambda p: p.write_bytes(b"x")})


def test_train_refuses_an_existing_bundle_without_overwrite(tmp_path, capsys):
    models = tmp_path / "M"
    _bundle(models)
    code = main(["train", "--model", "dense", "--models-dir", str(models), "--data", str(tmp_path / "no.parquet")])
    err = capsys.readouterr().err
    assert code == 2 and "already holds an imdb-leap output; pass --overwrite" in err and err.count("\n") == 1


def test_train_refuses_a_bundle_holding_a_users_file_even_with_overwrite(tmp_path, capsys):
    models = tmp_path / "M"
    _bundle(models)
    (models / "dense" / "NOTES.md").write_text("my notes")
    code = main(["train", "--model", "dense", "--models-dir", str(models), "--overwrite",
                 "--data", str(tmp_path / "no.parquet")])
    err = capsys.readouterr().err
    assert code == 2 and "'NOTES.md'" in err and "even with --overwrite" in err
    assert (models / "dense" / "NOTES.md").read_text() == "my notes"


def test_train_leaves_the_shipped_models_alone_unless_asked(capsys):
    code = main(["train", "--model", "cnn", "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "holds the shipped models" in err and "--models-dir" in err and "--overwrite" in err


def test_a_file_added_inside_an_earlier_report_refuses_the_overwrite(tmp_path, capsys):
    out = tmp_path / "R"
    _report(out)
    (out / "my-notes.txt").write_text("keep")
    code = main(["analyze", "--model", "dense", "--models-dir", str(tmp_path / "none"), "--data",
                 str(tmp_path / "no.parquet"), "--out", str(out), "--overwrite", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "'my-notes.txt'" in err and err.count("\n") == 1
    assert (out / "my-notes.txt").read_text() == "keep"


def test_a_report_without_a_manifest_is_never_replaced(tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    (out / REPORT_MARKER).write_text("an older imdb-leap")
    (out / "dashboard.html").write_text("old")
    with pytest.raises(OutputError, match=f"no readable {MANIFEST}"):
        _report(out)
    assert (out / "dashboard.html").read_text() == "old"


def test_every_shipped_bundle_lists_its_files():
    for name in bundle.names():
        folder = bundle.MODELS_DIR / name
        listed = json.loads((folder / MANIFEST).read_text())["files"]
        assert sorted(listed) == sorted(p.name for p in folder.iterdir() if p.name != MANIFEST), name


# --------------------------------------------------------------------------- case 7: runs isolated

def test_two_word_model_runs_get_folders_of_their_own(tmp_path):
    cfg = families.config("dense", runs_dir=str(tmp_path))
    first, second = runs.new_run_dir(cfg), runs.new_run_dir(cfg)
    assert first != second and first.parent == second.parent == tmp_path / "dense"


def test_a_resumable_run_is_held_under_a_lock(tmp_path):
    cfg = families.config("bert", runs_dir=str(tmp_path), out_dir=str(tmp_path / "M"))
    with runs.resumable_run_dir(cfg) as folder:
        with pytest.raises(ModelError, match="another run is training bert"):
            with runs.resumable_run_dir(cfg):
                pass
    with runs.resumable_run_dir(cfg) as again:  # released: the same command resumes there
        assert again == folder
    other = families.config("bert", runs_dir=str(tmp_path), out_dir=str(tmp_path / "N"))
    with runs.resumable_run_dir(cfg), runs.resumable_run_dir(other) as elsewhere:
        assert elsewhere != folder


# --------------------------------------------------------------------------- case 8: a bundle pinned

def test_a_bundle_replaced_mid_run_is_refused(word_bundles, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(word_bundles / "dense", models / "dense")
    read = bundle.Bundle.read("dense", models)
    assert read.file("model.onnx").is_file()
    shutil.copytree(models / "dense", tmp_path / "new")
    os.rename(models / "dense", tmp_path / "gone")
    os.rename(tmp_path / "new", models / "dense")  # how atomic_dir swaps a bundle in
    with pytest.raises(ModelError, match="was replaced while this run was using it"):
        read.file("model.onnx")


# --------------------------------------------------------------------------- the minor items

def test_a_killed_writers_temp_folder_is_swept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale, live = tmp_path / f".r.{dead}.abc123.tmp", tmp_path / f".r.{os.getppid()}.abc123.tmp"
    stale.mkdir()
    live.mkdir()
    _report(tmp_path / "r")
    assert not stale.exists() and live.exists()


def test_a_failed_run_leaves_no_parent_folders(tmp_path):
    with pytest.raises(RuntimeError, match="the work failed"):
        with atomic_dir(tmp_path / "a" / "b" / "report", REPORT_MARKER):
            raise RuntimeError("the work failed")
    assert list(tmp_path.iterdir()) == []


def test_the_current_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="is the current folder"):
        check_out_dir(".", REPORT_MARKER, replace=True)
    assert tmp_path.is_dir()


def test_a_mount_point_is_refused_at_the_start(tmp_path, monkeypatch):
    mount = tmp_path / "mnt"
    mount.mkdir()
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == mount)
    with pytest.raises(OutputError, match="is a mount point"):
        check_out_dir(mount, REPORT_MARKER)


HOLDER = textwrap.dedent("""
    import sys, time
    from IMDb.output.folders import REPORT_MARKER, check_out_dir
    check_out_dir(sys.argv[1], REPORT_MARKER)
    print("holding", flush=True)
    time.sleep(60)
""")


def test_a_second_run_into_the_same_new_folder_refuses_at_its_start(tmp_path):
    out = tmp_path / "new-report"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(OutputError, match="being written by another imdb-leap run"):
            check_out_dir(out, REPORT_MARKER)
    finally:
        holder.kill()
        holder.wait()
    check_out_dir(out, REPORT_MARKER)  # the first run ended: the folder is free again
    release(out)
