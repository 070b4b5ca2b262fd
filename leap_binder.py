"""Tensorleap integration of the IMDb sentiment models (code-loader 1.0.214 decorators).

Every registration lives here, and only registrations; the logic is in IMDb/ (integration, metadata,
losses, visualizers). leap.yaml's entry file is leap_integration.py, which imports this module.
The model is ``model`` in project_config.yaml (IMDB_MODEL overrides it locally); the input encoders
registered below are the inputs of the chosen model's tokenizer, so other models need no second binder. The model
outputs logits: the loss, metrics and the prediction visualizer take their softmax themselves.
Do not add ``from __future__ import annotations``: code-loader reads the annotations as classes.
"""
import sys
from typing import List

import numpy as np
from code_loader.contract.datasetclasses import PredictionTypeHandler, PreprocessResponse, SamplePreprocessResponse
from code_loader.contract.enums import LeapDataType, MetricDirection
from code_loader.contract.visualizer_classes import LeapHorizontalBar, LeapText, LeapTextMask
from code_loader.inner_leap_binder.leapbinder_decorators import (
    tensorleap_custom_loss, tensorleap_custom_metric, tensorleap_custom_visualizer, tensorleap_gt_encoder,
    tensorleap_input_encoder, tensorleap_integration_test, tensorleap_load_model, tensorleap_metadata,
    tensorleap_preprocess, tensorleap_unlabeled_preprocess)

from IMDb.architectures import OUTPUT_NAME
from IMDb.config.run import LABELS
from IMDb.errors import IMDbError
from IMDb.measures import losses, metadata
from IMDb.tensorleap import integration, visualizers

try:
    MODEL = integration.selected_model()  # the bundle: card, tokenizer (IMDb.bundle.Bundle)
except IMDbError as error:  # misconfigured: the message names the file or the valid choices
    if __name__ == "__main__":
        sys.exit(f"leap_binder.py: {error}")
    raise


# ----------------------------------------------------------------------------------- data


@tensorleap_preprocess()
def preprocess() -> List[PreprocessResponse]:
    return [integration.preprocess_response(state) for state in integration.LABELED_STATES]


@tensorleap_unlabeled_preprocess()
def preprocess_unlabeled() -> PreprocessResponse:
    return integration.preprocess_response("unlabeled")


def _input_encoder(name: str):
    def encoder(idx: str, preprocess: PreprocessResponse) -> np.ndarray:
        return TOKENIZER.encode([integration.review(idx, preprocess).text])[name][0]

    encoder.__name__ = encoder.__qualname__ = f"{name}_encoder"
    return tensorleap_input_encoder(name, channel_dim=-1)(encoder)


TOKENIZER = MODEL.tokenizer
INPUT_ENCODERS = {name: _input_encoder(name) for name in MODEL.input_names}
TEXT_INPUT = MODEL.input_names[0]  # the input whose positions the text visualizers follow


@tensorleap_gt_encoder("sentiment")
def sentiment_gt(idx: str, preprocess: PreprocessResponse) -> np.ndarray:
    return integration.one_hot(integration.review(idx, preprocess).label)


# ----------------------------------------------------------------------------------- model


@tensorleap_load_model([PredictionTypeHandler(OUTPUT_NAME, list(LABELS), channel_dim=-1)])
def load_model():
    return MODEL.session()  # imports onnxruntime only here: the platform never runs this body


# ----------------------------------------------------------------------------------- loss and metrics


@tensorleap_custom_loss("cross_entropy")
def cross_entropy(ground_truth: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    return losses.categorical_crossentropy(ground_truth, prediction)


@tensorleap_custom_metric("accuracy", direction=MetricDirection.Upward)
def accuracy(ground_truth: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    return losses.accuracy(ground_truth, prediction)


@tensorleap_custom_metric("errors", direction={"false_positive": MetricDirection.Downward,
                                                "false_negative": MetricDirection.Downward})
def errors(ground_truth: np.ndarray, prediction: np.ndarray):
    return losses.errors(ground_truth, prediction)


@tensorleap_custom_metric("confusion_matrix", direction=MetricDirection.Upward, compute_insights=False)
def confusion_matrix(ground_truth: np.ndarray, prediction: np.ndarray):
    return losses.confusion_matrix(ground_truth, prediction)


# ----------------------------------------------------------------------------------- metadata


def _metadata(name: str, compute):
    def function(idx: str, preprocess: PreprocessResponse):
        return compute(integration.review(idx, preprocess))

    function.__name__ = function.__qualname__ = f"{name}_metadata"
    return tensorleap_metadata(name, metadata.TYPES[name])(function)


METADATA = {
    "label": _metadata("label", lambda r: metadata.label(r.label)),
    "rating": _metadata("rating", lambda r: metadata.rating(r.rating)),
    "length": _metadata("length", lambda r: metadata.length(r.text)),
    "tokens": _metadata("tokens", lambda r: metadata.tokens(r.text, TOKENIZER)),
    "oov": _metadata("oov", lambda r: metadata.oov(r.text, TOKENIZER)),
    "textblob": _metadata("textblob", lambda r: metadata.textblob(r.text)),
    "html_residue": _metadata("html_residue", lambda r: metadata.html_residue(r.text)),
    "punctuation": _metadata("punctuation", lambda r: metadata.punctuation(r.text)),
    "negations": _metadata("negations", lambda r: metadata.negations(r.text)),
    "phenomena": _metadata("phenomena", lambda r: metadata.phenomena(r.text)),
}


# ----------------------------------------------------------------------------------- visualizers


@tensorleap_custom_visualizer("review", LeapDataType.Text)
def review_visualizer(tokens: np.ndarray, sample: SamplePreprocessResponse) -> LeapText:
    return visualizers.review(TOKENIZER.positions(integration.sample_review(sample).text), tokens)


@tensorleap_custom_visualizer("lexicon", LeapDataType.Text)
def lexicon_visualizer(sample: SamplePreprocessResponse) -> LeapText:
    return visualizers.lexicon(TOKENIZER.positions(integration.sample_review(sample).text))


@tensorleap_custom_visualizer("oov_tokens", LeapDataType.TextMask)
def oov_visualizer(tokens: np.ndarray, sample: SamplePreprocessResponse) -> LeapTextMask:
    text = integration.sample_review(sample).text
    return visualizers.oov_tokens(TOKENIZER.positions(text), TOKENIZER.oov_positions(text), tokens)


@tensorleap_custom_visualizer("cleaned_text", LeapDataType.Text)
def cleaned_text_visualizer(sample: SamplePreprocessResponse) -> LeapText:
    return visualizers.cleaned_text(integration.sample_review(sample).text)


@tensorleap_custom_visualizer("prediction", LeapDataType.HorizontalBar)
def prediction_visualizer(prediction: np.ndarray, ground_truth: np.ndarray) -> LeapHorizontalBar:
    return visualizers.prediction(prediction, ground_truth, MODEL.temperature)


@tensorleap_custom_visualizer("prediction_only", LeapDataType.HorizontalBar)
def prediction_only_visualizer(prediction: np.ndarray) -> LeapHorizontalBar:
    """The model's output alone: drawn for every review, the 50,000 unlabeled ones included, which
    get no `prediction` bar because that visualizer also takes the ground truth."""
    return visualizers.prediction(prediction, None, MODEL.temperature)


# ----------------------------------------------------------------------------------- integration test


@tensorleap_integration_test()
def integration_test(idx, preprocess):
    inputs = {name: encoder(idx, preprocess) for name, encoder in INPUT_ENCODERS.items()}
    ground_truth = sentiment_gt(idx, preprocess)
    prediction = load_model().run(None, inputs)[0]

    cross_entropy(ground_truth, prediction)
    accuracy(ground_truth, prediction)
    errors(ground_truth, prediction)
    confusion_matrix(ground_truth, prediction)

    sample = SamplePreprocessResponse(idx, preprocess)
    review_visualizer(inputs[TEXT_INPUT], sample)
    lexicon_visualizer(sample)
    oov_visualizer(inputs[TEXT_INPUT], sample)
    cleaned_text_visualizer(sample)
    prediction_visualizer(prediction, ground_truth)
    prediction_only_visualizer(prediction)

    for function in METADATA.values():
        function(idx, preprocess)


if __name__ == "__main__":
    try:
        responses = preprocess() + [preprocess_unlabeled()]
        for response in responses:
            integration_test(response.sample_ids[0], response)
    except IMDbError as error:  # a bad dataset path or file: the message names it, no traceback
        sys.exit(f"leap_binder.py: {error}")
