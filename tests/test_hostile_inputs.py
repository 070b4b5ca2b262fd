"""Issue 19's hostile probe, held: every numeric option and card value is checked at the edge, and
every input file is read as what it is. Each case stops with exit status 2 (1 for
``python leap_binder.py``) and one line on stderr, before anything is scored or written; the case
numbers are the issue's."""
from __future__ import annotations

import codecs
import gzip
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from IMDb import families
from IMDb.cli import review_files
from IMDb.cli.imdb_leap import main, parser
from IMDb.cli.options import config_options
from IMDb.config import project_file
from IMDb.config.run import MODELS_DIR, REPO_ROOT
from IMDb.errors import IMDbError, SettingError, printable

ESC = "\x1b"


def one_line(capsys, code: int, expected_code: int = 2) -> str:
    """The run's stderr, checked to be one `imdb-leap: error:` line and the exit status 2, with
    nothing on stdout (nothing was scored)."""
    out, err = capsys.readouterr()
    assert code == expected_code, err
    assert err.startswith("imdb-leap: error: ") and err.count("\n") == 1, err
    assert ESC not in err and out == ""
    return err


# --------------------------------------------------------------------------- case 10: train options


@pytest.mark.parametrize("argv, words", [
    (["--learning-rate", "nan"], "argument --learning-rate: must be a finite number > 0, got 'nan'"),
    (["--learning-rate", "inf"], "argument --learning-rate: must be a finite number > 0, got 'inf'"),
    (["--learning-rate", "-1"], "argument --learning-rate: must be a finite number > 0, got '-1'"),
    (["--learning-rate", "fast"], "argument --learning-rate: must be a finite number > 0, got 'fast'"),
    (["--batch-size", "0"], "argument --batch-size: must be a whole number >= 1, got '0'"),
    (["--train-limit", "0"], "argument --train-limit: must be a whole number >= 1, got '0'"),
    (["--train-limit", "-5"], "argument --train-limit: must be a whole number >= 1, got '-5'"),
    (["--augment", "-5"], "argument --augment: must be a whole number >= 0, got '-5'"),
    (["--epochs", "0"], "argument --epochs: must be a whole number >= 1, got '0'"),
    (["--epochs", "-3"], "argument --epochs: must be a whole number >= 1, got '-3'"),
    (["--epochs", "2.5"], "argument --epochs: must be a whole number >= 1, got '2.5'"),
    (["--seq-len", "0"], "argument --seq-len: must be a whole number >= 1, got '0'"),
    (["--vocab-size", "1"], "argument --vocab-size: must be a whole number >= 3, got '1'"),
    (["--seed", "-1"], "argument --seed: must be a whole number >= 0 and <= 4,294,967,295, got '-1'"),
    (["--max-steps", "0"], "argument --max-steps: must be a whole number >= 1, got '0'"),
    (["--checkpoint-every", "0"], "argument --checkpoint-every: must be a whole number >= 1, got '0'"),
])
def test_train_refuses_a_bad_number_before_anything_runs(tmp_path, capsys, argv, words):
    # the missing --data would be the error if the option were accepted: it is never reached
    code = main(["train", "--model", "dense", "--models-dir", str(tmp_path / "m"),
                 "--data", str(tmp_path / "none.parquet"), *argv])
    assert words in one_line(capsys, code)
    assert not (tmp_path / "m").exists()


def test_bert_needs_room_for_its_special_pieces(tmp_path, capsys):
    code = main(["train", "--model", "bert", "--models-dir", str(tmp_path / "m"), "--seq-len", "3"])
    assert "bert: seq_len must be a whole number >= 4" in one_line(capsys, code)
    assert not (tmp_path / "m").exists()


def test_every_numeric_train_option_is_checked_by_its_config_field():
    """Nothing lists the rules twice: each numeric option's type is its field's (type and range)."""
    train = parser()._subparsers._group_actions[0].choices["train"]
    FIELDS = config_options()
    numeric = [a for a in train._actions if a.dest in FIELDS and FIELDS[a.dest].type.split(" |")[0]
               in ("int", "float")]
    assert {a.dest for a in numeric} >= {"epochs", "seq_len", "vocab_size", "batch_size", "seed", "train_limit",
                                         "augment", "cad_holdout", "learning_rate", "max_steps",
                                         "checkpoint_every"}
    for action in numeric:
        rule = FIELDS[action.dest].metadata["range"]
        low = rule.low if rule.low is not None else 0
        inside = low + 1 if rule.high is None else (low + rule.high) / 2  # e.g. a share in [0, 1)
        if FIELDS[action.dest].type.startswith("int"):
            inside = int(inside)
        assert action.type(str(inside)) is not None
        with pytest.raises(Exception):
            action.type("nan")


@pytest.mark.parametrize("overrides", [dict(learning_rate=math.nan), dict(epochs=0), dict(dropout=1.0),
                                       dict(val_fraction=1.0), dict(seed=True), dict(truncation="tail"),
                                       dict(batch_size="64")])
def test_a_config_is_checked_when_it_is_made(overrides):
    with pytest.raises(SettingError, match=f"{next(iter(overrides))} must be"):
        families.config("bert", **overrides)


@pytest.mark.parametrize("argv, words", [
    (["compare", "--model", "dense,cnn", "--limit", "0"], "argument --limit: must be a whole number >= 1"),
    (["analyze", "--model", "dense", "--k", "x"], "argument --k: must be a whole number >= 2"),
    (["analyze", "--model", "dense", "--samples", "-1"], "argument --samples: must be a whole number >= 0"),
    (["robustness", "--model", "dense", "--seed", "-1"], "argument --seed: must be a whole number >= 0"),
])
def test_the_other_commands_numbers_are_checked_too(tmp_path, capsys, argv, words):
    code = main([*argv, "--out", str(tmp_path / "r")])
    assert words in one_line(capsys, code)
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- case 6: the card's calibration


@pytest.fixture
def dense_copy(tmp_path) -> Path:
    """models/dense's card, tokenizer and model.onnx in a scratch models folder."""
    folder = tmp_path / "models" / "dense"
    folder.mkdir(parents=True)
    for name in ("card.json", "tokenizer.json", "model.onnx"):
        shutil.copy(MODELS_DIR / "dense" / name, folder / name)
    return folder


def edit_card(folder: Path, edit) -> None:
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    edit(card)
    (folder / "card.json").write_text(json.dumps(card, allow_nan=True), encoding="utf-8")


def predict_with(folder: Path, *args: str) -> int:
    return main(["predict", "--model", "dense", "--models-dir", str(folder.parent), *args])


def set_temperature(value):
    return lambda card: card["calibration"].update(temperature=value)


@pytest.mark.parametrize("edit, words", [
    (set_temperature(-1), "calibration.temperature must be a finite number > 0, got -1"),
    (set_temperature(0), "calibration.temperature must be a finite number > 0, got 0"),
    (set_temperature(math.nan), "calibration.temperature must be a finite number > 0, got NaN"),
    (set_temperature(math.inf), "calibration.temperature must be a finite number > 0, got Infinity"),
    (set_temperature("1.2"), 'calibration.temperature must be a finite number > 0, got "1.2"'),
    (set_temperature(True), "calibration.temperature must be a finite number > 0, got true"),
    (lambda card: card.update(calibration=1.2), "calibration must be an object"),
    (lambda card: card.update(calibration=None), "calibration must be an object"),
    (lambda card: card.update(calibration={}), "calibration must be a complete record (no temperature, "),
    (lambda card: card.update(calibration={"temperature": 1.2}), "calibration must be a complete record (no ece_before"),
    (lambda card: card["calibration"].pop("reliability_after"), "(no reliability_after)"),
    (lambda card: card["calibration"].update(ece_after=1.5), "calibration.ece_after must be a finite number >= 0 and <= 1"),
    (lambda card: card["calibration"].update(bins=0), "calibration.bins must be a whole number >= 1"),
    (lambda card: card["calibration"]["reliability_before"][3].update(count=-1), "calibration.reliability_before[3] must be a bin"),
    (lambda card: card["calibration"].update(reliability_before="x"), "calibration.reliability_before must be a list of bins"),
    (lambda card: card["figures"]["test"].update(accuracy=math.nan), "figures.test must be an object with numbers"),
    (lambda card: card["config"].update(learning_rate=-1), "config.learning_rate must be a finite number > 0"),
])
def test_a_bad_calibration_or_card_value_is_refused_when_the_bundle_is_loaded(dense_copy, capsys, edit, words):
    edit_card(dense_copy, edit)
    err = one_line(capsys, predict_with(dense_copy, "a great film"))
    assert words in err and "card.json" in err


def test_unknown_card_keys_are_allowed(dense_copy, capsys):
    def edit(card):
        card["my_notes"] = {"anything": [1, "two"]}
        card["calibration"]["my_comment"] = "fitted on Tuesday"
    edit_card(dense_copy, edit)
    assert predict_with(dense_copy, "a great film") == 0
    assert "positive" in capsys.readouterr().out


# --------------------------------------------------------------------------- case 12: tokenizer vs embedding


def grow_tokenizer(folder: Path, extra: int) -> None:
    """A tokenizer with `extra` more words than the model's, its fingerprint recorded in the card,
    so that only the embedding's size tells them apart."""
    from IMDb.text.word_tokenizer import WordTokenizer

    tokenizer = WordTokenizer.load(folder / "tokenizer.json")
    words = tokenizer.words[2:] + [f"newword{i}" for i in range(extra)]
    bigger = WordTokenizer(len(words) + 2, tokenizer.seq_len)
    bigger._set_words(words)
    bigger.save(folder / "tokenizer.json")
    edit_card(folder, lambda card: card.update(tokenizer_fingerprint=bigger.fingerprint))


def test_a_tokenizer_larger_than_the_card_says_is_refused_at_load(dense_copy, capsys):
    grow_tokenizer(dense_copy, 5)
    err = one_line(capsys, predict_with(dense_copy, "a great film"))
    assert "emits 20,005 token ids but the model's embedding has 20,000 rows" in err
    assert "card.json (config.vocab_size)" in err


def test_a_tokenizer_larger_than_the_onnx_embedding_is_refused_at_load(dense_copy, capsys):
    grow_tokenizer(dense_copy, 5)
    edit_card(dense_copy, lambda card: card["config"].update(vocab_size=20_005))  # the card agrees...
    err = one_line(capsys, predict_with(dense_copy, "a great film"))  # ...the model does not
    assert "emits 20,005 token ids but the model's embedding has 20,000 rows" in err and "model.onnx" in err


def test_a_tokenizer_file_with_more_words_than_its_size_is_refused(dense_copy, capsys):
    state = json.loads((dense_copy / "tokenizer.json").read_text())
    state["vocab_size"] = 100
    (dense_copy / "tokenizer.json").write_text(json.dumps(state))
    err = one_line(capsys, predict_with(dense_copy, "a great film"))
    assert "not a valid word-tokenizer file: it holds 20,000 words but its vocab_size is 100" in err


# --------------------------------------------------------------------------- cases 5, 9, 15, 16: input files


def score(tmp_path, name: str, content: bytes, *args: str) -> tuple[int, Path]:
    src, out = tmp_path / name, tmp_path / "preds.csv"
    src.write_bytes(content)
    return main(["predict", "--model", "dense", "--input", str(src), "--output", str(out), *args]), out


TWO = "great film\nawful film\n"


@pytest.mark.parametrize("name, content", [
    ("utf16.txt", TWO.encode("utf-16")),  # case 9: the BOM says UTF-16
    ("utf16be.txt", codecs.BOM_UTF16_BE + TWO.encode("utf-16-be")),
    ("utf32.txt", TWO.encode("utf-32")),
    ("bom.txt", codecs.BOM_UTF8 + TWO.encode()),
    ("cr.txt", b"great film\rawful film\r"),  # case 9: CR-only line endings
    ("crlf.txt", b"great film\r\nawful film"),
    ("mixed.txt", b"great film\rawful film\n"),
    ("r.csv", b"id,text\r1,great film\r2,awful film\r"),
    ("utf16.csv", "id,text\n1,great film\n2,awful film\n".encode("utf-16")),
    ("trailing.csv", b"id,text\n1,great film,\n2,awful film,\n"),  # case 5: one extra, empty field
    ("header-too.csv", b"id,text,\n1,great film,\n2,awful film,\n"),
    ("some-rows.csv", b"id,text\n1,great film\n2,awful film,\n"),
    ("cr.jsonl", b'{"text": "great film"}\r{"text": "awful film"}\r'),
])
def test_inputs_are_read_as_what_they_are(tmp_path, capsys, name, content):
    code, out = score(tmp_path, name, content)
    assert code == 0, capsys.readouterr().err
    assert pd.read_csv(out)["text"].tolist() == ["great film", "awful film"]


@pytest.mark.parametrize("name, content, words", [
    ("r.txt.gz", gzip.compress(TWO.encode()), "is gzip-compressed, not text: decompress it first"),
    ("r.csv.gz", gzip.compress(b"id,text\n1,good\n"), "is gzip-compressed, not text"),
    ("r.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "is a PNG image, not text"),
    ("r.zip", b"PK\x03\x04" + bytes(40), "is a zip archive (an .xlsx workbook is one)"),
    ("r.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "is a PDF document, not text"),
    ("r.bin", b"great\x00film\n", "holds NUL bytes (the first at character 5): it is binary, or UTF-16/32"),
    ("r.txt", TWO.encode("utf-16-le"), "holds NUL bytes"),  # UTF-16 without a byte-order mark
    ("r.csv", b"\xff\xfe" + b"t\x00e\x00\x00\xd8", "starts with a UTF-16 byte-order mark but is not valid UTF-16"),
    ("r.json", b'[{"text": "great film"}]', "a .json file is one JSON document; give JSON Lines instead (.jsonl"),
    ("r.jsonl", b'[{"text": "great film"}]\n', "line 1 is a JSON array: JSON Lines hold one object per line"),
    ("r.jsonl", b'{"text": "great", "text": "awful"}\n', "line 1: key 'text' appears twice; keep one"),
    # case 5: any other ragged row names its row
    ("r.csv", b"id,text\n1,great film\n2,awful,film,\n", "row 2 (line 3): 4 fields where the header has 2"),
    ("r.csv", b"id,text\n1,great film,x\n", "row 1 (line 2): 3 fields where the header has 2"),
    ("r.csv", b"id,text,label\n1,great film\n", "row 1 (line 2): 2 fields where the header has 3"),
    ("r.csv", b'id,text\n1,"great film\n2,awful\n', "line 3: not valid CSV (unexpected end of data)"),
    ("r.csv", b"", "is empty: its first line must name the columns"),
    # a CSV with two text columns
    ("r.csv", b"text,id,text\ngreat,1,awful\n", "columns 1 and 3 are both named 'text'; rename one"),
])
def test_inputs_that_are_not_what_they_claim_are_refused(tmp_path, capsys, name, content, words):
    code, out = score(tmp_path, name, content)
    assert words in one_line(capsys, code)
    assert not out.exists()


def test_a_header_with_terminal_escapes_is_shown_with_repr(tmp_path, capsys):
    """Case 16: the header is named with repr; no escape sequence reaches the terminal."""
    code, out = score(tmp_path, "r.csv", b"id,\x1b]0;pwned\x07\x1b[2J\x1b[31m\n1,great\n")
    err = one_line(capsys, code)  # checks that no ESC is in it
    assert r"column 2 is named '\x1b]0;pwned\x07\x1b[2J\x1b[31m', which holds control characters" in err
    assert not out.exists()


def test_a_missing_column_lists_the_columns_with_repr(tmp_path, capsys):
    code, _ = score(tmp_path, "r.csv", b"id,\"bo, dy\"\n1,fine\n")
    assert "has no column 'text' (columns: 'id', 'bo, dy')" in one_line(capsys, code)
    # a right-to-left override would reorder what the terminal shows: refused like an escape
    code, _ = score(tmp_path, "r.csv", b"id,body\xe2\x80\xae\n1,fine\n")
    assert r"column 2 is named 'body\u202e', which holds control characters" in one_line(capsys, code)


def test_a_path_with_escapes_is_escaped_in_the_message(tmp_path, capsys):
    code = main(["predict", "--model", "dense", "--input", str(tmp_path / "\x1b[2Jnone.csv")])
    assert r"\x1b[2Jnone.csv: no such file" in one_line(capsys, code)
    assert printable("a\x1b[31mb\nc\u2028") == r"a\x1b[31mb\nc\u2028"
    assert str(IMDbError("x\x07")) == r"x\x07"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_is_refused_before_it_is_read(capsys):
    """Case 15: /dev/zero never ends; it is refused by its type, not read until memory runs out."""
    code = main(["predict", "--model", "dense", "--input", "/dev/zero"])
    assert "--input /dev/zero is not a regular file (a device or socket)" in one_line(capsys, code)


def test_a_folder_is_refused(tmp_path, capsys):
    code = main(["predict", "--model", "dense", "--input", str(tmp_path)])
    assert "is a folder; give a .csv, .jsonl or text file" in one_line(capsys, code)


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path, capsys):
    """Case 15: a 1 GiB file (sparse: it takes no disk) is refused by its size, at once."""
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(2**30)
    code = main(["predict", "--model", "dense", "--input", str(big), "--output", str(tmp_path / "p.csv")])
    assert "is 1.0 GiB, larger than the 256 MiB one run reads: split it" in one_line(capsys, code)
    assert not (tmp_path / "p.csv").exists()


class Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


@pytest.mark.parametrize("argv", [["--input", "-"], []])
def test_stdin_over_the_size_cap_is_refused(monkeypatch, capsys, argv):
    monkeypatch.setattr(review_files, "MAX_INPUT_BYTES", 1000)
    monkeypatch.setattr(sys, "stdin", Stdin(b"great film\n" * 100))
    code = main(["predict", "--model", "dense", *argv])
    assert "stdin is larger than the 1,000 bytes one run reads: split it" in one_line(capsys, code)


def test_stdin_is_read_as_what_it_is(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", Stdin(gzip.compress(b"great\n")))
    assert "stdin is gzip-compressed, not text" in one_line(capsys, main(["predict", "--model", "dense"]))
    monkeypatch.setattr(sys, "stdin", Stdin("great film\rawful film\r".encode("utf-16")))
    assert main(["predict", "--model", "dense", "--input", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "'great film'" in lines[0] and "'awful film'" in lines[1]


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes")
def test_a_pipe_is_read_like_stdin(tmp_path, capsys):
    """A named pipe (as `--input <(cut -f2 reviews.tsv)` gives) is read, within the cap."""
    fifo = tmp_path / "reviews"
    os.mkfifo(fifo)
    writer = subprocess.Popen([sys.executable, "-c", f"open({str(fifo)!r}, 'w').write('great film\\nawful film\\n')"])
    try:
        assert main(["predict", "--model", "dense", "--input", str(fifo)]) == 0
    finally:
        writer.wait(timeout=30)
    assert len(capsys.readouterr().out.splitlines()) == 2


# --------------------------------------------------------------------------- case 14: project_config.yaml


BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
data_path: data/imdb.parquet
model: *i
sample_limit_per_split: null
"""
GOOD = "data_path: {data}\nmodel: dense\nsample_limit_per_split: null\n"

# leap_binder.py run as a user runs it, with project_file.PATH pointed at the test's own file
RUN_BINDER = """
import runpy, sys
from pathlib import Path
from IMDb.config import project_file
project_file.PATH = Path(sys.argv[1])
runpy.run_path(sys.argv[2], run_name="__main__")
"""


def run_binder(config: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("IMDB_DATA", "IMDB_MODEL", "IMDB_MODELS_DIR")}
    return subprocess.run([sys.executable, "-c", RUN_BINDER, str(config), str(REPO_ROOT / "leap_binder.py")],
                          env={**environment, **env}, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("content, words", [
    (BOMB.encode(), "uses a YAML anchor or alias at line 1: write each value out in full"),
    (GOOD.format(data="caf\xe9.parquet").encode("latin-1"), "is not UTF-8 text (byte 0xe9 at line 1): save it as UTF-8"),
    (b"model: dense\n" * 10_000, "is larger than 64 KiB"),
])
def test_a_hostile_project_config_is_one_line(tmp_path, content, words):
    path = tmp_path / "project_config.yaml"
    path.write_bytes(content)
    with pytest.raises(IMDbError) as error:
        project_file.load(path)
    assert words in str(error.value) and str(path) in str(error.value)


def test_values_in_config_errors_are_cut_short(tmp_path):
    path = tmp_path / "project_config.yaml"
    path.write_text(GOOD.format(data="x").replace("model: dense", "model: [" + ", ".join(["[1, 2, 3]"] * 500) + "]"))
    with pytest.raises(IMDbError) as error:
        project_file.load(path)
    assert "model must be a model name" in str(error.value) and len(str(error.value)) < 400


@pytest.mark.parametrize("kind", ["alias bomb", "not UTF-8", "bad data_path", "bad IMDB_DATA"])
def test_leap_binder_stops_with_one_line(tmp_path, kind):
    """Case 14 and the binder's tracebacks: each is one line and exit status 1, in seconds."""
    config, env = tmp_path / "project_config.yaml", {}
    if kind == "alias bomb":
        config.write_text(BOMB)
        words = "uses a YAML anchor or alias"
    elif kind == "not UTF-8":
        config.write_bytes(GOOD.format(data="caf\xe9.parquet").encode("latin-1"))
        words = "is not UTF-8 text"
    elif kind == "bad data_path":
        config.write_text(GOOD.format(data=tmp_path / "nowhere.parquet"))
        words = "nowhere.parquet' does not exist"
    else:
        config.write_text(GOOD.format(data="unused.parquet"))
        env["IMDB_DATA"] = str(tmp_path / "elsewhere.parquet")
        words = "elsewhere.parquet (from IMDB_DATA) does not exist"
    proc = run_binder(config, **env)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("leap_binder.py: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr
