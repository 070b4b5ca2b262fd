"""The label-error queue: the state's likely label errors, most likely first, each with the
reviewer's decision (`IMDb.explore.decisions`), and its routes.

The ranking is the analysis's own (`IMDb.analysis.label_errors.likely_label_errors`: confident
learning over the loaded models' probabilities, averaged), computed once per session on the loaded
table, so the queue is the one ``label_errors.csv`` of ``imdb-leap analyze`` lists for these models.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from IMDb.analysis.label_errors import likely_label_errors
from IMDb.explore.answers import Guards, json_answer, refusal
from IMDb.analysis.label_decisions import DECISIONS, EXPORT
from IMDb.explore.decisions import Decisions

SNIPPET = 160


class LabelQueue:
    """The likely label errors of a loaded state (`ranked`, computed on first use)."""

    def __init__(self) -> None:
        self._ranked: pd.DataFrame | None = None
        self._lock = threading.Lock()

    def ranked(self, explored) -> pd.DataFrame:
        with self._lock:
            if self._ranked is None:
                frame = explored.frame
                p = np.stack([frame[explored.column(m, "p_positive")].to_numpy() for m in explored.models])
                self._ranked = likely_label_errors(frame["label"], p, sample_ids=frame["sample_id"].tolist(),
                                                   texts=frame["text"].tolist(), snippet=SNIPPET)
        return self._ranked


def routes(guards: Guards, queue: LabelQueue, decisions: Decisions) -> list[Route]:
    """GET /api/label-errors (the queue with each decision), POST /api/decisions ({"id", "decision"}),
    GET /api/decisions.csv (the export)."""

    async def listed(request: Request) -> Response:
        ranked = await run_in_threadpool(queue.ranked, guards.explored())
        made = decisions.all()
        items = [{"rank": r.rank, "id": r.position, "sample_id": r.sample_id, "label": r.label,
                  "suggested": r.suggested_label, "margin": r.margin, "snippet": r.snippet,
                  "decision": made.get(r.sample_id, {}).get("decision")} for r in ranked.itertuples()]
        return json_answer({"n": len(items), "decided": sum(i["decision"] is not None for i in items),
                            "export": EXPORT, "items": items})

    def is_decision(value: Any) -> bool:
        return isinstance(value, dict) and "id" in value and "decision" in value

    async def decide(request: Request) -> Response:
        value = await guards.body(request, is_decision, '{"id": <review id>, "decision": "keep", "relabel" or '
                                                        '"unsure"}')
        if value["decision"] not in DECISIONS:
            raise refusal(400, f"decision {str(value['decision'])[:40]!r}: choose {', '.join(DECISIONS)}")
        record = guards.explored().frame.iloc[guards.row_of(value["id"])]
        if pd.isna(record["label"]):
            raise refusal(400, f"review #{int(value['id'])} has no label to keep or change")
        row = await run_in_threadpool(decisions.decide, record["sample_id"], int(record["label"]),
                                      value["decision"])
        return json_answer(row | {"id": int(value["id"]), "export": EXPORT})

    async def export(request: Request) -> Response:
        if not decisions.export_path.is_file():
            raise refusal(404, "no decisions made yet: open the label-error queue and keep, relabel or skip one")
        return FileResponse(decisions.export_path, media_type="text/csv; charset=utf-8",
                            filename=decisions.export_path.name)

    return [Route("/api/label-errors", listed), Route("/api/decisions", decide, methods=["POST"]),
            Route("/api/decisions.csv", export)]
