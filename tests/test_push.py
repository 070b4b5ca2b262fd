"""`imdb-leap push --model M`: the settings check, the dry run, and a push through a fake `leap`
executable on PATH that records its arguments and working folder (the real CLI is never run)."""
import os
import shlex
import stat
from pathlib import Path

import pytest

from IMDb.cli import imdb_leap, push
from IMDb.config import environment as env
from IMDb.config import project_file
from IMDb.config.run import REPO_ROOT

FAKE_LEAP = """#!/bin/sh
printf '%s\\n' "$PWD" "$@" > "{record}"
exit {status}
"""


@pytest.fixture
def config(tmp_path, monkeypatch):
    """project_config.yaml of the test's own (the repository's is never touched), no IMDB_* override."""
    def write(model: str = "dense", data_path: str = project_file.PLACEHOLDER) -> Path:
        path = tmp_path / "project_config.yaml"
        path.write_text(f"data_path: {data_path}\nmodel: {model}\nsample_limit_per_split: null\n")
        monkeypatch.setattr(project_file, "PATH", path)
        return path
    for name in (env.DATA, env.MODEL, env.MODELS_DIR):
        monkeypatch.delenv(name, raising=False)
    return write


@pytest.fixture
def fake_leap(tmp_path, monkeypatch):
    """A `leap` first on PATH; returns what it recorded: [working folder, *arguments]."""
    folder, record = tmp_path / "bin", tmp_path / "leap-args.txt"

    def install(status: int = 0):
        folder.mkdir(exist_ok=True)
        leap = folder / "leap"
        leap.write_text(FAKE_LEAP.format(record=record, status=status))
        leap.chmod(leap.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
        return lambda: record.read_text().splitlines() if record.is_file() else None
    return install


def without_leap(monkeypatch, tmp_path):
    """PATH without any `leap` (python stays reachable for the checks)."""
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                               if not (Path(p) / "leap").exists()))


def test_dry_run_prints_the_exact_command_and_needs_nothing(config, capfd, monkeypatch, tmp_path):
    config("cnn")
    without_leap(monkeypatch, tmp_path)
    assert imdb_leap.main(["push", "--model", "cnn", "--dry-run"]) == 0
    out, err = capfd.readouterr()
    assert out == "leap push -m models/cnn/model.onnx -n cnn -b 32 --eval\n"
    assert "`leap` is not on PATH" in err and "data_path is still the placeholder" in err


def test_dry_run_with_a_name_and_batch(config, capfd):
    config("bert", "/data/volume/imdb/imdb.parquet")
    assert imdb_leap.main(["push", "--model", "bert", "--name", "bert v1", "--batch", "8", "--dry-run"]) == 0
    assert capfd.readouterr().out == "leap push -m models/bert/model.onnx -n 'bert v1' -b 8 --eval\n"


def test_the_committed_config_dry_runs_any_served_model(capfd, monkeypatch):
    """As committed (model: dense, the placeholder), the dry run still prints the command; what a real
    push would refuse goes to stderr."""
    monkeypatch.delenv(env.MODEL, raising=False)
    assert imdb_leap.main(["push", "--model", "cnn", "--dry-run"]) == 0
    out, err = capfd.readouterr()
    assert out == "leap push -m models/cnn/model.onnx -n cnn -b 32 --eval\n"
    assert "model is 'dense', not 'cnn'" in err


def test_a_model_the_config_does_not_name_is_refused_in_one_line(config, capfd, fake_leap):
    path = config("dense", "/data/volume/imdb/imdb.parquet")
    recorded = fake_leap()
    before = path.read_text()
    assert imdb_leap.main(["push", "--model", "cnn"]) == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and f"{path}: model is 'dense', not 'cnn'" in err and "set `model: cnn`" in err
    assert path.read_text() == before and recorded() is None  # never edited, nothing run


@pytest.mark.parametrize("data_path, words", [
    (project_file.PLACEHOLDER, "data_path is still the placeholder"),
    ("../shared/data/imdb/imdb.parquet", "is relative: inside a pushed bundle"),
])
def test_a_data_path_the_platform_cannot_reach_is_refused(config, capfd, fake_leap, data_path, words):
    config("dense", data_path)
    recorded = fake_leap()
    assert imdb_leap.main(["push", "--model", "dense"]) == 2
    err = capfd.readouterr().err
    assert words in err and err.count("\n") == 1 and recorded() is None


def test_an_unserved_model_is_refused_even_in_a_dry_run(config, capfd):
    config("dense")
    assert imdb_leap.main(["push", "--model", "bert-int8", "--dry-run"]) == 2
    assert "bert-int8 is not a model the integration serves" in capfd.readouterr().err


def test_without_leap_it_says_where_to_get_it(config, capfd, monkeypatch, tmp_path):
    config("dense", "/data/volume/imdb/imdb.parquet")
    without_leap(monkeypatch, tmp_path)
    assert imdb_leap.main(["push", "--model", "dense"]) == 2
    err = capfd.readouterr().err
    assert "`leap` is not on PATH" in err and push.CLI_INSTALL in err and push.CLI_SOURCE in err


def test_a_push_checks_the_bundle_then_runs_leap(config, fake_leap, capfd, monkeypatch,
                                                  synthetic_dataset, word_bundles):
    """The whole path: settings, the bundle emulation (leap_test.py, here on the synthetic reviews
    and tiny bundles), then `leap push` in the repository root with exactly the dry run's arguments."""
    config("dense", str(synthetic_dataset))
    monkeypatch.setenv(env.MODELS_DIR, str(word_bundles))
    recorded = fake_leap()
    emulated = []
    monkeypatch.setattr(push, "emulate", lambda *a, real=push.emulate: emulated.append(real(*a)) or emulated[-1])
    assert imdb_leap.main(["push", "--model", "dense", "--name", "dense-v1", "--batch", "16"]) == 0
    [result] = emulated  # leap_test.py's JSON result
    assert result["passed"] and result["failures"] == []
    assert result["models"]["dense"]["platform"]["status"] == "valid"
    assert result["models"]["dense"]["integration"] is None  # --platform-only
    cwd, *args = recorded()
    assert Path(cwd).resolve() == REPO_ROOT.resolve()
    assert args == shlex.split("push -m models/dense/model.onnx -n dense-v1 -b 16 --eval")


def test_a_failed_emulation_pushes_nothing(config, fake_leap, capfd, monkeypatch, synthetic_dataset, word_bundles,
                                           tmp_path):
    broken = tmp_path / "models"
    (broken / "dense").mkdir(parents=True)
    for name in ("card.json", "model.onnx"):
        (broken / "dense" / name).write_bytes((word_bundles / "dense" / name).read_bytes())
    (broken / "dense" / "tokenizer.json").write_bytes((word_bundles / "cnn" / "tokenizer.json").read_bytes())
    config("dense", str(synthetic_dataset))
    monkeypatch.setenv(env.MODELS_DIR, str(broken))
    recorded = fake_leap()
    assert imdb_leap.main(["push", "--model", "dense"]) == 2
    assert "the bundle emulation failed (above): nothing was pushed" in capfd.readouterr().err
    assert recorded() is None


def test_a_failing_leap_points_at_the_server_logs(config, fake_leap, capfd, monkeypatch, synthetic_dataset,
                                                  word_bundles):
    config("dense", str(synthetic_dataset))
    monkeypatch.setenv(env.MODELS_DIR, str(word_bundles))
    recorded = fake_leap(status=3)
    assert imdb_leap.main(["push", "--model", "dense"]) == 3
    assert recorded() is not None
    assert "`leap run list -t Push`, then `leap run logs <run id>`" in capfd.readouterr().err
