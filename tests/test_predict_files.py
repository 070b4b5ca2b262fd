"""`imdb-leap predict --input/--output`: files of reviews in (CSV, JSON Lines, lines, stdin), files
of predictions out, never over a user's file unasked, one clear line on bad input."""
import io
import json
import sys

import pandas as pd
import pytest

from IMDb.cli.imdb_leap import main
from IMDb.cli.review_files import read_reviews

REVIEWS = ["A wonderful, moving film.", "Dull and far too long.", "", "!!!", "caf\u00e9 <br /> great"]


class Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def test_csv_in_csv_out_one_row_per_review(tmp_path, capsys):
    src = tmp_path / "reviews.csv"
    pd.DataFrame({"id": range(len(REVIEWS)), "review": REVIEWS}).to_csv(src, index=False)
    out = tmp_path / "preds.csv"
    assert main(["predict", "--model", "dense,cnn", "--input", str(src), "--text-column", "review",
                 "--output", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    preds = pd.read_csv(out, keep_default_na=False)
    assert list(preds.columns) == ["row", "text", "no_words", "dense_p_positive", "dense_label",
                                   "cnn_p_positive", "cnn_label"]
    assert preds["text"].tolist() == REVIEWS and preds["row"].tolist() == [1, 2, 3, 4, 5]
    assert preds["no_words"].tolist() == [False, False, True, True, False]
    assert preds.loc[0, "cnn_label"] == "positive" and preds.loc[1, "cnn_label"] == "negative"
    assert preds["dense_p_positive"].between(0, 1).all()
    assert not list(tmp_path.glob(".preds.csv.*"))  # the temp file was renamed, nothing left over


def test_an_existing_output_is_refused_unless_overwrite(tmp_path, capsys):
    src, out = tmp_path / "r.txt", tmp_path / "mine.jsonl"
    src.write_text("good\nbad\n", encoding="utf-8")
    out.write_text("my own notes\n", encoding="utf-8")
    assert main(["predict", "--model", "dense", "--input", str(src), "--output", str(out)]) == 2
    assert "not an output of this command" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "my own notes\n"
    assert main(["predict", "--model", "dense", "--input", str(src), "--output", str(out), "--overwrite"]) == 2
    assert "not an output of this command" in capsys.readouterr().err  # a user's file: never replaced
    assert out.read_text(encoding="utf-8") == "my own notes\n"
    out.unlink()
    assert main(["predict", "--model", "dense", "--input", str(src), "--output", str(out)]) == 0
    src.write_text("great\n", encoding="utf-8")
    assert main(["predict", "--model", "dense", "--input", str(src), "--output", str(out), "--overwrite"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == ["great"] and set(rows[0]) >= {"dense_p_positive", "dense_label"}


def test_stdin_lines_give_one_prediction_each(monkeypatch, capsys):
    lines = [f"review number {i}, {'great' if i % 2 else 'awful'}" for i in range(600)] + [""]
    monkeypatch.setattr(sys, "stdin", Stdin(("\n".join(lines) + "\n").encode() + b"\xff bytes\n"))
    assert main(["predict", "--model", "dense", "--input", "-", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(lines) + 1
    assert out[600].endswith("(no words: the label means nothing)") and "\ufffd bytes" in out[601]


def test_jsonl_and_bad_input_are_one_clear_line(tmp_path, capsys):
    good = tmp_path / "r.jsonl"
    good.write_text('{"text": "fine"}\n\n{"text": "awful"}\n', encoding="utf-8")
    assert read_reviews(str(good)) == ["fine", "awful"]
    cases = {
        "r.jsonl": ('{"text": "fine"}\n{"text": 3}\n', "line 2: 'text' is int, not text"),
        "s.jsonl": ('{"text": "fine"}\nnot json\n', "line 2: not valid JSON"),
        "t.csv": ("id,body\n1,fine\n", "has no column 'text' (columns: 'id', 'body')"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
        assert main(["predict", "--model", "dense", "--input", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("imdb-leap: error:") and message in err and err.count("\n") == 1
    for argv, message in ((["--input", str(tmp_path / "none.csv")], "no such file"),
                          (["--input", str(good), "--output", str(tmp_path / "p.parquet")], "write .csv or .jsonl"),
                          (["--input", str(good), "extra"], "not both"),
                          (["--text-column", "x", "a review"], "--text-column names")):
        assert main(["predict", "--model", "dense", *argv]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("text", ["one review\r\nsecond\r\n", "one review\nsecond"])
def test_line_endings(tmp_path, text):
    path = tmp_path / "r.txt"
    path.write_bytes(text.encode())
    assert read_reviews(str(path)) == ["one review", "second"]
