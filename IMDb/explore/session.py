"""The running explorer's state: what is loaded, how far the loading is, and what failed.

Loading the tables and models takes minutes on a whole state, so it runs on a background thread
while the server already answers (`Session.start`): the page polls `Session.status` and shows each
stage. A bad input found meanwhile (an `IMDbError`) is one line on the page and on stderr.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

from IMDb.cli import library_noise
from IMDb.errors import IMDbError
from IMDb.explore.decisions import Decisions
from IMDb.explore.heatmaps import HeatMaps
from IMDb.explore.label_queue import LabelQueue
from IMDb.explore.map_data import MapData
from IMDb.explore.neighbours import Neighbours
from IMDb.explore.pairs import Pairs
from IMDb.explore.predictions import Predictions
from IMDb.explore.tables import Explored, Source, load


class Session:
    """One explorer run: its output folder and the counterfactual pairs and label decisions saved
    there, the label-error queue, and once
    loaded, the state, the map's answers, heat maps, neighbours and the predictors of edited texts."""

    def __init__(self, out: Path, models_dir: Path):
        self.out, self.models_dir = out, models_dir
        self.pairs = Pairs(out)
        self.decisions = Decisions(out)
        self.label_queue = LabelQueue()
        self.stage = "starting"
        self.error: str | None = None
        self.explored: Explored | None = None
        self.heatmaps: HeatMaps | None = None
        self.map: MapData | None = None
        self.neighbours: Neighbours | None = None
        self.predictions: Predictions | None = None

    @classmethod
    def ready(cls, explored: Explored, out: Path, models_dir: Path) -> "Session":
        """A session over an already loaded state (tests, a caller with its own tables)."""
        session = cls(out, models_dir)
        session._finish(explored)
        return session

    def _finish(self, explored: Explored) -> None:
        self.map = MapData(explored)  # built here, while loading, so the map's requests only send it
        self.heatmaps = HeatMaps(explored.models, self.models_dir, self.out)
        self.neighbours = Neighbours(explored.latent)
        self.predictions = Predictions(explored.models, self.models_dir)
        self.explored = explored
        self.stage = "ready"

    def note(self, stage: str) -> None:
        self.stage = stage

    def start(self, source: Source, progress: bool = False, verbose: bool = False,
              loader: Callable[..., Explored] = load) -> threading.Thread:
        """Load `source` on a daemon thread; `status` reports how far it is. TensorFlow is imported
        first, its start-up notices silenced unless `verbose` (`IMDb.library_noise.import_tensorflow`)."""
        def run() -> None:
            try:
                self.note("starting TensorFlow")
                library_noise.import_tensorflow(verbose)
                self._finish(loader(source, self.note, progress))
                if progress:
                    print("explore: ready", file=sys.stderr, flush=True)
            except IMDbError as e:
                self.error = str(e)
                print(f"imdb-leap: error: {e}", file=sys.stderr, flush=True)
            except Exception as e:  # a bug: its message on the page, its traceback on stderr
                self.error = f"loading failed: {type(e).__name__}: {e}"
                raise

        thread = threading.Thread(target=run, name="explore-load", daemon=True)
        thread.start()
        return thread

    @property
    def status(self) -> dict:
        return {"ready": self.explored is not None, "stage": self.stage, "error": self.error}
