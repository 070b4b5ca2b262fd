"""The README's two user commands are what CI runs; every `imdb-leap` command line the README and
the pages of docs/ show is one the CLI accepts (the grammar cannot drift from the documentation);
the README stays a front door (at most 400 lines, issue 21) that links every docs page; and every
relative link of README.md and docs/*.md reaches an existing file, and heading, when it names one."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from IMDb.cli.imdb_leap import parser
from IMDb.config.run import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
MAX_README_LINES = 400
FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)


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


def arguments(segment: str) -> list[str]:
    """The arguments after `imdb-leap` in one command `segment` ([] when it runs no imdb-leap)."""
    words = shlex.split(segment.split("#")[0]) if "imdb-leap" in segment else []
    at = next((i for i, w in enumerate(words) if w.endswith("imdb-leap")), None)
    return words[at + 1:] if at is not None else []


def imdb_leap_lines(text: str) -> list[list[str]]:
    """The argument lists of every `imdb-leap ...` command in `text`'s ```bash blocks (each line is a
    command) and inline code (where prose also names a command, `imdb-leap analyze`, or one of its
    flags, `... --bert`: those are left out)."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        lines += [argv for segment in re.split(r"&&|\n|\|", block) if (argv := arguments(segment))
                  and not argv[0].startswith("<")]
    for span in re.findall(r"`([^`\n]*imdb-leap [a-z][^`\n]*)`", text):
        lines += [argv for segment in re.split(r"&&|\|", span) if len(argv := arguments(segment)) >= 2
                  and not argv[-1].startswith("--") and not argv[0].startswith("<")]
    return lines


def command_lines() -> list[tuple[str, list[str]]]:
    return [(page.relative_to(REPO_ROOT).as_posix(), argv)
            for page in PAGES for argv in imdb_leap_lines(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page, argv", command_lines(),
                         ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_every_documented_command_line_parses(page, argv):
    parser().parse_args(argv)


def test_every_page_shows_commands_that_are_checked():
    pages = {page for page, _ in command_lines()}
    assert {"README.md", "docs/command-line.md", "docs/explore.md", "docs/analysis.md",
            "docs/robustness.md", "docs/tensorleap.md"} <= pages


def test_the_readme_is_a_front_door():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_README_LINES
    linked = {target.split("#")[0] for _, target in links(README)}
    pages = [d.relative_to(REPO_ROOT).as_posix() for d in DOCS]
    assert len(pages) >= 10 and [page for page in pages if page not in linked] == []


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def links(page: Path) -> list[tuple[str, str]]:
    """(text, target) of every markdown link and image of `page` outside code."""
    text = re.sub(r"`[^`\n]*`", "", FENCE.sub("", page.read_text(encoding="utf-8")))
    return re.findall(r"\[([^\]]*)\]\(([^)\s]+)\)", text)


def test_the_link_checker_reads_links_and_anchors():
    assert len(links(README)) > 10 and "quick-start" in anchors(README)
    assert slug("bert-int8: BERT quantized to 8 bits") == "bert-int8-bert-quantized-to-8-bits"
    assert slug("What `leap_binder.py` registers") == "what-leap_binderpy-registers"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_every_relative_link_reaches_a_file_and_heading(page):
    broken = []
    for text, target in links(page):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"[{text}]({target}): no {path}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"[{text}]({target}): no heading #{anchor} in {file.name}")
    assert broken == []
