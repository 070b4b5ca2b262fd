"""The explorer's one page and its policy.

The template (``templates/explore.html.j2``) extends the report's page shell and is rendered by the
report's Jinja2 environment (`IMDb.analysis.templating`: autoescaping, strict undefined names), with a
loader that also finds this package's templates. Nothing is inlined but the report's style sheet: the
scripts (plotly.js from the installed plotly package, `SCRIPTS` from this package) are files the
app serves, and every review reaches the page as JSON that the script puts into the page as text
(``textContent``), never as markup. The Content-Security-Policy allows only this server's scripts
and requests; ``'unsafe-eval'`` because plotly.js's WebGL traces (regl) compile their shaders'
JavaScript at run time.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2

from IMDb.analysis.templating import environment

PAGE_CSP = ("default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'")
CSP = PAGE_CSP + "; frame-ancestors 'none'"  # the header's: a <meta> policy cannot say frame-ancestors
SCRIPTS = ("explore.js", "panels.js")  # the page's own scripts, loaded in this order


def _template(name: str) -> tuple[str, str, None] | None:
    path = resources.files("IMDb.explore").joinpath("templates", name)
    return (path.read_text(encoding="utf-8"), f"IMDb/explore/templates/{name}", None) if path.is_file() else None


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    base = environment()
    return base.overlay(loader=jinja2.ChoiceLoader([jinja2.FunctionLoader(_template), base.loader]))


def render(heading: str, token: str) -> str:
    """The page: the shell, the controls, and the session token for the script's POST requests."""
    return _environment().get_template("explore.html.j2").render(heading=heading, csp=PAGE_CSP, token=token,
                                                                   scripts=SCRIPTS)


def script_path(name: str) -> Path:
    """One of `SCRIPTS`, package data of this module."""
    return Path(str(resources.files("IMDb.explore").joinpath("templates", name)))


def plotly_path() -> Path:
    """plotly.min.js as the installed plotly package bundles it (never a CDN)."""
    return Path(str(resources.files("plotly").joinpath("package_data", "plotly.min.js")))
