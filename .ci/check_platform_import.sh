#!/usr/bin/env bash
# Import every shipped model file with Tensorleap's own importer (leap-model-parser), as the
# platform does on upload. It needs Python 3.10; the venv is built once under .cache/.
# Usage: .ci/check_platform_import.sh [MODEL_FILE ...]   (default: the served models' model.{h5,onnx})
set -euo pipefail
cd "$(dirname "$0")/.."
PARSER_VERSION=0.1.257
venv=.cache/leap-model-parser-$PARSER_VERSION

find_python310() {
  for candidate in "${PYTHON310:-}" "$(command -v python3.10 || true)" \
                   "$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python \
                   "$HOME"/.pyenv/versions/3.10*/bin/python; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "check_platform_import: no Python 3.10 found (leap-model-parser supports 3.8-3.10);" \
       "install one (pyenv install 3.10) or set PYTHON310=/path/to/python3.10" >&2
  return 1
}

if [ ! -x "$venv/bin/python" ]; then
  py=$(find_python310)
  echo "building $venv with $py"
  rm -rf "$venv.tmp"
  "$py" -m venv "$venv.tmp"
  "$venv.tmp/bin/pip" install -q --upgrade pip
  "$venv.tmp/bin/pip" install -q "leap-model-parser==$PARSER_VERSION"
  mv "$venv.tmp" "$venv"
fi

if [ $# -eq 0 ]; then
  # the models the integration serves; models/bert-int8 is local only: the importer has no converter
  # for ONNX Runtime's quantization operators (DynamicQuantizeLinear, MatMulInteger, DequantizeLinear)
  for name in dense cnn bert; do
    for file in models/$name/model.h5 models/$name/model.onnx; do
      [ -f "$file" ] && set -- "$@" "$file"
    done
  done
  [ $# -gt 0 ] || { echo "check_platform_import: no model files under models/" >&2; exit 1; }
fi
"$venv/bin/python" .ci/platform_import.py "$@"
