"""The explorer's routes and their guards, as a Starlette app (`create_app`).

Guards, each the framework's own where it has one:

- the Host header must name this server (`TrustedHostMiddleware`): a page on another site that
  rebinds its DNS name to 127.0.0.1 is refused (400);
- every state-changing request (every POST: heat maps are written to the cache, exports,
  counterfactual pairs and label decisions to the output folder, an edited text is predicted, then
  explained) carries the session's token in the ``X-Explore-Token`` header, which only the page this
  server rendered holds (403 without it); the page itself needs none;
- request bodies are capped (`MAX_BODY`, 413) and read as JSON of the expected shape (400), a review
  id must be one of the state's (404), a model one of those loaded (404); the panels' routes
  (`IMDb.explore.label_queue`, `IMDb.explore.behaviour`) get the same checks (`Guards`); values are
  looked up, never joined into a path (a pair's file is named by its number, `IMDb.explore.pairs`);
- every error is one line of plain text with its status, never a traceback page; a bug is logged
  to stderr as one line and answered 500, and the server goes on.

Review text leaves the server only as JSON (`IMDb.output.formats.dumps`), which the page's script puts in
as text; plotly hover labels are escaped for plotly (`IMDb.analysis.escape.hover_snippet`).
"""
from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from IMDb.analysis.metadata_job import METADATA_COLUMNS
from IMDb.errors import IMDbError
from IMDb.config.run import LABELS
from IMDb.explore import behaviour as behaviour_panel, compare, label_queue, page, pairs, selection
from IMDb.explore.answers import Guards, json_answer as _json, refusal as _fail
from IMDb.explore.diff import word_diff
from IMDb.explore.session import Session
from IMDb.output.folders import folder_file
from IMDb.output.formats import write_csv

MAX_BODY = 512 * 1024  # a selection of every review of the test state is about 150 KB of ids
MAX_TEXT = 20_000  # characters of an edited review
TOKEN_HEADER = "X-Explore-Token"
NEIGHBOURS = 8


def is_selection(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("ids"), list)


def is_text(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("text"), str)


def is_heat_request(value: Any) -> bool:
    return isinstance(value, dict) and ("id" in value or is_text(value))


def is_pair(value: Any) -> bool:
    return is_text(value) and "id" in value and "label" in value


async def http_error(request: Request, exc: HTTPException) -> Response:
    return PlainTextResponse(" ".join(str(exc.detail).split()), status_code=exc.status_code)


async def known_error(request: Request, exc: IMDbError) -> Response:
    return PlainTextResponse(" ".join(str(exc).split()), status_code=500)


async def bug(request: Request, exc: Exception) -> Response:
    line = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
    print(f"explore: internal error on {request.method} {request.url.path}: {line}", file=sys.stderr, flush=True)
    return PlainTextResponse(f"internal error: {line}", status_code=500)


class Explorer:
    """The routes of one explorer `session`: `token` guards its POSTs; `heading` titles the page."""

    def __init__(self, session: Session, token: str, heading: str):
        self.session, self.token, self.heading = session, token, heading
        self.scripts = {"plotly.min.js": page.plotly_path(), **{name: page.script_path(name) for name in page.SCRIPTS}}

    def explored(self):
        if self.session.error:
            raise _fail(503, f"loading failed: {self.session.error}")
        if self.session.explored is None:
            raise _fail(503, f"still loading ({self.session.stage}); try again in a moment")
        return self.session.explored

    def row_of(self, value: Any) -> int:
        n = len(self.explored())
        text = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
        if not (text.isascii() and text.isdecimal() and len(text) <= 12) or int(text) >= n:
            raise _fail(404, f"no review with id {str(value)[:40]!r}: ids are 0 to {n - 1}")
        return int(value)

    async def body(self, request: Request, check: Callable[[Any], bool], shape: str) -> Any:
        if not secrets.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(), self.token.encode()):
            raise _fail(403, f"missing or wrong {TOKEN_HEADER} header: reload the page for this session's token")
        try:
            value = json.loads(await request.body())
        except (ValueError, RecursionError):  # undecodable, not JSON, or nested past Python's stack
            raise _fail(400, f"the request body is not JSON; send {shape}") from None
        if not check(value):
            raise _fail(400, f"the request body must be {shape}")
        return value

    async def home(self, request: Request) -> Response:
        return HTMLResponse(page.render(self.heading, self.token), headers={"Content-Security-Policy": page.CSP})

    async def status(self, request: Request) -> Response:
        return _json(self.session.status)

    async def map_(self, request: Request) -> Response:
        self.explored()  # 503 until loaded
        return _json(self.session.map.first)

    async def hover(self, request: Request) -> Response:
        self.explored()
        return _json(self.session.map.hover)

    async def field(self, request: Request) -> Response:
        self.explored()
        name = request.query_params.get("name", "")
        values = self.session.map.field(name)
        if values is None:
            raise _fail(404, f"no field {name[:60]!r}: choose one the map lists")
        return _json(values)

    async def review(self, request: Request) -> Response:
        state = self.explored()
        row = self.row_of(request.path_params["row"])
        record = state.frame.iloc[row]
        predictions = [{"model": m, "prediction": record[state.column(m, "prediction")],
                        "p_positive": record[state.column(m, "p_positive")],
                        "loss": record[state.column(m, "loss")]} for m in state.models]
        neighbours = [{"id": i, "similarity": s, "snippet": state.frame["text"].iat[i][:160],
                       "label": state.frame["label"].iat[i]} for i, s in self.session.neighbours.of(row, NEIGHBOURS)]
        return _json({"id": row, "sample_id": record["sample_id"], "text": record["text"],
                      "label": record["label"], "cluster": state.clusters[row], "predictions": predictions,
                      "metadata": {c: record[c] for c in METADATA_COLUMNS if c in record.index},
                      "neighbours": neighbours})

    async def heatmap(self, request: Request) -> Response:
        """A review's heat maps (``{"id": ...}``, a click) or an edited text's (``{"text": ...}``, which
        the page asks for after it has shown the edit's predictions, so those come at once)."""
        value = await self.body(request, is_heat_request, '{"id": <review id>} or {"text": "<an edited review>"}')
        if "id" in value:
            text, answer = self.explored().frame["text"].iat[self.row_of(value["id"])], {"id": int(value["id"])}
        else:
            text, answer = self.checked_text(value["text"]), {}
        return _json(answer | {"heatmaps": await run_in_threadpool(self.session.heatmaps.of, text)})

    def rows_of(self, value: Any) -> np.ndarray:
        rows = np.unique([self.row_of(v) for v in value["ids"]])
        if not len(rows):
            raise _fail(400, "the selection is empty: select some points first")
        return rows

    async def select(self, request: Request) -> Response:
        value = await self.body(request, is_selection, '{"ids": [<review id>, ...]}')
        return _json(selection.summarize(self.explored(), self.rows_of(value)))

    async def export(self, request: Request) -> Response:
        value = await self.body(request, is_selection, '{"ids": [<review id>, ...]}')
        rows = self.rows_of(value)
        name = f"exports/selection-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}-{len(rows)}.csv"
        with folder_file(self.session.out, name) as tmp:
            write_csv(selection.export_frame(self.explored(), rows), tmp)
            data = tmp.read_bytes()
        filename = name.rpartition("/")[2]
        return Response(data, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    def checked_text(self, text: str) -> str:
        self.explored()  # 503 until loaded
        if len(text) > MAX_TEXT:
            raise _fail(413, f"the text is {len(text):,} characters; edit at most {MAX_TEXT:,}")
        if not text.strip():
            raise _fail(400, "the text is empty: type a review")
        return text

    async def edit(self, request: Request) -> Response:
        value = await self.body(request, is_text, '{"text": "<the review>", "id": <the edited review\'s id, optional>}')
        text = self.checked_text(value["text"])
        original = self.explored().frame["text"].iat[self.row_of(value["id"])] if "id" in value else None

        def predicted() -> dict:  # the heat maps are a second request (`heatmap`): these come at once
            found = {"predictions": self.session.predictions.of(text)}
            return found | ({"diff": word_diff(original, text)} if original is not None else {})

        return _json(await run_in_threadpool(predicted))

    async def save_pair(self, request: Request) -> Response:
        value = await self.body(request, is_pair, '{"id": <review id>, "text": "<the edit>", "label": "negative" or '
                                             '"positive" (the edit\'s sentiment)}')
        text = self.checked_text(value["text"])
        if value["label"] not in LABELS:
            raise _fail(400, f"label {str(value['label'])[:40]!r}: the edit's sentiment is negative or positive")
        record = self.explored().frame.iloc[self.row_of(value["id"])]
        revised = LABELS.index(value["label"])
        original = revised ^ 1 if pd.isna(record["label"]) else int(record["label"])
        if original == revised:
            raise _fail(400, f"review #{int(value['id'])} is already {value['label']}: a counterfactual edit "
                             f"flips the sentiment")
        if text == record["text"]:
            raise _fail(400, "the text is the original's: edit it first")
        pair = await run_in_threadpool(self.session.pairs.save, record["sample_id"], record["text"], original, text,
                                       revised)
        return _json({"batch_id": pair["batch_id"], "export": pairs.EXPORT})

    async def list_pairs(self, request: Request) -> Response:
        rows = {s: i for i, s in enumerate(self.explored().frame["sample_id"])}
        saved = self.session.pairs.all()
        return _json({"n": len(saved), "export": pairs.EXPORT,
                      "pairs": [{"batch_id": p["batch_id"], "id": rows.get(p["sample_id"]), "sample_id": p["sample_id"],
                                 "original_label": p["original_label"], "revised_label": p["revised_label"],
                                 "revised": p["revised"][:160]} for p in saved]})

    async def pairs_tsv(self, request: Request) -> Response:
        path = self.session.pairs.export_path
        if not path.is_file():
            raise _fail(404, "no counterfactual pairs saved yet: edit a review and save it as a pair")
        return FileResponse(path, media_type="text/tab-separated-values; charset=utf-8",
                            filename=path.name)

    async def compare_(self, request: Request) -> Response:
        state = self.explored()
        if len(state.models) < 2:
            raise _fail(400, "one model is loaded: name two or more with --model to compare them")
        a, b = (request.query_params.get(k, state.models[i]) for i, k in enumerate("ab"))
        for name in (a, b):
            if name not in state.models:
                raise _fail(404, f"no model {name[:60]!r} loaded: choose from {', '.join(state.models)}")
        if a == b:
            raise _fail(400, f"a and b are both {a}: compare two different models")
        return _json(compare.side_by_side(state, a, b))

    async def static(self, request: Request) -> Response:
        path = self.scripts.get(request.path_params["name"])
        if path is None:
            raise _fail(404, f"no script {request.path_params['name'][:60]!r}")
        return FileResponse(path, media_type="text/javascript")


def create_app(session: Session, token: str, hosts: Sequence[str], heading: str = "imdb-leap explore",
               behaviour: dict | None = None) -> Starlette:
    """The app of one explorer `session`; `token` guards its POSTs, `hosts` are the Host header
    values it answers to; `behaviour` is the behaviour browser's report
    (`IMDb.explore.behaviour.read_behaviour`), None when none was named."""
    e = Explorer(session, token, heading)
    routes = [Route("/", e.home), Route("/api/status", e.status), Route("/api/map", e.map_),
              Route("/api/hover", e.hover), Route("/api/field", e.field), Route("/api/review/{row}", e.review),
              Route("/api/heatmap", e.heatmap, methods=["POST"]), Route("/api/selection", e.select, methods=["POST"]),
              Route("/api/export", e.export, methods=["POST"]), Route("/api/edit", e.edit, methods=["POST"]),
              Route("/api/pairs", e.save_pair, methods=["POST"]), Route("/api/pairs", e.list_pairs),
              Route("/api/pairs.tsv", e.pairs_tsv), Route("/api/compare", e.compare_),
              Route("/static/{name:str}", e.static),
              *label_queue.routes(Guards(e.explored, e.row_of, e.body), session.label_queue, session.decisions),
              *behaviour_panel.routes(behaviour)]
    app = Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))],
                    exception_handlers={HTTPException: http_error, IMDbError: known_error, Exception: bug},
                    max_body_size=MAX_BODY)
    return app
