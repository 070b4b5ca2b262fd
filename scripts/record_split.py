#!/usr/bin/env python
"""Record the split of shipped models trained before bundles recorded it: ``split.json`` (the
validation ids) and the card's ``split_checksums``.

Training now writes both (`IMDb.bundle.split_record`, `IMDb.data.dataset_states.split_checksums`); the binder
rebuilds the states from ``split.json`` and checks them against the checksums. For a model trained
earlier this script rebuilds its states with the project's own code (`IMDb.data.dataset_states.make_states` on the
card's seed, validation fraction and train limit, under the scikit-learn it was trained with),
nothing retrained. It first proves that the states are the ones the model was trained on: the
dataset's checksum must equal the card's ``data_checksum``, and each state's size the ``samples``
of the card's figures for it. A bundle made from another model (bert-int8, from bert) gets its
source's split.

Usage: python scripts/record_split.py [MODEL ...] [--check]   (default: every bundle in models/)
Needs IMDB_DATA. --check changes nothing and exits 1 when a bundle lacks its split or disagrees.
"""
from __future__ import annotations

import argparse
import json
import sys

from IMDb import bundle, families
from IMDb.config.run import MODELS_DIR, Config
from IMDb.data import data_source
from IMDb.data import dataset_states
from IMDb.output.atomic import atomic_write_text
from IMDb.output.formats import dumps, json_file


def trained_states(name: str, card: dict, source: str) -> dict:
    """The labeled states `card`'s model was trained on, after proving they are those."""
    labeled = dataset_states.labeled(source)
    if dataset_states.checksum(labeled) != card.get("data_checksum"):
        raise SystemExit(f"record_split: {name}: {source} is not the dataset the model was trained on "
                         f"(its checksum differs from the card's data_checksum)")
    saved = card["config"]
    cfg = Config(data=source, **{k: saved[k] for k in ("val_fraction", "seed", "train_limit") if k in saved})
    states = dataset_states.make_states(labeled, cfg)
    for state, frame in states.items():
        samples = (card.get("figures") or {}).get(state, {}).get("samples")
        if samples is not None and samples != len(frame):
            raise SystemExit(f"record_split: {name}: the rebuilt {state} state holds {len(frame)} reviews, "
                             f"the card's figures {samples}: not the split the model was trained on "
                             f"(another scikit-learn?)")
    return states


def with_checksums(card: dict, checksums: dict[str, str]) -> dict:
    """`card` with ``split_checksums`` right after ``data_checksum`` (or replaced where it is)."""
    out = {}
    for key, value in card.items():
        if key != "split_checksums":
            out[key] = value
        if key == "data_checksum":
            out["split_checksums"] = checksums
    return out | ({} if "split_checksums" in out else {"split_checksums": checksums})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="bundles in models/ (default: all)")
    parser.add_argument("--check", action="store_true", help="change nothing; fail when a bundle is not up to date")
    args = parser.parse_args(argv)
    source = data_source.choose()
    stale = []
    for name in args.models or bundle.names(MODELS_DIR):
        folder = MODELS_DIR / name
        card = json.loads((folder / bundle.MARKER).read_text(encoding="utf-8"))
        origin = families.get(name).source or name  # bert-int8 is bert's weights, split and card
        states = trained_states(origin, bundle.read_card(origin, MODELS_DIR), source)
        checksums = dataset_states.split_checksums(states)
        split = dumps(bundle.split_record(states["validation"]), indent=0) + "\n"
        current = (folder / bundle.SPLIT).read_text(encoding="utf-8") if (folder / bundle.SPLIT).is_file() else None
        fresh = card.get("split_checksums") == checksums and current == split
        if not fresh:
            stale.append(name)
            if not args.check:
                atomic_write_text(folder / bundle.SPLIT, split)
                atomic_write_text(folder / bundle.MARKER, json_file(with_checksums(card, checksums)))
        status = "up to date" if fresh else "out of date" if args.check else "written"
        print(f"{name}: {len(states['validation'])} validation ids; "
              f"{', '.join(f'{k} {v}' for k, v in checksums.items())} ({status})")
    if args.check and stale:
        print(f"record_split: out of date: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
