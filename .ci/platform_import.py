"""Import model files the way the Tensorleap platform does, with its own importer.

Runs under Python 3.10 in the venv that .ci/check_platform_import.sh builds
(leap-model-parser pins TF 2.12 / Keras 2). Usage: python platform_import.py FILE [FILE ...]
Exits non-zero if any file fails to import.
"""
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TL_DISABLE_ANALYTICS", "1")
logging.disable(logging.WARNING)

from leap_model_parser.contract.importmodelresponse import ImportModelTypeEnum  # noqa: E402
from leap_model_parser.model_parser import ModelParser  # noqa: E402

TYPES = {".onnx": ImportModelTypeEnum.ONNX, ".h5": ImportModelTypeEnum.H5_TF2}


def main(paths: list[str]) -> int:
    failures = 0
    for path in map(Path, paths):
        try:
            graph, inputs = ModelParser().generate_model_graph(path, TYPES[path.suffix])
            print(f"ok    {path}: {len(graph)} nodes, inputs {[i.name for i in inputs]}")
        except Exception as e:  # report every file, then fail
            failures += 1
            print(f"FAIL  {path}: {type(e).__name__}: {str(e)[:500]}")
    return 1 if failures or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
