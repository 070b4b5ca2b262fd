"""`imdb-leap`: train the models, predict with the shipped ones, analyse and compare them."""
from __future__ import annotations

import argparse
import os
import signal
import sys

from IMDb.config import PER_MODEL, Config
from IMDb.errors import IMDbError


def _train(args: argparse.Namespace) -> int:
    from IMDb.export import BUNDLE_MARKER
    from IMDb.io import check_out_dir

    overrides = {k: v for k, v in vars(args).items()
                 if k in Config.__dataclass_fields__ and k != "model" and v is not None}
    cfg = Config.for_model(args.model, **overrides)
    check_out_dir(cfg.model_dir, BUNDLE_MARKER)  # refused before hours of training, not after
    if args.model == "bert":
        from IMDb.train_bert import train

        train(cfg, restart=args.restart)
    else:
        from IMDb.train import train

        train(cfg)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from IMDb.predict import Predictor, shipped_models
    from IMDb.text import has_words

    names = shipped_models() if args.model == "all" else [args.model]
    if not names:
        raise IMDbError("no shipped models found in models/: train one with `imdb-leap train dense`")
    # undecodable bytes (stdin, or argv through surrogateescape) become U+FFFD, as a tokenizer needs
    texts = [t.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
             for t in args.text] or [sys.stdin.buffer.read().decode("utf-8", "replace")]
    for name in names:
        predictor = Predictor.load(name)
        for text, probs in zip(texts, predictor.predict(texts)):
            snippet = text if len(text) <= 60 else text[:57] + "..."
            flag = "" if has_words(text) else "  (no words: the label means nothing)"
            print(f"{name:>6}: {Predictor.label(probs):<8} p(positive)={probs[1]:.3f}  {snippet!r}{flag}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from IMDb.analysis.run import default_out_dir, run_analysis

    out = run_analysis(args.model, args.state, args.out or default_out_dir(args.model, args.state),
                       projection=args.projection, clusters=args.clusters, k=args.k, limit=args.limit,
                       n_samples=args.samples, data=args.data, models_dir=args.models_dir,
                       progress=not args.quiet, overwrite=args.overwrite)
    print(out / "dashboard.html")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from IMDb.analysis.run import run_compare

    out = run_compare(args.a, args.b, args.state, args.out, limit=args.limit, data=args.data,
                      models_dir=args.models_dir, progress=not args.quiet, overwrite=args.overwrite)
    print(out / "dashboard.html")
    return 0


def _analysis_options(p: argparse.ArgumentParser, default_state: str) -> None:
    from IMDb.config import MODELS_DIR

    p.add_argument("--state", default=default_state,
                   help=f"training, validation, test or unlabeled, or several joined by '+' such as "
                        f"training+test (default: {default_state})")
    p.add_argument("--limit", type=int, help="analyse a seeded, label-stratified sample of N reviews")
    p.add_argument("--data", help="dataset source (default: $IMDB_DATA), split as in the model's card")
    p.add_argument("--models-dir", dest="models_dir", default=str(MODELS_DIR),
                   help="folder of the model bundles (default: models/)")
    p.add_argument("--quiet", action="store_true", help="no progress bars or stage lines")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier report in the output folder (a folder holding anything "
                        "else is never replaced)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="imdb-leap", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model on IMDb and export it to models/<model>/")
    t.add_argument("model", choices=sorted(PER_MODEL))
    t.add_argument("--data", help="parquet file, aclImdb folder, aclImdb_v1.tar.gz or 'download' "
                                  "(default: $IMDB_DATA)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--seq-len", dest="seq_len", type=int)
    t.add_argument("--vocab-size", dest="vocab_size", type=int)
    t.add_argument("--batch-size", dest="batch_size", type=int)
    t.add_argument("--seed", type=int)
    t.add_argument("--train-limit", dest="train_limit", type=int,
                   help="train on a random subset of this many reviews (quick runs)")
    t.add_argument("--out-dir", dest="out_dir", help="where the bundle goes (default: models/)")
    b = t.add_argument_group("BERT")
    b.add_argument("--bert", dest="bert_checkpoint",
                   help="a Hugging Face BERT folder or hub id (default: $IMDB_BERT, else "
                        "hf://sentence-transformers/all-MiniLM-L6-v2)")
    b.add_argument("--truncation", choices=("headtail", "head"),
                   help="keep a long review's first and last pieces (default) or only its first")
    b.add_argument("--learning-rate", dest="learning_rate", type=float)
    b.add_argument("--max-steps", dest="max_steps", type=int,
                   help="train this many steps (the learning rate decays to 0 over them)")
    b.add_argument("--checkpoint-every", dest="checkpoint_every", type=int,
                   help="steps between resumable checkpoints (default: 50)")
    b.add_argument("--restart", action="store_true",
                   help="discard runs/bert/checkpoint instead of resuming from it")
    t.set_defaults(func=_train)

    r = sub.add_parser("predict", help="classify reviews with the shipped models (offline)")
    r.add_argument("text", nargs="*", help="review text(s); read from stdin when none is given")
    r.add_argument("--model", default="all", help="dense, cnn, bert or all (default)")
    r.set_defaults(func=_predict)

    a = sub.add_parser("analyze", help="analyse a model on one state: dashboard.html, PNGs, parquet, JSON "
                                       "summary, Embedding Projector export")
    a.add_argument("--model", required=True, help="a shipped model: dense, cnn or bert")
    _analysis_options(a, "training")
    a.add_argument("--out", help="output folder, new or empty, or an earlier report with --overwrite "
                                 "(default: reports/<model>-<state>)")
    a.add_argument("--projection", choices=("umap", "pca", "tsne"), default="umap",
                   help="2-D map of the latent space (default: umap)")
    a.add_argument("--clusters", choices=("kmeans", "hdbscan"), default="kmeans",
                   help="clustering of the latent space (default: kmeans)")
    a.add_argument("--k", type=int, help="k-means clusters (default: chosen by silhouette)")
    a.add_argument("--samples", type=int, default=6,
                   help="reviews to explain: the highest-loss false positives and negatives (default: 6)")
    a.set_defaults(func=_analyze)

    c = sub.add_parser("compare", help="compare two models on the same reviews of one state")
    c.add_argument("a", help="first model, e.g. dense")
    c.add_argument("b", help="second model, e.g. cnn")
    _analysis_options(c, "test")
    c.add_argument("--out", help="output folder, new or empty, or an earlier report with --overwrite "
                                 "(default: reports/compare-<a>-<b>-<state>)")
    c.set_defaults(func=_compare)
    return p


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so every `finally` removes its temp
    files and folders instead of leaving half-written ones behind."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return args.func(args)
    except IMDbError as e:
        print(f"imdb-leap: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("imdb-leap: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
