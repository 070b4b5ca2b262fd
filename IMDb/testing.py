"""`poetry run test`: the project's whole test suite, failing loudly when nothing ran."""
from __future__ import annotations

import os
import sys

from IMDb.config import REPO_ROOT


def main() -> int:
    import pytest

    os.environ.setdefault("TL_DISABLE_ANALYTICS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.chdir(REPO_ROOT)
    code = pytest.main([str(REPO_ROOT / "tests"), *sys.argv[1:]])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("test: no tests were collected; that is a failure", file=sys.stderr)
        return 1
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
