#!/usr/bin/env bash
# The Tensorleap platform pip-installs requirements.txt on its Linux image (aarch64 or x86_64), whose
# Python is leap.yaml's pythonVersion and which ships code-loader with its own dependencies. Check
# that requirements.txt, resolved together with code-loader's numpy and pyyaml pins for that Python
# (read from the installed code-loader's metadata), gives binary wheels on both architectures, so
# nothing is built from source there and nothing conflicts with the image's code-loader.
# code-loader itself is left out of the download: the image has it, and its psutil<6 has no aarch64
# wheel on the package index. pip runs under that Python (pyenv's, as leap_test.py's emulation does),
# because pip evaluates environment markers (numpy's python_version lines) for the running
# interpreter, whatever --python-version says.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
version=$("$python" -c 'from IMDb.config import workspace; print(workspace.python_version())')
target=$("$python" -c "from IMDb.config import workspace; print(workspace.find_python('$version'))" 2>&1) ||
  { echo "wheels: $target" >&2; exit 1; }
pins=$("$python" - "$version" <<'EOF'
import sys
from importlib import metadata

from packaging.requirements import Requirement

version = sys.argv[1]
environment = {"python_version": version, "python_full_version": f"{version}.0", "extra": ""}
for line in metadata.requires("code-loader") or []:
    requirement = Requirement(line)
    if requirement.name.lower() in ("numpy", "pyyaml") and (
            requirement.marker is None or requirement.marker.evaluate(environment)):
        print(f"{requirement.name}{requirement.specifier}")
EOF
)
loader=$("$python" -c 'from importlib import metadata; print(metadata.version("code-loader"))')
[ -n "$pins" ] || { echo "wheels: no numpy/pyyaml pins found in code-loader $loader's metadata" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "wheels: Python $version (leap.yaml; pip of $target), with code-loader $loader's pins: $(echo $pins)"
for arch in aarch64 x86_64; do
  # shellcheck disable=SC2086  # one argument per pin
  if ! "$target" -m pip download -q --disable-pip-version-check --only-binary=:all: \
      --python-version "$version" --implementation cp \
      --platform "manylinux2014_$arch" --platform "manylinux_2_28_$arch" \
      -r requirements.txt $pins -d "$tmp/$arch" > "$tmp/$arch.log" 2>&1; then
    grep -v "^WARNING: Location" "$tmp/$arch.log" >&2
    echo "wheels: requirements.txt with code-loader's pins does not resolve to Python $version wheels for $arch" >&2
    exit 1
  fi
  echo "wheels: $arch: $(ls "$tmp/$arch" | wc -l) wheels: $(ls "$tmp/$arch" | sed -E 's/-([0-9][^-]*)-.*/ \1/' | sort | paste -sd, - | sed 's/,/, /g')"
done
