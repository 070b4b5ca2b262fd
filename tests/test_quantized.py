"""The int8 BERT (models/bert-int8, written by `imdb-leap quantize`): loads like any shipped
model, stays small, and its card's measured test accuracy is within half a point of fp32 BERT's."""
import numpy as np
import pytest

from IMDb.bundle import read_card
from IMDb.card import check_card
from IMDb.config.run import MODELS_DIR
from IMDb.predict import Predictor
from IMDb.text.wordpiece import WordPieceTokenizer

NAME = "bert-int8"
FOLDER = MODELS_DIR / NAME
MAX_BYTES = 25_000_000
MAX_ACCURACY_DROP = 0.005
MAX_LOGIT_DIFF = 0.5  # int8 vs fp32 logits on clear reviews: 0.19 at most when written
CLEAR = [
    ("A wonderful, moving film. The acting is superb and I loved every minute of it.", 1),
    ("One of the best movies I have seen in years: brilliant script, beautiful music.", 1),
    ("A delightful surprise, funny and warm. Highly recommended!", 1),
    ("Dull, boring and a complete waste of time. The worst film I have ever sat through.", 0),
    ("Terrible acting, an awful plot and clumsy direction. Avoid it.", 0),
    ("I hated it. Two hours of my life I will never get back.", 0),
]

pytestmark = pytest.mark.skipif(not (FOLDER / "card.json").is_file(),
                                reason=f"{FOLDER} is absent: build it with imdb-leap quantize")


@pytest.fixture(scope="module")
def int8() -> Predictor:
    return Predictor.load(NAME)


def test_file_is_at_most_25_mb():
    size = (FOLDER / "model.onnx").stat().st_size
    assert size <= MAX_BYTES, f"model.onnx is {size:,} bytes"
    assert read_card(NAME)["quantization"]["int8_bytes"] == size  # the card describes this file


def test_card_passes_the_schema_and_names_its_family():
    card = read_card(NAME)  # read_card runs check_card
    check_card(card, FOLDER / "card.json")
    assert card["model"] == NAME and card["family"] == "bert" and card["quantized_from"] == "bert"
    assert "calibration" not in card and "onnx_max_abs_diff" not in card  # fp32 measurements left out
    assert card["tokenizer_fingerprint"] == read_card("bert")["tokenizer_fingerprint"]


def test_card_test_accuracy_is_within_half_a_point_of_fp32():
    test, fp32 = read_card(NAME)["figures"]["test"], read_card("bert")["figures"]["test"]
    assert test["samples"] == fp32["samples"] == 25_000
    assert abs(test["accuracy"] - fp32["accuracy"]) <= MAX_ACCURACY_DROP


def test_loads_with_the_wordpiece_tokenizer_and_an_int8_graph(int8):
    import onnx

    assert isinstance(int8.tokenizer, WordPieceTokenizer)
    assert list(int8.bundle.input_names) == ["input_ids", "attention_mask", "token_type_ids"]
    assert [i.name for i in int8.session.get_inputs()] == ["input_ids", "attention_mask", "token_type_ids"]
    assert int8.temperature is None  # the fp32 calibration is not carried over
    graph = onnx.load(str(FOLDER / "model.onnx")).graph
    ops = {node.op_type for node in graph.node}
    assert {"MatMulInteger", "DynamicQuantizeLinear"} <= ops and [o.name for o in graph.output] == ["logits"]


def test_agrees_with_fp32_on_clear_reviews(int8):
    fp32 = Predictor.load("bert")
    texts = [text for text, _ in CLEAR]
    labels = np.array([label for _, label in CLEAR])
    ours, theirs = int8.predict_logits(int8.encode(texts)), fp32.predict_logits(fp32.encode(texts))
    assert (ours.argmax(1) == labels).all() and (theirs.argmax(1) == labels).all()
    assert np.abs(ours - theirs).max() < MAX_LOGIT_DIFF
