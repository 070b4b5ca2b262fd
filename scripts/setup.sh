#!/usr/bin/env bash
# Quick start: build the in-project .venv with pip and install the package with every extra (all) and dev.
# (Poetry picks up the in-project .venv, so `poetry run test` and `poetry run imdb-leap` work after
# this. On a standard package index `poetry install --extras "all dev"` is the alternative.)
# With --poetry, also installs Poetry itself into .cache/poetry (used by .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python=$(command -v "$candidate"); break
    fi
  done
fi
[ -n "$python" ] || { echo "setup: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[all,dev]"
echo "setup: .venv ready ($(.venv/bin/python --version))"

if [ "${1:-}" = "--poetry" ]; then
  [ -x .cache/poetry/bin/poetry ] || { "$python" -m venv .cache/poetry && .cache/poetry/bin/pip install -q "poetry>=2,<3"; }
  echo "setup: poetry at .cache/poetry/bin/poetry ($(.cache/poetry/bin/poetry --version))"
fi
