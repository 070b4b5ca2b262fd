"""The output-folder policy: nothing a user wrote is ever deleted, concurrent writers stay safe,
and SIGTERM removes the temp folder like Ctrl-C."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from IMDb.cli.imdb_leap import main
from IMDb.config.run import REPO_ROOT
from IMDb.errors import OutputError
from IMDb.output.folders import MANIFEST, REPORT_MARKER, atomic_dir, check_out_dir


def _report(out: Path, text: str = "new", replace: bool = True) -> None:
    with atomic_dir(out, REPORT_MARKER, replace=replace, flag="--overwrite") as tmp:
        (tmp / "dashboard.html").write_text(text)


def test_missing_or_empty_folders_are_written(tmp_path):
    _report(tmp_path / "a" / "b")
    (tmp_path / "empty").mkdir()
    _report(tmp_path / "empty", replace=False)
    assert (tmp_path / "a" / "b" / "dashboard.html").read_text() == "new"
    assert (tmp_path / "empty" / REPORT_MARKER).is_file()


def test_a_user_folder_is_refused_and_kept(tmp_path):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match=r"mine holds files imdb-leap did not write.*even with --overwrite"):
        _report(user)
    assert [p.name for p in user.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_a_file_in_the_way_is_refused_not_hidden(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(OutputError, match="is a file"):
        _report(tmp_path / "out")
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and (tmp_path / "out").read_text() == "a file"


def test_a_marked_folder_needs_replace(tmp_path):
    out = tmp_path / "r"
    _report(out, "first")
    with pytest.raises(OutputError, match="already holds an imdb-leap output; pass --overwrite"):
        _report(out, "second", replace=False)
    assert (out / "dashboard.html").read_text() == "first"
    _report(out, "second", replace=True)
    assert (out / "dashboard.html").read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_a_folder_that_appears_during_the_run_is_not_replaced(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(OutputError, match="did not write"):
        with atomic_dir(out, REPORT_MARKER) as tmp:
            out.mkdir()
            (out / "user.txt").write_text("x")
            (tmp / "dashboard.html").write_text("new")
    assert [p.name for p in out.iterdir()] == ["user.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_an_unwritable_parent_is_refused_up_front(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="cannot write in"):
        check_out_dir(tmp_path / "file" / "report", REPORT_MARKER)


SWAPPER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from IMDb.errors import OutputError
    from IMDb.output.folders import REPORT_MARKER, atomic_dir

    out, n, who = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    for i in range(n):
        try:
            with atomic_dir(out, REPORT_MARKER, replace=True) as tmp:
                (tmp / "sub").mkdir()
                for j in range(5):
                    (tmp / "sub" / f"{j}.txt").write_text(f"{who} {i}")
                (tmp / "who.txt").write_text(f"{who} {i}")
        except OutputError as e:  # another writer holds the folder: the only refusal allowed
            assert "being written by another imdb-leap run" in str(e), e
""")


def test_concurrent_swaps_neither_fail_nor_leave_folders(tmp_path):
    out = tmp_path / "report"
    procs = [subprocess.Popen([sys.executable, "-c", SWAPPER, str(out), "300", str(w)], cwd=REPO_ROOT,
                              stderr=subprocess.PIPE, text=True) for w in range(3)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert [p.name for p in tmp_path.iterdir()] == ["report"]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, REPORT_MARKER, "sub", "who.txt"]
    who = (out / "who.txt").read_text()
    assert all((out / "sub" / f"{j}.txt").read_text() == who for j in range(5))  # one writer's folder


def test_cli_refuses_a_user_folder_before_any_work(tmp_path, capsys):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("do not lose")
    for argv in (["analyze", "--model", "dense"], ["compare", "--model", "dense,cnn"]):
        for extra in ([], ["--overwrite"]):
            code = main([*argv, "--models-dir", str(tmp_path / "no-models"), "--data", str(tmp_path / "no.parquet"),
                         "--out", str(out), "--quiet", *extra])
            err = capsys.readouterr().err
            assert code == 2 and err.count("\n") == 1 and str(out) in err and "--overwrite" in err, err
    assert [p.name for p in out.iterdir()] == ["chapter1.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


def test_cli_refuses_out_dot_in_a_clone(tmp_path, monkeypatch, capsys):
    (tmp_path / ".git").mkdir()
    (tmp_path / "README.md").write_text("a clone")
    monkeypatch.chdir(tmp_path)
    code = main(["analyze", "--model", "dense", "--out", ".", "--overwrite", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"imdb-leap: error: {tmp_path} holds files") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git", "README.md"]


def test_cli_names_overwrite_for_an_earlier_report(tmp_path, capsys):
    out = tmp_path / "r"
    _report(out, "earlier")
    code = main(["compare", "--model", "dense,cnn", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "pass --overwrite to replace it" in err and err.count("\n") == 1
    assert (out / "dashboard.html").read_text() == "earlier"


SLOW_RUN = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from IMDb.cli import commands, imdb_leap
    from IMDb.output.folders import REPORT_MARKER, atomic_dir

    def slow(args):
        with atomic_dir(Path(sys.argv[1]), REPORT_MARKER) as tmp:
            (tmp / "dashboard.html").write_text("half")
            print("writing", flush=True)
            time.sleep(60)
        return 0

    commands.predict = slow
    sys.exit(imdb_leap.main(["predict", "x"]))
""")


def test_sigterm_removes_the_temp_folder(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(tmp_path / "r")], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    assert list(tmp_path.iterdir()) == []
