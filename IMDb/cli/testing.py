"""`poetry run test`: the pytest suite, then leap_test.py (the Tensorleap integration check).

Both always run; the exit status is non-zero if either fails (or pytest collects nothing).
leap_test.py runs once, here, on the dataset and the shipped models (what the README promises, and
what CI keeps): the pytest run is told so (LEAP_TEST_FOLLOWS), and skips its own full run of
leap_test.py on synthetic data, which would repeat it; the tests that drive leap_test.py for what
this run cannot show (a bad config, an unknown model, the push, a new family) still run.
Arguments go to pytest, e.g. `poetry run test -k binder`. Telemetry: code-loader's usage analytics
are off (TL_DISABLE_ANALYTICS=1) unless TL_DISABLE_ANALYTICS is already set, e.g. to empty.
"""
from __future__ import annotations

import os
import subprocess
import sys

from IMDb.config.run import REPO_ROOT

LEAP_TEST = REPO_ROOT / "leap_test.py"
LEAP_TEST_FOLLOWS = "IMDB_LEAP_TEST_FOLLOWS"  # set for the pytest run: leap_test.py runs after it


def run_pytest(args: list[str]) -> int:
    import pytest

    # A console script does not put the repository first on sys.path (the editable install adds it
    # last), so the tests' `from tests.conftest import ...` would find the top-level `tests` folder
    # tf2onnx installs in site-packages before ours.
    sys.path[:] = [str(REPO_ROOT)] + [p for p in sys.path if p != str(REPO_ROOT)]
    code = pytest.main([str(REPO_ROOT / "tests"), *args])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("test: no tests were collected; that is a failure", file=sys.stderr)
        return 1
    return int(code)


def run_leap_test() -> int:
    if not LEAP_TEST.is_file():
        print(f"test: {LEAP_TEST} not found", file=sys.stderr)
        return 1
    return subprocess.run([sys.executable, str(LEAP_TEST)], cwd=REPO_ROOT).returncode


def main() -> int:
    os.environ.setdefault("TL_DISABLE_ANALYTICS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.chdir(REPO_ROOT)
    os.environ[LEAP_TEST_FOLLOWS] = "1"
    results = {"pytest": run_pytest(sys.argv[1:])}
    os.environ.pop(LEAP_TEST_FOLLOWS)
    print("\n== leap_test.py (Tensorleap integration)", flush=True)
    results["leap_test.py"] = run_leap_test()
    failed = [name for name, code in results.items() if code != 0]
    print(f"\ntest: {'FAILED: ' + ', '.join(failed) if failed else 'all passed'} "
          f"({', '.join(f'{name} exit {code}' for name, code in results.items())})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
