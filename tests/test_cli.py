import subprocess
import sys

from IMDb.cli.imdb_leap import main, parser
from IMDb.config.run import REPO_ROOT


def test_train_with_missing_data_is_one_clear_line(tmp_path, capsys):
    code = main(["train", "--model", "dense", "--data", str(tmp_path / "nowhere.parquet"), "--models-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("imdb-leap: error:") and "nowhere.parquet" in err
    assert not (tmp_path / "dense").exists()


def test_train_overrides_reach_the_config():
    args = parser().parse_args(["train", "--model", "cnn", "--epochs", "3", "--seq-len", "100"])
    assert (args.model, args.epochs, args.seq_len) == (["cnn"], 3, 100)


def test_help_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "IMDb.cli.imdb_leap", "--help"], capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=60)
    assert result.returncode == 0 and "train" in result.stdout and "predict" in result.stdout


def test_train_bert_without_a_checkpoint_is_one_clear_line(tmp_path, capsys):
    code = main(["train", "--model", "bert", "--bert", str(tmp_path / "no-bert"), "--models-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("imdb-leap: error: no vocab.txt in BERT checkpoint folder") and "IMDB_BERT" in err
    assert not (tmp_path / "bert").exists()


def test_bert_options_reach_the_config():
    args = parser().parse_args(["train", "--model", "bert", "--truncation", "head", "--max-steps", "10",
                                "--checkpoint-every", "5", "--restart", "--bert", "hf://x/y"])
    assert (args.truncation, args.max_steps, args.checkpoint_every, args.restart,
            args.bert_checkpoint) == ("head", 10, 5, True, "hf://x/y")


# --------------------------------------------------------------------------- one grammar


import argparse  # noqa: E402

import pytest  # noqa: E402

from IMDb import families  # noqa: E402
from IMDb.analysis.settings import AnalyzeSettings, CompareSettings  # noqa: E402
from IMDb.cli.options import config_options, given, option_fields  # noqa: E402
from IMDb.robustness.settings import RobustnessSettings  # noqa: E402


def test_every_train_option_that_is_passed_on_is_a_config_field():
    assert set(config_options()) <= set(families.setting_fields())
    train = parser()._subparsers._group_actions[0].choices["train"]
    dests = {a.dest for a in train._actions} - {"help", "model", "models_dir", "restart", "overwrite",
                                                "quiet", "verbose"}
    assert dests == set(config_options())  # nothing parsed is silently dropped


@pytest.mark.parametrize("command, settings", [("analyze", AnalyzeSettings), ("compare", CompareSettings),
                                               ("robustness", RobustnessSettings)])
def test_the_analysis_options_are_their_settings_option_fields(command, settings):
    """Each option of analyze, compare and robustness is a field of its settings dataclass and each
    such field an option (a new field is a new option), parsed into settings as the handler makes them."""
    sub = parser()._subparsers._group_actions[0].choices[command]
    dests = {a.dest for a in sub._actions} - {"help", "model", "models_dir", "out", "overwrite", "quiet", "verbose"}
    assert dests == set(option_fields(settings))
    assert {f.metadata["option"] for f in option_fields(settings).values()} <= {s for a in sub._actions
                                                                              for s in a.option_strings}
    chosen = {"seed": 7} if command == "robustness" else {"limit": 20}
    (name, value), = chosen.items()
    args = parser().parse_args([command, "--model", "dense,cnn", f"--{name}", str(value)])
    assert settings(**given(args, option_fields(settings))) == settings(**chosen)  # the rest: the defaults


@pytest.mark.parametrize("command", ["train", "predict", "analyze", "compare", "robustness", "calibrate",
                                     "quantize"])
def test_every_command_shares_the_grammar(command):
    sub = parser()._subparsers._group_actions[0].choices[command]
    flags = {s for a in sub._actions for s in a.option_strings}
    assert {"--model", "--models-dir", "--quiet", "--verbose"} <= flags
    if command in ("predict", "analyze", "compare", "robustness"):
        assert {"--out", "--output", "--overwrite"} <= flags
    assert "examples:" in sub.epilog and f"imdb-leap {command}" in sub.epilog
    model = next(a for a in sub._actions if "--model" in a.option_strings)
    assert model.type(",".join(families.names()[:2])) == list(families.names()[:2])


def test_unknown_options_and_models_are_one_line_errors(capsys):
    assert main(["analyze", "--model", "cnn", "--bogus"]) == 2
    assert main(["predict", "--model", "rnn", "x"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["imdb-leap: error: unrecognized arguments: --bogus (see `imdb-leap --help`)",
                     "imdb-leap: error: argument --model: 'rnn': name models from dense, cnn, bert, bert-int8, one or several "
                     "joined by commas, each once (see `imdb-leap predict --help`)"]
    with pytest.raises(argparse.ArgumentTypeError):
        parser()._subparsers._group_actions[0].choices["predict"]._option_string_actions["--model"].type("cnn,cnn")


def test_one_model_is_enforced_and_a_positional_model_is_refused(tmp_path, capsys):
    assert main(["train", "dense"]) == 2
    assert main(["train", "--model", "dense,cnn", "--models-dir", str(tmp_path)]) == 2
    assert main(["compare", "--model", "dense", "--out", str(tmp_path / "r")]) == 2
    assert main(["train"]) == 2
    err = capsys.readouterr().err
    assert "train takes one model" in err and "compare takes two models" in err and "--model dense|cnn|bert" in err
