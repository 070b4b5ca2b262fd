"""Counterfactual pairs made in the explorer: a review and the user's edit of it that flips its
sentiment, kept under ``--out`` and exported in the CAD pairs' TSV format for training.

Each saved pair is a JSON file of its own, ``pairs/<batch id>.json``, written by the project's
output policy (`IMDb.output.folders.folder_file`: written whole and renamed into place, listed in
the folder's manifest): a save never rewrites an earlier one, a crash never leaves half a pair,
and a restarted explorer on the same ``--out`` finds them all. After every save the export is
written again from them: ``counterfactuals/train_paired.tsv``, columns ``Sentiment``, ``Text``,
``batch_id``, the original row first, as `IMDb.data.counterfactual.read_pairs` reads the CAD
release, so ``IMDB_CAD=<out>/counterfactuals imdb-leap train --counterfactual`` trains on them
(texts as typed: no spreadsheet guard, which would change the training text).
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pandas as pd

from IMDb.config.run import LABELS
from IMDb.data.counterfactual import COLUMNS
from IMDb.output.folders import folder_file
from IMDb.output.formats import dumps

FOLDER = "pairs"
EXPORT = "counterfactuals/train_paired.tsv"
SENTIMENT = {0: "Negative", 1: "Positive"}  # the CAD release's names of the classes


class Pairs:
    """The pairs saved under output folder `out`, numbered 1, 2, ... in the order they were saved."""

    def __init__(self, out: Path):
        self.out = out
        self._lock = threading.Lock()  # one save at a time: each takes the next number

    def all(self) -> list[dict]:
        """Every saved pair, oldest first."""
        folder = self.out / FOLDER
        files = [p for p in folder.glob("*.json") if p.stem.isdecimal()] if folder.is_dir() else []
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(files, key=lambda p: int(p.stem))]

    def save(self, sample_id: str, original: str, original_label: int, revised: str, revised_label: int) -> dict:
        """Keep a pair (labels are class indices of `IMDb.config.run.LABELS`, the two different)
        and write the export again; the pair as kept, with its ``batch_id``."""
        with self._lock:
            pairs = self.all()
            pair = {"batch_id": max((p["batch_id"] for p in pairs), default=0) + 1, "sample_id": sample_id,
                    "original": original, "original_label": LABELS[original_label],
                    "revised": revised, "revised_label": LABELS[revised_label],
                    "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            with folder_file(self.out, f"{FOLDER}/{pair['batch_id']}.json") as tmp:
                tmp.write_text(dumps(pair), encoding="utf-8")
            self._export([*pairs, pair])
        return pair

    def _export(self, pairs: list[dict]) -> None:
        rows = [(SENTIMENT[LABELS.index(p[f"{side}_label"])], p[side], p["batch_id"])
                for p in pairs for side in ("original", "revised")]
        with folder_file(self.out, EXPORT) as tmp:
            pd.DataFrame(rows, columns=list(COLUMNS)).to_csv(tmp, sep="\t", index=False, lineterminator="\n")

    @property
    def export_path(self) -> Path:
        return self.out / EXPORT
