"""`imdb-leap`: train the models and predict with the shipped ones."""
from __future__ import annotations

import argparse
import os
import sys

from IMDb.config import PER_MODEL, Config
from IMDb.errors import IMDbError


def _train(args: argparse.Namespace) -> int:
    from IMDb.train import train

    overrides = {k: v for k, v in vars(args).items()
                 if k in Config.__dataclass_fields__ and k != "model" and v is not None}
    train(Config.for_model(args.model, **overrides))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from IMDb.predict import Predictor, shipped_models

    names = shipped_models() if args.model == "all" else [args.model]
    if not names:
        raise IMDbError("no shipped models found in models/: train one with `imdb-leap train dense`")
    texts = args.text or [sys.stdin.read()]
    for name in names:
        predictor = Predictor.load(name)
        for text, probs in zip(texts, predictor.predict(texts)):
            snippet = text if len(text) <= 60 else text[:57] + "..."
            print(f"{name:>6}: {Predictor.label(probs):<8} p(positive)={probs[1]:.3f}  {snippet!r}")
    return 0


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
    t.set_defaults(func=_train)

    r = sub.add_parser("predict", help="classify reviews with the shipped models (offline)")
    r.add_argument("text", nargs="*", help="review text(s); read from stdin when none is given")
    r.add_argument("--model", default="all", help="dense, cnn or all (default)")
    r.set_defaults(func=_predict)
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except IMDbError as e:
        print(f"imdb-leap: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("imdb-leap: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
