"""The CAD reader refuses malformed files with one line; evaluation counts what it says."""
import numpy as np
import pandas as pd
import pytest

from IMDb.data import counterfactual as cf
from IMDb.errors import DataError

GOOD = ("Sentiment\tText\tbatch_id\n"
        "Negative\tA dull film.\t1\nPositive\tA lively film.\t1\n"
        "Positive\tGreat acting.\t2\nNegative\tPoor acting.\t2\n")


def write(tmp_path, text: str):
    path = tmp_path / "dev_paired.tsv"
    path.write_text(text)
    return path


def test_pairs_are_read_original_first(tmp_path):
    pairs = cf.read_pairs(write(tmp_path, GOOD))
    assert pairs["original"].tolist() == ["A dull film.", "Great acting."]
    assert pairs["revised"].tolist() == ["A lively film.", "Poor acting."]
    assert pairs["original_label"].tolist() == [0, 1] and pairs["revised_label"].tolist() == [1, 0]


@pytest.mark.parametrize("text, words", [
    (GOOD.replace("Sentiment", "Label"), "missing column 'Sentiment'"),
    (GOOD.replace("Negative\tA dull", "Neutral\tA dull"), "row 2: sentiment 'Neutral'"),
    (GOOD.replace("Positive\tA lively film.\t1\n", ""), "batch_id 1 has 1 rows"),
    (GOOD.replace("Positive\tA lively", "Negative\tA lively"), "batch_id 1 have the same sentiment"),
    (GOOD.replace("A lively film.", " "), "row 3: empty review text"),
])
def test_a_malformed_file_is_refused_with_one_line(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as error:
        cf.read_pairs(path)
    assert words in str(error.value) and str(path) in str(error.value) and "\n" not in str(error.value)


def test_a_missing_file_or_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("IMDB_CAD", raising=False)
    with pytest.raises(DataError, match="pass --cad FOLDER or set IMDB_CAD"):
        cf.cad_file("dev_paired.tsv")
    with pytest.raises(DataError, match="dev_paired.tsv not found"):
        cf.cad_file("dev_paired.tsv", tmp_path)


def test_evaluation_on_a_model_that_reads_only_the_first_word():
    pairs = pd.DataFrame({"original": ["good a", "bad b"], "revised": ["good c", "good d"],
                          "original_label": [1, 0], "revised_label": [0, 1]})

    def predict(texts):
        p = np.array([0.8 if t.startswith("good") else 0.2 for t in texts])
        return np.stack([1 - p, p], axis=1)

    result = cf.evaluate_pairs(predict, pairs)
    assert result["accuracy_original"] == 1.0 and result["accuracy_revised"] == 0.5
    assert result["both_right"] == 0.5 and result["mean_p_change_toward_revision"] == pytest.approx(0.3)


def test_training_rows_keep_held_out_reviews_out(tmp_path):
    path = write(tmp_path, GOOD)
    training = pd.DataFrame({"text": ["A dull film."], "label": [0]})
    pairs, selection = cf.usable_pairs(cf.read_pairs(path), held_out={"Poor acting."})
    rows = cf.training_rows(pairs, training)
    assert rows["text"].tolist() == ["A lively film."]  # pair 2 dropped; pair 1's original is known
    assert rows.attrs == {"pairs": 1, "new_originals": 0} and pairs.attrs == {"dropped_pairs": 1}
    assert selection.empty


def test_pairs_kept_aside_to_choose_a_checkpoint_are_whole_and_seeded(tmp_path):
    lines = ["Sentiment\tText\tbatch_id"]
    for i in range(200):
        lines += [f"Negative\tDull {i}.\t{i}", f"Positive\tLively {i}.\t{i}"]
    pairs = cf.read_pairs(write(tmp_path, "\n".join(lines) + "\n"))
    train, selection = cf.usable_pairs(pairs, held_out={"Dull 0."}, holdout=0.2, seed=7)
    assert 20 <= len(selection) <= 60 and len(train) + len(selection) == 199
    assert not set(train["batch_id"]) & set(selection["batch_id"])
    assert "Dull 0." not in set(selection["original"]) | set(train["original"])
    again, same = cf.usable_pairs(pairs, held_out={"Dull 0."}, holdout=0.2, seed=7)
    assert same["batch_id"].tolist() == selection["batch_id"].tolist()
