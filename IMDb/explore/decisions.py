"""Decisions on the likely label errors (keep, relabel, unsure), kept in a SQLite database under
``--out`` and exported as CSV for ``imdb-leap analyze --label-decisions``.

A reviewer goes through hundreds of reviews and may stop at any point: each decision must be on disk
as it is made, survive a restart, and a later decision on the same review must replace the earlier
one. A database (the standard library's `sqlite3`, one transaction per decision) gives that without
rewriting a file per click. The database file is made by the output policy
(`IMDb.output.folders.folder_file`: created whole, listed in the folder's manifest) and written in
place afterwards. After every decision the export is written again from it (``label_decisions.csv``,
`IMDb.analysis.label_decisions.COLUMNS`), which `analyze --label-decisions` reads back
(`IMDb.analysis.label_decisions.read_relabels`).
"""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pandas as pd

from IMDb.analysis.label_decisions import COLUMNS, EXPORT
from IMDb.config.run import LABELS
from IMDb.output.folders import folder_file
from IMDb.output.formats import write_csv

DB = "label_decisions.sqlite"
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
