"""What each `imdb-leap` command does (`train`, `predict`, `analyze`, `compare`, `robustness`,
`calibrate`, `quantize`, `push`): each handler receives the parsed arguments and returns the exit status;
`IMDb.cli.imdb_leap` builds the parser (the options of each are there) and runs one, handling every
way it can end.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from IMDb.cli.options import config_options, given, one_model, option_fields
from IMDb.config.run import MODELS_DIR
from IMDb.errors import DataError, IMDbError, OutputError


def train(args: argparse.Namespace) -> int:
    from IMDb import bundle, families, toolkits
    from IMDb.output.folders import check_out_dir

    if not args.model:
        raise IMDbError(f"name the model to train: --model {'|'.join(families.names(trainable=True))}")
    name = one_model(args)
    family = families.get(name)
    if not family.trainable:
        raise IMDbError(f"{name} is not trained: it is made from the trained {family.source} by {family.made_by}")
    cfg = family.config(out_dir=args.models_dir, **given(args, config_options()))
    if not args.overwrite and Path(cfg.out_dir).resolve() == MODELS_DIR.resolve():
        raise OutputError(f"{cfg.model_dir}: the repository's models/ holds the shipped models; train into "
                          f"another folder with --models-dir (the quick start uses runs/models), or pass "
                          f"--overwrite to write models/{name}")
    # refused before hours of training, not after; the bundle's swap re-checks with the same --overwrite
    check_out_dir(cfg.model_dir, bundle.MARKER, replace=args.overwrite, flag="--overwrite")
    toolkits.train(cfg, restart=args.restart)
    return 0


def predict(args: argparse.Namespace) -> int:
    import time

    from IMDb import bundle
    from IMDb.cli import prediction_files, review_files
    from IMDb.predict import Predictor
    from IMDb.text.word_tokenizer import has_words

    if args.input is not None and args.text:
        raise IMDbError("give reviews as arguments or with --input, not both")
    if args.text_column is not None and (args.input is None or review_files.input_format(args.input) == "lines"):
        raise IMDbError("--text-column names the review column of a --input .csv or .jsonl file")
    out = prediction_files.check_output(args.out, args.overwrite, args.input) if args.out else None
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
        probabilities[name] = prediction_files.score(texts, predictor.predict, desc=name, progress=progress)
        seconds = time.perf_counter() - started
        if progress:
            print(f"predict: {name}: {len(texts):,} reviews in {seconds:.1f} s "
                  f"({len(texts) / seconds:,.0f} reviews/s)", file=sys.stderr, flush=True)
    if out is not None:
        prediction_files.write_predictions(prediction_files.predictions_frame(texts, probabilities), out, args.overwrite)
        print(out)
        return 0
    width = max(map(len, probabilities))
    for name, probs in probabilities.items():
        for text, p in zip(texts, probs):
            snippet = text if len(text) <= 60 else text[:57] + "..."
            flag = "" if has_words(text) else "  (no words: the label means nothing)"
            print(f"{name:>{width}}: {Predictor.label(p):<8} p(positive)={p[1]:.3f}  {snippet!r}{flag}")
    return 0


def analyze(args: argparse.Namespace) -> int:
    from IMDb.analysis.analyze import run_analysis
    from IMDb.analysis.settings import AnalyzeSettings

    name = one_model(args)
    settings = AnalyzeSettings(**given(args, option_fields(AnalyzeSettings)))
    out = run_analysis(name, settings, args.out, models_dir=args.models_dir, progress=not args.quiet,
                       overwrite=args.overwrite)
    print(out / "dashboard.html")
    return 0


def compare(args: argparse.Namespace) -> int:
    from IMDb.analysis.compare_models import run_compare
    from IMDb.analysis.settings import CompareSettings

    if len(args.model) != 2:
        raise IMDbError(f"compare takes two models, as --model dense,cnn; got {','.join(args.model)}")
    settings = CompareSettings(**given(args, option_fields(CompareSettings)))
    out = run_compare(*args.model, settings, args.out, models_dir=args.models_dir, progress=not args.quiet,
                      overwrite=args.overwrite)
    print(out / "dashboard.html")
    return 0


def robustness(args: argparse.Namespace) -> int:
    from IMDb.robustness.run import run_robustness
    from IMDb.robustness.settings import RobustnessSettings

    settings = RobustnessSettings(**given(args, option_fields(RobustnessSettings)))
    out = run_robustness(args.model, settings, args.out, models_dir=args.models_dir, overwrite=args.overwrite,
                         progress=not args.quiet)
    print(out / "dashboard.html")
    return 0


def calibrate(args: argparse.Namespace) -> int:
    from IMDb.robustness.calibrate import calibrate

    for name in args.model:
        c = calibrate(name, models_dir=args.models_dir, data=args.data, progress=not args.quiet,
                      overwrite=args.overwrite)
        print(f"{name}: temperature {c['temperature']}; ECE on the test split {c['ece_before']} -> "
              f"{c['ece_after']} (written to its card.json)")
    return 0


def quantize(args: argparse.Namespace) -> int:
    from IMDb.quantize.run import run_quantize

    out = run_quantize(one_model(args), source_dir=args.source_dir, models_dir=args.models_dir, data=args.data,
                       limit=args.limit, evaluate=args.evaluate, overwrite=args.overwrite, progress=not args.quiet)
    print(out)
    return 0


def push(args: argparse.Namespace) -> int:
    from IMDb.cli import push

    return push.run(one_model(args), args.name, args.batch, args.dry_run)
