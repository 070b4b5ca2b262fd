"""The behaviour browser: the failing cases of a robustness report (``robustness.json``, what
``imdb-leap robustness`` writes), grouped by capability, and its route.

The report keeps a few failing cases per test (`IMDb.behaviour.scoring.score`'s examples), short and
in a carrier paragraph; each case's texts are not reviews of the state, so the page opens them as
free text (predicted and explained as an edit is). The report is read once at start: a folder
without a readable one is refused in one line before the server starts.
"""
from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from IMDb.errors import UsageError
from IMDb.explore.answers import json_answer

REPORT = "robustness.json"
HOW = "no robustness report: make one with `imdb-leap robustness --model MODEL --out DIR`, then start " \
      "explore with --robustness DIR"


def read_behaviour(folder: Path) -> dict:
    """The failing cases of `folder`'s robustness.json by capability: ``{"models", "capabilities":
    [{"capability", "failure_rate": {model: rate}, "cases": [...]}]}``; one line when unreadable."""
    try:
        documents = json.loads((folder / REPORT).read_text(encoding="utf-8"))
        models = [d["model"] for d in documents]
        capabilities: dict[str, dict] = {}
        for doc in documents:
            for form in ("short", "carrier"):
                for test in doc["behaviour"][form]["tests"]:
                    group = capabilities.setdefault(test["capability"], {"capability": test["capability"],
                                                                         "failure_rate": {}, "cases": []})
                    group["cases"] += [{"model": doc["model"], "form": form, "test": test["name"],
                                        "type": test["type"], "texts": case["texts"],
                                        "p_positive": case["p_positive"], "expected": case["expected"]}
                                       for case in test["examples"]]
            for name, rate in doc["behaviour"]["short"]["by_capability"].items():
                capabilities[name]["failure_rate"][doc["model"]] = rate
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"--robustness {folder}: not an imdb-leap robustness report (no readable {REPORT}: "
                         f"{type(e).__name__}); name a folder `imdb-leap robustness` wrote") from None
    return {"models": models, "capabilities": sorted(capabilities.values(), key=lambda c: c["capability"])}


def find_report(robustness: str | None, report: str | None) -> Path | None:
    """The folder to read: ``--robustness``, else a ``--from`` report folder that holds one."""
    if robustness is not None:
        return Path(robustness)
    if report is not None and (Path(report) / REPORT).is_file():
        return Path(report)
    return None


def routes(behaviour: dict | None) -> list[Route]:
    """GET /api/behaviour: the failing cases by capability, or ``{"missing": <how to make one>}``."""

    async def listed(request: Request) -> Response:
        return json_answer(behaviour if behaviour is not None else {"missing": HOW})

    return [Route("/api/behaviour", listed)]
