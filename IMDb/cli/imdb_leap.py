"""`imdb-leap`: train the models, predict with the shipped ones, analyse and compare them, test their
behaviour and calibrate them."""
from __future__ import annotations

import argparse
import sys

from IMDb import console
from IMDb.cli import commands, extras, library_noise
from IMDb.cli.options import (Parser, add_setting_options, command, config_options, data_option, model_list,
                              models_option, number, option_fields, output_options)
from IMDb.config import environment
from IMDb.explore.command import register as register_explore
from IMDb.config.fields import Range
from IMDb.errors import FULL_DISK, IMDbError


def parser() -> argparse.ArgumentParser:
    """The whole command line: one subcommand per command, each with its options (below) and the
    shared grammar (`IMDb.cli.options`)."""
    p = Parser(prog="imdb-leap", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    _train_command(sub)
    _predict_command(sub)
    _analyze_command(sub)
    _compare_command(sub)
    _robustness_command(sub)
    _calibrate_command(sub)
    _quantize_command(sub)
    _push_command(sub)
    register_explore(sub)  # the explorer's options live with it
    return p


def _train_command(sub) -> None:
    t = command(sub, "train", "train a model on IMDb and export it to models/<model>/", commands.train,
                examples="  imdb-leap train --model dense\n"
                         "  imdb-leap train --model cnn --epochs 3 --train-limit 2000 --models-dir /tmp/m\n"
                         "  IMDB_BERT=../shared/models/all-MiniLM-L6-v2 imdb-leap train --model bert",
                tensorflow=True)
    models_option(t, "the model to train; the bundle goes to <models-dir>/<model>/", required=False)
    add_setting_options(t, config_options())
    t.add_argument("--overwrite", action="store_true",
                   help="replace an earlier bundle of this model in --models-dir (never a folder holding a "
                        "file imdb-leap did not write); needed for anything in the repository's models/")
    t.add_argument("--restart", action="store_true",
                   help="discard a resumable run's checkpoint (BERT: runs/bert/<key>/checkpoint) instead of "
                        "resuming from it")


def _predict_command(sub) -> None:
    r = command(sub, "predict", "classify reviews with the shipped models (offline, no TensorFlow)", commands.predict,
                examples='  imdb-leap predict "Mildly entertaining, not brilliant."\n'
                         "  imdb-leap predict --model cnn --input reviews.csv --text-column text --output preds.csv\n"
                         "  cut -f2 reviews.tsv | imdb-leap predict --input - --output preds.jsonl")
    r.add_argument("text", nargs="*", help="review text(s); without them and --input, stdin is one review")
    models_option(r, "the models to use (default: every shipped one)", required=False)
    r.add_argument("--input", metavar="FILE",
                   help="reviews to score: .csv, .jsonl, or a text file with one review per line ('-': stdin)")
    r.add_argument("--text-column", dest="text_column",
                   help="the review column of a .csv or .jsonl --input (default: text)")
    output_options(r, "lines on stdout; a .csv or .jsonl file: one row per review")


def _analyze_command(sub) -> None:
    from IMDb.analysis.settings import AnalyzeSettings

    a = command(sub, "analyze", "analyse a model on one state: dashboard.html, PNGs, parquet, JSON summary, "
                                "label_errors.csv, Embedding Projector export", commands.analyze,
                examples="  imdb-leap analyze --model cnn\n"
                         "  imdb-leap analyze --model cnn --state test --label-error-models cnn,bert\n"
                         "  imdb-leap analyze --model bert --state test --limit 2000 --out /tmp/bert --overwrite",
                tensorflow=True)
    models_option(a, "a shipped model")
    output_options(a, "reports/<model>-<state>")
    add_setting_options(a, option_fields(AnalyzeSettings))


def _compare_command(sub) -> None:
    from IMDb.analysis.settings import CompareSettings

    c = command(sub, "compare", "compare two models on the same reviews of one state", commands.compare,
                examples="  imdb-leap compare --model dense,cnn\n"
                         "  imdb-leap compare --model dense,bert --limit 2000 --robustness",
                tensorflow=True)
    models_option(c, "the two models, first,second")
    output_options(c, "reports/compare-<a>-<b>-<state>")
    add_setting_options(c, option_fields(CompareSettings))


def _robustness_command(sub) -> None:
    from IMDb.robustness.settings import RobustnessSettings

    b = command(sub, "robustness", "behavioural tests, counterfactual pairs and calibration of shipped "
                                   "models: robustness.json and dashboard.html", commands.robustness,
                examples="  imdb-leap robustness --model dense,cnn\n"
                         "  imdb-leap robustness --model bert --out /tmp/rb --overwrite")
    models_option(b, "shipped models")
    output_options(b, "reports/robustness-<models>")
    add_setting_options(b, option_fields(RobustnessSettings))


def _calibrate_command(sub) -> None:
    k = command(sub, "calibrate", "fit a temperature on the validation state, measure ECE on the test "
                                  "split, record both in the model's card.json", commands.calibrate,
                examples="  imdb-leap calibrate --model dense,cnn")
    models_option(k, "shipped models")
    data_option(k)
    k.add_argument("--overwrite", action="store_true",
                   help="needed to rewrite the card of a model in the repository's models/")


def _quantize_command(sub) -> None:
    q = command(sub, "quantize", "make the int8 model (bert-int8) from its trained source (bert): ONNX Runtime's "
                                 "dynamic quantization, timed and evaluated against the source", commands.quantize,
                examples="  imdb-leap quantize --models-dir runs/models\n"
                         "  imdb-leap quantize --limit 200 --models-dir /tmp/m --source-dir models/bert\n"
                         "  imdb-leap quantize --no-evaluate --overwrite")
    models_option(q, "the model to make (default: bert-int8); the bundle goes to <models-dir>/<model>/",
                  required=False)
    q.set_defaults(model=["bert-int8"])
    q.add_argument("--source-dir", dest="source_dir", metavar="FOLDER",
                   help="the trained float32 bundle (default: <models-dir>/bert)")
    data_option(q)
    q.add_argument("--limit", type=number("int", Range(1)),
                   help="evaluate on a seeded, label-stratified sample of N test reviews instead of all 25,000")
    q.add_argument("--no-evaluate", dest="evaluate", action="store_false",
                   help="quantize and write only: no timing, no accuracy, no dataset read (the figures of a "
                        "byte-identical model.onnx being replaced are kept)")
    q.add_argument("--overwrite", action="store_true",
                   help="replace an earlier bundle of this model in --models-dir (never a folder holding a "
                        "file imdb-leap did not write)")


def _push_command(sub) -> None:
    u = command(sub, "push", "check project_config.yaml and the bundle as the platform runs it, then run "
                             "Tensorleap's `leap push` for one model", commands.push,
                examples="  imdb-leap push --model cnn --dry-run\n"
                         "  imdb-leap push --model dense --name dense-v1 --batch 64")
    u.add_argument("--model", type=model_list, required=True, metavar="MODEL",
                   help="the model to push: project_config.yaml must name it (dense, cnn or bert)")
    u.add_argument("--name", help="the model version's name on the platform (default: the model's)")
    u.add_argument("--batch", type=int, default=32, help="the evaluation's batch size (default: 32)")
    u.add_argument("--dry-run", dest="dry_run", action="store_true",
                   help="print the leap command and exit: no leap, network or dataset needed")


def main(argv: list[str] | None = None) -> int:
    """Run one command; every way it can end is handled here, once for all commands: an
    `IMDbError` (bad input, a full disk naming the path) is one line and status 2, Ctrl-C or SIGTERM
    "interrupted" and 130 (its temp files removed on the way out), a reader of stdout that went
    away (``| head``) a quiet 141, a closed or full stdout one line (see `IMDb.console`), a library
    of an extra the install lacks one line naming the extra to install (`IMDb.cli.extras`)."""
    args = None
    with console.standard_streams(), console.signals():
        try:
            console.require_stdout()
            args = parser().parse_args(argv)
            environment.raw_csv()  # a bad IMDB_RAW_CSV is refused before any work, not when a CSV is written
            library_noise.quiet(args.verbose)  # before anything imports TensorFlow
            with console.line_progress():
                if args.tensorflow:
                    library_noise.import_tensorflow(args.verbose)
                code = args.func(args)
            console.finish()
            return code
        except console.PipeClosed:
            return console.PIPE_CLOSED
        except KeyboardInterrupt:
            message, code = INTERRUPTED, console.INTERRUPTED
        except IMDbError as e:
            message, code = f"imdb-leap: error: {e}", 2
        except OSError as e:
            if e.errno not in FULL_DISK and not console.interrupted():
                raise
            where = f" writing {e.filename}" if e.filename else ""
            message, code = f"imdb-leap: error: {e.strerror or e}{where}; free some space and run it again", 2
        except ModuleNotFoundError as e:  # a library of an extra the install lacks: `IMDb.cli.extras`
            message, code = extras.missing_extra(e, getattr(args, "command", None)), 2
            if message is None and not console.interrupted():  # not an extra's: a bug, with its traceback
                raise
        except Exception:
            if not console.interrupted():
                raise
            message, code = INTERRUPTED, console.INTERRUPTED
        if console.interrupted():  # whatever a library turned the Ctrl-C into (matplotlib: "Invalid bounding box")
            message, code = INTERRUPTED, console.INTERRUPTED
        # printed here, after the except block has let go of the traceback: a progress bar that its
        # frames held has closed and drawn its last state, so this line is the last one
        console.error(message)
        return code


INTERRUPTED = "imdb-leap: interrupted"


if __name__ == "__main__":
    sys.exit(main())
