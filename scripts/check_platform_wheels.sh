#!/usr/bin/env bash
# The Tensorleap platform pip-installs requirements.txt on its Linux image, which may be aarch64 or
# x86_64: check that every line resolves to binary wheels for Python 3.11 on both, so nothing has
# to be built from source there. (onnxruntime ships only manylinux_2_28 wheels for aarch64.)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for arch in aarch64 x86_64; do
  if ! "$python" -m pip download -q --disable-pip-version-check --only-binary=:all: \
      --python-version 3.11 --implementation cp \
      --platform "manylinux2014_$arch" --platform "manylinux_2_28_$arch" \
      -r requirements.txt -d "$tmp/$arch" > "$tmp/$arch.log" 2>&1; then
    grep -v "^WARNING: Location" "$tmp/$arch.log" >&2
    echo "wheels: requirements.txt does not resolve to Python 3.11 wheels for $arch" >&2
    exit 1
  fi
  echo "wheels: $arch: $(ls "$tmp/$arch" | wc -l) wheels: $(ls "$tmp/$arch" | sed 's/-.*//' | sort | tr '\n' ' ')"
done
