"""What the explorer's route modules share: its two kinds of answer, JSON (`IMDb.output.formats.dumps`,
so NumPy values and NaN come out as JSON) and a refusal (an `HTTPException` the app answers as one
line of plain text with its status), and the app's guards (`Guards`), so a panel's routes
(`IMDb.explore.label_queue`, `IMDb.explore.behaviour`) check requests as `IMDb.explore.app` does."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response

from IMDb.output.formats import dumps


def json_answer(value: Any) -> Response:
    """`value` as JSON; bytes are JSON built already (`IMDb.explore.map_data`) and sent as they are."""
    return Response(value if isinstance(value, bytes) else dumps(value), media_type="application/json")


def refusal(status: int, message: str) -> HTTPException:
    return HTTPException(status, message)


@dataclass(frozen=True)
class Guards:
    """The app's checks: `explored` (the loaded state, else 503), `row_of` (a review id, else 404) and
    `body` (a token-guarded JSON body of the expected shape, else 403/400)."""

    explored: Callable[[], Any]
    row_of: Callable[[Any], int]
    body: Callable[..., Awaitable[Any]]
