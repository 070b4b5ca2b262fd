"""The README's two user commands are what CI runs, and every `imdb-leap` command line the README
shows is one the CLI accepts (the grammar cannot drift from the documentation)."""
import re
import shlex
import subprocess
import sys

import pytest

from IMDb.cli.imdb_leap import parser
from IMDb.config.run import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def readme_command(name: str) -> str:
    result = subprocess.run([sys.executable, str(REPO_ROOT / ".ci" / "readme_commands.py"), name],
                            capture_output=True, text=True, check=True, timeout=60)
    return result.stdout.strip()


def test_ci_runs_the_readme_commands_through_run_readme():
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash .ci/run_readme.sh quickstart" in ci and "bash .ci/run_readme.sh test" in ci
    assert "poetry run test" not in ci  # not a variant of the README's command
    quick, test = readme_command("quickstart"), readme_command("test")
    assert "bash scripts/setup.sh" in quick and test == ".venv/bin/test"
    assert "poetry" not in quick + test  # works on a machine without Poetry


def imdb_leap_lines() -> list[list[str]]:
    """The argument lists of every `imdb-leap ...` command in the README's code."""
    code = "\n".join(re.findall(r"```bash\n(.*?)```", README, flags=re.S)) + "\n" + "\n".join(
        re.findall(r"`([^`\n]*imdb-leap [a-z][^`\n]*)`", README))
    lines = []
    for segment in re.split(r"&&|\n|\|", code):
        words = shlex.split(segment.split("#")[0]) if "imdb-leap" in segment else []
        at = next((i for i, w in enumerate(words) if w.endswith("imdb-leap")), None)
        argv = words[at + 1:] if at is not None else []
        # a command, not prose naming one (`imdb-leap analyze`) or one of its flags (`... --bert`)
        if len(argv) >= 2 and not argv[-1].startswith("--") and not argv[0].startswith("<"):
            lines.append(argv)
    return lines


@pytest.mark.parametrize("argv", imdb_leap_lines(), ids=" ".join)
def test_every_readme_command_line_parses(argv):
    parser().parse_args(argv)
