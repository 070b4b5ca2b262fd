import subprocess
import sys

from IMDb.cli import main, parser
from IMDb.config import REPO_ROOT


def test_train_with_missing_data_is_one_clear_line(tmp_path, capsys):
    code = main(["train", "dense", "--data", str(tmp_path / "nowhere.parquet"), "--out-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("imdb-leap: error:") and "nowhere.parquet" in err
    assert not (tmp_path / "dense").exists()


def test_train_overrides_reach_the_config():
    args = parser().parse_args(["train", "cnn", "--epochs", "3", "--seq-len", "100"])
    assert (args.model, args.epochs, args.seq_len) == ("cnn", 3, 100)


def test_help_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "IMDb.cli", "--help"], capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=60)
    assert result.returncode == 0 and "train" in result.stdout and "predict" in result.stdout


def test_train_bert_without_a_checkpoint_is_one_clear_line(tmp_path, capsys):
    code = main(["train", "bert", "--bert", str(tmp_path / "no-bert"), "--out-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("imdb-leap: error: no vocab.txt in BERT checkpoint folder") and "IMDB_BERT" in err
    assert not (tmp_path / "bert").exists()


def test_bert_options_reach_the_config():
    args = parser().parse_args(["train", "bert", "--truncation", "head", "--max-steps", "10",
                                "--checkpoint-every", "5", "--restart", "--bert", "hf://x/y"])
    assert (args.truncation, args.max_steps, args.checkpoint_every, args.restart,
            args.bert_checkpoint) == ("head", 10, 5, True, "hf://x/y")
