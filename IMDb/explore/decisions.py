"""Decisions on the likely label errors (keep, relabel, unsure), kept in a SQLite database under
``--out`` and exported as CSV for ``imdb-leap analyze --label-decisions``.

A reviewer goes through hundreds of reviews and may stop at any point: each decision must be on disk
as it is made, survive a restart, and a later decision on the same review must replace the earlier
one. A database (the standard library's `sqlite3`, one transaction per decision) gives that without
rewriting a file per click. The database file is made by the output policy
(`IMDb.output.atomic.folder_file`: created whole, listed in the folder's manifest) and written in
place afterwards. After every decision the export is written again from it (``label_decisions.csv``,
`COLUMNS`), which `read_relabels` reads back.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

from IMDb.config.run import LABELS
from IMDb.errors import DataError
from IMDb.output.atomic import folder_file
from IMDb.output.formats import write_csv

DB = "label_decisions.sqlite"
EXPORT = "label_decisions.csv"
DECISIONS = ("keep", "relabel", "unsure")
COLUMNS = ("sample_id", "original_label", "decision", "new_label", "time")
SCHEMA = ("CREATE TABLE decisions (sample_id TEXT PRIMARY KEY, original_label TEXT NOT NULL, "
          "decision TEXT NOT NULL, new_label TEXT, time TEXT NOT NULL)")


class Decisions:
    """The decisions kept in output folder `out`, one per review (the latest)."""

    def __init__(self, out: Path):
        self.out = out
        self._lock = threading.Lock()  # one writer at a time: the export follows its decision

    @property
    def path(self) -> Path:
        return self.out / DB

    @property
    def export_path(self) -> Path:
        return self.out / EXPORT

    def _connect(self) -> sqlite3.Connection:
        if not self.path.is_file():
            with folder_file(self.out, DB) as tmp, closing(sqlite3.connect(tmp)) as db:
                db.execute(SCHEMA)
                db.commit()
        return sqlite3.connect(self.path)

    def all(self) -> dict[str, dict]:
        """Every review's decision by sample id, in the order they were made."""
        if not self.path.is_file():
            return {}
        with closing(sqlite3.connect(self.path)) as db:
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM decisions ORDER BY time, rowid").fetchall()
        return {row[0]: dict(zip(COLUMNS, row)) for row in rows}

    def decide(self, sample_id: str, original_label: int, decision: str) -> dict:
        """Record `decision` (one of `DECISIONS`) on the review labelled `original_label` (a class
        index), replacing an earlier one, in one transaction; then write the export again."""
        new = {"keep": LABELS[original_label], "relabel": LABELS[1 - original_label], "unsure": None}[decision]
        row = {"sample_id": sample_id, "original_label": LABELS[original_label], "decision": decision,
               "new_label": new, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        with self._lock:
            with closing(self._connect()) as db, db:  # the inner `with` commits, or rolls back on error
                db.execute(f"INSERT OR REPLACE INTO decisions ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
                           tuple(row.values()))
            with folder_file(self.out, EXPORT) as tmp:
                write_csv(pd.DataFrame(list(self.all().values()), columns=list(COLUMNS)), tmp)
        return row


def read_relabels(path: str | Path) -> dict[str, int]:
    """The new label (class index) of each review a decisions export relabels, by sample id;
    a file that is not such an export is refused in one line."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise DataError(f"--label-decisions {path}: cannot read it as CSV ({type(e).__name__}); name the "
                        f"{EXPORT} that imdb-leap explore writes") from None
    bad = (list(frame.columns) != list(COLUMNS) or not frame["decision"].isin(DECISIONS).all()
           or not frame["original_label"].isin(LABELS).all())
    relabel = frame[frame["decision"] == "relabel"] if not bad else frame.iloc[:0]
    if bad or not relabel["new_label"].isin(LABELS).all():
        raise DataError(f"--label-decisions {path}: not a label-decisions export (columns "
                        f"{', '.join(COLUMNS)}; decisions {'/'.join(DECISIONS)}); name the {EXPORT} that "
                        f"imdb-leap explore writes")
    return {s: LABELS.index(n) for s, n in zip(relabel["sample_id"], relabel["new_label"])}


def apply_relabels(frame: pd.DataFrame, relabels: dict[str, int]) -> int:
    """Give each review of analysis table `frame` that `relabels` names its new label, in place, and
    score its loss, correctness and baselines' losses again; the number of labels changed."""
    from IMDb.analysis.baselines import BASELINES, binary_loss, column
    from IMDb.measures import losses

    new = frame["sample_id"].map(relabels).astype(np.float64)
    changed = (new.notna() & (new != frame["label"])).to_numpy()
    if changed.any():
        label = np.where(changed, new, frame["label"]).astype(np.float64)
        frame["label"] = label
        probs = frame.loc[changed, ["p_negative", "p_positive"]].to_numpy(dtype=np.float64)
        frame.loc[changed, "loss"] = losses.crossentropy_of_probabilities(np.eye(2)[label[changed].astype(int)],
                                                                          probs)
        frame.loc[changed, "correct"] = frame.loc[changed, "prediction"].to_numpy() == label[changed]
        for name in [b for b in BASELINES if column(b, "p_positive") in frame]:
            frame[column(name, "loss")] = binary_loss(label, frame[column(name, "p_positive")])
    return int(changed.sum())
