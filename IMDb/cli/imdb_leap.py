"""`imdb-leap`: train the models, predict with the shipped ones, analyse, compare and explore them,
test their behaviour and calibrate them."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from IMDb import console
from IMDb.config import environment
from IMDb.config.run import FIELDS, MODELS_DIR, Range, describe, kinds, problem
from IMDb.errors import FULL_DISK, DataError, IMDbError, OutputError, UsageError


# Train options made from the `Config` fields that name one (`IMDb.config.run.setting`'s ``option``),
# with the field's type, range, choices and help (`_config_options`): a value of the wrong type or
# out of the field's range is refused as the command line is read. The other train options (--model,
# --models-dir as Config.out_dir, --restart, --overwrite, --quiet, --verbose) are read by `_train`.
CONFIG_OPTIONS = tuple(name for name, f in FIELDS.items() if "option" in f.metadata)


def _train(args: argparse.Namespace) -> int:
    from IMDb import bundle, families, toolkits
    from IMDb.output.atomic import check_out_dir

    if not args.model:
        raise IMDbError(f"name the model to train: --model {'|'.join(families.names(trainable=True))}")
    name = _one_model(args)
    family = families.get(name)
    if not family.trainable:
        raise IMDbError(f"{name} is not trained: it is made from the trained {family.source} by {family.made_by}")
    overrides = {k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k) is not None}
    cfg = family.config(out_dir=args.models_dir, **overrides)
    if not args.overwrite and Path(cfg.out_dir).resolve() == MODELS_DIR.resolve():
        raise OutputError(f"{cfg.model_dir}: the repository's models/ holds the shipped models; train into "
                          f"another folder with --models-dir (the quick start uses runs/models), or pass "
                          f"--overwrite to write models/{name}")
    # refused before hours of training, not after; the bundle's swap re-checks with the same --overwrite
    check_out_dir(cfg.model_dir, bundle.MARKER, replace=args.overwrite, flag="--overwrite")
    toolkits.train(cfg, restart=args.restart)
    return 0


def _predict(args: argparse.Namespace) -> int:
    import time

    from IMDb.cli import review_files
    from IMDb import bundle
    from IMDb.predict import Predictor
    from IMDb.text.word_tokenizer import has_words

    if args.input is not None and args.text:
        raise IMDbError("give reviews as arguments or with --input, not both")
    if args.text_column is not None and (args.input is None or review_files.input_format(args.input) == "lines"):
        raise IMDbError("--text-column names the review column of a --input .csv or .jsonl file")
    out = review_files.check_output(args.out, args.overwrite, args.input) if args.out else None
    names = args.model or bundle.names(args.models_dir)
    if not names:
        raise IMDbError(f"no shipped models found in {args.models_dir}: train one with "
                        f"`imdb-leap train --model dense`")
    if args.input is not None:
        texts = review_files.read_reviews(args.input, args.text_column or "text")
        if not texts:
            raise DataError(f"--input {args.input} holds no reviews: nothing to score")
    else:  # undecodable bytes (stdin, or argv through surrogateescape) become U+FFFD
        texts = [t.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                 for t in args.text] or [review_files.read_text(review_files.STDIN)]
    progress = not args.quiet and len(texts) > 256
    probabilities = {}
    for name in names:
        predictor = Predictor.load(name, args.models_dir)
        started = time.perf_counter()
        probabilities[name] = review_files.score(texts, predictor.predict, desc=name, progress=progress)
        seconds = time.perf_counter() - started
        if progress:
            print(f"predict: {name}: {len(texts):,} reviews in {seconds:.1f} s "
                  f"({len(texts) / seconds:,.0f} reviews/s)", file=sys.stderr, flush=True)
    if out is not None:
        review_files.write_predictions(review_files.predictions_frame(texts, probabilities), out, args.overwrite)
        print(out)
        return 0
    width = max(map(len, probabilities))
    for name, probs in probabilities.items():
        for text, p in zip(texts, probs):
            snippet = text if len(text) <= 60 else text[:57] + "..."
            flag = "" if has_words(text) else "  (no words: the label means nothing)"
            print(f"{name:>{width}}: {Predictor.label(p):<8} p(positive)={p[1]:.3f}  {snippet!r}{flag}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from IMDb.analysis.run import default_out_dir, run_analysis

    name = _one_model(args)
    out = run_analysis(name, args.state, args.out or default_out_dir(name, args.state),
                       projection=args.projection, clusters=args.clusters, k=args.k, limit=args.limit,
                       n_samples=args.samples, data=args.data, models_dir=args.models_dir,
                       progress=not args.quiet, overwrite=args.overwrite,
                       label_error_models=args.label_error_models, label_decisions=args.label_decisions)
    print(out / "dashboard.html")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from IMDb.analysis.run import run_compare

    if len(args.model) != 2:
        raise IMDbError(f"compare takes two models, as --model dense,cnn; got {','.join(args.model)}")
    out = run_compare(*args.model, args.state, args.out, limit=args.limit, data=args.data,
                      models_dir=args.models_dir, progress=not args.quiet, overwrite=args.overwrite,
                      robustness=args.robustness, cad=args.cad)
    print(out / "dashboard.html")
    return 0


def _robustness(args: argparse.Namespace) -> int:
    from IMDb.robustness.run import run_robustness

    out = run_robustness(args.model, args.out, cad=args.cad, models_dir=args.models_dir,
                         seed=args.seed, overwrite=args.overwrite, progress=not args.quiet)
    print(out / "dashboard.html")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from IMDb.robustness.run import calibrate

    for name in args.model:
        c = calibrate(name, models_dir=args.models_dir, data=args.data, progress=not args.quiet)
        print(f"{name}: temperature {c['temperature']}; ECE on the test split {c['ece_before']} -> "
              f"{c['ece_after']} (written to its card.json)")
    return 0


def _push(args: argparse.Namespace) -> int:
    from IMDb.cli import push

    return push.run(_one_model(args), args.name, args.batch, args.dry_run)


# --------------------------------------------------------------------------- the grammar
# Every command names models with --model (one, or several joined by commas), writes to --out (alias
# --output), replaces an earlier output only with --overwrite, reads bundles from --models-dir and
# data from --data, and takes --quiet and --verbose. Choices come from the modules that own them.


def model_list(value: str) -> list[str]:
    """argparse type of --model: 'dense' or 'dense,cnn' -> names, each a model of the registry
    (`IMDb.families`)."""
    from IMDb import families

    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in families.names()]
    if not names or unknown or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{value!r}: name models from {', '.join(families.names())}, "
                                         f"one or several joined by commas, each once")
    return names


def number(annotation: str, rule: Range | None = None):
    """argparse type of a numeric option: the text read as `annotation`'s number (``int``,
    ``float``), refused unless finite and within `rule` (`IMDb.config.run.problem`)."""
    annotation = " | ".join(sorted(kinds(annotation) - {"None"}))

    def convert(text: str) -> int | float:
        try:
            value = int(text) if "int" in kinds(annotation) else float(text)
        except ValueError:
            value = None
        if value is None or problem(value, annotation, rule):
            raise argparse.ArgumentTypeError(f"must be {describe(annotation, rule)}, got {text!r}")
        return value

    convert.__name__ = annotation  # argparse names the type in some messages
    return convert


def _config_options(p: argparse.ArgumentParser) -> None:
    """One option of `p` per `Config` field that names one: a flag for a bool, the field's choices,
    a number of its type and range (`number`) with the rule in its help, else a string."""
    for name in CONFIG_OPTIONS:
        f = FIELDS[name]
        option, help_ = f.metadata["option"], f.metadata["help"]
        if "bool" in kinds(f.type):
            p.add_argument(option, dest=name, action="store_true", default=None, help=help_)
        elif kinds(f.type) & {"int", "float"}:
            rule = f.metadata.get("range")
            what = describe(" | ".join(sorted(kinds(f.type) - {"None"})), rule)
            p.add_argument(option, dest=name, type=number(f.type, rule),
                           help=f"{help_}: {what}" if help_ else what)
        else:
            p.add_argument(option, dest=name, choices=f.metadata.get("choices"), help=help_)


def _one_model(args: argparse.Namespace) -> str:
    if len(args.model) != 1:
        raise IMDbError(f"{args.command} takes one model, got {','.join(args.model)}")
    return args.model[0]


def _command(sub, name: str, help_: str, func, *, examples: str, tensorflow: bool = False
             ) -> argparse.ArgumentParser:
    """A subcommand with its --help examples and the options every command shares."""
    p = sub.add_parser(name, help=help_, description=help_, epilog="examples:\n" + examples,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=func, tensorflow=tensorflow)
    p.add_argument("--quiet", action="store_true", help="no progress bars or stage lines")
    p.add_argument("--verbose", action="store_true",
                   help="show TensorFlow's, absl's and Keras's own log lines and warnings")
    return p


def _models_option(p: argparse.ArgumentParser, what: str, *, required: bool = True) -> None:
    from IMDb import families
    from IMDb.config.run import MODELS_DIR

    p.add_argument("--model", type=model_list, required=required, metavar="MODEL[,MODEL]",
                   help=f"{what} ({', '.join(families.names())})")
    p.add_argument("--models-dir", dest="models_dir", default=str(MODELS_DIR),
                   help="folder of the model bundles (default: models/)")


def _output_options(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--out", "--output", dest="out", metavar="PATH", help=f"where to write (default: {default})")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier imdb-leap output there (a user's files are never replaced)")


def _data_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help=FIELDS["data"].metadata["help"])


def _state_options(p: argparse.ArgumentParser, default_state: str) -> None:
    from IMDb.data.dataset_states import STATES

    p.add_argument("--state", default=default_state,
                   help=f"{', '.join(STATES)}, or several joined by '+' such as training+test "
                        f"(default: {default_state})")
    p.add_argument("--limit", type=number("int", Range(1)),
                   help="analyse a seeded, label-stratified sample of N reviews")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a wrong command line as one line (a UsageError for `main`), like every
    other bad input, instead of the usage block and an exit from inside the parser."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def parser() -> argparse.ArgumentParser:
    from IMDb.analysis.run import CLUSTERINGS, PROJECTIONS

    p = _Parser(prog="imdb-leap", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = _command(sub, "train", "train a model on IMDb and export it to models/<model>/", _train,
                 examples="  imdb-leap train --model dense\n"
                          "  imdb-leap train --model cnn --epochs 3 --train-limit 2000 --models-dir /tmp/m\n"
                          "  IMDB_BERT=../shared/models/all-MiniLM-L6-v2 imdb-leap train --model bert",
                 tensorflow=True)
    _models_option(t, "the model to train; the bundle goes to <models-dir>/<model>/", required=False)
    _config_options(t)
    t.add_argument("--overwrite", action="store_true",
                   help="replace an earlier bundle of this model in --models-dir (never a folder holding a "
                        "file imdb-leap did not write); needed for anything in the repository's models/")
    t.add_argument("--restart", action="store_true",
                   help="discard a resumable run's checkpoint (BERT: runs/bert/<key>/checkpoint) instead of "
                        "resuming from it")

    r = _command(sub, "predict", "classify reviews with the shipped models (offline, no TensorFlow)", _predict,
                 examples='  imdb-leap predict "Mildly entertaining, not brilliant."\n'
                          "  imdb-leap predict --model cnn --input reviews.csv --text-column text --output preds.csv\n"
                          "  cut -f2 reviews.tsv | imdb-leap predict --input - --output preds.jsonl")
    r.add_argument("text", nargs="*", help="review text(s); without them and --input, stdin is one review")
    _models_option(r, "the models to use (default: every shipped one)", required=False)
    r.add_argument("--input", metavar="FILE",
                   help="reviews to score: .csv, .jsonl, or a text file with one review per line ('-': stdin)")
    r.add_argument("--text-column", dest="text_column",
                   help="the review column of a .csv or .jsonl --input (default: text)")
    _output_options(r, "lines on stdout; a .csv or .jsonl file: one row per review")

    a = _command(sub, "analyze", "analyse a model on one state: dashboard.html, PNGs, parquet, JSON summary, "
                                 "label_errors.csv, Embedding Projector export", _analyze,
                 examples="  imdb-leap analyze --model cnn\n"
                          "  imdb-leap analyze --model cnn --state test --label-error-models cnn,bert\n"
                          "  imdb-leap analyze --model bert --state test --limit 2000 --out /tmp/bert --overwrite",
                 tensorflow=True)
    _models_option(a, "a shipped model")
    _state_options(a, "training")
    _data_option(a)
    _output_options(a, "reports/<model>-<state>")
    a.add_argument("--projection", choices=PROJECTIONS, default=PROJECTIONS[0],
                   help=f"2-D map of the latent space (default: {PROJECTIONS[0]})")
    a.add_argument("--clusters", choices=CLUSTERINGS, default=CLUSTERINGS[0],
                   help=f"clustering of the latent space (default: {CLUSTERINGS[0]})")
    a.add_argument("--k", type=number("int", Range(2)), help="k-means clusters (default: chosen by silhouette)")
    a.add_argument("--samples", type=number("int", Range(0)), default=6,
                   help="reviews to explain: the highest-loss false positives and negatives (default: 6)")
    a.add_argument("--label-error-models", dest="label_error_models", type=model_list, metavar="MODEL[,MODEL]",
                   help="find likely label errors with these models' probabilities averaged "
                        "(default: --model alone)")
    a.add_argument("--label-decisions", dest="label_decisions", metavar="FILE",
                   help="score with corrected labels: the label_decisions.csv that `imdb-leap explore`'s "
                        "label-error queue exports (its relabelled reviews take their new label)")

    c = _command(sub, "compare", "compare two models on the same reviews of one state", _compare,
                 examples="  imdb-leap compare --model dense,cnn\n"
                          "  imdb-leap compare --model dense,bert --limit 2000 --robustness",
                 tensorflow=True)
    _models_option(c, "the two models, first,second")
    _state_options(c, "test")
    _data_option(c)
    _output_options(c, "reports/compare-<a>-<b>-<state>")
    c.add_argument("--robustness", action="store_true",
                   help="add both models' behavioural failure rates, CAD pairs and calibration side by side")
    c.add_argument("--cad", help="folder of the CAD pairs' dev_paired.tsv (default: $IMDB_CAD)")

    b = _command(sub, "robustness", "behavioural tests, counterfactual pairs and calibration of shipped "
                                    "models: robustness.json and dashboard.html", _robustness,
                 examples="  imdb-leap robustness --model dense,cnn\n"
                          "  imdb-leap robustness --model bert --out /tmp/rb --overwrite")
    _models_option(b, "shipped models")
    _output_options(b, "reports/robustness-<models>")
    b.add_argument("--cad", help="folder of the CAD pairs' dev_paired.tsv (default: $IMDB_CAD)")
    b.add_argument("--seed", type=number(FIELDS["seed"].type, FIELDS["seed"].metadata["range"]), default=0,
                   help="the suite's generation seed (default: 0)")

    k = _command(sub, "calibrate", "fit a temperature on the validation state, measure ECE on the test "
                                   "split, record both in the model's card.json", _calibrate,
                 examples="  imdb-leap calibrate --model dense,cnn")
    _models_option(k, "shipped models")
    _data_option(k)

    u = _command(sub, "push", "check project_config.yaml and the bundle as the platform runs it, then run "
                              "Tensorleap's `leap push` for one model", _push,
                 examples="  imdb-leap push --model cnn --dry-run\n"
                          "  imdb-leap push --model dense --name dense-v1 --batch 64")
    u.add_argument("--model", type=model_list, required=True, metavar="MODEL",
                   help="the model to push: project_config.yaml must name it (dense, cnn or bert)")
    u.add_argument("--name", help="the model version's name on the platform (default: the model's)")
    u.add_argument("--batch", type=int, default=32, help="the evaluation's batch size (default: 32)")
    u.add_argument("--dry-run", dest="dry_run", action="store_true",
                   help="print the leap command and exit: no leap, network or dataset needed")

    from IMDb.explore.command import register  # the explorer's options live with it

    register(sub, _command, model_list)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; every way it can end is handled here, once for all commands: an
    `IMDbError` (bad input, a full disk naming the path) is one line and status 2, Ctrl-C or SIGTERM
    "interrupted" and 130 (its temp files removed on the way out), a reader of stdout that went
    away (``| head``) a quiet 141, a closed or full stdout one line (see `IMDb.console`)."""
    with console.standard_streams(), console.signals():
        try:
            console.require_stdout()
            args = parser().parse_args(argv)
            environment.raw_csv()  # a bad IMDB_RAW_CSV is refused before any work, not when a CSV is written
            console.quiet(args.verbose)  # before anything imports TensorFlow
            with console.line_progress():
                if args.tensorflow:
                    console.import_tensorflow(args.verbose)
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
